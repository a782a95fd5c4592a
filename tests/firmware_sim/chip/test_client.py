"""Whole WebAuthn ceremonies: python-fido2's ``Fido2Client`` against its ``Fido2Server``,
and the extensions a browser would use."""

from __future__ import annotations

import pytest
from fido2.client import DefaultClientDataCollector, Fido2Client, UserInteraction
from fido2.ctap2 import Ctap2
from fido2.ctap2.extensions import HmacSecretExtension
from fido2.ctap2.pin import ClientPin, PinProtocolV1, PinProtocolV2
from fido2.hid import CtapHidDevice
from fido2.server import Fido2Server
from fido2.webauthn import (
    AttestationConveyancePreference,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialUserEntity,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from firmware_sim.chip import ChipDevice

from .conftest import CDH, RP, descriptor_of, make_credential

ORIGIN = "https://example.com"
PIN = "4711"


class Person(UserInteraction):
    def __init__(self, pin: str | None = None) -> None:
        self.pin = pin
        self.prompts = 0

    def prompt_up(self) -> None:
        self.prompts += 1

    def request_pin(self, permissions: ClientPin.PERMISSION, rp_id: str | None) -> str | None:
        return self.pin


def client(hid: CtapHidDevice, person: Person) -> Fido2Client:
    return Fido2Client(
        hid,
        client_data_collector=DefaultClientDataCollector(ORIGIN),
        user_interaction=person,
        extensions=[HmacSecretExtension(allow_hmac_secret=True)],
    )


@pytest.mark.parametrize("pin", [None, PIN])
def test_register_and_log_in(hid: CtapHidDevice, pin: str | None) -> None:
    if pin:
        ClientPin(Ctap2(hid)).set_pin(pin)
    server = Fido2Server(
        PublicKeyCredentialRpEntity(name="Example", id="example.com"),
        attestation=AttestationConveyancePreference.DIRECT,
    )
    user = PublicKeyCredentialUserEntity(id=b"user-1", name="bob", display_name="Bob")
    uv = UserVerificationRequirement.REQUIRED if pin else UserVerificationRequirement.DISCOURAGED
    options, state = server.register_begin(
        user, resident_key_requirement=ResidentKeyRequirement.REQUIRED, user_verification=uv
    )
    person = Person(pin)
    webauthn = client(hid, person)
    registration = webauthn.make_credential(options.public_key)
    auth_data = server.register_complete(state, registration)
    assert auth_data.credential_data is not None

    options, state = server.authenticate_begin(user_verification=uv)  # discoverable login
    selection = webauthn.get_assertion(options.public_key)
    response = selection.get_response(0)
    server.authenticate_complete(state, [auth_data.credential_data], response)
    assert response.response.user_handle == b"user-1"


def test_prf_through_hmac_secret(hid: CtapHidDevice) -> None:
    ClientPin(Ctap2(hid)).set_pin(PIN)
    webauthn = client(hid, Person(PIN))
    made = webauthn.make_credential(
        {
            "rp": {"id": "example.com", "name": "Example"},
            "user": {"id": b"u", "name": "u"},
            "challenge": b"c" * 32,
            "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
            "extensions": {"prf": {}},
        }
    )
    assert made.client_extension_results["prf"]["enabled"] is True
    cred = {"type": "public-key", "id": made.raw_id}

    def prf(first: bytes, second: bytes | None = None) -> dict[str, bytes]:
        salts = {"first": first, **({"second": second} if second else {})}
        result = webauthn.get_assertion(
            {
                "rpId": "example.com",
                "challenge": b"d" * 32,
                "allowCredentials": [cred],
                "userVerification": "required",
                "extensions": {"prf": {"eval": salts}},
            }
        ).get_response(0)
        values: dict[str, bytes] = result.client_extension_results["prf"]["results"]
        return values

    one = prf(b"a" * 32)
    assert one == prf(b"a" * 32)  # deterministic per credential and salt
    both = prf(b"a" * 32, b"b" * 32)
    assert both["first"] == one["first"]
    assert both["second"] != one["first"]
    assert len(one["first"]) == 43  # 32 bytes, base64url without padding


@pytest.mark.parametrize("protocol", [PinProtocolV1, PinProtocolV2])
def test_hmac_secret_with_and_without_uv_differ(
    ctap2: Ctap2, protocol: type[PinProtocolV1]
) -> None:
    made = make_credential(ctap2, extensions={"hmac-secret": True})
    assert made.auth_data.extensions == {"hmac-secret": True}
    proto = protocol()
    pin = ClientPin(ctap2, proto)

    def evaluate(salt: bytes, uv_param: dict[str, object]) -> bytes:
        key_agreement, shared = pin._get_shared_secret()
        salt_enc = proto.encrypt(shared, salt)
        ext = {
            "hmac-secret": {
                1: key_agreement,
                2: salt_enc,
                3: proto.authenticate(shared, salt_enc),
                4: proto.VERSION,
            }
        }
        result = ctap2.get_assertion(
            RP["id"],
            CDH,
            [descriptor_of(made)],
            extensions=ext,
            **uv_param,  # type: ignore[arg-type]
        )
        assert result.auth_data.extensions is not None
        return proto.decrypt(shared, result.auth_data.extensions["hmac-secret"])

    without_uv = evaluate(b"s" * 32, {})
    assert evaluate(b"s" * 32, {}) == without_uv
    pin.set_pin(PIN)
    token = pin.get_pin_token(PIN, ClientPin.PERMISSION.GET_ASSERTION, RP["id"])
    with_uv = evaluate(
        b"s" * 32,
        {"pin_uv_param": proto.authenticate(token, CDH), "pin_uv_protocol": proto.VERSION},
    )
    assert len(with_uv) == 32
    assert with_uv != without_uv


def test_hmac_secret_rejects_a_bad_salt_auth(ctap2: Ctap2) -> None:
    from fido2.ctap import CtapError

    made = make_credential(ctap2, extensions={"hmac-secret": True})
    proto = PinProtocolV2()
    key_agreement, shared = ClientPin(ctap2, proto)._get_shared_secret()
    salt_enc = proto.encrypt(shared, b"s" * 32)
    bad = {"hmac-secret": {1: key_agreement, 2: salt_enc, 3: b"\x00" * 32, 4: 2}}
    with pytest.raises(CtapError) as info:
        ctap2.get_assertion(RP["id"], CDH, [descriptor_of(made)], extensions=bad)
    assert info.value.code == CtapError.ERR.PIN_AUTH_INVALID
    short = proto.encrypt(shared, b"s" * 16)
    bad = {"hmac-secret": {1: key_agreement, 2: short, 3: proto.authenticate(shared, short), 4: 2}}
    with pytest.raises(CtapError) as info:
        ctap2.get_assertion(RP["id"], CDH, [descriptor_of(made)], extensions=bad)
    assert info.value.code == CtapError.ERR.INVALID_LENGTH


def test_cred_blob(ctap2: Ctap2) -> None:
    made = make_credential(ctap2, rk=True, extensions={"credBlob": b"blob!"})
    assert made.auth_data.extensions == {"credBlob": True}
    got = ctap2.get_assertion(RP["id"], CDH, extensions={"credBlob": True})
    assert got.auth_data.extensions == {"credBlob": b"blob!"}
    too_big = make_credential(ctap2, user_id=b"x", extensions={"credBlob": b"x" * 33})
    assert too_big.auth_data.extensions == {"credBlob": False}
    got = ctap2.get_assertion(
        RP["id"], CDH, [descriptor_of(too_big)], extensions={"credBlob": True}
    )
    assert got.auth_data.extensions == {"credBlob": b""}


def test_cred_protect_optional_with_list(ctap2: Ctap2) -> None:
    from fido2.ctap import CtapError

    made = make_credential(ctap2, rk=True, extensions={"credProtect": 2})
    assert made.auth_data.extensions == {"credProtect": 2}
    ctap2.get_assertion(RP["id"], CDH, [descriptor_of(made)])  # fine with the ID
    with pytest.raises(CtapError) as info:
        ctap2.get_assertion(RP["id"], CDH)  # but not discoverable without UV
    assert info.value.code == CtapError.ERR.NO_CREDENTIALS


@pytest.mark.timeout(20)
def test_client_is_asked_to_prompt_for_a_touch() -> None:
    from authenticators.clock import SystemClock

    from .conftest import open_sim

    chip = ChipDevice(clock=SystemClock(), presence="delay:250")
    hid = open_sim(chip)
    person = Person()
    client(hid, person).make_credential(
        {
            "rp": {"id": "example.com", "name": "Example"},
            "user": {"id": b"u", "name": "u"},
            "challenge": b"c" * 32,
            "pubKeyCredParams": [{"type": "public-key", "alg": -7}],
            "authenticatorSelection": {"userVerification": "discouraged"},
        }
    )
    assert person.prompts == 1
    hid.close()
    chip.close()
