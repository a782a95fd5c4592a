"""Benchmark: a whole chip login in process, against the firmware-only round trip.

Measured in one run, so the ratio compares like with like:

* firmware only — ``Ctap2.get_assertion`` through python-fido2 on an open ``sim:`` chip (state in
  SQLite, the counter committed before every answer);
* chip login — what ``mitid-emu login --method chip`` does: ``LoginService.begin`` (challenge),
  the enrolled chip's assertion over the HAL (the ``sim:`` URI opened, CTAPHID INIT, getAssertion),
  ``LoginService.complete`` (verification, the new counter and the audit committed in one
  transaction) — with the password checked, as the chip needs, and once more with the password
  check stubbed out, to show the chip's own share (scrypt is deliberately slow).

Run: ``python bench/bench_chip_login.py [--seconds S]``. Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Mapping
from typing import Any

from fido2.ctap2.base import Ctap2

from authenticators import registry
from authenticators.chip.enroll import ChipOptions
from authenticators.chip.plugin import ChipPlugin
from authenticators.chip.webauthn import client_data_for
from authenticators.clock import SystemClock
from authenticators.core.identities import IdentityRepository
from authenticators.core.login import LoginService
from authenticators.hal import open_device
from authenticators.protocol import Challenge, Level, ReferenceText, UserAction
from authenticators.store import Store

PASSWORD = "bench-password-1"
REFERENCE = ReferenceText.parse("Log on to Bench Bank")


def measure(fn: Callable[[], object], seconds: float, warmup: int = 5) -> float:
    """Seconds per call: warm up, then time as many calls as fit in ``seconds``."""
    for _ in range(warmup):
        fn()
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return elapsed / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as state:
        store = Store(state)
        clock = SystemClock()
        plugin = registry.get("chip")
        assert isinstance(plugin, ChipPlugin)
        record = plugin.records(store).get(
            plugin.enroll(store, clock, ChipOptions(uri="sim:")).authenticator_id
        )
        IdentityRepository(store, clock).create("bench.user", "Bench", password=PASSWORD)
        IdentityRepository(store, clock).add_authenticator("bench.user", "chip", record.name)
        service = LoginService(store, clock)

        with open_device(record.uri, store=store, clock=clock) as device:
            ctap = Ctap2(device.ctap)
            template = Challenge.issue("chip", "Bench Bank", REFERENCE, clock)
            cdh = client_data_for(template, record.rp_id).hash
            allow: list[Mapping[str, Any]] = [{"type": "public-key", "id": record.credential_id}]
            firmware = measure(lambda: ctap.get_assertion(record.rp_id, cdh, allow), args.seconds)

        failures: list[str] = []

        def login(password: str | None) -> None:
            challenge = service.begin(
                "bench.user",
                "chip",
                service_provider="Bench Bank",
                reference_text=REFERENCE,
                level=Level.HIGH,
            )
            holder = plugin.authenticator(store, record.name, clock)
            response = holder.respond(challenge, UserAction.TOUCH)
            result = service.complete(challenge.transaction_id, response, password)
            if not result.ok:
                failures.append(result.verdict.reason.value)

        full = measure(lambda: login(PASSWORD), args.seconds)
        # The same logins with the (deliberately slow) password hash taken out.
        service.password_checker = lambda encoded, password: True
        chip_only = measure(lambda: login("unchecked"), args.seconds)
        service.password_checker = None
        store.close()

    if failures:
        raise SystemExit(f"logins failed: {sorted(set(failures))}")
    print(
        f"{'firmware only: getAssertion over python-fido2':<52} {1 / firmware:>8.0f} /s "
        f"{firmware * 1e3:>8.2f} ms"
    )
    print(
        f"{'chip login, password checked (scrypt)':<52} {1 / full:>8.1f} /s "
        f"{full * 1e3:>8.2f} ms   {full / firmware:>6.1f}x firmware"
    )
    print(
        f"{'chip login, password check stubbed':<52} {1 / chip_only:>8.1f} /s "
        f"{chip_only * 1e3:>8.2f} ms   {chip_only / firmware:>6.1f}x firmware"
    )
    print()
    print(
        f"in process: {1 / full:.1f} logins/s; {full / firmware:.1f}x the firmware-only round "
        f"trip ({chip_only / firmware:.1f}x without the password hash)"
    )


if __name__ == "__main__":
    main()
