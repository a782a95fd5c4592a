"""CTAP2 commands (command byte + CBOR map) straight into a fresh simulated chip.

Every input goes to the default model and to ``solo1`` (their getInfo, extensions and error
codes differ). Rules: ``Authenticator.handle`` returns a status byte the specification knows,
and, on success, a canonical CBOR map; nothing escapes it.
"""

from __future__ import annotations

from firmware_sim.chip import cbor
from firmware_sim.chip.models import DEFAULT_MODEL, SOLO1
from firmware_sim.chip.presence import Activity
from security.fuzz import FuzzFailure
from security.fuzz._chip import KNOWN_STATUS, fixed_device


def one_input(data: bytes) -> None:
    if not data:
        return
    for model in (DEFAULT_MODEL, SOLO1):
        device = fixed_device(model=model)
        try:
            answer = device.ctap2.handle(data, Activity())
        finally:
            device.close()
        _check(answer)


def _check(answer: bytes) -> None:
    if not isinstance(answer, bytes) or not answer:
        raise FuzzFailure(f"not a CTAP2 answer: {answer!r}")
    if answer[0] not in KNOWN_STATUS:
        raise FuzzFailure(f"unknown status 0x{answer[0]:02x}")
    if answer[0] != 0 and len(answer) != 1:
        raise FuzzFailure("an error status with a body")
    if answer[0] == 0 and len(answer) > 1:
        body = cbor.decode(answer[1:])
        if not isinstance(body, dict):
            raise FuzzFailure("a success body that is not a map")
        if cbor.encode(body) != answer[1:]:
            raise FuzzFailure("a success body that is not canonical CBOR")
