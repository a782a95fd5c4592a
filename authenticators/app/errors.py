"""What the app refuses to do for a reason the person should hear (exit code 1, not 2)."""

from __future__ import annotations

from authenticators.protocol import Reason


class AppRefusal(Exception):
    """The phone or the inbox said no: a wrong PIN, a blocked app, an expired or answered push."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
