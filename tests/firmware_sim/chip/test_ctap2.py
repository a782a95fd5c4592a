"""CTAP 2.1 commands through python-fido2's ``Ctap2``: the happy paths and every error path."""

from __future__ import annotations

import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from fido2 import cbor
from fido2.attestation import PackedAttestation
from fido2.ctap import CtapError
from fido2.ctap2 import Ctap2
from fido2.hid import CTAPHID, CtapHidDevice

from authenticators.clock import FrozenClock
from firmware_sim.chip import AskCallback, ChipDevice
from firmware_sim.chip.attestation import OID_FIDO_AAGUID

from .conftest import CDH, RP, descriptor_of, make_credential, open_sim

ERR = CtapError.ERR


def call(hid: CtapHidDevice, request: bytes) -> int:
    """Send a raw CTAPHID_CBOR payload; return the status byte."""
    return hid.call(CTAPHID.CBOR, request)[0]


def test_get_info(ctap2: Ctap2, device: ChipDevice) -> None:
    info = ctap2.info
    assert info.versions == ["U2F_V2", "FIDO_2_0", "FIDO_2_1"]
    assert bytes(info.aaguid) == device.model.aaguid
    assert info.pin_uv_protocols == [2, 1]
    assert [a["alg"] for a in info.algorithms] == [-7, -8, -35, -36, -47, -37, -257]
    assert info.options["rk"]
    assert info.options["up"]
    assert info.options["credMgmt"]
    assert info.options["clientPin"] is False
    assert info.max_msg_size == 2048
    assert info.firmware_version == device.model.firmware_version
    assert info.remaining_disc_creds == 50
    assert set(info.extensions) == {
        "credBlob",
        "credProtect",
        "hmac-secret",
        "largeBlobKey",
        "minPinLength",
        "hmac-secret-mc",
        "thirdPartyPayment",
    }


@pytest.mark.parametrize("alg", [-7, -8, -35, -36, -47, -37, -257])
def test_make_credential_and_get_assertion(ctap2: Ctap2, alg: int) -> None:
    """Every COSE algorithm getInfo lists signs what python-fido2 verifies (RFC 8152, 8230,
    8812: ES256/384/512, EdDSA, ES256K, PS256 with a hash-long salt, RS256)."""
    made = make_credential(ctap2, alg=alg)
    data = made.auth_data.credential_data
    assert data is not None
    assert data.public_key[3] == alg
    assert made.auth_data.flags & 0x41 == 0x41  # UP and AT
    assert made.auth_data.rp_id_hash == hashlib.sha256(b"example.com").digest()
    first = ctap2.get_assertion(RP["id"], CDH, [descriptor_of(made)])
    first.verify(CDH, data.public_key)
    second = ctap2.get_assertion(RP["id"], CDH, [descriptor_of(made)])
    assert second.auth_data.counter > first.auth_data.counter > made.auth_data.counter


def test_packed_attestation_and_certificate_fields(ctap2: Ctap2, device: ChipDevice) -> None:
    made = make_credential(ctap2)
    assert made.fmt == "packed"
    result = PackedAttestation().verify(made.att_stmt, made.auth_data, CDH)
    assert result.trust_path
    cert = x509.load_der_x509_certificate(made.att_stmt["x5c"][0])
    assert cert.version == x509.Version.v3
    ou = cert.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATIONAL_UNIT_NAME)
    assert ou[0].value == "Authenticator Attestation"
    for oid in (
        x509.NameOID.COUNTRY_NAME,
        x509.NameOID.ORGANIZATION_NAME,
        x509.NameOID.COMMON_NAME,
    ):
        assert cert.subject.get_attributes_for_oid(oid)
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    aaguid = cert.extensions.get_extension_for_oid(OID_FIDO_AAGUID).value
    assert aaguid.value == b"\x04\x10" + device.model.aaguid  # type: ignore[attr-defined]
    root = x509.load_der_x509_certificate(device.batch.root_der)
    cert.verify_directly_issued_by(root)


def test_devices_of_one_model_share_the_batch_key(clock: FrozenClock) -> None:
    a, b = ChipDevice(clock=clock), ChipDevice(clock=clock)
    assert a.batch.cert_der == b.batch.cert_der
    a.close()
    b.close()


