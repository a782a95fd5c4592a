"""CTAP 2.1 extensions (§12): credProtect, hmac-secret, credBlob, largeBlobKey, minPinLength."""

from __future__ import annotations

import os
from typing import Any

from fido2.cose import CoseKey
from fido2.ctap import CtapError
from fido2.ctap2.pin import ClientPin

from authenticators.chip.selftest.ctap2 import refused_with
from authenticators.chip.selftest.runner import Area, Session, expect

area = Area("extensions")
ERR = CtapError.ERR


@area.check("getInfo lists extensions as distinct identifiers")
def advertised(session: Session) -> str:
    extensions = session.info().extensions
    expect(all(isinstance(e, str) and e for e in extensions), "an extension is not a name")
    expect(len(set(extensions)) == len(extensions), "an extension is listed twice")
    return ", ".join(extensions) or "none"


@area.check("credProtect: the level asked for is the level given")
def cred_protect(session: Session) -> None:
    session.require_extension("credProtect")
    made = session.make(extensions={"credProtect": 2})
    out = made.auth_data.extensions or {}
    expect(out.get("credProtect") == 2, f"credProtect output {out.get('credProtect')!r}")


@area.check("credProtect 3: no assertion without user verification")
def cred_protect_required(session: Session) -> None:
    session.require_extension("credProtect")
    made = session.make(extensions={"credProtect": 3})
    data = made.auth_data.credential_data
    assert data is not None
    cred_id = bytes(data.credential_id)
    refused_with(
        ERR.NO_CREDENTIALS,
        lambda: session.host.get_assertion(session.rp_id, session.cdh(), [cred_id]),
    )


def _hmac_credential(session: Session) -> bytes:
    if "hmac" not in session.cache:
        session.require_extension("hmac-secret")
        made = session.make(extensions={"hmac-secret": True})
        out = made.auth_data.extensions or {}
        expect(out.get("hmac-secret") is True, f"hmac-secret output {out.get('hmac-secret')!r}")
        data = made.auth_data.credential_data
        assert data is not None
        session.cache["hmac"] = bytes(data.credential_id)
    cred_id: bytes = session.cache["hmac"]
    return cred_id


def _hmac(session: Session, cred_id: bytes, salt: bytes) -> bytes:
    host = session.host
    protocol = host.pin_protocol()
    with host.guard("agree a key"):
        answer = host.ctap2.client_pin(protocol.VERSION, ClientPin.CMD.GET_KEY_AGREEMENT)
    key_agreement, shared = protocol.encapsulate(CoseKey(answer[ClientPin.RESULT.KEY_AGREEMENT]))
    salt_enc = protocol.encrypt(shared, salt)
    request: dict[str, Any] = {
        "hmac-secret": {
            1: key_agreement,
            2: salt_enc,
            3: protocol.authenticate(shared, salt_enc),
            4: protocol.VERSION,
        }
    }
    got = host.get_assertion(session.rp_id, session.cdh(), [cred_id], extensions=request)
    out = (got.auth_data.extensions or {}).get("hmac-secret")
    expect(isinstance(out, bytes), "no hmac-secret output")
    assert isinstance(out, bytes)
    return bytes(protocol.decrypt(shared, out))


@area.check("hmac-secret: makeCredential enables it")
def hmac_secret_make(session: Session) -> None:
    _hmac_credential(session)


@area.check("hmac-secret: one salt gives one secret, another salt another")
def hmac_secret_get(session: Session) -> None:
    cred_id = _hmac_credential(session)
    salt, other = os.urandom(32), os.urandom(32)
    first = _hmac(session, cred_id, salt)
    expect(len(first) == 32, f"{len(first)}-byte secret")
    expect(_hmac(session, cred_id, salt) == first, "the same salt gave another secret")
    expect(_hmac(session, cred_id, other) != first, "another salt gave the same secret")


@area.check("credBlob: a blob stored at registration comes back", destructive=True)
def cred_blob(session: Session) -> None:
    session.require_extension("credBlob")
    blob = os.urandom(16)
    made = session.make(resident=True, extensions={"credBlob": blob})
    out = made.auth_data.extensions or {}
    expect(out.get("credBlob") is True, f"credBlob output {out.get('credBlob')!r}")
    data = made.auth_data.credential_data
    assert data is not None
    got = session.host.get_assertion(
        session.rp_id,
        session.cdh(),
        [bytes(data.credential_id)],
        pin=session.pin,
        extensions={"credBlob": True},
    )
    back = (got.auth_data.extensions or {}).get("credBlob")
    expect(back == blob, "a different blob came back")


@area.check("largeBlobKey: the same 32-byte key at registration and sign-in", destructive=True)
def large_blob_key(session: Session) -> None:
    session.require_extension("largeBlobKey")
    made = session.make(resident=True, extensions={"largeBlobKey": True})
    key = made.large_blob_key
    expect(key is not None and len(key) == 32, "no 32-byte largeBlobKey")
    data = made.auth_data.credential_data
    assert data is not None
    got = session.host.get_assertion(
        session.rp_id,
        session.cdh(),
        [bytes(data.credential_id)],
        pin=session.pin,
        extensions={"largeBlobKey": True},
    )
    expect(got.large_blob_key == key, "another largeBlobKey at sign-in")


@area.check("minPinLength: getInfo reports a minimum of at least 4")
def min_pin_length(session: Session) -> str:
    session.require_extension("minPinLength")
    length = session.info().min_pin_length
    expect(length >= 4, f"minimum PIN length {length}")
    return f"minimum {length}"
