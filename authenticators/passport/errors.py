"""The reader's one exception, with a machine-readable code."""

from __future__ import annotations

import enum


class PassportErrorCode(enum.Enum):
    TRANSPORT = "transport"
    NO_PASSPORT = "no_passport"
    BAC_FAILED = "bac_failed"
    PACE_FAILED = "pace_failed"
    SECURE_MESSAGING = "secure_messaging"
    CARD_STATUS = "card_status"
    MALFORMED = "malformed"
    PASSIVE_AUTHENTICATION = "passive_authentication_failed"
    ACTIVE_AUTHENTICATION = "active_authentication_failed"
    CHIP_AUTHENTICATION = "chip_authentication_failed"
    INVALID_ARGUMENT = "invalid_argument"
    UNKNOWN_PASSPORT = "unknown_passport"


class PassportError(Exception):
    """Reading or checking a passport failed; ``message`` says what and what to do."""

    def __init__(self, code: PassportErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
