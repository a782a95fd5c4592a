"""The one base of the library's errors: a machine-readable code and a one-line message.

Each layer has its own subclass with its own code enum (``ProtocolError`` with ``ErrorCode``,
``CoreError`` with ``CoreErrorCode``, ``StoreError``, ``HalError``, ``ChipHostError``, the
simulated token's ``TokenHardwareError``); callers branch on ``code``, people read ``message``.
A message never carries a secret.
"""

from __future__ import annotations

import enum
from typing import Generic, TypeVar

C = TypeVar("C", bound=enum.Enum)


class CodedError(Exception, Generic[C]):
    """An error with ``code`` (a member of the layer's enum) and ``message`` (one line)."""

    def __init__(self, code: C, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code.name}, {self.message!r})"
