"""The HAL's one exception: a device that cannot be reached, named, with what to try next."""

from __future__ import annotations

import enum

from authenticators.errors import CodedError


class HalErrorCode(enum.Enum):
    """Machine-readable reasons a device URI did not give a working token."""

    BAD_URI = "bad_uri"
    NOT_FOUND = "not_found"
    CANNOT_OPEN = "cannot_open"
    NOT_FIDO = "not_fido"
    UNPLUGGED = "unplugged"
    GARBAGE = "garbage"
    TIMEOUT = "timeout"


class HalError(CodedError[HalErrorCode]):
    """A transport failure. ``message`` names the device, the problem and what to try."""

    def __init__(self, code: HalErrorCode, uri: str, problem: str, hint: str = "") -> None:
        super().__init__(code, f"{uri}: {problem}" + (f"; {hint}" if hint else ""))
        self.uri = uri
        self.problem = problem
        self.hint = hint

    def __repr__(self) -> str:
        return f"HalError({self.code.name}, {self.uri!r}, {self.problem!r})"
