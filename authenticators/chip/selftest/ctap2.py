"""CTAP2 (§6): getInfo, makeCredential, getAssertion, attestation, counters, the error rules."""

from __future__ import annotations

import os
from collections.abc import Callable

from fido2.ctap import CtapError
from fido2.ctap2.base import Ctap2
from fido2.hid import CTAPHID

from authenticators.chip import attestation
from authenticators.chip.errors import ChipHostError
from authenticators.chip.host import EDDSA, ES256, rp_id_hash
from authenticators.chip.selftest.runner import USER, Area, CheckFailed, Session, Skip, expect

area = Area("ctap2")
ERR = CtapError.ERR


def refused_with(code: int, action: Callable[[], object]) -> None:
    """Run ``action``; it must fail with CTAP status ``code``."""
    try:
        action()
    except ChipHostError as exc:
        expect(exc.ctap == code, f"refused with 0x{exc.ctap or 0:02x}, 0x{code:02x} is due")
        return
    except CtapError as exc:
        expect(int(exc.code) == code, f"refused with 0x{int(exc.code):02x}, 0x{code:02x} is due")
        return
    raise CheckFailed(f"accepted what must be refused with 0x{code:02x}")


@area.check("getInfo lists FIDO_2_0 or FIDO_2_1")
def info_versions(session: Session) -> str:
    versions = session.info().versions
    expect(any(v in versions for v in ("FIDO_2_0", "FIDO_2_1")), f"versions {versions}")
    return ", ".join(versions)


@area.check("getInfo carries a 16-byte AAGUID")
def info_aaguid(session: Session) -> str:
    aaguid = session.info().aaguid
    expect(len(bytes(aaguid)) == 16, "AAGUID is not 16 bytes")
    return str(aaguid)


@area.check("getInfo options are consistent (up not false, rk present)")
def info_options(session: Session) -> str:
    options = session.info().options
    expect(options.get("up", True) is True, "option up is false")
    expect("rk" in options, "option rk missing")
    return ", ".join(f"{k}={v}" for k, v in sorted(options.items()))


@area.check("getInfo maxMsgSize is at least 1024")
def info_max_msg_size(session: Session) -> str:
    size = session.info().max_msg_size
    expect(size >= 1024, f"maxMsgSize {size}")
    return f"{size} bytes"


@area.check("makeCredential (ES256) returns attested data for the right RP with UP set")
def make_credential(session: Session) -> str:
    made = session.make()
    auth = made.auth_data
    expect(auth.rp_id_hash == rp_id_hash(session.rp_id), "RP ID hash differs")
    expect(auth.is_user_present(), "UP flag clear")
    expect(auth.is_attested() and auth.credential_data is not None, "no attested data")
    assert auth.credential_data is not None
    expect(auth.credential_data.public_key.ALGORITHM == ES256, "not an ES256 key")
    return f"credential id {len(auth.credential_data.credential_id)} bytes"


@area.check("the attestation statement verifies (trust reported)")
def attestation_statement(session: Session) -> str:
    cdh = session.cdh("att")
    made = session.host.make_credential(session.rp_id, cdh, USER, algorithms=(ES256,))
    report = attestation.check(made, cdh, session.cache.get("trust") or attestation.TrustConfig())
    return f"{report.fmt}, {report.status.value}"


@area.check("getAssertion signs with the credential's key")
def get_assertion(session: Session) -> None:
    cred_id, key = session.credential()
    cdh = session.cdh("ga")
    got = session.host.get_assertion(session.rp_id, cdh, [cred_id])
    got.verify(cdh, key)
    expect(got.auth_data.is_user_present(), "UP flag clear")


@area.check("the signature counter strictly increases")
def counter_increases(session: Session) -> str:
    cred_id, _ = session.credential()
    first = session.host.get_assertion(session.rp_id, session.cdh(), [cred_id]).auth_data.counter
    second = session.host.get_assertion(session.rp_id, session.cdh(), [cred_id]).auth_data.counter
    if first == second == 0:
        raise Skip("the token keeps no signature counter (always 0)")
    expect(second > first, f"counter went {first} -> {second}")
    return f"{first} -> {second}"