def test_none_attestation(clock: FrozenClock) -> None:
    chip = ChipDevice(clock=clock, attestation="none")
    hid = open_sim(chip)
    made = make_credential(Ctap2(hid))
    assert made.fmt == "none"
    assert made.att_stmt == {}
    hid.close()
    chip.close()


def test_credential_is_bound_to_its_rp(ctap2: Ctap2) -> None:
    made = make_credential(ctap2)
    with pytest.raises(CtapError) as info:
        ctap2.get_assertion("evil.example", CDH, [descriptor_of(made)])
    assert info.value.code == ERR.NO_CREDENTIALS


def test_credentials_die_with_a_reset(device: ChipDevice, ctap2: Ctap2) -> None:
    made = make_credential(ctap2)
    ctap2.reset()
    with pytest.raises(CtapError) as info:
        ctap2.get_assertion(RP["id"], CDH, [descriptor_of(made)])
    assert info.value.code == ERR.NO_CREDENTIALS


def test_exclude_list(ctap2: Ctap2) -> None:
    made = make_credential(ctap2)
    with pytest.raises(CtapError) as info:
        make_credential(ctap2, exclude_list=[descriptor_of(made)])
    assert info.value.code == ERR.CREDENTIAL_EXCLUDED
    make_credential(ctap2, rp={"id": "other.example"}, exclude_list=[descriptor_of(made)])


def test_resident_credentials_and_get_next_assertion(ctap2: Ctap2, device: ChipDevice) -> None:
    for n in range(3):
        make_credential(ctap2, rk=True, user_id=b"user-%d" % n)
    make_credential(ctap2, rk=True, user_id=b"user-1")  # replaces the second
    assert ctap2.get_info().remaining_disc_creds == 47
    first = ctap2.get_assertion(RP["id"], CDH)
    assert first.number_of_credentials == 3
    rest = [ctap2.get_next_assertion() for _ in range(2)]
    users = [a.user["id"] for a in [first, *rest]]
    assert users == [b"user-1", b"user-2", b"user-0"]  # most recent first
    assert all(set(a.user) == {"id"} for a in [first, *rest])  # no names without UV
    with pytest.raises(CtapError) as info:
        ctap2.get_next_assertion()
    assert info.value.code == ERR.NOT_ALLOWED


def test_get_next_assertion_expires_and_needs_a_get_assertion(
    ctap2: Ctap2, clock: FrozenClock
) -> None:
    with pytest.raises(CtapError) as info:
        ctap2.get_next_assertion()
    assert info.value.code == ERR.NOT_ALLOWED
    make_credential(ctap2, rk=True, user_id=b"a")
    make_credential(ctap2, rk=True, user_id=b"b")
    ctap2.get_assertion(RP["id"], CDH)
    clock.advance(31)
    with pytest.raises(CtapError) as info:
        ctap2.get_next_assertion()
    assert info.value.code == ERR.NOT_ALLOWED
    ctap2.get_assertion(RP["id"], CDH)
    ctap2.get_info()  # any other command ends the sequence
    with pytest.raises(CtapError) as info:
        ctap2.get_next_assertion()
    assert info.value.code == ERR.NOT_ALLOWED


def test_resident_capacity(clock: FrozenClock) -> None:
    chip = ChipDevice(clock=clock, resident_capacity=2)
    hid = open_sim(chip)
    ctap = Ctap2(hid)
    make_credential(ctap, rk=True, user_id=b"a")
    make_credential(ctap, rk=True, user_id=b"b")
    assert ctap.get_info().remaining_disc_creds == 0
    with pytest.raises(CtapError) as info:
        make_credential(ctap, rk=True, user_id=b"c")
    assert info.value.code == ERR.KEY_STORE_FULL
    make_credential(ctap, rk=True, user_id=b"a")  # replacing needs no new slot
    make_credential(ctap)  # non-resident needs no slot at all
    hid.close()
    chip.close()


def test_silent_assertion_has_no_up_flag(device: ChipDevice, ctap2: Ctap2) -> None:
    made = make_credential(ctap2)
    device.presence = "never"
    assertion = ctap2.get_assertion(RP["id"], CDH, [descriptor_of(made)], options={"up": False})
    assert assertion.auth_data.flags & 0x01 == 0


