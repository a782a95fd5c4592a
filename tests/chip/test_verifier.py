"""The assertion verifier: what it accepts, every refusal it must make, and that it never raises."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from authenticators.chip.webauthn import AssertionVerifier, b64, unb64
from authenticators.clock import FrozenClock
from authenticators.protocol import Challenge, Level, Reason, ReferenceText, Response
from tests.chip.software_key import FLAG_UP, FLAG_UV, SoftwareKey

NOW = 1_700_000_000.0


@pytest.fixture
def key() -> SoftwareKey:
    return SoftwareKey()


def challenge(extra: dict[str, Any] | None = None) -> Challenge:
    return Challenge.issue(
        "chip", "Demo Bank", ReferenceText.parse("Log on"), FrozenClock(NOW), extra=extra
    )


def verify(key: SoftwareKey, response: Response, ch: Challenge, **enroll: Any) -> Any:
    return AssertionVerifier().verify(key.enrollment(**enroll), ch, response, NOW)


def with_payload(response: Response, **changes: str) -> Response:
    return dataclasses.replace(response, payload={**response.payload, **changes})


def test_a_good_assertion_reaches_high_and_reports_the_counter(key: SoftwareKey) -> None:
    ch = challenge()
    verdict = verify(key, key.respond(ch, counter=7), ch, sign_count=3)
    assert verdict.reason is Reason.OK
    assert (verdict.level, verdict.amr) == (Level.HIGH, "u2f_token")
    assert verdict.state == {"sign_count": 7, "last_used": NOW}


def test_a_tampered_signature_is_refused(key: SoftwareKey) -> None:
    ch = challenge()
    response = key.respond(ch)
    sig = bytearray(unb64(response.payload["signature"]))
    sig[-1] ^= 0x01
    verdict = verify(key, with_payload(response, signature=b64(bytes(sig))), ch)
    assert verdict.reason is Reason.BAD_SIGNATURE


def test_tampered_authenticator_data_breaks_the_signature(key: SoftwareKey) -> None:
    ch = challenge()
    response = key.respond(ch, counter=5)
    auth = bytearray(unb64(response.payload["authenticator_data"]))
    auth[-1] = 9  # the counter, raised by an attacker
    verdict = verify(key, with_payload(response, authenticator_data=b64(bytes(auth))), ch)
    assert verdict.reason is Reason.BAD_SIGNATURE


def test_another_signers_key_is_refused(key: SoftwareKey) -> None:
    ch = challenge()
    impostor = SoftwareKey(credential_id=key.credential_id)
    assert verify(key, impostor.respond(ch), ch).reason is Reason.BAD_SIGNATURE


def test_a_wrong_rp_is_refused(key: SoftwareKey) -> None:
    ch = challenge()
    verdict = verify(key, key.respond(ch, rp_id="mitid.dk.evil.example"), ch)
    assert verdict.reason is Reason.BAD_BINDING
    assert "RP ID" in verdict.detail


def test_a_login_for_another_rp_is_refused(key: SoftwareKey) -> None:
    ch = challenge({"rp_id": "other.example"})
    assert verify(key, key.respond(ch), ch).reason is Reason.BAD_BINDING


def test_a_wrong_origin_is_refused(key: SoftwareKey) -> None:
    ch = challenge()
    response = key.respond(ch, origin="https://phish.example")
    assert verify(key, response, ch).reason is Reason.BAD_BINDING


def test_a_missing_user_presence_flag_is_refused(key: SoftwareKey) -> None:
    ch = challenge()
    verdict = verify(key, key.respond(ch, flags=0), ch)
    assert verdict.reason is Reason.NOT_APPROVED
    assert "UP" in verdict.detail


def test_user_verification_is_checked_when_enrolled_so(key: SoftwareKey) -> None:
    ch = challenge()
    assert verify(key, key.respond(ch), ch, uv_required=True).reason is Reason.NOT_APPROVED
    ch = challenge()
    good = key.respond(ch, flags=FLAG_UP | FLAG_UV)
    assert verify(key, good, ch, uv_required=True).reason is Reason.OK


@pytest.mark.parametrize(("stored", "seen"), [(10, 10), (10, 9), (10, 0)])
def test_a_counter_that_did_not_increase_is_a_cloned_token(
    key: SoftwareKey, stored: int, seen: int
) -> None:
    ch = challenge()
    verdict = verify(key, key.respond(ch, counter=seen), ch, sign_count=stored)
    assert verdict.reason is Reason.COUNTER_REGRESSION
    assert verdict.state is None


def test_a_token_without_a_counter_is_accepted(key: SoftwareKey) -> None:
    ch = challenge()
    assert verify(key, key.respond(ch, counter=0), ch, sign_count=0).reason is Reason.OK


def test_an_assertion_for_another_challenge_is_refused(key: SoftwareKey) -> None:
    first, second = challenge(), challenge()
    response = key.respond(first)
    replayed = dataclasses.replace(response, transaction_id=second.transaction_id)
    verdict = verify(key, replayed, second)
    assert verdict.reason is Reason.BAD_BINDING
    assert "challenge" in verdict.detail


def test_a_response_to_another_transaction_is_refused(key: SoftwareKey) -> None:
    first, second = challenge(), challenge()
    assert verify(key, key.respond(first), second).reason is Reason.BAD_BINDING


def test_registration_client_data_is_not_an_assertion(key: SoftwareKey) -> None:
    ch = challenge()
    response = key.respond(ch, kind="webauthn.create")
    assert verify(key, response, ch).reason is Reason.MALFORMED


def test_another_credential_is_refused(key: SoftwareKey) -> None:
    ch = challenge()
    other = with_payload(key.respond(ch), credential_id=b64(b"\x02" * 32))
    assert verify(key, other, ch).reason is Reason.UNKNOWN_AUTHENTICATOR


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"credential_id": "!!", "authenticator_data": "", "client_data": "", "signature": ""},
        {"credential_id": 5, "authenticator_data": None, "client_data": [], "signature": {}},
    ],
)
def test_malformed_payloads(key: SoftwareKey, payload: dict[str, Any]) -> None:
    ch = challenge()
    response = Response(ch.transaction_id, "chip", "soft", payload)
    assert verify(key, response, ch).reason is Reason.MALFORMED


@settings(max_examples=150, deadline=None)
@given(
    field=st.sampled_from(["credential_id", "authenticator_data", "client_data", "signature"]),
    data=st.binary(max_size=200),
)
def test_the_verifier_never_raises_and_never_accepts_garbage(field: str, data: bytes) -> None:
    key = SoftwareKey()
    ch = challenge()
    response = with_payload(key.respond(ch), **{field: b64(data)})
    verdict = verify(key, response, ch)
    assert verdict.reason is not Reason.OK or (
        field == "credential_id" and data == key.credential_id
    )
