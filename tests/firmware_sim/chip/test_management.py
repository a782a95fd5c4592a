"""reset, credentialManagement, authenticatorConfig and largeBlobs through python-fido2."""

from __future__ import annotations

import hashlib

import pytest
from fido2.ctap import CtapError
from fido2.ctap2 import Config, CredentialManagement, Ctap2
from fido2.ctap2.blob import LargeBlobs
from fido2.ctap2.pin import ClientPin, PinProtocolV2

from authenticators.clock import FrozenClock
from firmware_sim.chip import ChipDevice

from .conftest import CDH, RP, descriptor_of, make_credential, open_sim

ERR = CtapError.ERR
PIN = "123456"
PERM = ClientPin.PERMISSION


def code(exc: pytest.ExceptionInfo[CtapError]) -> int:
    return int(exc.value.code)


def token(ctap: Ctap2, permissions: ClientPin.PERMISSION, rp_id: str | None = None) -> bytes:
    return ClientPin(ctap, PinProtocolV2()).get_pin_token(PIN, permissions, rp_id)


@pytest.fixture
def with_pin(ctap2: Ctap2) -> Ctap2:
    ClientPin(ctap2, PinProtocolV2()).set_pin(PIN)
    return ctap2


# -- reset ----------------------------------------------------------------------------------


def test_reset_within_the_window_wipes_everything(device: ChipDevice, with_pin: Ctap2) -> None:
    ctap = with_pin
    param = PinProtocolV2().authenticate(token(ctap, PERM.MAKE_CREDENTIAL), CDH)
    made = make_credential(ctap, rk=True, pin_uv_param=param, pin_uv_protocol=2)
    counter = made.auth_data.counter
    ctap.reset()
    info = ctap.get_info()
    assert info.options["clientPin"] is False
    assert info.remaining_disc_creds == 50
    with pytest.raises(CtapError) as exc:
        ctap.get_assertion(RP["id"], CDH, [descriptor_of(made)])
    assert code(exc) == ERR.NO_CREDENTIALS
    assert make_credential(ctap).auth_data.counter > counter  # the counter never goes back


def test_reset_window_and_power_cycle(device: ChipDevice, ctap2: Ctap2, clock: FrozenClock) -> None:
    clock.advance(10.5)
    with pytest.raises(CtapError) as exc:
        ctap2.reset()
    assert code(exc) == ERR.NOT_ALLOWED
    device.power_cycle()
    clock.advance(9.5)
    hid = open_sim(device)
    Ctap2(hid).reset()
    hid.close()


def test_reset_needs_a_touch(device: ChipDevice, ctap2: Ctap2) -> None:
    made = make_credential(ctap2)
    device.presence = "never"
    device.power_cycle()
    hid = open_sim(device)
    ctap = Ctap2(hid)
    with pytest.raises(CtapError) as exc:
        ctap.reset()
    assert code(exc) == ERR.USER_ACTION_TIMEOUT
    device.presence = "always"
    ctap.get_assertion(RP["id"], CDH, [descriptor_of(made)])  # still there
    hid.close()


# -- credential management ------------------------------------------------------------------


def test_credential_management(with_pin: Ctap2) -> None:
    ctap = with_pin
    mc = PinProtocolV2().authenticate(token(ctap, PERM.MAKE_CREDENTIAL), CDH)
    for user in (b"alice", b"bob"):
        make_credential(ctap, rk=True, user_id=user, pin_uv_param=mc, pin_uv_protocol=2)
    mc2 = PinProtocolV2().authenticate(token(ctap, PERM.MAKE_CREDENTIAL, "b.example"), CDH)
    make_credential(
        ctap,
        rp={"id": "b.example"},
        rk=True,
        extensions={"largeBlobKey": True},
        pin_uv_param=mc2,
        pin_uv_protocol=2,
    )
    credman = CredentialManagement(ctap, PinProtocolV2(), token(ctap, PERM.CREDENTIAL_MGMT))
    meta = credman.get_metadata()
    assert meta[CredentialManagement.RESULT.EXISTING_CRED_COUNT] == 3
    assert meta[CredentialManagement.RESULT.MAX_REMAINING_COUNT] == 47
    rps = credman.enumerate_rps()
    assert sorted(rp[CredentialManagement.RESULT.RP]["id"] for rp in rps) == [
        "b.example",
        "example.com",
    ]
    creds = credman.enumerate_creds(hashlib.sha256(b"example.com").digest())
    assert [c[CredentialManagement.RESULT.USER]["id"] for c in creds] == [b"alice", b"bob"]
    assert all(c[CredentialManagement.RESULT.CRED_PROTECT] == 1 for c in creds)
    b_creds = credman.enumerate_creds(hashlib.sha256(b"b.example").digest())
    assert len(b_creds[0][CredentialManagement.RESULT.LARGE_BLOB_KEY]) == 32

    alice = creds[0][CredentialManagement.RESULT.CREDENTIAL_ID]
    credman.update_user_info(alice, {"id": b"alice", "name": "alice@example.com"})
    with pytest.raises(CtapError) as exc:
        credman.update_user_info(alice, {"id": b"mallory", "name": "x"})
    assert code(exc) == ERR.INVALID_PARAMETER
    creds = credman.enumerate_creds(hashlib.sha256(b"example.com").digest())
    assert creds[0][CredentialManagement.RESULT.USER] == {
        "id": b"alice",
        "name": "alice@example.com",
    }

    credman.delete_cred(alice)
    with pytest.raises(CtapError) as exc:
        credman.delete_cred(alice)
    assert code(exc) == ERR.NO_CREDENTIALS
    with pytest.raises(CtapError) as exc:  # a deleted resident credential is gone for good
        ctap.get_assertion(RP["id"], CDH, [{"type": "public-key", "id": alice["id"]}])
    assert code(exc) == ERR.NO_CREDENTIALS
    with pytest.raises(CtapError) as exc:
        credman.enumerate_creds_begin(hashlib.sha256(b"nobody.example").digest())
    assert code(exc) == ERR.NO_CREDENTIALS


