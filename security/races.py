"""Races: many processes verifying the same code or approving the same app request at once.

Each scenario starts ``processes`` separate processes (spawned, each with its own store handle on
one state directory), lines them up at a barrier and lets them all try the same thing; exactly
one may succeed, every time:

- ``code.verify``: the same code checked through ``CodeTokenPlugin.verify_code``;
- ``code.logins``: the same code answered into as many different login transactions;
- ``code.same_login``: one login transaction completed with the same answer by all;
- ``app.approve``: the same app request approved from the phone by all;
- ``app.same_login``: the app's one answer handed to the login side by all.

``python -m security.races [--processes N] [--rounds N]`` runs them and prints the counts.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from authenticators.app.errors import AppRefusal
from authenticators.app.plugin import AppOptions
from authenticators.app.plugin import plugin as app_plugin
from authenticators.app.screen import LoginScreen
from authenticators.clock import FrozenClock
from authenticators.codeviser.device import response_for_code
from authenticators.codeviser.plugin import CodeTokenPlugin
from authenticators.codeviser.seeds import SeedImport
from authenticators.core.login import LoginService
from authenticators.otp import OtpKey, OtpParams
from authenticators.protocol import Action, Level, ProtocolError, ReferenceText, Response
from authenticators.store import Store

T0 = 1_700_000_000.0
USER = "racer"
PASSWORD = "race-test-password-1"  # noqa: S105 - a fixed test password
TOKEN_NAME = "race-token"  # noqa: S105 - a token's name
SP = "Race Bank"
REF = ReferenceText(Action.LOG_ON, "Log on to Race Bank")


@dataclass
class RaceResult:
    scenario: str
    processes: int
    rounds: int
    outcomes: list[list[str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return len(self.outcomes) == self.rounds and all(
            round_.count("ok") == 1 for round_ in self.outcomes
        )

    def summary(self) -> str:
        wins = [round_.count("ok") for round_ in self.outcomes]
        return (
            f"{self.scenario}: {self.rounds} rounds x {self.processes} processes, "
            f"winners per round {wins}: {'ok' if self.ok else 'FAIL'}"
        )


# -- the racers (run in the spawned processes) ------------------------------------------------


def _verify_code(args: tuple[str, str, float, Any]) -> str:
    state_dir, code, now, barrier = args
    store = Store(state_dir)
    barrier.wait()
    return CodeTokenPlugin().verify_code(store, TOKEN_NAME, code, now).reason.value


# state dir, transaction, the answer, the time, the password (None: the kind needs none), barrier
CompleteJob = tuple[str, str, Response, float, str | None, Any]


def _complete(args: CompleteJob) -> str:
    state_dir, transaction_id, response, now, password, barrier = args
    store = Store(state_dir)
    service = LoginService(store, FrozenClock(now))
    barrier.wait()
    return service.complete(transaction_id, response, password).verdict.reason.value


def _approve(args: tuple[str, str, str, str, float, Any]) -> str:
    state_dir, app_id, transaction_id, code, now, barrier = args
    phone = app_plugin.authenticator(Store(state_dir), app_id, FrozenClock(now))
    barrier.wait()
    try:
        phone.approve(code=code, transaction_id=transaction_id)
    except AppRefusal as exc:
        return exc.reason.value
    except ProtocolError as exc:
        return exc.code.value
    return "ok"


# -- the scenarios ----------------------------------------------------------------------------


class _Arena:
    """One state directory with an identity holding a code token and an app."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = str(state_dir)
        self.clock = FrozenClock(T0)
        self.store = Store(state_dir)
        self.service = LoginService(self.store, self.clock)
        self.service.identities.create(USER, "Race Test", password=PASSWORD)
        seed = bytes(range(20))
        self.key = OtpKey(seed, OtpParams())
        codeviser = CodeTokenPlugin()
        codeviser.create(
            self.store, self.clock, name=TOKEN_NAME, source=SeedImport(seed, OtpParams())
        )
        self.service.identities.add_authenticator(USER, "codeviser", TOKEN_NAME)
        identity = self.service.identities.get(USER)
        app_plugin.apps(self.store)
        with self.store.transaction():
            enrollment = app_plugin.enroll(
                self.store, self.clock, AppOptions(owner=identity.uuid, pin="246813")
            )
            self.service.identities.add_authenticator(USER, "app", enrollment.authenticator_id)
        self.app_id = enrollment.authenticator_id

    def code_at(self, round_: int) -> tuple[str, float]:
        now = T0 + 30 * (round_ + 1)
        self.clock.set(now)
        return self.key.code(OtpParams().step(now)), now


def run(processes: int = 8, rounds: int = 3) -> list[RaceResult]:
    ctx = mp.get_context("spawn")
    results = {
        name: RaceResult(name, processes, rounds)
        for name in ("code.verify", "code.logins", "code.same_login", "app.approve")
    }
    results["app.same_login"] = RaceResult("app.same_login", processes, rounds)
    with (
        tempfile.TemporaryDirectory(prefix="races-") as scratch,
        ctx.Manager() as manager,
        ctx.Pool(processes) as pool,
    ):
        arena = _Arena(Path(scratch))
        state = arena.state_dir
        for round_ in range(rounds):
            barrier = manager.Barrier(processes)
            # the same code, verified directly by all
            code, now = arena.code_at(4 * round_)
            outcome = pool.map(_verify_code, [(state, code, now, barrier)] * processes)
            results["code.verify"].outcomes.append(outcome)

            # the same code, each process answering its own login
            code, now = arena.code_at(4 * round_ + 1)
            jobs = []
            for _ in range(processes):
                challenge = arena.service.begin(
                    USER, "codeviser", service_provider=SP, reference_text=REF
                )
                response = response_for_code(challenge, TOKEN_NAME, code)
                jobs.append((state, challenge.transaction_id, response, now, PASSWORD, barrier))
            results["code.logins"].outcomes.append(pool.map(_complete, jobs))

            # one login, the same answer from all
            code, now = arena.code_at(4 * round_ + 2)
            challenge = arena.service.begin(
                USER, "codeviser", service_provider=SP, reference_text=REF
            )
            response = response_for_code(challenge, TOKEN_NAME, code)
            job: CompleteJob = (state, challenge.transaction_id, response, now, PASSWORD, barrier)
            results["code.same_login"].outcomes.append(pool.map(_complete, [job] * processes))

            # one app request, approved by all; then its one answer completed by all
            _code, now = arena.code_at(4 * round_ + 3)
            challenge = arena.service.begin(
                USER, "app", service_provider=SP, reference_text=REF, level=Level.SUBSTANTIAL
            )
            screen = LoginScreen(arena.store, arena.clock, challenge, level=Level.SUBSTANTIAL)
            update = screen.open()
            assert update is not None
            job_app = (state, arena.app_id, challenge.transaction_id, update.code, now, barrier)
            results["app.approve"].outcomes.append(pool.map(_approve, [job_app] * processes))
            answer = screen.poll()
            if answer is None:
                results["app.same_login"].outcomes.append(["no answer"] * processes)
                continue
            job = (state, challenge.transaction_id, answer, now, None, barrier)
            results["app.same_login"].outcomes.append(pool.map(_complete, [job] * processes))
        arena.store.close()
    return list(results.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m security.races", description=__doc__)
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    started = time.monotonic()
    results = run(args.processes, args.rounds)
    for result in results:
        print(result.summary())
        if not result.ok:
            for round_ in result.outcomes:
                print(f"    {round_}")
    print(f"({time.monotonic() - started:.0f} s)")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
