"""U2F (CTAP1) APDUs straight into a fresh simulated chip.

Rules: every answer ends in one of the status words U2F defines; a successful authentication
carries a counter higher than any before it.
"""

from __future__ import annotations

import struct

from firmware_sim.chip.u2f import (
    INS_AUTHENTICATE,
    INS_REGISTER,
    SW_CLA_NOT_SUPPORTED,
    SW_CONDITIONS_NOT_SATISFIED,
    SW_INS_NOT_SUPPORTED,
    SW_NO_ERROR,
    SW_WRONG_DATA,
    SW_WRONG_LENGTH,
)
from security.fuzz import FuzzFailure
from security.fuzz._chip import fixed_device

KNOWN_SW = frozenset(
    {
        SW_NO_ERROR,
        SW_CONDITIONS_NOT_SATISFIED,
        SW_WRONG_DATA,
        SW_WRONG_LENGTH,
        SW_INS_NOT_SUPPORTED,
        SW_CLA_NOT_SUPPORTED,
    }
)


def one_input(data: bytes) -> None:
    device = fixed_device()
    try:
        before = device.state.counter
        answer = device.u2f.handle(data)
        after = device.state.counter
    finally:
        device.close()
    if not isinstance(answer, bytes) or len(answer) < 2:
        raise FuzzFailure(f"not an APDU answer: {answer!r}")
    sw = struct.unpack(">H", answer[-2:])[0]
    if sw not in KNOWN_SW:
        raise FuzzFailure(f"unknown status word {sw:04X}")
    if sw != SW_NO_ERROR:
        if len(answer) != 2:
            raise FuzzFailure("an error status word with data")
        return
    ins = data[1] if len(data) > 1 else None
    if ins == INS_REGISTER and answer[0] != 0x05:
        raise FuzzFailure("a registration answer without its 0x05 marker")
    if ins == INS_AUTHENTICATE:
        counter = struct.unpack(">I", answer[1:5])[0]
        if not before < counter == after:
            raise FuzzFailure(f"counter {counter} after {before} (state says {after})")
