"""The challenge/response protocol every authenticator kind speaks.

A login is one :class:`Challenge` issued by the verifier, one :class:`Response` produced by the
device side, and one :class:`Verdict`. Plugins implement :class:`AuthenticatorPlugin`; the core
never needs to know which kind it is talking to.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

import cbor2

from authenticators.errors import CodedError

if TYPE_CHECKING:
    from authenticators.clock import Clock
    from authenticators.store import Store

NONCE_SIZE = 32
REFERENCE_BODY_MAX = 130


class ErrorCode(enum.Enum):
    """Machine-readable codes for :class:`ProtocolError`."""

    INVALID_REFERENCE_TEXT = "invalid_reference_text"
    INVALID_CHALLENGE = "invalid_challenge"
    UNKNOWN_KIND = "unknown_kind"
    UNKNOWN_AUTHENTICATOR = "unknown_authenticator"
    UNSUPPORTED_ACTION = "unsupported_action"
    DEVICE_ERROR = "device_error"
    INVALID_ARGUMENT = "invalid_argument"
    CONFLICT = "conflict"
    INVALID_SEED = "invalid_seed"
    PARALLEL_SESSION = "parallel_session"


class ProtocolError(CodedError[ErrorCode]):
    """Raised for misuse by the caller (never for attacker input at a verifier)."""


class Reason(enum.Enum):
    """Why a verdict came out the way it did; ``OK`` is the only success."""

    OK = "ok"
    WRONG_CODE = "wrong_code"
    WRONG_PASSWORD = "wrong_password"  # noqa: S105 - a reason name, not a password
    WRONG_PIN = "wrong_pin"
    REPLAYED = "replayed"
    EXPIRED = "expired"
    LOCKED = "locked"
    BAD_SIGNATURE = "bad_signature"
    BAD_BINDING = "bad_binding"
    COUNTER_REGRESSION = "counter_regression"
    REJECTED_BY_USER = "rejected_by_user"
    NOT_APPROVED = "not_approved"
    PARALLEL_SESSION = "parallel_session"
    UNKNOWN_AUTHENTICATOR = "unknown_authenticator"
    INSUFFICIENT_LEVEL = "insufficient_level"
    MALFORMED = "malformed"


class Level(enum.Enum):
    """NSIS assurance levels with the acr values brokers use."""

    LOW = "low"
    SUBSTANTIAL = "substantial"
    HIGH = "high"
    BUSINESS = "business"

    @property
    def acr(self) -> str:
        return f"urn:grn:authn:dk:mitid:{self.value}"

    @property
    def loa(self) -> str:
        """The NSIS level of assurance URI; business logins are substantial by assurance."""
        nsis = "Substantial" if self is Level.BUSINESS else self.value.capitalize()
        return f"https://data.gov.dk/concept/core/nsis/loa/{nsis}"

    @property
    def rank(self) -> int:
        return _LEVEL_RANK[self]

    @classmethod
    def from_acr(cls, acr: str) -> Level:
        for level in cls:
            if acr in (level.acr, level.value):
                return level
        raise ProtocolError(ErrorCode.INVALID_ARGUMENT, f"unknown acr value {acr!r}")


_LEVEL_RANK = {Level.LOW: 0, Level.SUBSTANTIAL: 1, Level.BUSINESS: 1, Level.HIGH: 2}


class Action(enum.Enum):
    """The header of a reference text: what the user is asked to do."""

    LOG_ON = "LOG_ON"
    APPROVE = "APPROVE"
    CONFIRM = "CONFIRM"
    ACCEPT = "ACCEPT"
    SIGN = "SIGN"


class UserAction(enum.Enum):
    """What the person holding the device did."""

    PRESS_BUTTON = "press_button"
    TOUCH = "touch"
    APPROVE = "approve"
    REJECT = "reject"
    IGNORE = "ignore"


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class ReferenceText:
    """What the user is shown: an action header and a body of at most 130 characters."""

    header: Action = Action.LOG_ON
    body: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.header, Action):
            raise ProtocolError(ErrorCode.INVALID_REFERENCE_TEXT, "header must be an Action")
        if len(self.body) > REFERENCE_BODY_MAX:
            raise ProtocolError(
                ErrorCode.INVALID_REFERENCE_TEXT,
                f"reference text body is {len(self.body)} characters; "
                f"shorten it to at most {REFERENCE_BODY_MAX}",
            )
        if _CONTROL.search(self.body):
            raise ProtocolError(
                ErrorCode.INVALID_REFERENCE_TEXT,
                "reference text body contains control characters; use plain text",
            )

    @classmethod
    def parse(cls, text: str, header: str | Action = Action.LOG_ON) -> ReferenceText:
        try:
            action = header if isinstance(header, Action) else Action(header.upper())
        except ValueError:
            names = ", ".join(a.value for a in Action)
            raise ProtocolError(
                ErrorCode.INVALID_REFERENCE_TEXT,
                f"unknown reference text header {header!r}; use one of {names}",
            ) from None
        return cls(action, text)


def new_transaction_id() -> str:
    return secrets.token_urlsafe(18)


def new_nonce() -> bytes:
    return secrets.token_bytes(NONCE_SIZE)


@dataclass(frozen=True)
class Challenge:
    """One single-use request for authentication, issued by the verifier side."""

    transaction_id: str
    nonce: bytes
    kind: str
    service_provider: str
    reference_text: ReferenceText
    issued_at: float
    expires_at: float
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.nonce) != NONCE_SIZE:
            raise ProtocolError(ErrorCode.INVALID_CHALLENGE, f"nonce must be {NONCE_SIZE} bytes")
        if self.expires_at <= self.issued_at:
            raise ProtocolError(ErrorCode.INVALID_CHALLENGE, "challenge expires before issue")
        if not self.service_provider:
            raise ProtocolError(ErrorCode.INVALID_CHALLENGE, "service provider name is empty")

    @classmethod
    def issue(
        cls,
        kind: str,
        service_provider: str,
        reference_text: ReferenceText,
        clock: Clock,
        lifetime: float = 180.0,
        extra: Mapping[str, Any] | None = None,
    ) -> Challenge:
        now = clock.now()
        return cls(
            transaction_id=new_transaction_id(),
            nonce=new_nonce(),
            kind=kind,
            service_provider=service_provider,
            reference_text=reference_text,
            issued_at=now,
            expires_at=now + lifetime,
            extra=dict(extra or {}),
        )

    def expired(self, now: float) -> bool:
        return now >= self.expires_at

    def canonical_bytes(self) -> bytes:
        """Deterministic bytes that proofs and signatures cover (canonical CBOR)."""
        return cbor2.dumps(
            {
                "tx": self.transaction_id,
                "nonce": self.nonce,
                "kind": self.kind,
                "sp": self.service_provider,
                "hdr": self.reference_text.header.value,
                "body": self.reference_text.body,
                "iat": int(self.issued_at),
                "exp": int(self.expires_at),
                "extra": dict(self.extra),
            },
            canonical=True,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "transaction_id": self.transaction_id,
            "nonce": self.nonce.hex(),
            "kind": self.kind,
            "service_provider": self.service_provider,
            "reference_text": {
                "header": self.reference_text.header.value,
                "body": self.reference_text.body,
            },
            "issued_at": self.issued_at,
            "expires_at": self.expires_at,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Challenge:
        try:
            ref = data["reference_text"]
            return cls(
                transaction_id=str(data["transaction_id"]),
                nonce=bytes.fromhex(data["nonce"]),
                kind=str(data["kind"]),
                service_provider=str(data["service_provider"]),
                reference_text=ReferenceText(Action(ref["header"]), str(ref["body"])),
                issued_at=float(data["issued_at"]),
                expires_at=float(data["expires_at"]),
                extra=dict(data.get("extra") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProtocolError(
                ErrorCode.INVALID_CHALLENGE, f"malformed challenge: {exc}"
            ) from None


@dataclass(frozen=True)
class Response:
    """What the device side sends back; ``payload`` is kind-specific."""

    transaction_id: str
    kind: str
    authenticator_id: str
    payload: Mapping[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        # Payloads may carry codes or proofs: keep them out of logs and tracebacks.
        return (
            f"Response(transaction_id={self.transaction_id!r}, kind={self.kind!r}, "
            f"authenticator_id={self.authenticator_id!r}, payload=<{len(self.payload)} fields>)"
        )


@dataclass(frozen=True)
class Verdict:
    """The verifier's answer. ``state`` is the authenticator's new state to persist, if any."""

    reason: Reason
    kind: str = ""
    amr: str | None = None
    level: Level | None = None
    state: Mapping[str, Any] | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.reason is Reason.OK

    def __repr__(self) -> str:
        return (
            f"Verdict(reason={self.reason.name}, kind={self.kind!r}, amr={self.amr!r}, "
            f"level={self.level.name if self.level else None}, detail={self.detail!r})"
        )


@dataclass(frozen=True)
class Enrollment:
    """What the verifier keeps for one authenticator: identity-free, kind-specific."""

    kind: str
    authenticator_id: str
    record: Mapping[str, Any]

    def __repr__(self) -> str:
        return f"Enrollment(kind={self.kind!r}, authenticator_id={self.authenticator_id!r})"


_Options = TypeVar("_Options")


def options_from_fields(cls: type[_Options], kind: str, fields: Mapping[str, Any]) -> _Options:
    """``cls(**fields)`` for a kind's frozen options dataclass; what it does not take is refused."""
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(fields) - known)
    if unknown:
        raise ProtocolError(
            ErrorCode.INVALID_ARGUMENT,
            f"a {kind} is not enrolled with {', '.join(unknown)}; use {', '.join(sorted(known))}",
        )
    try:
        return cls(**fields)
    except TypeError:
        raise ProtocolError(
            ErrorCode.INVALID_ARGUMENT, f"a {kind} is enrolled with {', '.join(sorted(known))}"
        ) from None


