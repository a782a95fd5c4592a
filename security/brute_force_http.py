"""Brute force against the code-token step over HTTP, through a running login server's pages.

The same attack as :mod:`security.brute_force`, from the outside: a login server of its own on
a free loopback port with a fresh state, a victim with a code display, and an attacker who
knows the user ID and goes through the login pages as a browser does (authorize, user ID,
method, then code after code with some password). The server's clock is frozen through the
control API and moved as the attacker would move real time: a tenth of a second per guess, and
past the block whenever the token is blocked — as fast as the lockout allows. The result has
the same shape as the library's, so the two figures can be compared.

A right code shows as ``wrong_password`` (the code is judged before the password) or as the
callback; a wrong one as ``wrong_code``; a blocked token as ``locked``.

``python -m security.brute_force_http [--hours N]`` runs it and prints both figures.
"""

from __future__ import annotations

import argparse
import ipaddress
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from security.brute_force import ATTEMPT_SECONDS, T0, BruteForceReport

USER = "victim"
TOKEN = "victim-token"  # noqa: S105 - a token's name
CLIENT = "brute"
REDIRECT = "http://127.0.0.1:9/callback"
HOST = "127.0.0.1"
MAX_REQUESTS = 100_000  # a bound on the whole attack, whatever the hours


@dataclass(frozen=True)
class HttpBruteForce:
    report: BruteForceReport
    requests: int  # HTTP requests the attack made (pages, forms, clock)
    flows: int  # logins started (a blocked token ends a login)
    seconds: float  # wall time
    url: str

    def summary(self) -> str:
        return (
            f"over HTTP ({self.url}, {self.requests} requests, {self.flows} logins, "
            f"{self.seconds:.1f} s): {self.report.summary()}"
        )


class _Attacker:
    def __init__(self, url: str, admin_token: str) -> None:
        from authenticators.server.testing import BrowserLogin, Emulator

        self.url = url
        self.emulator = Emulator(url, admin_token)
        self.browser = BrowserLogin(url)
        self.requests = 0
        self.flows = 0
        for client in (self.emulator.http, self.browser.http):
            client.event_hooks = {"request": [self._count]}

    def _count(self, request: Any) -> None:
        self.requests += 1
        if self.requests > MAX_REQUESTS:
            raise RuntimeError(f"the attack went over {MAX_REQUESTS} requests")

    def close(self) -> None:
        self.emulator.close()
        self.browser.close()

    def now(self) -> float:
        return float(self.emulator.clock()["now"])

    def advance(self, seconds: float) -> float:
        return float(self.emulator.clock(advance=seconds)["now"])

    def step_page(self) -> Any:
        """A new login, through user ID and method, to the code page."""
        from authenticators.server.testing import Page, authorization_request

        self.flows += 1
        page = self.browser.open(authorization_request(self.url, CLIENT, REDIRECT).url)
        for values in ({"user_id": USER}, None):
            if not isinstance(page, Page) or page.form is None:
                raise RuntimeError(f"the login pages went elsewhere: {page!r}")
            if values is None:
                method = next(m for m in page.form.choices["method"] if m.startswith("codeviser:"))
                values = {"method": method}
            page = self.browser.submit(page, **values)
        if not isinstance(page, Page) or page.stage != "step":
            raise RuntimeError(f"no code page: {page!r}")
        return page


def http_attack(hours: float = 24.0) -> HttpBruteForce:
    """Attack a fresh token through a fresh server for ``hours`` of the server's (frozen) time."""
    from authenticators.codeviser.verifier import VerifierPolicy
    from authenticators.server.config import ServerConfig
    from authenticators.server.runner import ServerThread
    from authenticators.server.testing import Callback, Page

    if not ipaddress.ip_address(HOST).is_loopback:
        raise ValueError("the attack runs against loopback only")
    policy = VerifierPolicy()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="brute-http-") as scratch:
        config = ServerConfig(
            state_dir=str(Path(scratch) / "state"), host=HOST, port=0, password_workers=-1
        )
        with ServerThread(config) as server:
            attacker = _Attacker(server.url, server.admin_token)
            try:
                emulator = attacker.emulator
                emulator.clock(freeze=True, at=T0)
                emulator.create_identity(USER, "Victim Test", password=secrets.token_urlsafe(16))
                emulator.enroll(USER, "codeviser", name=TOKEN)
                emulator.add_client(CLIENT, [REDIRECT], public=True, name="Brute Bank")
                end = T0 + hours * 3600
                attempts = refused = hits = 0
                now = T0
                page: Any = attacker.step_page()
                while now < end:
                    guess = f"{secrets.randbelow(10**6):06d}"
                    result = attacker.browser.submit(page, code=guess, password="not-it")  # noqa: S106
                    reason = result.reason if isinstance(result, Page) else None
                    if isinstance(result, Callback) or reason == "wrong_password":
                        hits += 1
                        attempts += 1
                    elif reason == "wrong_code":
                        attempts += 1
                    elif reason == "locked":
                        refused += 1
                        now = attacker.advance(policy.block_seconds)
                        page = attacker.step_page()
                        continue
                    else:
                        raise RuntimeError(f"unexpected answer to a guess: {reason or result!r}")
                    now = attacker.advance(ATTEMPT_SECONDS)
                    if isinstance(result, Page) and result.stage == "step":
                        page = result
                    else:
                        page = attacker.step_page()
            finally:
                attacker.close()
    cycle = policy.block_seconds + policy.max_failures * ATTEMPT_SECONDS
    report = BruteForceReport(
        hours=hours,
        attempts=attempts,
        refused_locked=refused,
        hits=hits,
        digits=6,
        accepted_per_guess=2 * policy.window + 1,
        policy_per_hour=policy.max_failures * 3600 / cycle,
    )
    return HttpBruteForce(
        report, attacker.requests, attacker.flows, time.monotonic() - started, server.url
    )


def readme_sentence(http: HttpBruteForce, library: BruteForceReport) -> str:
    report = http.report
    return (
        f"Through the login pages of a running server (`python -m security.brute_force_http`, "
        f"the server's clock moved through the control API as fast as the lockout allows) the "
        f"attacker gets {report.per_hour:.0f} guesses an hour, the same as through the library "
        f"({library.per_hour:.0f}): a chance of about {report.p_day():.2%} of guessing a code "
        f"within a day."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m security.brute_force_http", description=__doc__
    )
    parser.add_argument("--hours", type=float, default=24.0, help="simulated attack time")
    args = parser.parse_args(argv)
    from authenticators.store import Store
    from security.brute_force import attack

    http = http_attack(args.hours)
    with tempfile.TemporaryDirectory(prefix="brute-") as scratch:
        store = Store(Path(scratch))
        library = attack(store, args.hours)
        store.close()
    print(http.summary())
    print(f"library: {library.summary()}")
    print(readme_sentence(http, library))
    return 0 if http.report.ok and abs(http.report.per_hour - library.per_hour) <= 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
