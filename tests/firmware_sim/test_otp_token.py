"""The code display's hardware: button, display timeout, battery, drifting clock."""

from __future__ import annotations

import pytest

from authenticators.otp import OtpParams, totp
from firmware_sim.otp_token import OtpToken, TokenHardwareError, seven_segment
from tests.support import T0

SEED = bytes(range(20))


def test_press_lights_the_display_until_it_blanks() -> None:
    token = OtpToken(seed=SEED, display_seconds=30, synced_at=T0)
    assert token.display(T0).blank
    shown = token.press(T0)
    assert shown.code == totp(SEED, T0)
    assert token.display(T0 + 29).code == shown.code
    assert token.display(T0 + 30).blank
    assert token.last_code == shown.code  # kept for a reader's repeat
    assert 0 < shown.seconds_left <= 30
    assert shown.code not in repr(shown)


def test_battery_counts_presses() -> None:
    token = OtpToken(seed=SEED, battery=2)
    token.press(T0)
    token.press(T0)
    with pytest.raises(TokenHardwareError, match="empty battery"):
        token.press(T0)


def test_a_drifting_clock_gives_codes_of_another_step() -> None:
    fast = OtpToken(seed=SEED, drift_ppm=100, synced_at=T0)
    year = 365 * 86400
    assert fast.device_time(T0 + year) == pytest.approx(T0 + year + 3153.6)
    assert fast.code_at(T0 + year) == totp(SEED, T0 + year + 3153.6)
    offset = OtpToken(seed=SEED, clock_offset=-90, synced_at=T0)
    assert offset.code_at(T0) == totp(SEED, T0 - 90)


def test_state_round_trip() -> None:
    token = OtpToken(seed=SEED, params=OtpParams(digits=8), drift_ppm=5, synced_at=T0, battery=7)
    token.press(T0)
    again = OtpToken.from_state(SEED, token.params, "CV1", token.hardware_state())
    assert again.battery == 6
    assert again.display(T0 + 1).code == token.display(T0 + 1).code
    assert "seed" not in token.hardware_state()


def test_seven_segment_drawing() -> None:
    assert seven_segment("8") == " _\n|_|\n|_|"
    assert seven_segment("1") == "\n  |\n  |"
    assert len(seven_segment("123456").splitlines()) == 3
