"""The app verifier, pure: every reason, and that it covers exactly what the user saw."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authenticators.app.answer import (
    Answer,
    BindMethod,
    Decision,
    UserVerification,
    bind_bytes,
    sign_answer,
    signed_bytes,
)
from authenticators.app.channel import binding_code
from authenticators.app.policy import AppPolicy
from authenticators.app.verifier import AppVerifier
from authenticators.clock import FrozenClock
from authenticators.protocol import (
    Action,
    Challenge,
    Enrollment,
    Level,
    Reason,
    ReferenceText,
    Response,
    Verdict,
)
from tests.support import T0

KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())
APP = "app-test"
VALUE = bytes(range(100, 132))


def enrollment(
    status: str = "active",
    level: Level = Level.SUBSTANTIAL,
    used: tuple[str, ...] = (),
    key: ec.EllipticCurvePrivateKey = KEY,
    biometrics: bool = False,
) -> Enrollment:
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = {
        "public_key": public,
        "level": level.value,
        "biometrics": biometrics,
        "status": status,
        "used": list(used),
        "owner": "someone",
    }
    return Enrollment("app", APP, record)


def challenge(extra: dict[str, Any] | None = None, **changes: Any) -> Challenge:
    base = Challenge.issue(
        "app",
        "Demo Bank",
        ReferenceText(Action.LOG_ON, "Log on to Demo Bank"),
        FrozenClock(T0),
        extra=extra,
    )
    return replace(base, **changes)


def answer(
    ch: Challenge,
    decision: Decision = Decision.APPROVE,
    *,
    method: BindMethod = BindMethod.QR,
    value: bytes = VALUE,
    uv: UserVerification = UserVerification.NONE,
    at: float = T0 + 5,
    key: ec.EllipticCurvePrivateKey = KEY,
) -> Answer:
    bind = {BindMethod.QR: value.hex(), BindMethod.CODE: binding_code(value), BindMethod.NONE: ""}
    return sign_answer(
        key,
        ch,
        APP,
        decision,
        bind_method=method,
        bind=bind[method],
        update=0 if method is BindMethod.QR else None,
        uv=uv,
        now=at,
    )


def verify(
    ch: Challenge,
    response: Response,
    enrolled: Enrollment | None = None,
    now: float = T0 + 6,
    policy: AppPolicy | None = None,
) -> Verdict:
    return AppVerifier(policy).verify(enrolled or enrollment(), ch, response, now)


def test_an_approval_with_the_scanned_binding_is_ok() -> None:
    ch = challenge()
    verdict = verify(ch, answer(ch).response("app", VALUE))
    assert verdict.ok, verdict
    assert verdict.amr == "code_app"
    assert verdict.level is Level.SUBSTANTIAL
    assert verdict.state == {"used": [ch.transaction_id], "transaction_id": ch.transaction_id,
                             "at": T0 + 6}  # fmt: skip


def test_the_typed_code_binds_as_well() -> None:
    ch = challenge()
    assert verify(ch, answer(ch, method=BindMethod.CODE).response("app", VALUE)).ok
    wrong = answer(ch, method=BindMethod.CODE, value=bytes(32))
    assert binding_code(bytes(32)) != binding_code(VALUE)
    assert verify(ch, wrong.response("app", VALUE)).reason is Reason.BAD_BINDING


def test_another_screens_binding_is_bad_binding() -> None:
    ch = challenge()
    verdict = verify(ch, answer(ch).response("app", bytes(32)))
    assert verdict.reason is Reason.BAD_BINDING
    assert verdict.state is not None  # the transaction is spent all the same
    assert verify(ch, answer(ch).response("app", None)).reason is Reason.BAD_BINDING


def test_a_desktop_login_needs_the_binding_a_mobile_one_does_not() -> None:
    ch = challenge()
    unbound = answer(ch, method=BindMethod.NONE).response("app", None)
    assert verify(ch, unbound).reason is Reason.BAD_BINDING
    mobile = challenge({"mobile": True})
    assert verify(mobile, answer(mobile, method=BindMethod.NONE).response("app", None)).ok


def test_a_rejection_is_signed_and_rejected_by_user() -> None:
    ch = challenge()
    verdict = verify(ch, answer(ch, Decision.REJECT, method=BindMethod.NONE).response("app", None))
    assert verdict.reason is Reason.REJECTED_BY_USER
    assert not verdict.ok
    assert verdict.level is None
    forged = answer(ch, Decision.REJECT, method=BindMethod.NONE, key=OTHER_KEY)
    assert verify(ch, forged.response("app", None)).reason is Reason.BAD_SIGNATURE


def test_level_high_needs_an_app_enrolled_at_high_and_the_pin() -> None:
    ch = challenge()
    high = enrollment(level=Level.HIGH)
    with_pin = answer(ch, uv=UserVerification.PIN).response("app", VALUE)
    assert verify(ch, with_pin, high).level is Level.HIGH
    assert verify(ch, answer(ch).response("app", VALUE), high).level is Level.SUBSTANTIAL
    assert verify(ch, with_pin, enrollment()).level is Level.SUBSTANTIAL
    bio = answer(ch, uv=UserVerification.BIOMETRICS).response("app", VALUE)
    assert verify(ch, bio, enrollment(level=Level.HIGH, biometrics=True)).level is Level.HIGH
    # Biometrics claimed by an app without them count for nothing.
    assert verify(ch, bio, high).level is Level.SUBSTANTIAL


def test_the_pin_is_required_when_the_policy_or_login_says_so() -> None:
    ch = challenge()
    plain = answer(ch).response("app", VALUE)
    assert verify(ch, plain, policy=AppPolicy(require_pin=True)).reason is Reason.WRONG_PIN
    strict = challenge({"require_pin": True})
    assert verify(strict, answer(strict).response("app", VALUE)).reason is Reason.WRONG_PIN
    assert verify(strict, answer(strict, uv=UserVerification.PIN).response("app", VALUE)).ok


def test_expired_logins_and_late_answers_are_expired() -> None:
    ch = challenge()
    response = answer(ch).response("app", VALUE)
    assert verify(ch, response, now=ch.expires_at).reason is Reason.EXPIRED
    late = answer(ch, at=ch.expires_at + 1).response("app", VALUE)
    assert verify(ch, late, now=ch.expires_at - 1).reason is Reason.EXPIRED


def test_times_outside_the_login_are_malformed() -> None:
    ch = challenge()
    early = answer(ch, at=T0 - 3600).response("app", VALUE)
    assert verify(ch, early).reason is Reason.MALFORMED


def test_a_second_submission_is_replayed() -> None:
    ch = challenge()
    response = answer(ch).response("app", VALUE)
    first = verify(ch, response)
    assert first.ok
    assert first.state is not None
    spent = enrollment(used=tuple(first.state["used"]))
    assert verify(ch, response, spent).reason is Reason.REPLAYED


def test_blocked_and_deactivated_apps_are_refused() -> None:
    ch = challenge()
    response = answer(ch).response("app", VALUE)
    assert verify(ch, response, enrollment("blocked")).reason is Reason.LOCKED
    gone = verify(ch, response, enrollment("deactivated"))
    assert gone.reason is Reason.UNKNOWN_AUTHENTICATOR


def test_a_key_of_another_app_is_a_bad_signature() -> None:
    ch = challenge()
    response = answer(ch, key=OTHER_KEY).response("app", VALUE)
    assert verify(ch, response).reason is Reason.BAD_SIGNATURE


def test_a_response_for_another_app_or_transaction_is_malformed() -> None:
    ch = challenge()
    response = answer(ch).response("app", VALUE)
    assert verify(ch, replace(response, authenticator_id="app-other")).reason is Reason.MALFORMED
    assert verify(ch, replace(response, transaction_id="other")).reason is Reason.MALFORMED
    assert verify(ch, replace(response, kind="chip")).reason is Reason.MALFORMED


# -- tampering: any change to what the user saw breaks it ----------------------------------------


def flip(data: bytes, index: int, bit: int) -> bytes:
    out = bytearray(data)
    out[index % len(out)] ^= 1 << bit
    return bytes(out)


def flip_text(text: str, index: int) -> str:
    i = index % len(text)
    swapped = "b" if text[i] != "b" else "c"
    return text[:i] + swapped + text[i + 1 :]


@pytest.fixture(scope="module")
def signed() -> tuple[Challenge, Response]:
    ch = challenge()
    return ch, answer(ch).response("app", VALUE)


FAST = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FAST
@given(index=st.integers(0, 200))
def test_changing_the_service_provider_breaks_it(
    signed: tuple[Challenge, Response], index: int
) -> None:
    ch, response = signed
    assert verify(ch, response).ok
    changed = replace(ch, service_provider=flip_text(ch.service_provider, index))
    assert verify(changed, response).reason is Reason.BAD_SIGNATURE


@FAST
@given(index=st.integers(0, 200), header=st.sampled_from(list(Action)))
def test_changing_the_reference_text_breaks_it(
    signed: tuple[Challenge, Response], index: int, header: Action
) -> None:
    ch, response = signed
    ref = ch.reference_text
    body = replace(ch, reference_text=ReferenceText(ref.header, flip_text(ref.body, index)))
    assert verify(body, response).reason is Reason.BAD_SIGNATURE
    if header is not ref.header:
        hdr = replace(ch, reference_text=ReferenceText(header, ref.body))
        assert verify(hdr, response).reason is Reason.BAD_SIGNATURE


@FAST
@given(index=st.integers(0, 31), bit=st.integers(0, 7))
def test_changing_the_binding_value_breaks_it(
    signed: tuple[Challenge, Response], index: int, bit: int
) -> None:
    ch, response = signed
    screen = replace(
        response, payload={**response.payload, "screen_binding": flip(VALUE, index, bit).hex()}
    )
    assert verify(ch, screen).reason is Reason.BAD_BINDING
    bind = flip(bytes.fromhex(response.payload["bind"]), index, bit).hex()
    scanned = replace(response, payload={**response.payload, "bind": bind})
    assert verify(ch, scanned).reason is Reason.BAD_SIGNATURE


@FAST
@given(index=st.integers(0, 100), nonce_index=st.integers(0, 31), bit=st.integers(0, 7))
def test_changing_the_transaction_breaks_it(
    signed: tuple[Challenge, Response], index: int, nonce_index: int, bit: int
) -> None:
    ch, response = signed
    other_tx = flip_text(ch.transaction_id, index)
    moved = replace(ch, transaction_id=other_tx)
    assert verify(moved, replace(response, transaction_id=other_tx)).reason is Reason.BAD_SIGNATURE
    nonce = replace(ch, nonce=flip(ch.nonce, nonce_index, bit))
    assert verify(nonce, response).reason is Reason.BAD_SIGNATURE


def test_changing_the_decision_breaks_it(signed: tuple[Challenge, Response]) -> None:
    ch, response = signed
    rejected = replace(response, payload={**response.payload, "decision": "reject"})
    assert verify(ch, rejected).reason is Reason.BAD_SIGNATURE
    rejection = answer(ch, Decision.REJECT).response("app", VALUE)
    approved = replace(rejection, payload={**rejection.payload, "decision": "approve"})
    assert verify(ch, approved).reason is Reason.BAD_SIGNATURE
    for other in ("APPROVE", "yes", "", "approve "):
        odd = replace(response, payload={**response.payload, "decision": other})
        assert verify(ch, odd).reason is Reason.MALFORMED


@FAST
@given(field=st.sampled_from(["uv", "t", "uc", "bind_method"]))
def test_changing_any_other_signed_field_breaks_it(
    signed: tuple[Challenge, Response], field: str
) -> None:
    ch, response = signed
    changed = {"uv": "pin", "t": response.payload["t"] + 1, "uc": 1, "bind_method": "code"}
    payload = {**response.payload, field: changed[field]}
    if field == "bind_method":
        payload["bind"] = binding_code(VALUE)
    assert verify(ch, replace(response, payload=payload)).reason is Reason.BAD_SIGNATURE


# -- attacker input never raises -----------------------------------------------------------------

JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=80),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    changes=st.dictionaries(
        st.sampled_from(
            ["decision", "bind_method", "bind", "uc", "uv", "t", "sig", "screen_binding", "x"]
        ),
        JSONISH,
        max_size=4,
    ),
    drop=st.sets(st.sampled_from(["decision", "bind", "t", "sig", "screen_binding"])),
)
@pytest.mark.slow
def test_garbage_payloads_are_malformed_never_raised(
    signed: tuple[Challenge, Response], changes: dict[str, Any], drop: set[str]
) -> None:
    ch, response = signed
    payload = {k: v for k, v in {**response.payload, **changes}.items() if k not in drop}
    verdict = verify(ch, replace(response, payload=payload))
    if changes or drop:
        assert verdict.reason in {
            Reason.MALFORMED,
            Reason.BAD_SIGNATURE,
            Reason.BAD_BINDING,
            Reason.OK,
        }
    if drop:
        assert verdict.reason is Reason.MALFORMED


def test_a_damaged_enrollment_is_malformed_not_raised(signed: tuple[Challenge, Response]) -> None:
    ch, response = signed
    broken = Enrollment(
        "app", APP, {"public_key": b"nonsense", "level": "high", "status": "active"}
    )
    assert verify(ch, response, broken).reason is Reason.MALFORMED
    verifier_repr = repr(AppVerifier())
    assert "key" not in verifier_repr.lower()


def test_the_signed_bytes_are_canonical_cbor() -> None:
    ch = challenge()
    signed = answer(ch, uv=UserVerification.PIN)
    message = signed_bytes(
        ch,
        APP,
        signed.decision,
        signed.bind_method,
        bind_bytes(signed.bind_method, signed.bind),
        signed.update,
        signed.uv,
        signed.time_ms,
    )
    decoded = cbor2.loads(message)
    assert cbor2.dumps(decoded, canonical=True) == message
    assert decoded["sp"] == "Demo Bank"
    assert decoded["body"] == "Log on to Demo Bank"
    assert decoded["hdr"] == "LOG_ON"
    assert decoded["tx"] == ch.transaction_id
    assert decoded["nonce"] == ch.nonce
    assert decoded["bind"] == VALUE
    assert decoded["decision"] == "approve"
    assert decoded["app"] == APP
    assert decoded["t"] == signed.time_ms
