"""Errors of the verifier side, each with a machine-readable code."""

from __future__ import annotations

import enum

from authenticators.errors import CodedError


class CoreErrorCode(enum.Enum):
    UNKNOWN_IDENTITY = "unknown_identity"
    DUPLICATE_IDENTITY = "duplicate_identity"
    INVALID_IDENTITY = "invalid_identity"
    METHOD_NOT_AVAILABLE = "method_not_available"
    ALREADY_LINKED = "already_linked"
    NOT_LINKED = "not_linked"
    UNKNOWN_TRANSACTION = "unknown_transaction"
    INSUFFICIENT_LEVEL = "insufficient_level"
    NO_PASSWORD = "no_password"  # noqa: S105 - an error code, not a password
    UNKNOWN_ORGANISATION = "unknown_organisation"
    DUPLICATE_ORGANISATION = "duplicate_organisation"


class CoreError(CodedError[CoreErrorCode]):
    """The verifier side refused: an unknown identity, a method the login cannot use, ..."""
