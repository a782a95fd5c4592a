"""Discoverable credentials and credentialManagement (§6.8): metadata, enumerate, update, delete."""

from __future__ import annotations

import os

from fido2.ctap2.credman import CredentialManagement
from fido2.webauthn import PublicKeyCredentialUserEntity

from authenticators.chip.host import rp_id_hash
from authenticators.chip.selftest.runner import Area, Session, Skip, expect

area = Area("credman")
RESULT = CredentialManagement.RESULT


def _credman(session: Session) -> CredentialManagement:
    if not CredentialManagement.is_supported(session.info()):
        raise Skip("credential management not advertised in getInfo")
    return session.host.credential_management(session.require_pin())


def _resident(session: Session) -> bytes:
    found: bytes | None = session.cache.get("resident")
    if found is None:
        raise Skip("no discoverable credential was made in this run")
    return found


@area.check("a discoverable credential signs in without an allow list", destructive=True)
def discoverable(session: Session) -> str:
    if not session.require_option("rk"):
        raise Skip("the token stores no discoverable credentials (rk false)")
    user = {"id": os.urandom(16), "name": "selftest-rk", "displayName": "Discoverable"}
    made = session.make(resident=True, user=user)
    data = made.auth_data.credential_data
    assert data is not None
    session.cache["resident"] = bytes(data.credential_id)
    session.cache["resident_user"] = user["id"]
    cdh = session.cdh()
    got = session.host.get_assertion(session.rp_id, cdh, None, pin=session.pin)
    got.verify(cdh, data.public_key)
    expect(got.user is not None and got.user.get("id") == user["id"], "wrong user handle")
    return "user handle returned"


@area.check("getCredsMetadata counts the discoverable credential", destructive=True)
def metadata(session: Session) -> str:
    _resident(session)
    with session.host.guard("count credentials"):
        meta = _credman(session).get_metadata()
    existing = int(meta[RESULT.EXISTING_CRED_COUNT])
    remaining = int(meta[RESULT.MAX_REMAINING_COUNT])
    expect(existing >= 1, f"{existing} credentials after making one")
    return f"{existing} stored, {remaining} free"


@area.check("enumerateRPs lists the self-test RP", destructive=True)
def enumerate_rps(session: Session) -> None:
    _resident(session)
    with session.host.guard("list RPs"):
        rps = _credman(session).enumerate_rps()
    ids = [rp[RESULT.RP]["id"] for rp in rps]
    expect(session.rp_id in ids, f"RPs {ids}")


@area.check("enumerateCredentials lists the credential with its user", destructive=True)
def enumerate_credentials(session: Session) -> None:
    cred_id = _resident(session)
    with session.host.guard("list credentials"):
        creds = _credman(session).enumerate_creds(rp_id_hash(session.rp_id))
    ids = [bytes(c[RESULT.CREDENTIAL_ID]["id"]) for c in creds]
    expect(cred_id in ids, "the credential is not listed")


@area.check("updateUserInformation renames the credential's user", destructive=True)
def update_user(session: Session) -> None:
    cred_id = _resident(session)
    credman = _credman(session)
    if not CredentialManagement.is_update_supported(session.info()):
        raise Skip("updateUserInformation not advertised (FIDO_2_1)")
    user = PublicKeyCredentialUserEntity(
        id=session.cache["resident_user"], name="renamed", display_name="Renamed"
    )
    with session.host.guard("update the user"):
        credman.update_user_info({"type": "public-key", "id": cred_id}, user)  # type: ignore[arg-type]
        creds = credman.enumerate_creds(rp_id_hash(session.rp_id))
    names = [
        c[RESULT.USER].get("name") for c in creds if bytes(c[RESULT.CREDENTIAL_ID]["id"]) == cred_id
    ]
    expect(names == ["renamed"], f"user names {names}")


@area.check("deleteCredential removes it; signing in with it then fails", destructive=True)
def delete(session: Session) -> None:
    cred_id = _resident(session)
    session.host.delete_credential(session.require_pin(), cred_id)
    remaining = [c.credential_id for c in session.host.credentials(session.require_pin())]
    expect(cred_id not in remaining, "still listed after delete")
    session.cache.pop("resident")