def code_proof(code: str, challenge: Challenge, message: bytes | None = None) -> bytes:
    """Bind a one-time code to one transaction: the code itself never travels in clear.

    ``HMAC-SHA256(SHA-256("OTP" ‖ code ‖ nonce), canonical bytes of the challenge)``; a caller
    proving many codes for one challenge passes its ``message`` (the canonical bytes) once.
    """
    key = hashlib.sha256(b"OTP" + code.encode("ascii") + challenge.nonce).digest()
    return hmac.digest(key, challenge.canonical_bytes() if message is None else message, "sha256")


class Authenticator(Protocol):
    """The device side: turns a challenge and what the user did into a response."""

    def respond(self, challenge: Challenge, action: UserAction) -> Response: ...


class Verifier(Protocol):
    """The verifier side. Must never raise on attacker-controlled input: return MALFORMED."""

    def verify(
        self, enrollment: Enrollment, challenge: Challenge, response: Response, now: float
    ) -> Verdict: ...


@runtime_checkable
class AuthenticatorPlugin(Protocol):
    """One authenticator kind, found through the ``authenticators.plugins`` entry points."""

    kind: str
    amr: str
    levels: frozenset[Level]
    needs_password: bool

    def enroll_options(self, fields: Mapping[str, Any]) -> Any:
        """This kind's enrol options (a frozen dataclass) from named inputs; see
        :func:`options_from_fields`."""
        ...

    def enroll(self, store: Store, clock: Clock, options: Any) -> Enrollment:
        """Enrol one authenticator; ``options`` is this kind's options object."""
        ...

    def load(self, store: Store, authenticator_id: str) -> Enrollment: ...

    def save_state(self, store: Store, enrollment: Enrollment, verdict: Verdict) -> None: ...

    def authenticator(self, store: Store, authenticator_id: str, clock: Clock) -> Authenticator: ...

    def verifier(self) -> Verifier: ...


@runtime_checkable
class PushPlugin(Protocol):
    """A kind whose logins are pushed to every device the identity holds (the app).

    ``on_begin`` runs inside the transaction that creates the login; it may refuse the login by
    raising :class:`ProtocolError` (for example a parallel login).
    """

    pushes_to_all: bool

    def on_begin(
        self,
        store: Store,
        challenge: Challenge,
        identity_uuid: str,
        authenticator_ids: list[str],
        now: float,
    ) -> None: ...

    def on_abandon(self, store: Store, transaction_id: str, now: float) -> None:
        """The login was broken off before an answer: take the push back."""
        ...
