"""Brute force against the code-token step, through the same ``LoginService`` the server uses.

The attacker knows the user ID, starts login after login and types a random code into each, as
fast as the lockout allows: a frozen clock moves a tenth of a second per attempt, and when the
token is blocked it jumps to the end of the block. Over a simulated day this measures how many
guesses the lockout lets through per hour; the chance of guessing a code within a day follows
from that rate and the number of codes the window accepts at a time (2·window + 1 of 10^digits),
and is compared with the figure the policy itself implies.

The code is judged before the password (the order MitID asks in), so the attacker here sends no
password: a right guess shows as ``wrong_password`` (or ``ok``), a wrong one as ``wrong_code``.
The HTTP variant, :mod:`security.brute_force_http`, goes through a running login server's pages.

``python -m security.brute_force [--hours N]`` runs it and prints the figures.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from authenticators.clock import FrozenClock
from authenticators.codeviser.device import response_for_code
from authenticators.codeviser.plugin import CodeTokenPlugin
from authenticators.codeviser.seeds import SeedImport
from authenticators.codeviser.verifier import VerifierPolicy
from authenticators.core.login import LoginService
from authenticators.otp import OtpParams
from authenticators.protocol import Action, Reason, ReferenceText
from authenticators.store import Store

T0 = 1_700_000_000.0
USER = "victim"
TOKEN_NAME = "victim-token"  # noqa: S105 - a token's name
ATTEMPT_SECONDS = 0.1
HIT = frozenset({Reason.OK, Reason.WRONG_PASSWORD})
DAY = 86_400.0


@dataclass(frozen=True)
class BruteForceReport:
    hours: float
    attempts: int  # guesses the verifier judged
    refused_locked: int  # attempts refused because the token was blocked
    hits: int
    digits: int
    accepted_per_guess: int  # codes the window accepts at one moment
    policy_per_hour: float  # what the policy allows: max_failures per block

    @property
    def per_hour(self) -> float:
        return self.attempts / self.hours

    @property
    def p_guess(self) -> float:
        return float(self.accepted_per_guess / 10**self.digits)

    def p_day(self, per_hour: float | None = None) -> float:
        """Chance that at least one guess in a day of attempts at ``per_hour`` is right."""
        rate = self.per_hour if per_hour is None else per_hour
        return float(1 - (1 - self.p_guess) ** (rate * 24))

    @property
    def ok(self) -> bool:
        """The measured rate is no higher than the policy allows (one extra block's worth of
        slack for where the simulated hours begin and end)."""
        return self.per_hour <= self.policy_per_hour * (1 + 1 / self.hours) + 1e-9

    def summary(self) -> str:
        return (
            f"{self.attempts} guesses judged in {self.hours:g} simulated h "
            f"({self.refused_locked} refused while blocked, {self.hits} right): "
            f"{self.per_hour:.1f} guesses/h (policy allows {self.policy_per_hour:.1f}); "
            f"chance of guessing a code within a day {self.p_day():.3%} "
            f"(policy figure {self.p_day(self.policy_per_hour):.3%})"
        )


def attack(
    store: Store, hours: float = 24.0, policy: VerifierPolicy | None = None
) -> BruteForceReport:
    """Attack a fresh token in ``store`` for ``hours`` of simulated time."""
    policy = policy or VerifierPolicy()
    plugin = CodeTokenPlugin(policy=policy)
    clock = FrozenClock(T0)
    service = LoginService(store, clock)
    service.identities.create(USER, "Victim Test", password=secrets.token_urlsafe(16))
    params = OtpParams()
    plugin.create(store, clock, name=TOKEN_NAME, source=SeedImport(secrets.token_bytes(20), params))
    service.identities.add_authenticator(USER, "codeviser", TOKEN_NAME)
    tokens = plugin.tokens(store)
    reference = ReferenceText(Action.LOG_ON, "Log on to Brute Bank")
    end = T0 + hours * 3600
    attempts = refused = hits = 0
    while clock.now() < end:
        challenge = service.begin(
            USER, "codeviser", service_provider="Brute Bank", reference_text=reference
        )
        guess = f"{secrets.randbelow(10**params.digits):0{params.digits}d}"
        result = service.complete(
            challenge.transaction_id, response_for_code(challenge, TOKEN_NAME, guess)
        )
        reason = result.verdict.reason
        if reason is Reason.LOCKED:
            refused += 1
            clock.set(max(clock.now(), tokens.get(TOKEN_NAME).state.locked_until))
            continue
        attempts += 1
        hits += reason in HIT
        clock.advance(ATTEMPT_SECONDS)
    cycle = policy.block_seconds + policy.max_failures * ATTEMPT_SECONDS
    return BruteForceReport(
        hours=hours,
        attempts=attempts,
        refused_locked=refused,
        hits=hits,
        digits=params.digits,
        accepted_per_guess=2 * policy.window + 1,
        policy_per_hour=policy.max_failures * 3600 / cycle,
    )


def readme_sentence(report: BruteForceReport) -> str:
    per_day = report.policy_per_hour * 24
    return (
        f"With the default lockout (3 wrong codes in a row block the token for 300 s) an "
        f"attacker gets at most {report.policy_per_hour:.0f} guesses an hour, about "
        f"{per_day:.0f} a day; with the ±1-step window each guess matches one of "
        f"{report.accepted_per_guess} valid codes out of 10^{report.digits}, so the chance of "
        f"guessing a code within a day is about {report.p_day(report.policy_per_hour):.2%} "
        f"(`python -m security.brute_force` measures it through the login service)."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m security.brute_force", description=__doc__)
    parser.add_argument("--hours", type=float, default=24.0, help="simulated attack time")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="brute-") as scratch:
        store = Store(Path(scratch))
        report = attack(store, args.hours)
        store.close()
    print(report.summary())
    print(readme_sentence(report))
    print(f"({time.monotonic() - started:.0f} s)")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
