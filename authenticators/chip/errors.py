"""The chip host side's exception: what a token refused, or what the host cannot do with it."""

from __future__ import annotations

import enum

from fido2.ctap import CtapError

from authenticators.errors import CodedError


class ChipErrorCode(enum.Enum):
    TOKEN_REFUSED = "token_refused"  # noqa: S105 - a code name, not a password
    PIN_REQUIRED = "pin_required"
    PIN_INVALID = "pin_invalid"
    PIN_BLOCKED = "pin_blocked"
    PIN_POLICY = "pin_policy"
    NO_CREDENTIALS = "no_credentials"
    NOT_SUPPORTED = "not_supported"
    RESET_NOT_ALLOWED = "reset_not_allowed"
    ATTESTATION_INVALID = "attestation_invalid"
    REGISTRATION_INVALID = "registration_invalid"
    DUPLICATE = "duplicate"
    NOT_ENROLLED = "not_enrolled"
    USER_ACTION_TIMEOUT = "user_action_timeout"


class ChipHostError(CodedError[ChipErrorCode]):
    """One line naming the device, the problem and what to try; never carries a PIN."""

    def __init__(self, code: ChipErrorCode, message: str, ctap: int | None = None) -> None:
        super().__init__(code, message)
        self.ctap = ctap


_ERR = CtapError.ERR

#: CTAP status -> (our code, what it means, what to try).
_KNOWN: dict[int, tuple[ChipErrorCode, str, str]] = {
    _ERR.PIN_INVALID: (ChipErrorCode.PIN_INVALID, "the PIN is wrong", "try again"),
    _ERR.PIN_AUTH_BLOCKED: (
        ChipErrorCode.PIN_BLOCKED,
        "too many wrong PINs since it was plugged in",
        "unplug and replug it",
    ),
    _ERR.PIN_BLOCKED: (
        ChipErrorCode.PIN_BLOCKED,
        "the PIN is blocked",
        "only a reset (`mitid-emu chip reset`) makes it usable again, losing its credentials",
    ),
    _ERR.PIN_NOT_SET: (
        ChipErrorCode.PIN_REQUIRED,
        "this needs a PIN and none is set",
        "set one with `mitid-emu chip pin set`",
    ),
    _ERR.PUAT_REQUIRED: (
        ChipErrorCode.PIN_REQUIRED,
        "this needs the PIN",
        "give it with --pin",
    ),
    _ERR.PIN_POLICY_VIOLATION: (
        ChipErrorCode.PIN_POLICY,
        "the new PIN breaks the token's PIN rules",
        "use a longer PIN (at least 4 characters)",
    ),
    _ERR.NO_CREDENTIALS: (
        ChipErrorCode.NO_CREDENTIALS,
        "it holds no matching credential",
        "register again with `mitid-emu chip register`",
    ),
    _ERR.NOT_ALLOWED: (
        ChipErrorCode.TOKEN_REFUSED,
        "it does not allow this now",
        "for a reset, replug the token and run the command within 10 seconds",
    ),
    _ERR.USER_ACTION_TIMEOUT: (
        ChipErrorCode.USER_ACTION_TIMEOUT,
        "nobody touched it in time",
        "run the command again and touch the key when it blinks",
    ),
    _ERR.OPERATION_DENIED: (
        ChipErrorCode.TOKEN_REFUSED,
        "the user declined",
        "run the command again and touch the key",
    ),
    _ERR.KEEPALIVE_CANCEL: (ChipErrorCode.TOKEN_REFUSED, "the request was cancelled", ""),
    _ERR.INVALID_COMMAND: (
        ChipErrorCode.NOT_SUPPORTED,
        "it does not support this command",
        "check `mitid-emu chip info` for what it supports",
    ),
}


def from_ctap(uri: str, exc: CtapError, doing: str) -> ChipHostError:
    """A token's CTAP error as a one-line message naming the device."""
    code = int(exc.code)
    known = _KNOWN.get(code)
    name = exc.code.name if isinstance(exc.code, CtapError.ERR) else f"0x{code:02x}"
    if known is None:
        return ChipHostError(
            ChipErrorCode.TOKEN_REFUSED,
            f"{uri}: the token refused to {doing} (CTAP error {name})",
            code,
        )
    ours, meaning, hint = known
    message = f"{uri}: cannot {doing}: {meaning} ({name})" + (f"; {hint}" if hint else "")
    return ChipHostError(ours, message, code)
