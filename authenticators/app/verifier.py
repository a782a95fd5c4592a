"""The app verifier: pure — enrollment, challenge, response and the time in, a verdict out.

Checked in this order: the response is for this challenge and this app; the app is active and
has not answered this transaction before; the login has not expired; the payload is well formed;
the signature over what the user saw verifies under the app's key; the user approved; the
binding value the phone read matches the one the screen showed (constant time); the PIN or
biometrics were used where the login needs them. It never raises on what a response carries: a
response it cannot read is ``MALFORMED``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from authenticators.app.answer import (
    ECDSA_SHA256,
    MAX_SIGNATURE,
    BindMethod,
    Decision,
    UserVerification,
    signed_bytes,
)
from authenticators.app.apps import KIND, USED_KEPT, AppStatus, VerifierRecord
from authenticators.app.channel import BINDING_SIZE, binding_code
from authenticators.app.policy import AppPolicy
from authenticators.ct import bytes_eq
from authenticators.digits import is_digits
from authenticators.protocol import Challenge, Enrollment, Level, Reason, Response, Verdict

AMR = "code_app"
_MAX_FIELD = 256


def binding_required(challenge: Challenge) -> bool:
    """Desktop logins bind the channel; a login marked ``mobile`` in the challenge does not."""
    return challenge.extra.get("mobile") is not True


def pin_required(challenge: Challenge, policy: AppPolicy) -> bool:
    return policy.require_pin or challenge.extra.get("require_pin") is True


@lru_cache(maxsize=256)
def _public_key(der: bytes) -> ec.EllipticCurvePublicKey:
    key = serialization.load_der_public_key(der)
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("not a P-256 public key")
    return key


class _Malformed(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class _Payload:
    decision: Decision
    bind_method: BindMethod
    bind: bytes
    update: int | None
    uv: UserVerification
    time_ms: int
    signature: bytes
    screen_binding: bytes


def _text(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or len(value) > _MAX_FIELD:
        raise _Malformed(f"{name} is missing or not text")
    return value


def _hex(text: str, name: str) -> bytes:
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise _Malformed(f"{name} is not hex") from None


def _parse(payload: Mapping[str, Any]) -> _Payload:
    if not isinstance(payload, Mapping):
        raise _Malformed("the payload is not a mapping")
    try:
        decision = Decision(_text(payload, "decision"))
        method = BindMethod(_text(payload, "bind_method"))
        uv = UserVerification(_text(payload, "uv"))
    except ValueError:
        raise _Malformed("unknown decision, bind_method or uv") from None
    bind_text = _text(payload, "bind")
    if method is BindMethod.QR:
        bind = _hex(bind_text, "bind")
        if len(bind) != BINDING_SIZE:
            raise _Malformed(f"a QR binding value is {BINDING_SIZE} bytes")
    elif method is BindMethod.CODE:
        if not is_digits(bind_text, 4):
            raise _Malformed("a binding code is 4 digits")
        bind = bind_text.encode("ascii")
    else:
        if bind_text:
            raise _Malformed("bind must be empty without a binding")
        bind = b""
    update = payload.get("uc")
    if update is not None and (
        not isinstance(update, int) or isinstance(update, bool) or not 0 <= update < 2**31
    ):
        raise _Malformed("uc is not a counter")
    time_ms = payload.get("t")
    if not isinstance(time_ms, int) or isinstance(time_ms, bool) or not 0 <= time_ms < 2**53:
        raise _Malformed("t is not a time in milliseconds")
    signature = _hex(_text(payload, "sig"), "sig")
    if not 0 < len(signature) <= MAX_SIGNATURE:
        raise _Malformed("sig has the wrong length")
    screen_binding = _hex(_text(payload, "screen_binding"), "screen_binding")
    if screen_binding and len(screen_binding) != BINDING_SIZE:
        raise _Malformed(f"screen_binding is {BINDING_SIZE} bytes or empty")
    return _Payload(
        decision,
        method,
        bind,
        update,
        uv,
        time_ms,
        signature,
        screen_binding,
    )


class AppVerifier:
    """Judges one signed answer of the MitID app."""

    def __init__(self, policy: AppPolicy | None = None, *, amr: str = AMR) -> None:
        self.policy = policy or AppPolicy()
        self.amr = amr

    def __repr__(self) -> str:
        return f"AppVerifier(amr={self.amr!r})"

    def verify(
        self, enrollment: Enrollment, challenge: Challenge, response: Response, now: float
    ) -> Verdict:
        try:
            return self._verify(enrollment, challenge, response, now)
        except _Malformed as exc:
            return self._verdict(Reason.MALFORMED, exc.detail)

    def _verdict(
        self,
        reason: Reason,
        detail: str = "",
        *,
        level: Level | None = None,
        used: list[str] | None = None,
        transaction_id: str = "",
        at: float = 0.0,
    ) -> Verdict:
        state = None
        if used is not None:
            state = {"used": used, "transaction_id": transaction_id, "at": at}
        amr = self.amr if reason is Reason.OK else None
        return Verdict(reason, kind=KIND, amr=amr, level=level, state=state, detail=detail)

    def _verify(
        self, enrollment: Enrollment, challenge: Challenge, response: Response, now: float
    ) -> Verdict:
        if response.kind != KIND or challenge.kind != KIND:
            raise _Malformed("not an app response")
        if response.transaction_id != challenge.transaction_id:
            raise _Malformed("the response is for another transaction")
        if response.authenticator_id != enrollment.authenticator_id:
            raise _Malformed("the response names another app")
        try:
            record = VerifierRecord.from_enrollment(enrollment)
            key = _public_key(record.public_key)
        except (KeyError, TypeError, ValueError):
            raise _Malformed("the app's enrollment record is damaged") from None
        status = record.status
        enrolled = record.level
        used = list(record.used)
        biometrics = record.biometrics
        if status is AppStatus.DEACTIVATED:
            return self._verdict(Reason.UNKNOWN_AUTHENTICATOR, "the app is deactivated")
        if status is AppStatus.BLOCKED:
            return self._verdict(
                Reason.LOCKED, "the app is blocked after too many wrong PINs; activate it again"
            )
        tx = challenge.transaction_id
        if tx in used:
            return self._verdict(Reason.REPLAYED, "the app has answered this login already")
        if challenge.expired(now):
            return self._verdict(Reason.EXPIRED, "the login has expired")
        answer = _parse(response.payload)
        decision = answer.decision
        message = signed_bytes(
            challenge,
            enrollment.authenticator_id,
            decision,
            answer.bind_method,
            answer.bind,
            answer.update,
            answer.uv,
            answer.time_ms,
        )
        try:
            key.verify(answer.signature, message, ECDSA_SHA256)
        except InvalidSignature:
            return self._verdict(Reason.BAD_SIGNATURE, "the app's signature does not verify")
        signed_at = answer.time_ms / 1000
        if signed_at >= challenge.expires_at:
            return self._verdict(Reason.EXPIRED, "the app answered after the login expired")
        skew = self.policy.clock_skew
        if signed_at < challenge.issued_at - skew or signed_at > now + skew:
            return self._verdict(Reason.MALFORMED, "the answer's time is outside the login")
        spent = [*used, tx][-USED_KEPT:]
        if decision is Decision.REJECT:
            return self._verdict(
                Reason.REJECTED_BY_USER,
                "the user rejected the request in the app",
                used=spent,
                transaction_id=tx,
                at=now,
            )
        problem = self._binding_problem(challenge, answer)
        if problem:
            return self._verdict(Reason.BAD_BINDING, problem, used=spent, transaction_id=tx, at=now)
        verified = answer.uv is UserVerification.PIN or (
            answer.uv is UserVerification.BIOMETRICS and biometrics
        )
        if pin_required(challenge, self.policy) and not verified:
            return self._verdict(
                Reason.WRONG_PIN,
                "this login needs the app's PIN (or biometrics)",
                used=spent,
                transaction_id=tx,
                at=now,
            )
        level = Level.HIGH if enrolled is Level.HIGH and verified else Level.SUBSTANTIAL
        return self._verdict(Reason.OK, level=level, used=spent, transaction_id=tx, at=now)

    @staticmethod
    def _binding_problem(challenge: Challenge, answer: _Payload) -> str | None:
        if answer.bind_method is BindMethod.NONE:
            if binding_required(challenge):
                return "the app did not scan the login screen's QR code"
            return None
        expected = answer.screen_binding
        if not expected:
            return "the login screen showed no binding value"
        if answer.bind_method is BindMethod.QR:
            match = bytes_eq(answer.bind, expected)
        else:
            match = bytes_eq(answer.bind, binding_code(expected).encode("ascii"))
        return None if match else "the app read another screen's QR code or code"
