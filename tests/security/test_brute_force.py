"""Brute force against the code-token step through the login service, at the library level."""

from __future__ import annotations

import pytest

from authenticators.store import Store
from security import brute_force

pytestmark = pytest.mark.slow  # see `make check`


def test_the_lockout_allows_36_guesses_an_hour(store: Store) -> None:
    report = brute_force.attack(store, hours=24)
    assert report.ok, report.summary()
    assert report.per_hour == pytest.approx(36, abs=0.5)
    assert report.accepted_per_guess == 3
    assert report.p_day() == pytest.approx(0.00259, abs=0.0002)
    assert "0.26%" in brute_force.readme_sentence(report)


def test_a_blocked_token_refuses_even_the_right_code(store: Store) -> None:
    from authenticators.clock import FrozenClock
    from authenticators.codeviser.plugin import CodeTokenPlugin
    from authenticators.codeviser.seeds import SeedImport
    from authenticators.otp import OtpKey, OtpParams
    from authenticators.protocol import Reason

    seed = bytes(range(20))
    plugin = CodeTokenPlugin()
    plugin.create(store, FrozenClock(), name="t", source=SeedImport(seed, OtpParams()))
    now = 1_700_000_000.0
    right = OtpKey(seed, OtpParams()).code(OtpParams().step(now))
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for _ in range(3):
        assert plugin.verify_code(store, "t", wrong, now).reason is Reason.WRONG_CODE
    assert plugin.verify_code(store, "t", right, now).reason is Reason.LOCKED
    later = now + 301
    right_later = OtpKey(seed, OtpParams()).code(OtpParams().step(later))
    assert plugin.verify_code(store, "t", right_later, later).reason is Reason.OK


def test_over_http_the_lockout_allows_the_same_36_guesses_an_hour() -> None:
    from security import brute_force_http

    http = brute_force_http.http_attack(hours=1)
    report = http.report
    assert report.ok, http.summary()
    assert report.per_hour == pytest.approx(36, abs=1)
    assert report.refused_locked >= 10
    assert http.url.startswith("http://127.0.0.1:")
    assert http.seconds < 60
