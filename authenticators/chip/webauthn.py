"""WebAuthn assertions for a login: the client data we sign over, and the verifier that checks them.

The WebAuthn challenge is derived from the whole login challenge (transaction, nonce, service
provider, reference text), so an assertion answers exactly one transaction. The verifier checks,
in order: the shape of the response, the credential, the client data (type, challenge in constant
time, origin), the RP ID hash, the user-present and (when enrolled so) user-verified flags, the
signature, and the signature counter — a counter that does not increase means a cloned token.
It never raises on what the response carries: anything unreadable is ``MALFORMED``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from fido2.cose import CoseKey
from fido2.ctap2.base import AssertionResponse
from fido2.webauthn import AuthenticatorData, CollectedClientData

from authenticators.chip.records import VerifierRecord
from authenticators.ct import bytes_eq
from authenticators.protocol import Challenge, Enrollment, Level, Reason, Response, Verdict

AMR = "u2f_token"
KIND = "chip"
LEVEL = Level.HIGH
_DOMAIN = b"mitid-emulator chip assertion v1\x00"
_FIELDS = ("credential_id", "authenticator_data", "client_data", "signature")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    if not isinstance(text, str) or not text.isascii():
        raise ValueError("not base64url text")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def origin_for(rp_id: str) -> str:
    return f"https://{rp_id}"


def allowed_origins(challenge: Challenge, rp_id: str) -> tuple[str, ...]:
    """The origins a login accepts: those its challenge names (a login page on this origin),
    else ``https://`` and the RP ID."""
    named = challenge.extra.get("origins")
    if isinstance(named, list | tuple) and named and all(isinstance(o, str) for o in named):
        return tuple(named)
    return (origin_for(rp_id),)


def client_challenge(challenge: Challenge) -> bytes:
    """The WebAuthn challenge for a login: a digest of everything the login challenge says."""
    return hashlib.sha256(_DOMAIN + challenge.canonical_bytes()).digest()


def client_data_for(challenge: Challenge, rp_id: str) -> CollectedClientData:
    return CollectedClientData.create(
        type=CollectedClientData.TYPE.GET,
        challenge=client_challenge(challenge),
        origin=origin_for(rp_id),
    )


def response_payload(
    assertion: AssertionResponse, client_data: bytes, credential_id: bytes
) -> dict[str, str]:
    """What travels back to the verifier, as base64url text fields."""
    used = assertion.credential.get("id", credential_id) if assertion.credential else credential_id
    payload = {
        "credential_id": b64(bytes(used)),
        "authenticator_data": b64(bytes(assertion.auth_data)),
        "client_data": b64(bytes(client_data)),
        "signature": b64(bytes(assertion.signature)),
    }
    if assertion.user and "id" in assertion.user:
        payload["user_handle"] = b64(bytes(assertion.user["id"]))
    return payload


class AssertionVerifier:
    """The core side of a chip login."""

    def __init__(self, amr: str = AMR, level: Level = LEVEL) -> None:
        self.amr = amr
        self.level = level

    def __repr__(self) -> str:
        return f"AssertionVerifier(amr={self.amr!r})"

    def _refuse(self, reason: Reason, detail: str) -> Verdict:
        return Verdict(reason, kind=KIND, amr=self.amr, detail=detail)

    def verify(
        self, enrollment: Enrollment, challenge: Challenge, response: Response, now: float
    ) -> Verdict:
        try:
            return self._verify(enrollment, challenge, response, now)
        except Exception as exc:  # anything the response could provoke
            return self._refuse(Reason.MALFORMED, f"unreadable assertion ({type(exc).__name__})")

    def _verify(
        self, enrollment: Enrollment, challenge: Challenge, response: Response, now: float
    ) -> Verdict:
        record = VerifierRecord.from_enrollment(enrollment)
        if response.kind != KIND or challenge.kind != KIND:
            return self._refuse(Reason.MALFORMED, "not a chip response")
        if response.transaction_id != challenge.transaction_id:
            return self._refuse(Reason.BAD_BINDING, "answers another transaction")
        fields = _fields(response.payload)
        if fields is None:
            return self._refuse(Reason.MALFORMED, "the assertion lacks fields or is not base64url")
        credential_id, auth_bytes, client_bytes, signature = fields
        rp_id = record.rp_id
        wanted_rp = challenge.extra.get("rp_id", rp_id)
        if wanted_rp != rp_id:
            return self._refuse(Reason.BAD_BINDING, "the login asked for another RP ID")
        if not bytes_eq(credential_id, record.credential_id):
            return self._refuse(Reason.UNKNOWN_AUTHENTICATOR, "signed with another credential")
        try:
            client_data = CollectedClientData(client_bytes)
            auth_data = AuthenticatorData(auth_bytes)
        except (ValueError, KeyError, TypeError, binascii.Error, json.JSONDecodeError):
            return self._refuse(Reason.MALFORMED, "unreadable client or authenticator data")
        if client_data.type != CollectedClientData.TYPE.GET.value:
            return self._refuse(Reason.MALFORMED, "client data is not for webauthn.get")
        if not bytes_eq(bytes(client_data.challenge), client_challenge(challenge)):
            return self._refuse(Reason.BAD_BINDING, "signed for another challenge")
        if client_data.origin not in allowed_origins(challenge, rp_id):
            return self._refuse(Reason.BAD_BINDING, "signed for another origin")
        if not bytes_eq(bytes(auth_data.rp_id_hash), hashlib.sha256(rp_id.encode()).digest()):
            return self._refuse(Reason.BAD_BINDING, "signed for another RP ID")
        if not auth_data.is_user_present():
            return self._refuse(Reason.NOT_APPROVED, "nobody touched the key (UP flag clear)")
        if record.uv_required and not auth_data.is_user_verified():
            return self._refuse(Reason.NOT_APPROVED, "the PIN was not verified (UV flag clear)")
        key = CoseKey.parse(_cbor_map(record.public_key))
        try:
            key.verify(auth_bytes + client_data.hash, signature)
        except (InvalidSignature, ValueError):
            return self._refuse(Reason.BAD_SIGNATURE, "the signature does not verify")
        stored = record.sign_count
        counter = int(auth_data.counter)
        if (counter or stored) and counter <= stored:
            return self._refuse(
                Reason.COUNTER_REGRESSION,
                f"signature counter {counter} is not above {stored}: the key may be cloned",
            )
        return Verdict(
            Reason.OK,
            kind=KIND,
            amr=self.amr,
            level=self.level,
            state={"sign_count": counter, "last_used": now},
        )


def _fields(payload: Mapping[str, Any]) -> tuple[bytes, bytes, bytes, bytes] | None:
    try:
        values = [unb64(payload[name]) for name in _FIELDS]
    except (KeyError, ValueError, TypeError, binascii.Error):
        return None
    if any(not value for value in values):
        return None
    return values[0], values[1], values[2], values[3]


def _cbor_map(data: bytes) -> Mapping[int, Any]:
    from fido2 import cbor

    decoded = cbor.decode(data)
    if not isinstance(decoded, Mapping):
        raise ValueError("stored public key is not a COSE key")
    return decoded