@area.check("up=false gives an assertion without the UP flag (silent authentication)")
def silent_assertion(session: Session) -> None:
    cred_id, key = session.credential()
    cdh = session.cdh()
    got = session.host.get_assertion(session.rp_id, cdh, [cred_id], up=False)
    got.verify(cdh, key)
    expect(not got.auth_data.is_user_present(), "UP flag set without a touch being asked for")


@area.check("a credential is refused under another RP ID (NO_CREDENTIALS)")
def wrong_rp(session: Session) -> None:
    cred_id, _ = session.credential()
    refused_with(
        ERR.NO_CREDENTIALS,
        lambda: session.host.get_assertion("other.mitid-emulator.test", session.cdh(), [cred_id]),
    )


@area.check("an unknown credential ID is refused (NO_CREDENTIALS)")
def unknown_credential(session: Session) -> None:
    session.info()
    refused_with(
        ERR.NO_CREDENTIALS,
        lambda: session.host.get_assertion(session.rp_id, session.cdh(), [os.urandom(64)]),
    )


@area.check("the exclude list refuses a second credential (CREDENTIAL_EXCLUDED)")
def exclude_list(session: Session) -> None:
    cred_id, _ = session.credential()
    refused_with(
        ERR.CREDENTIAL_EXCLUDED,
        lambda: session.host.make_credential(
            session.rp_id, session.cdh(), USER, algorithms=(ES256,), exclude=[cred_id]
        ),
    )


@area.check("an unsupported algorithm is refused (UNSUPPORTED_ALGORITHM)")
def unsupported_algorithm(session: Session) -> None:
    session.info()
    refused_with(
        ERR.UNSUPPORTED_ALGORITHM,
        lambda: session.host.make_credential(
            session.rp_id, session.cdh(), USER, algorithms=(-65535,)
        ),
    )


@area.check("makeCredential without its RP is refused (MISSING_PARAMETER)")
def missing_parameter(session: Session) -> None:
    ctap = session.host.ctap2
    refused_with(
        ERR.MISSING_PARAMETER,
        lambda: ctap.send_cbor(
            Ctap2.CMD.MAKE_CREDENTIAL,
            {1: session.cdh(), 3: USER, 4: [{"type": "public-key", "alg": ES256}]},
        ),
    )


@area.check("a CBOR request that is not CBOR is refused with a CTAP2 error")
def invalid_cbor(session: Session) -> str:
    session.info()
    answer = session.device.ctap.call(CTAPHID.CBOR, b"\x01\xff\xff\xff")
    expect(len(answer) >= 1 and answer[0] != 0, "accepted a broken CBOR request")
    return f"status 0x{answer[0]:02x}"


@area.check("an unknown CTAP2 command is refused (INVALID_COMMAND)")
def unknown_ctap2_command(session: Session) -> None:
    session.info()
    answer = session.device.ctap.call(CTAPHID.CBOR, b"\x3f")
    expect(answer[:1] == bytes([ERR.INVALID_COMMAND]), f"answered 0x{answer[:1].hex()}")


@area.check("an EdDSA credential signs verifiably, when EdDSA is advertised")
def eddsa(session: Session) -> None:
    algorithms = [a.get("alg") for a in session.info().algorithms]
    if EDDSA not in algorithms:
        raise Skip("EdDSA (-8) not advertised in getInfo algorithms")
    made = session.make(alg=EDDSA)
    data = made.auth_data.credential_data
    assert data is not None
    cdh = session.cdh()
    got = session.host.get_assertion(session.rp_id, cdh, [bytes(data.credential_id)])
    got.verify(cdh, data.public_key)


@area.check("authenticatorSelection answers after a touch (CTAP 2.1)")
def selection(session: Session) -> None:
    session.require_version("FIDO_2_1")
    with session.host.guard("confirm selection"):
        session.host.ctap2.selection(on_keepalive=session.host._keepalive)
