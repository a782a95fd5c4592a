"""One base for the library's coded errors: every layer's error has a code and a message."""

from __future__ import annotations

from typing import Any

import pytest

from authenticators.chip.errors import ChipErrorCode, ChipHostError
from authenticators.core.errors import CoreError, CoreErrorCode
from authenticators.errors import CodedError
from authenticators.hal.errors import HalError, HalErrorCode
from authenticators.protocol import ErrorCode, ProtocolError
from authenticators.store import StoreError, StoreErrorCode
from firmware_sim.otp_token import TokenFault, TokenHardwareError


@pytest.mark.parametrize(
    "error",
    [
        ProtocolError(ErrorCode.UNKNOWN_KIND, "no such kind"),
        CoreError(CoreErrorCode.UNKNOWN_IDENTITY, "no such person"),
        StoreError(StoreErrorCode.BUSY, "busy"),
        ChipHostError(ChipErrorCode.DUPLICATE, "enrolled already", ctap=0x19),
        HalError(HalErrorCode.TIMEOUT, "udp://127.0.0.1:8111", "no answer", "is it running?"),
        TokenHardwareError(TokenFault.BATTERY_EMPTY, "battery empty"),
    ],
)
def test_every_layer_error_is_coded(error: CodedError[Any]) -> None:
    assert isinstance(error, CodedError)
    assert str(error) == error.message
    assert error.code.name in repr(error)


def test_a_device_error_names_the_device_and_what_to_try() -> None:
    error = HalError(HalErrorCode.TIMEOUT, "udp://127.0.0.1:8111", "no answer", "is it running?")
    assert error.message == "udp://127.0.0.1:8111: no answer; is it running?"
    assert error.code is HalErrorCode.TIMEOUT
