"""The SAML side's one exception: a machine-readable code, the SAML status it answers with."""

from __future__ import annotations

import enum

STATUS = "urn:oasis:names:tc:SAML:2.0:status:"


class SamlErrorCode(enum.Enum):
    """What went wrong (the value, machine-readable), and the SAML status that says so."""

    MALFORMED = "malformed"
    TOO_LARGE = "too_large"
    UNSIGNED = "unsigned"
    BAD_SIGNATURE = "bad_signature"
    REPLAYED = "replayed"
    EXPIRED = "expired"
    UNKNOWN_SP = "unknown_sp"
    UNKNOWN_ACS = "unknown_acs"
    UNSUPPORTED = "unsupported"
    NO_AUTHN_CONTEXT = "no_authn_context"
    NO_PASSIVE = "no_passive"
    AUTHN_FAILED = "authn_failed"
    BAD_METADATA = "bad_metadata"

    @property
    def error(self) -> str:
        return self.value

    @property
    def status(self) -> str:
        return STATUS + _STATUS[self][0]

    @property
    def second_status(self) -> str:
        return STATUS + _STATUS[self][1]


_DENIED = ("Requester", "RequestDenied")
_UNSUPPORTED = ("Requester", "RequestUnsupported")
# Each code's top-level and second-level status (SAML core 3.2.2.2).
_STATUS: dict[SamlErrorCode, tuple[str, str]] = {
    SamlErrorCode.MALFORMED: _UNSUPPORTED,
    SamlErrorCode.TOO_LARGE: _DENIED,
    SamlErrorCode.UNSIGNED: _DENIED,
    SamlErrorCode.BAD_SIGNATURE: _DENIED,
    SamlErrorCode.REPLAYED: _DENIED,
    SamlErrorCode.EXPIRED: _DENIED,
    SamlErrorCode.UNKNOWN_SP: _DENIED,
    SamlErrorCode.UNKNOWN_ACS: _DENIED,
    SamlErrorCode.UNSUPPORTED: _UNSUPPORTED,
    SamlErrorCode.NO_AUTHN_CONTEXT: ("Responder", "NoAuthnContext"),
    SamlErrorCode.NO_PASSIVE: ("Responder", "NoPassive"),
    SamlErrorCode.AUTHN_FAILED: ("Responder", "AuthnFailed"),
    SamlErrorCode.BAD_METADATA: _UNSUPPORTED,
}


class SamlError(Exception):
    """A refused SAML message or metadata; ``message`` says why, without secrets."""

    def __init__(self, code: SamlErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