def test_credential_management_needs_a_cm_token(with_pin: Ctap2) -> None:
    wrong = CredentialManagement(
        with_pin, PinProtocolV2(), token(with_pin, PERM.GET_ASSERTION, "x")
    )
    with pytest.raises(CtapError) as exc:
        wrong.get_metadata()
    assert code(exc) == ERR.PIN_AUTH_INVALID
    with pytest.raises(CtapError) as exc:
        with_pin.credential_mgmt(CredentialManagement.CMD.GET_CREDS_METADATA)
    assert code(exc) == ERR.MISSING_PARAMETER
    with pytest.raises(CtapError) as exc:
        with_pin.credential_mgmt(0x42)
    assert code(exc) == ERR.INVALID_SUBCOMMAND
    with pytest.raises(CtapError) as exc:
        with_pin.credential_mgmt(CredentialManagement.CMD.ENUMERATE_RPS_NEXT)
    assert code(exc) == ERR.NOT_ALLOWED
    credman = CredentialManagement(with_pin, PinProtocolV2(), token(with_pin, PERM.CREDENTIAL_MGMT))
    with pytest.raises(CtapError) as exc:
        credman.enumerate_rps_begin()
    assert code(exc) == ERR.NO_CREDENTIALS


# -- authenticatorConfig --------------------------------------------------------------------


def test_toggle_always_uv(device: ChipDevice, with_pin: Ctap2) -> None:
    ctap = with_pin
    made = make_credential(ctap)
    Config(ctap, PinProtocolV2(), token(ctap, PERM.AUTHENTICATOR_CFG)).toggle_always_uv()
    info = ctap.get_info()
    assert info.options["alwaysUv"] is True
    assert "U2F_V2" not in info.versions
    with pytest.raises(CtapError) as exc:
        ctap.get_assertion(RP["id"], CDH, [descriptor_of(made)])
    assert code(exc) == ERR.PUAT_REQUIRED
    with pytest.raises(CtapError) as exc:
        make_credential(ctap)
    assert code(exc) == ERR.PUAT_REQUIRED
    ga = PinProtocolV2().authenticate(token(ctap, PERM.GET_ASSERTION, RP["id"]), CDH)
    ctap.get_assertion(RP["id"], CDH, [descriptor_of(made)], pin_uv_param=ga, pin_uv_protocol=2)
    with pytest.raises(CtapError) as exc:
        Config(ctap).toggle_always_uv()
    assert code(exc) == ERR.PUAT_REQUIRED
    Config(ctap, PinProtocolV2(), token(ctap, PERM.AUTHENTICATOR_CFG)).toggle_always_uv()
    assert ctap.get_info().options["alwaysUv"] is False


def test_config_without_a_pin_needs_no_token(ctap2: Ctap2) -> None:
    Config(ctap2).set_min_pin_length(6)
    assert ctap2.get_info().min_pin_length == 6
    with pytest.raises(CtapError) as exc:
        ClientPin(ctap2, PinProtocolV2()).set_pin("12345")
    assert code(exc) == ERR.PIN_POLICY_VIOLATION
    with pytest.raises(CtapError) as exc:
        Config(ctap2).set_min_pin_length(5)
    assert code(exc) == ERR.PIN_POLICY_VIOLATION
    with pytest.raises(CtapError) as exc:
        Config(ctap2).set_min_pin_length(force_change_pin=True)
    assert code(exc) == ERR.PIN_NOT_SET
    with pytest.raises(CtapError) as exc:
        ctap2.config(0x7F)
    assert code(exc) == ERR.INVALID_SUBCOMMAND


