"""CTAP1/U2F through python-fido2's ``Ctap1``, plus the APDU edge cases it never sends."""

from __future__ import annotations

import hashlib
import struct

import pytest
from fido2.ctap1 import APDU, ApduError, Ctap1
from fido2.ctap2 import Ctap2
from fido2.hid import CTAPHID, CtapHidDevice

from firmware_sim.chip import ChipDevice
from firmware_sim.chip.u2f import parse_apdu

APP = hashlib.sha256(b"example.com").digest()
CHALLENGE = hashlib.sha256(b"challenge").digest()


@pytest.fixture
def ctap1(hid: CtapHidDevice) -> Ctap1:
    return Ctap1(hid)


def test_version(ctap1: Ctap1) -> None:
    assert ctap1.get_version() == "U2F_V2"


def test_register_and_authenticate(ctap1: Ctap1) -> None:
    reg = ctap1.register(CHALLENGE, APP)
    reg.verify(APP, CHALLENGE)  # batch attestation signature over the registration
    first = ctap1.authenticate(CHALLENGE, APP, reg.key_handle)
    first.verify(APP, CHALLENGE, reg.public_key)
    assert first.user_presence == 1
    second = ctap1.authenticate(CHALLENGE, APP, reg.key_handle)
    assert second.counter > first.counter


def test_check_only_says_conditions_not_satisfied_for_own_handles(ctap1: Ctap1) -> None:
    reg = ctap1.register(CHALLENGE, APP)
    with pytest.raises(ApduError) as mine:
        ctap1.authenticate(CHALLENGE, APP, reg.key_handle, check_only=True)
    assert mine.value.code == APDU.USE_NOT_SATISFIED
    other_app = hashlib.sha256(b"other.example").digest()
    with pytest.raises(ApduError) as foreign:
        ctap1.authenticate(CHALLENGE, other_app, reg.key_handle, check_only=True)
    assert foreign.value.code == APDU.WRONG_DATA


def test_dont_enforce_presence_signs_without_touch(device: ChipDevice, ctap1: Ctap1) -> None:
    reg = ctap1.register(CHALLENGE, APP)
    device.presence = "never"
    with pytest.raises(ApduError) as info:
        ctap1.authenticate(CHALLENGE, APP, reg.key_handle)
    assert info.value.code == APDU.USE_NOT_SATISFIED
    data = ctap1.send_apdu(
        ins=Ctap1.INS.AUTHENTICATE,
        p1=0x08,
        data=CHALLENGE + APP + bytes([len(reg.key_handle)]) + reg.key_handle,
    )
    assert data[0] == 0  # user presence flag clear
    signed = APP + data[:5] + CHALLENGE
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), reg.public_key)
    key.verify(data[5:], signed, ec.ECDSA(hashes.SHA256()))


def test_register_waits_for_presence_by_refusing(device: ChipDevice, ctap1: Ctap1) -> None:
    device.presence = "never"
    with pytest.raises(ApduError) as info:
        ctap1.register(CHALLENGE, APP)
    assert info.value.code == APDU.USE_NOT_SATISFIED
    device.touch()
    ctap1.register(CHALLENGE, APP).verify(APP, CHALLENGE)


def test_u2f_credential_works_through_ctap2(ctap1: Ctap1, hid: CtapHidDevice) -> None:
    reg = ctap1.register(CHALLENGE, APP)
    ctap2 = Ctap2(hid)
    cdh = hashlib.sha256(b"cd").digest()
    assertion = ctap2.get_assertion(
        "example.com", cdh, [{"type": "public-key", "id": reg.key_handle}]
    )
    public = {1: 2, 3: -7, -1: 1, -2: reg.public_key[1:33], -3: reg.public_key[33:]}
    from fido2.cose import CoseKey

    assertion.verify(cdh, CoseKey.parse(public))


@pytest.mark.parametrize(
    ("apdu", "sw"),
    [
        (b"\x80\x03\x00\x00", 0x6E00),  # class not supported
        (b"\x00\x55\x00\x00", 0x6D00),  # instruction not supported
        (b"\x00\x01\x00\x00\x00\x00\x10" + b"x" * 16, 0x6700),  # register needs 64 bytes
        (b"\x00\x02\x03\x00\x00\x00\x10" + b"x" * 16, 0x6700),  # authenticate too short
        (b"\x00\x03\x00\x00\x00\x00\x01x", 0x6700),  # version takes no data
        (b"\x00\x03", 0x6700),  # not even a header
        (b"\x00\x01\x00\x00\x00\x00\x50" + b"x" * 10, 0x6700),  # Lc larger than the data
    ],
)
def test_bad_apdus(hid: CtapHidDevice, apdu: bytes, sw: int) -> None:
    response = hid.call(CTAPHID.MSG, apdu)
    assert struct.unpack(">H", response[-2:])[0] == sw


def test_bad_control_byte_and_forged_handle(ctap1: Ctap1) -> None:
    reg = ctap1.register(CHALLENGE, APP)
    body = CHALLENGE + APP + bytes([len(reg.key_handle)]) + reg.key_handle
    with pytest.raises(ApduError) as info:
        ctap1.send_apdu(ins=Ctap1.INS.AUTHENTICATE, p1=0x05, data=body)
    assert info.value.code == APDU.WRONG_DATA
    forged = bytearray(reg.key_handle)
    forged[-1] ^= 1
    with pytest.raises(ApduError) as info:
        ctap1.authenticate(CHALLENGE, APP, bytes(forged))
    assert info.value.code == APDU.WRONG_DATA
    with pytest.raises(ApduError) as info:
        ctap1.send_apdu(ins=Ctap1.INS.AUTHENTICATE, p1=0x03, data=CHALLENGE + APP + b"\x05abc")
    assert info.value.code == 0x6700


def test_apdu_encodings() -> None:
    assert parse_apdu(b"\x00\x03\x00\x00") == (0, 3, 0, 0, b"")
    assert parse_apdu(b"\x00\x03\x00\x00\x00") == (0, 3, 0, 0, b"")
    assert parse_apdu(b"\x00\x03\x00\x00\x00\x00\x00") == (0, 3, 0, 0, b"")
    assert parse_apdu(b"\x00\x01\x00\x00\x02ab") == (0, 1, 0, 0, b"ab")
    assert parse_apdu(b"\x00\x01\x00\x00\x02ab\x00") == (0, 1, 0, 0, b"ab")
    assert parse_apdu(b"\x00\x01\x00\x00\x00\x00\x02ab\x00\x00") == (0, 1, 0, 0, b"ab")
