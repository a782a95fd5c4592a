"""Button policies, touches and timeouts, on a frozen clock."""

from __future__ import annotations

import threading

import pytest

from authenticators.clock import FrozenClock
from firmware_sim.chip import (
    AfterDelay,
    Always,
    AskCallback,
    ChipError,
    Never,
    Status,
    parse_policy,
)
from firmware_sim.chip.presence import Button


def test_parse_policy() -> None:
    assert isinstance(parse_policy("always"), Always)
    assert isinstance(parse_policy("never"), Never)
    delay = parse_policy("delay:250")
    assert isinstance(delay, AfterDelay)
    assert delay.ms == 250
    for bad in ("sometimes", "delay:", "delay:-1", "delay:1.5", "delay:٣"):
        with pytest.raises(ValueError, match="presence"):
            parse_policy(bad)


def test_delay_policy_waits_on_the_clock() -> None:
    clock = FrozenClock()
    button = Button(clock, AfterDelay(1500))
    button.wait("x", None, threading.Event())
    assert 1.5 <= clock.monotonic() < 1.6


def test_never_times_out_unless_touched() -> None:
    clock = FrozenClock()
    button = Button(clock, Never(), timeout=30.0)
    with pytest.raises(ChipError) as info:
        button.wait("x", None, threading.Event())
    assert info.value.code == Status.USER_ACTION_TIMEOUT
    assert clock.monotonic() == pytest.approx(30.0)
    button.touch()
    button.wait("x", None, threading.Event())  # the latched touch counts


def test_a_stale_touch_does_not_count() -> None:
    clock = FrozenClock()
    button = Button(clock, Never(), timeout=1.0)
    button.touch()
    clock.advance(6)
    with pytest.raises(ChipError):
        button.wait("x", None, threading.Event())


def test_cancel_and_decline() -> None:
    clock = FrozenClock()
    cancelled = threading.Event()
    cancelled.set()
    with pytest.raises(ChipError) as info:
        Button(clock, Never()).wait("x", None, cancelled)
    assert info.value.code == Status.KEEPALIVE_CANCEL
    with pytest.raises(ChipError) as info:
        Button(clock, AskCallback(lambda r: False)).wait("x", None, threading.Event())
    assert info.value.code == Status.OPERATION_DENIED


def test_u2f_check_does_not_block() -> None:
    clock = FrozenClock()
    button = Button(clock, AfterDelay(500))
    assert button.check("register", None) is False
    clock.advance(0.6)
    assert button.check("register", None) is True
    never = Button(clock, Never())
    assert never.check("register", None) is False
    never.touch()
    assert never.check("register", None) is True
    assert never.check("register", None) is False  # a touch is used once