def test_min_pin_length_forces_a_change_and_the_extension_reports_it(with_pin: Ctap2) -> None:
    ctap = with_pin
    config = Config(ctap, PinProtocolV2(), token(ctap, PERM.AUTHENTICATOR_CFG))
    config.set_min_pin_length(8, rp_ids=["example.com"])
    info = ctap.get_info()
    assert (info.min_pin_length, info.force_pin_change) == (8, True)
    with pytest.raises(CtapError) as exc:
        token(ctap, PERM.MAKE_CREDENTIAL)
    # CTAP 2.1 §6.5.5.7.2: while forcePINChange is true a token request is PIN_INVALID, which
    # tells the platform to ask for a new PIN (python-fido2's device suite checks the same).
    assert code(exc) == ERR.PIN_INVALID
    pin = ClientPin(ctap, PinProtocolV2())
    pin.change_pin(PIN, "12345678")
    assert ctap.get_info().force_pin_change is False
    mc = PinProtocolV2().authenticate(pin.get_pin_token("12345678", PERM.MAKE_CREDENTIAL), CDH)
    made = make_credential(
        ctap, extensions={"minPinLength": True}, pin_uv_param=mc, pin_uv_protocol=2
    )
    assert made.auth_data.extensions == {"minPinLength": 8}
    other = make_credential(ctap, rp={"id": "other.example"}, extensions={"minPinLength": True})
    assert other.auth_data.extensions is None


# -- largeBlobs and largeBlobKey ------------------------------------------------------------


def test_large_blobs(with_pin: Ctap2) -> None:
    ctap = with_pin
    mc = PinProtocolV2().authenticate(token(ctap, PERM.MAKE_CREDENTIAL), CDH)
    made = make_credential(
        ctap, rk=True, extensions={"largeBlobKey": True}, pin_uv_param=mc, pin_uv_protocol=2
    )
    key = made.large_blob_key
    assert key is not None
    assert len(key) == 32
    assertion = ctap.get_assertion(RP["id"], CDH, extensions={"largeBlobKey": True})
    assert assertion.large_blob_key == key
    blobs = LargeBlobs(ctap, PinProtocolV2(), token(ctap, PERM.LARGE_BLOB_WRITE))
    assert blobs.read_blob_array() == []
    data = bytes(range(256)) * 8  # spans several fragments
    blobs.put_blob(key, data)
    assert LargeBlobs(ctap).get_blob(key) == data
    with pytest.raises(CtapError) as exc:
        LargeBlobs(ctap).put_blob(key, b"no token")
    assert code(exc) == ERR.PUAT_REQUIRED


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({3: 0}, ERR.INVALID_PARAMETER),  # neither get nor set
        ({1: 10, 2: b"x", 3: 0}, ERR.INVALID_PARAMETER),  # both
        ({1: 10}, ERR.MISSING_PARAMETER),
        ({1: 5000, 3: 0}, ERR.INVALID_LENGTH),
        ({1: 10, 3: 100}, ERR.INVALID_PARAMETER),
        ({2: b"x" * 20, 3: 0}, ERR.INVALID_PARAMETER),  # no length at offset 0
        ({2: b"x" * 20, 3: 0, 4: 10_000}, ERR.LARGE_BLOB_STORAGE_FULL),
        ({2: b"x" * 20, 3: 5}, ERR.INVALID_SEQ),
        ({2: b"x" * 20, 3: 0, 4: 20}, ERR.INTEGRITY_FAILURE),
        ({2: "text", 3: 0}, ERR.CBOR_UNEXPECTED_TYPE),
    ],
)
def test_large_blob_errors(ctap2: Ctap2, params: dict[int, object], expected: int) -> None:
    with pytest.raises(CtapError) as exc:
        ctap2.send_cbor(Ctap2.CMD.LARGE_BLOBS, params)
    assert code(exc) == expected


def test_large_blob_write_without_pin_is_open(clock: FrozenClock) -> None:
    chip = ChipDevice(clock=clock)
    hid = open_sim(chip)
    ctap = Ctap2(hid)
    LargeBlobs(ctap).put_blob(b"k" * 32, b"hello")
    assert LargeBlobs(ctap).get_blob(b"k" * 32) == b"hello"
    hid.close()
    chip.close()
