"""Enrollment: register a credential on a token and keep what the verifier needs.

The registration is checked as a relying party would: the client data we built, the RP ID hash,
user presence, the credential data, and the attestation statement (forged ones are refused;
untrusted ones are recorded as such).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from fido2.ctap2.base import AttestationResponse
from fido2.webauthn import CollectedClientData

from authenticators.chip import attestation
from authenticators.chip.errors import ChipErrorCode, ChipHostError
from authenticators.chip.host import ChipHost, rp_id_hash
from authenticators.chip.records import ChipRecord, ChipRepository
from authenticators.chip.webauthn import origin_for
from authenticators.clock import Clock
from authenticators.ct import bytes_eq
from authenticators.hal import open_device
from authenticators.store import Store

DEFAULT_RP_ID = "mitid.dk"


@dataclass(frozen=True)
class ChipOptions:
    """How to enrol a chip: the token's URI; the name defaults to the URI."""

    uri: str
    name: str | None = None
    rp_id: str = DEFAULT_RP_ID
    user_name: str = "mitid-user"
    user_handle: bytes | None = field(default=None, repr=False)
    pin: str | None = field(default=None, repr=False)
    resident: bool = False
    uv: bool = False
    trust: attestation.TrustConfig | None = None
    on_touch_needed: Any = None
    hid_backend: Any = None


@dataclass(frozen=True)
class Registration:
    """A checked registration, before it is stored."""

    credential_id: bytes
    public_key: bytes
    aaguid: str
    sign_count: int
    attestation: attestation.AttestationReport
    user_handle: bytes
    uv: bool


def register(
    host: ChipHost,
    *,
    rp_id: str = DEFAULT_RP_ID,
    user_name: str = "mitid-user",
    user_handle: bytes | None = None,
    pin: str | None = None,
    resident: bool = False,
    uv: bool = False,
    trust: attestation.TrustConfig | None = None,
) -> Registration:
    """makeCredential on the token, then check the result as a relying party."""
    handle = user_handle or secrets.token_bytes(16)
    client_data = CollectedClientData.create(
        type=CollectedClientData.TYPE.CREATE,
        challenge=secrets.token_bytes(32),
        origin=origin_for(rp_id),
    )
    response = host.make_credential(
        rp_id,
        client_data.hash,
        {"id": handle, "name": user_name, "displayName": user_name},
        pin=pin,
        resident=resident,
        uv=uv,
    )
    return check_registration(host.uri, response, client_data.hash, rp_id, handle, uv, trust)


def check_registration(
    uri: str,
    response: AttestationResponse,
    client_data_hash: bytes,
    rp_id: str,
    user_handle: bytes,
    uv: bool,
    trust: attestation.TrustConfig | None,
) -> Registration:
    auth_data = response.auth_data
    problem = None
    if not bytes_eq(bytes(auth_data.rp_id_hash), rp_id_hash(rp_id)):
        problem = "it answered for another RP ID"
    elif not auth_data.is_user_present():
        problem = "it did not confirm a touch (UP flag clear)"
    elif uv and not auth_data.is_user_verified():
        problem = "it did not verify the PIN (UV flag clear)"
    elif auth_data.credential_data is None:
        problem = "it returned no credential"
    if problem is not None:
        raise ChipHostError(
            ChipErrorCode.REGISTRATION_INVALID, f"{uri}: registration refused: {problem}"
        )
    assert auth_data.credential_data is not None
    try:
        report = attestation.check(response, client_data_hash, trust or attestation.TrustConfig())
    except attestation.InvalidAttestation as exc:
        raise ChipHostError(
            ChipErrorCode.ATTESTATION_INVALID,
            f"{uri}: registration refused: the attestation statement does not verify ({exc})",
        ) from None
    data = auth_data.credential_data
    from fido2 import cbor

    return Registration(
        credential_id=bytes(data.credential_id),
        public_key=cbor.encode(dict(data.public_key)),
        aaguid=str(data.aaguid),
        sign_count=int(auth_data.counter),
        attestation=report,
        user_handle=user_handle,
        uv=uv,
    )


def enroll(
    store: Store,
    clock: Clock,
    *,
    uri: str,
    name: str | None = None,
    rp_id: str = DEFAULT_RP_ID,
    user_name: str = "mitid-user",
    user_handle: bytes | None = None,
    pin: str | None = None,
    resident: bool = False,
    uv: bool = False,
    trust: attestation.TrustConfig | None = None,
    on_touch_needed: Any = None,
    hid_backend: Any = None,
) -> ChipRecord:
    """Register on the token at ``uri`` and store the enrollment as ``name`` (default: the URI).

    Nothing is stored unless the token registered and the registration checked out.
    """
    repo = ChipRepository(store)
    label = name or uri
    if repo.exists(label):
        raise ChipHostError(
            ChipErrorCode.DUPLICATE,
            f"a chip named {label!r} is enrolled already; choose another --name",
        )
    trust = trust if trust is not None else attestation.TrustConfig.configured(store)
    with open_device(uri, store=store, clock=clock, hid_backend=hid_backend) as device:
        host = ChipHost(device, on_touch_needed)
        registration = register(
            host,
            rp_id=rp_id,
            user_name=user_name,
            user_handle=user_handle,
            pin=pin,
            resident=resident,
            uv=uv,
            trust=trust,
        )
    record = ChipRecord(
        name=label,
        uri=uri,
        rp_id=rp_id,
        credential_id=registration.credential_id,
        public_key=registration.public_key,
        aaguid=registration.aaguid,
        attestation=registration.attestation.to_dict(),
        user_handle=registration.user_handle,
        resident=resident,
        uv_required=uv,
        sign_count=registration.sign_count,
        last_used=None,
        created_at=clock.now(),
    )
    return repo.add(record)
