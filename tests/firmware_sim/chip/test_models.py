"""Key models: what each reports (getInfo, CTAPHID capabilities) and the quirks it carries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fido2.ctap import CtapError
from fido2.ctap1 import Ctap1
from fido2.ctap2 import Ctap2
from fido2.ctap2.credman import CredentialManagement
from fido2.ctap2.pin import ClientPin, PinProtocolV1
from fido2.hid import CAPABILITY, CtapHidDevice

from authenticators.clock import FrozenClock
from firmware_sim.chip import ChipDevice
from firmware_sim.chip.models import MODELS, SOLO1, U2F_ONLY, model_named

from .conftest import CDH, RP, descriptor_of, make_credential, open_sim

ERR = CtapError.ERR
PIN = "1234"


def code(exc: pytest.ExceptionInfo[CtapError]) -> int:
    return int(exc.value.code)


@pytest.fixture
def solo1(clock: FrozenClock) -> Iterator[Ctap2]:
    chip = ChipDevice(clock=clock, model=SOLO1)
    hid = open_sim(chip)
    yield Ctap2(hid)
    hid.close()
    chip.close()


def test_models_by_name() -> None:
    assert list(MODELS) == ["mitid-chip", "solo1", "u2f-only"]
    assert model_named("solo1") is SOLO1
    with pytest.raises(KeyError, match="mitid-chip, solo1, u2f-only"):
        model_named("yubikey9")


def test_solo1_answers_get_info_as_solo1_does(solo1: Ctap2) -> None:
    info = solo1.get_info()
    assert info.versions == ["U2F_V2", "FIDO_2_0", "FIDO_2_1_PRE"]
    assert info.pin_uv_protocols == [1]
    assert info.extensions == ["credProtect", "hmac-secret"]
    assert [a["alg"] for a in info.algorithms] == [-7, -8]
    assert info.options == {
        "rk": True,
        "up": True,
        "plat": False,
        "clientPin": False,
        "credMgmt": True,
    }
    assert (info.max_msg_size, info.max_creds_in_list) == (1200, 20)
    assert bytes(info.aaguid) == SOLO1.aaguid


def test_solo1_quirks(solo1: Ctap2) -> None:
    """solo1 (CTAP 2.0 and 2.1-PRE) where CTAP 2.1 says otherwise: getPINRetries counts without
    a PIN (§6.5.5.2), a zero-length pinUvAuthParam with a PIN set is PIN_AUTH_INVALID (2.1
    §6.1.2 step 1 says PIN_INVALID), every makeCredential wants the PIN once one is set (no
    makeCredUvNotRqd), a bad hmac-secret saltAuth is EXTENSION_FIRST (2.1 §12.5:
    PIN_AUTH_INVALID), and credential management (0x0A and 0x41) takes a getPinToken token."""
    pin = ClientPin(solo1, PinProtocolV1())
    assert pin.get_pin_retries()[0] == 8
    hmac = make_credential(solo1, extensions={"hmac-secret": True})
    pin.set_pin(PIN)
    with pytest.raises(CtapError) as exc:
        make_credential(solo1, pin_uv_param=b"", pin_uv_protocol=1)
    assert code(exc) == ERR.PIN_AUTH_INVALID
    with pytest.raises(CtapError) as exc:
        make_credential(solo1)
    assert code(exc) == ERR.PUAT_REQUIRED
    protocol = PinProtocolV1()
    key_agreement, shared = ClientPin(solo1, protocol)._get_shared_secret()
    salt_enc = protocol.encrypt(shared, bytes(32))
    with pytest.raises(CtapError) as exc:
        solo1.get_assertion(
            RP["id"],
            CDH,
            [descriptor_of(hmac)],
            extensions={"hmac-secret": {1: key_agreement, 2: salt_enc, 3: bytes(16)}},
        )
    assert code(exc) == ERR.EXTENSION_FIRST
    token = pin.get_pin_token(PIN)
    made = make_credential(
        solo1, rk=True, pin_uv_param=protocol.authenticate(token, CDH), pin_uv_protocol=1
    )
    credman = CredentialManagement(solo1, protocol, token)
    assert credman.get_metadata()[1] == 1
    (listed,) = credman.enumerate_creds(made.auth_data.rp_id_hash)
    assert listed[CredentialManagement.RESULT.CREDENTIAL_ID] == descriptor_of(made)
    param = protocol.authenticate(token, b"\x01")
    assert solo1.send_cbor(0x41, {1: 1, 3: 1, 4: param})[1] == 1  # the 2.1-PRE command too


def test_solo1_keeps_ctap20_checks(solo1: Ctap2) -> None:
    """CTAP 2.0 §5.1/§5.2 as solo1 applies them: makeCredential refuses any "up" option (2.1
    ignores up=true) and a non-text icon; getAssertion ignores "rk" (2.1: UNSUPPORTED_OPTION)."""
    user = {"id": b"u", "name": "bob"}
    es256 = [{"type": "public-key", "alg": -7}]
    with pytest.raises(CtapError) as exc:
        solo1.make_credential(CDH, RP, user, es256, options={"up": True})
    assert code(exc) == ERR.INVALID_OPTION
    with pytest.raises(CtapError) as exc:
        solo1.make_credential(CDH, {"id": "example.com", "icon": 8}, user, es256)
    assert code(exc) == ERR.CBOR_UNEXPECTED_TYPE
    made = solo1.make_credential(CDH, RP, user, es256, options={"rk": True})
    assertion = solo1.get_assertion(RP["id"], CDH, options={"rk": True})
    assert assertion.credential["id"] == descriptor_of(made)["id"]


def test_solo1_blocks_after_three_wrong_pin_auths(clock: FrozenClock) -> None:
    """solo1 counts wrong pinUvAuthParams: the third in a row is PIN_AUTH_BLOCKED until a power
    cycle (CTAP 2.1 §6.5.5.7 counts wrong PINs only; the default model never blocks here)."""
    chip = ChipDevice(clock=clock, model=SOLO1)
    hid = open_sim(chip)
    try:
        ctap = Ctap2(hid)
        pin = ClientPin(ctap, PinProtocolV1())
        pin.set_pin(PIN)
        pin.get_pin_token(PIN)
        wrong = {1: 1, 3: 1, 4: bytes(16)}
        codes = []
        for _ in range(4):
            with pytest.raises(CtapError) as exc:
                ctap.send_cbor(0x41, wrong)
            codes.append(code(exc))
        assert codes == [ERR.PIN_AUTH_INVALID] * 2 + [ERR.PIN_AUTH_BLOCKED] * 2
        chip.power_cycle()
        token = ClientPin(ctap, PinProtocolV1()).get_pin_token(PIN)
        param = PinProtocolV1().authenticate(token, b"\x01")
        assert ctap.send_cbor(0x41, {1: 1, 3: 1, 4: param})[1] == 0
    finally:
        hid.close()
        chip.close()


def test_u2f_only_has_no_ctap2(clock: FrozenClock) -> None:
    chip = ChipDevice(clock=clock, model=U2F_ONLY)
    hid: CtapHidDevice = open_sim(chip)
    try:
        assert not hid.capabilities & CAPABILITY.CBOR
        with pytest.raises(CtapError) as exc:
            hid.call(0x10, b"\x04")
        assert code(exc) == ERR.INVALID_COMMAND
        ctap1 = Ctap1(hid)
        assert ctap1.get_version() == "U2F_V2"
        app, challenge = bytes(32), bytes(range(32))
        registration = ctap1.register(challenge, app)
        ctap1.authenticate(challenge, app, registration.key_handle).verify(
            app, challenge, registration.public_key
        )
    finally:
        hid.close()
        chip.close()
