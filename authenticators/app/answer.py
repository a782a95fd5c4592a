"""The phone's answer: exactly what the user saw and decided, signed with the device key.

The signature (ECDSA P-256, SHA-256) covers canonical CBOR of the transaction id, nonce, service
provider, reference text header and body, the channel binding the phone read (the binding value
from the QR frames, or the 4-digit code typed in), the decision, the app id, how the user was
verified and the time. The verifier rebuilds these bytes from its own challenge, so a change to
any of them breaks the signature.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from authenticators.protocol import Challenge, Response

CONTEXT = "mitid-emulator app answer v1"
MAX_SIGNATURE = 80  # a DER ECDSA P-256 signature is at most 72 bytes
ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


class Decision(enum.Enum):
    APPROVE = "approve"
    REJECT = "reject"


class BindMethod(enum.Enum):
    QR = "qr"  # the binding value read from both QR frames of one update
    CODE = "code"  # the 4-digit code typed in from the screen
    NONE = "none"  # a mobile login, or a rejection before scanning


class UserVerification(enum.Enum):
    NONE = "none"
    PIN = "pin"
    BIOMETRICS = "biometrics"


def bind_bytes(method: BindMethod, bind: str) -> bytes:
    """The bytes a binding stands for: the value for QR, the digits for a code, nothing else."""
    if method is BindMethod.QR:
        return bytes.fromhex(bind)
    if method is BindMethod.CODE:
        return bind.encode("ascii")
    return b""


def signed_bytes(
    challenge: Challenge,
    app_id: str,
    decision: Decision,
    bind_method: BindMethod,
    bind: bytes,
    update: int | None,
    uv: UserVerification,
    time_ms: int,
) -> bytes:
    # Keys in canonical CBOR order (shorter first, then bytewise; RFC 7049 section 3.9), so
    # plain encoding gives the canonical bytes without sorting on every call.
    return cbor2.dumps(
        {
            "t": time_ms,
            "sp": challenge.service_provider,
            "tx": challenge.transaction_id,
            "uc": update,
            "uv": uv.value,
            "app": app_id,
            "ctx": CONTEXT,
            "hdr": challenge.reference_text.header.value,
            "bind": bind,
            "body": challenge.reference_text.body,
            "kind": challenge.kind,
            "nonce": challenge.nonce,
            "decision": decision.value,
            "bind_method": bind_method.value,
        }
    )


@dataclass(frozen=True)
class Answer:
    """One signed answer to one push, as it travels from the phone to the login side."""

    transaction_id: str
    app_id: str
    decision: Decision
    bind_method: BindMethod
    bind: str = field(repr=False)
    update: int | None
    uv: UserVerification
    time_ms: int
    signature: bytes = field(repr=False)

    def payload(self) -> dict[str, Any]:
        return {
            "decision": self.decision.value,
            "bind_method": self.bind_method.value,
            "bind": self.bind,
            "uc": self.update,
            "uv": self.uv.value,
            "t": self.time_ms,
            "sig": self.signature.hex(),
        }

    def to_dict(self) -> dict[str, Any]:
        return {"transaction_id": self.transaction_id, "app_id": self.app_id, **self.payload()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Answer:
        """Read an answer back from the state (raises KeyError/TypeError/ValueError)."""
        update = data["uc"]
        return cls(
            transaction_id=str(data["transaction_id"]),
            app_id=str(data["app_id"]),
            decision=Decision(data["decision"]),
            bind_method=BindMethod(data["bind_method"]),
            bind=str(data["bind"]),
            update=None if update is None else int(update),
            uv=UserVerification(data["uv"]),
            time_ms=int(data["t"]),
            signature=bytes.fromhex(data["sig"]),
        )

    def response(self, kind: str, screen_binding: bytes | None) -> Response:
        """The response the login side hands to the verifier: the answer plus the binding value
        the screen showed (empty when it showed none)."""
        payload = self.payload()
        payload["screen_binding"] = screen_binding.hex() if screen_binding else ""
        return Response(self.transaction_id, kind, self.app_id, payload)


def sign_answer(
    key: ec.EllipticCurvePrivateKey,
    challenge: Challenge,
    app_id: str,
    decision: Decision,
    *,
    bind_method: BindMethod = BindMethod.NONE,
    bind: str = "",
    update: int | None = None,
    uv: UserVerification = UserVerification.NONE,
    now: float,
) -> Answer:
    time_ms = int(now * 1000)
    message = signed_bytes(
        challenge,
        app_id,
        decision,
        bind_method,
        bind_bytes(bind_method, bind),
        update,
        uv,
        time_ms,
    )
    signature = key.sign(message, ECDSA_SHA256)
    return Answer(
        challenge.transaction_id,
        app_id,
        decision,
        bind_method,
        bind,
        update,
        uv,
        time_ms,
        signature,
    )