def test_user_declines(device: ChipDevice, ctap2: Ctap2) -> None:
    device.presence = AskCallback(lambda request: False)
    with pytest.raises(CtapError) as info:
        make_credential(ctap2)
    assert info.value.code == ERR.OPERATION_DENIED


def test_callback_sees_the_request(device: ChipDevice, ctap2: Ctap2) -> None:
    seen = []

    def decide(request: object) -> bool:
        seen.append(request)
        return True

    device.presence = AskCallback(decide)
    make_credential(ctap2)
    assert [(r.purpose, r.rp_id) for r in seen] == [("register", "example.com")]  # type: ignore[attr-defined]


def test_selection(device: ChipDevice, ctap2: Ctap2) -> None:
    ctap2.selection()
    device.presence = "never"
    with pytest.raises(CtapError) as info:
        ctap2.selection()
    assert info.value.code == ERR.USER_ACTION_TIMEOUT


def test_eddsa_only_request_and_unsupported_algorithms(ctap2: Ctap2) -> None:
    with pytest.raises(CtapError) as info:
        ctap2.make_credential(CDH, RP, {"id": b"u"}, [{"type": "public-key", "alg": -65535}])
    assert info.value.code == ERR.UNSUPPORTED_ALGORITHM
    made = ctap2.make_credential(
        CDH,
        RP,
        {"id": b"u"},
        [
            {"type": "other", "alg": -7},
            {"type": "public-key", "alg": -65535},
            {"type": "public-key", "alg": -8},
        ],
    )
    assert made.auth_data.credential_data.public_key[3] == -8  # type: ignore[union-attr]


MC = {1: CDH, 2: RP, 3: {"id": b"u"}, 4: [{"type": "public-key", "alg": -7}]}
GA = {1: "example.com", 2: CDH}


@pytest.mark.parametrize(
    ("request_bytes", "code"),
    [
        (b"\x01\xa1", ERR.INVALID_CBOR),  # truncated map
        (b"\x01\xa2\x02\x00\x01\x00", ERR.INVALID_CBOR),  # keys out of order
        (b"\x01\xa2\x01\x00\x01\x00", ERR.INVALID_CBOR),  # duplicate key
        (b"\x01\xbf\xff", ERR.INVALID_CBOR),  # indefinite length
        (b"\x01\xa1\x01\x18\x01", ERR.INVALID_CBOR),  # non-minimal integer
        (b"\x01\xc1\x00", ERR.INVALID_CBOR),  # a tag
        (b"\x01\xa0\x00", ERR.INVALID_CBOR),  # trailing byte
        (b"\x01\x80", ERR.CBOR_UNEXPECTED_TYPE),  # not a map
        (b"\x04\x61\xff", ERR.INVALID_CBOR),  # invalid UTF-8
        (b"\x09", ERR.INVALID_COMMAND),
        (b"\x40", ERR.INVALID_COMMAND),
    ],
)
def test_malformed_requests(hid: CtapHidDevice, request_bytes: bytes, code: int) -> None:
    assert call(hid, request_bytes) == code


