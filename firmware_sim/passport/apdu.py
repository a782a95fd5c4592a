"""ISO/IEC 7816-4 command APDUs and the status words the chip answers with."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class SW(enum.IntEnum):
    OK = 0x9000
    END_OF_FILE = 0x6282
    VERIFICATION_FAILED = 0x6300
    WRONG_LENGTH = 0x6700
    SM_NOT_SUPPORTED = 0x6882
    LAST_COMMAND_EXPECTED = 0x6883
    SECURITY_STATUS = 0x6982
    CONDITIONS = 0x6985
    SM_OBJECTS_MISSING = 0x6987
    SM_OBJECTS_INCORRECT = 0x6988
    WRONG_DATA = 0x6A80
    FILE_NOT_FOUND = 0x6A82
    WRONG_P1P2 = 0x6A86
    REFERENCED_DATA = 0x6A88
    WRONG_OFFSET = 0x6B00
    INS_NOT_SUPPORTED = 0x6D00
    CLA_NOT_SUPPORTED = 0x6E00
    NO_DIAGNOSIS = 0x6F00


class CardError(Exception):
    """A command failed: ``sw`` is what the chip answers (``detail`` is for logs and tests)."""

    def __init__(self, sw: SW, detail: str = "") -> None:
        super().__init__(f"{sw.name} ({sw.value:04X}){': ' + detail if detail else ''}")
        self.sw = sw
        self.detail = detail


@dataclass(frozen=True)
class Command:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None  # None: no Le field; otherwise the number of bytes expected
    extended: bool = False

    @property
    def header(self) -> bytes:
        return bytes([self.cla, self.ins, self.p1, self.p2])

    @classmethod
    def parse(cls, raw: bytes) -> Command:
        """The four ISO cases, short and extended; CardError(WRONG_LENGTH) for anything else."""
        if len(raw) < 4:
            raise CardError(SW.WRONG_LENGTH, "shorter than a header")
        cla, ins, p1, p2 = raw[:4]
        body = raw[4:]
        if not body:
            return cls(cla, ins, p1, p2)
        if len(body) == 1:
            return cls(cla, ins, p1, p2, le=body[0] or 256)
        if body[0] != 0:
            lc = body[0]
            if len(body) == 1 + lc:
                return cls(cla, ins, p1, p2, body[1:])
            if len(body) == 2 + lc:
                return cls(cla, ins, p1, p2, body[1 : 1 + lc], le=body[-1] or 256)
            raise CardError(SW.WRONG_LENGTH, "Lc does not match the data")
        if len(body) == 3:
            return cls(cla, ins, p1, p2, le=int.from_bytes(body[1:], "big") or 65536, extended=True)
        lc = int.from_bytes(body[1:3], "big")
        if lc == 0 or len(body) < 3 + lc:
            raise CardError(SW.WRONG_LENGTH, "extended Lc does not match the data")
        data = body[3 : 3 + lc]
        rest = body[3 + lc :]
        if not rest:
            return cls(cla, ins, p1, p2, data, extended=True)
        if len(rest) == 2:
            return cls(
                cla, ins, p1, p2, data, le=int.from_bytes(rest, "big") or 65536, extended=True
            )
        raise CardError(SW.WRONG_LENGTH, "extended Le of the wrong size")
