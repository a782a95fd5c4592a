"""The chip's one exception: a CTAP status code, which is exactly what the device answers."""

from __future__ import annotations

from fido2.ctap import CtapError

#: The CTAP status codes (CTAP 2.1 §8.2 and the CTAPHID error codes share one byte space).
Status = CtapError.ERR


class ChipError(Exception):
    """A command failed; ``code`` is the status byte sent back to the host."""

    def __init__(self, code: Status, detail: str = "") -> None:
        super().__init__(f"{code.name}{': ' + detail if detail else ''}")
        self.code = code
        self.detail = detail