@pytest.mark.parametrize("missing", [1, 2, 3, 4])
def test_make_credential_missing_parameters(hid: CtapHidDevice, missing: int) -> None:
    params = {k: v for k, v in MC.items() if k != missing}
    assert call(hid, b"\x01" + cbor.encode(params)) == ERR.MISSING_PARAMETER


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (1, "not bytes"),
        (2, b"not a map"),
        (3, [1]),
        (4, {"alg": -7}),
        (5, {}),
        (6, []),
        (7, {"rk": 1}),
        (8, "x"),
    ],
)
def test_make_credential_wrong_types(hid: CtapHidDevice, key: int, value: object) -> None:
    params = {**MC, key: value}
    assert call(hid, b"\x01" + cbor.encode(params)) == ERR.CBOR_UNEXPECTED_TYPE


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({2: {"name": "no id"}}, ERR.MISSING_PARAMETER),
        ({3: {"name": "no id"}}, ERR.MISSING_PARAMETER),
        ({3: {"id": b"x" * 65}}, ERR.INVALID_PARAMETER),
        ({4: [{"type": "public-key"}]}, ERR.MISSING_PARAMETER),
        ({4: [{"type": "public-key", "alg": "ES256"}]}, ERR.CBOR_UNEXPECTED_TYPE),
        ({5: [{"type": "public-key"}]}, ERR.MISSING_PARAMETER),
        ({5: [{"type": "public-key", "id": "text"}]}, ERR.CBOR_UNEXPECTED_TYPE),
        ({7: {"up": False}}, ERR.INVALID_OPTION),
        ({7: {"uv": True}}, ERR.INVALID_OPTION),
        ({6: {"credProtect": "high"}}, ERR.CBOR_UNEXPECTED_TYPE),
        ({6: {"credProtect": 9}}, ERR.INVALID_PARAMETER),
        ({6: {"largeBlobKey": True}}, ERR.INVALID_OPTION),  # needs rk
        ({6: {"largeBlobKey": False}, 7: {"rk": True}}, ERR.INVALID_OPTION),
        ({8: b"\x01" * 16}, ERR.MISSING_PARAMETER),  # pinUvAuthParam without protocol
        ({8: b"\x01" * 16, 9: 3}, ERR.INVALID_PARAMETER),
        ({8: b"\x01" * 32, 9: 2}, ERR.PIN_AUTH_INVALID),  # no token was ever issued
        ({8: b""}, ERR.PIN_NOT_SET),  # the "is a PIN set?" probe
        ({10: 1}, ERR.INVALID_PARAMETER),
    ],
)
def test_make_credential_errors(hid: CtapHidDevice, change: dict[int, object], code: int) -> None:
    params = {**MC, **change}
    assert call(hid, b"\x01" + cbor.encode(params)) == code


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({1: None}, ERR.MISSING_PARAMETER),
        ({2: None}, ERR.MISSING_PARAMETER),
        ({1: b"bytes"}, ERR.CBOR_UNEXPECTED_TYPE),
        ({2: "text"}, ERR.CBOR_UNEXPECTED_TYPE),
        ({3: {}}, ERR.CBOR_UNEXPECTED_TYPE),
        ({3: [{"type": "public-key", "id": b"x"}] * 17}, ERR.LIMIT_EXCEEDED),
        ({4: {"hmac-secret": True}}, ERR.CBOR_UNEXPECTED_TYPE),
        ({4: {"hmac-secret": {1: {}}}}, ERR.MISSING_PARAMETER),
        ({5: {"rk": True}}, ERR.UNSUPPORTED_OPTION),
        ({5: {"uv": True}}, ERR.INVALID_OPTION),
        ({5: {"up": "yes"}}, ERR.CBOR_UNEXPECTED_TYPE),
        ({6: b""}, ERR.PIN_NOT_SET),
        ({6: b"\x00" * 32}, ERR.MISSING_PARAMETER),
        ({}, ERR.NO_CREDENTIALS),
        ({3: [{"type": "public-key", "id": b"\x01" * 80}]}, ERR.NO_CREDENTIALS),
    ],
)
def test_get_assertion_errors(hid: CtapHidDevice, change: dict[int, object], code: int) -> None:
    params = {**GA, **change}
    params = {k: v for k, v in params.items() if v is not None}
    assert call(hid, b"\x02" + cbor.encode(params)) == code


def test_responses_are_canonical(hid: CtapHidDevice) -> None:
    raw = hid.call(CTAPHID.CBOR, b"\x04")
    assert raw[0] == 0
    assert cbor.encode(cbor.decode(raw[1:])) == raw[1:]


def test_secrets_stay_out_of_reprs(device: ChipDevice, ctap2: Ctap2) -> None:
    made = make_credential(ctap2)
    cred_id = descriptor_of(made)["id"]
    credential = device.vault.open(cred_id, made.auth_data.rp_id_hash)  # type: ignore[arg-type]
    assert credential is not None
    assert isinstance(credential.private_key, ec.EllipticCurvePrivateKey)
    text = repr(credential) + repr(device) + repr(device.state) + repr(device.batch)
    raw_key = credential.private_key.private_numbers().private_value.to_bytes(32, "big")
    assert raw_key.hex() not in text
    assert str(raw_key) not in text
    assert device.state.wrap_key.hex() not in text
    assert "private_key" not in repr(credential)
