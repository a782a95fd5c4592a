"""clientPIN with PIN/UV auth protocols 1 and 2: tokens, permissions, retries and blocking."""

from __future__ import annotations

import hashlib

import pytest
from fido2.ctap import CtapError
from fido2.ctap2 import Ctap2
from fido2.ctap2.pin import ClientPin, PinProtocol, PinProtocolV1, PinProtocolV2

from authenticators.clock import FrozenClock
from firmware_sim.chip import ChipDevice

from .conftest import CDH, RP, descriptor_of, make_credential, open_sim

ERR = CtapError.ERR
PIN = "1234"
PROTOCOLS = [PinProtocolV1, PinProtocolV2]
PERM = ClientPin.PERMISSION


@pytest.fixture(params=PROTOCOLS, ids=["v1", "v2"])
def protocol(request: pytest.FixtureRequest) -> PinProtocol:
    proto: PinProtocol = request.param()
    return proto


@pytest.fixture
def client_pin(ctap2: Ctap2, protocol: PinProtocol) -> ClientPin:
    pin = ClientPin(ctap2, protocol)
    pin.set_pin(PIN)
    return pin


def code(exc: pytest.ExceptionInfo[CtapError]) -> int:
    return int(exc.value.code)


def test_set_pin_shows_in_info_and_cannot_be_set_twice(ctap2: Ctap2, client_pin: ClientPin) -> None:
    assert ctap2.get_info().options["clientPin"] is True
    assert client_pin.get_pin_retries() == (8, False)
    with pytest.raises(CtapError) as info:
        client_pin.set_pin("5678")
    assert code(info) == ERR.NOT_ALLOWED


def test_token_authorises_make_credential_and_assertion(
    ctap2: Ctap2, client_pin: ClientPin, protocol: PinProtocol
) -> None:
    token = client_pin.get_pin_token(PIN, PERM.MAKE_CREDENTIAL | PERM.GET_ASSERTION, RP["id"])
    param = protocol.authenticate(token, CDH)
    made = make_credential(ctap2, rk=True, pin_uv_param=param, pin_uv_protocol=protocol.VERSION)
    assert made.auth_data.flags & 0x04  # UV
    assertion = ctap2.get_assertion(
        RP["id"], CDH, pin_uv_param=param, pin_uv_protocol=protocol.VERSION
    )
    assert assertion.auth_data.flags & 0x05 == 0x05
    assert assertion.user == {"id": b"user-1"}  # one account: its ID only (CTAP 2.1 §6.2.2)


def test_legacy_token(ctap2: Ctap2, client_pin: ClientPin, protocol: PinProtocol) -> None:
    token = client_pin.get_pin_token(PIN)
    made = make_credential(
        ctap2, pin_uv_param=protocol.authenticate(token, CDH), pin_uv_protocol=protocol.VERSION
    )
    assert made.auth_data.flags & 0x04


def test_pin_set_rules_for_unverified_requests(ctap2: Ctap2, client_pin: ClientPin) -> None:
    make_credential(ctap2)  # makeCredUvNotRqd: non-resident needs no PIN
    with pytest.raises(CtapError) as info:
        make_credential(ctap2, rk=True)
    assert code(info) == ERR.PUAT_REQUIRED
    with pytest.raises(CtapError) as info:
        make_credential(ctap2, pin_uv_param=b"")
    assert code(info) == ERR.PIN_INVALID  # the probe: a PIN is set


def test_permissions_and_rp_binding(
    ctap2: Ctap2, client_pin: ClientPin, protocol: PinProtocol
) -> None:
    token = client_pin.get_pin_token(PIN, PERM.CREDENTIAL_MGMT)
    with pytest.raises(CtapError) as info:
        make_credential(
            ctap2, pin_uv_param=protocol.authenticate(token, CDH), pin_uv_protocol=protocol.VERSION
        )
    assert code(info) == ERR.PIN_AUTH_INVALID
    token = client_pin.get_pin_token(PIN, PERM.MAKE_CREDENTIAL, "other.example")
    with pytest.raises(CtapError) as info:
        make_credential(
            ctap2, pin_uv_param=protocol.authenticate(token, CDH), pin_uv_protocol=protocol.VERSION
        )
    assert code(info) == ERR.PIN_AUTH_INVALID
    with pytest.raises(CtapError) as info:
        make_credential(ctap2, pin_uv_param=b"\x00" * 32, pin_uv_protocol=protocol.VERSION)
    assert code(info) == ERR.PIN_AUTH_INVALID


def test_permission_requests_are_checked(
    ctap2: Ctap2, client_pin: ClientPin, protocol: PinProtocol
) -> None:
    with pytest.raises(CtapError) as info:
        client_pin.get_pin_token(PIN, PERM.BIO_ENROLL)
    assert code(info) == ERR.UNAUTHORIZED_PERMISSION
    with pytest.raises(CtapError) as info:
        client_pin.get_pin_token(PIN, PERM(0))
    assert code(info) == ERR.INVALID_PARAMETER
    key_agreement, shared = client_pin._get_shared_secret()
    pin_hash_enc = protocol.encrypt(shared, hashlib.sha256(PIN.encode()).digest()[:16])
    with pytest.raises(CtapError) as info:
        ctap2.client_pin(
            protocol.VERSION,
            ClientPin.CMD.GET_TOKEN_USING_PIN_LEGACY,
            key_agreement=key_agreement,
            pin_hash_enc=pin_hash_enc,
            permissions=1,
        )
    assert code(info) == ERR.INVALID_PARAMETER


def test_token_expires_and_power_cycle_forgets_it(
    device: ChipDevice,
    ctap2: Ctap2,
    client_pin: ClientPin,
    protocol: PinProtocol,
    clock: FrozenClock,
) -> None:
    def use(token: bytes) -> None:
        make_credential(
            ctap2, pin_uv_param=protocol.authenticate(token, CDH), pin_uv_protocol=protocol.VERSION
        )

    token = client_pin.get_pin_token(PIN)
    use(token)
    clock.advance(601)
    with pytest.raises(CtapError) as info:
        use(token)
    assert code(info) == ERR.PIN_AUTH_INVALID
    token = client_pin.get_pin_token(PIN)
    device.power_cycle()
    hid = open_sim(device)
    ctap2 = Ctap2(hid)
    with pytest.raises(CtapError) as info:
        use(token)
    assert code(info) == ERR.PIN_AUTH_INVALID
    hid.close()


def test_change_pin(client_pin: ClientPin) -> None:
    with pytest.raises(CtapError) as info:
        client_pin.change_pin("9999", "5678")
    assert code(info) == ERR.PIN_INVALID
    client_pin.change_pin(PIN, "5678")
    client_pin.get_pin_token("5678")
    with pytest.raises(CtapError) as info:
        client_pin.get_pin_token(PIN)
    assert code(info) == ERR.PIN_INVALID
    assert client_pin.get_pin_retries()[0] == 7


def test_three_wrong_pins_need_a_power_cycle(device: ChipDevice, client_pin: ClientPin) -> None:
    for expected in (ERR.PIN_INVALID, ERR.PIN_INVALID, ERR.PIN_AUTH_BLOCKED):
        with pytest.raises(CtapError) as info:
            client_pin.get_pin_token("0000")
        assert code(info) == expected
    assert client_pin.get_pin_retries() == (5, True)
    with pytest.raises(CtapError) as info:
        client_pin.get_pin_token(PIN)  # even the right PIN must wait for the power cycle
    assert code(info) == ERR.PIN_AUTH_BLOCKED
    device.power_cycle()
    hid = open_sim(device)
    pin = ClientPin(Ctap2(hid), client_pin.protocol)
    assert pin.get_pin_retries() == (5, False)
    pin.get_pin_token(PIN)
    assert pin.get_pin_retries() == (8, False)
    hid.close()


def test_eight_wrong_pins_block_for_good(device: ChipDevice, client_pin: ClientPin) -> None:
    protocol = client_pin.protocol
    pin = client_pin
    hid = None
    for attempt in range(8):
        if attempt in (3, 6):
            device.power_cycle()
            if hid is not None:
                hid.close()
            hid = open_sim(device)
            pin = ClientPin(Ctap2(hid), protocol)
        with pytest.raises(CtapError) as info:
            pin.get_pin_token("0000")
        assert code(info) in (ERR.PIN_INVALID, ERR.PIN_AUTH_BLOCKED, ERR.PIN_BLOCKED)
    assert code(info) == ERR.PIN_BLOCKED
    device.power_cycle()
    assert hid is not None
    hid.close()
    hid = open_sim(device)
    pin = ClientPin(Ctap2(hid), protocol)
    assert pin.get_pin_retries()[0] == 0
    with pytest.raises(CtapError) as info:
        pin.get_pin_token(PIN)
    assert code(info) == ERR.PIN_BLOCKED
    with pytest.raises(CtapError) as info:
        pin.change_pin(PIN, "5678")
    assert code(info) == ERR.PIN_BLOCKED
    hid.close()


def test_retries_are_persisted_before_the_comparison(clock: FrozenClock) -> None:
    chip = ChipDevice(clock=clock)
    hid = open_sim(chip)
    pin = ClientPin(Ctap2(hid))
    pin.set_pin(PIN)
    with pytest.raises(CtapError):
        pin.get_pin_token("0000")
    hid.close()
    chip.close()
    reborn = ChipDevice(clock=clock, backend=chip.backend)  # same persistent state
    assert reborn.state.pin_retries == 7
    reborn.close()


def test_pin_policy(ctap2: Ctap2, protocol: PinProtocol) -> None:
    pin = ClientPin(ctap2, protocol)
    with pytest.raises(CtapError) as info:
        pin.change_pin(PIN, "5678")
    assert code(info) == ERR.PIN_NOT_SET
    with pytest.raises(CtapError) as info:
        pin.get_pin_token(PIN)
    assert code(info) == ERR.PIN_NOT_SET
    key_agreement, shared = pin._get_shared_secret()
    for bad in (b"123".ljust(64, b"\0"), b"x" * 64 + b"y" * 16):
        enc = protocol.encrypt(shared, bad)
        with pytest.raises(CtapError) as info:
            ctap2.client_pin(
                protocol.VERSION,
                ClientPin.CMD.SET_PIN,
                key_agreement=key_agreement,
                new_pin_enc=enc,
                pin_uv_param=protocol.authenticate(shared, enc),
            )
        assert code(info) == ERR.PIN_POLICY_VIOLATION
    enc = protocol.encrypt(shared, b"1234".ljust(64, b"\0"))
    with pytest.raises(CtapError) as info:
        ctap2.client_pin(
            protocol.VERSION,
            ClientPin.CMD.SET_PIN,
            key_agreement=key_agreement,
            new_pin_enc=enc,
            pin_uv_param=b"\x00" * len(protocol.authenticate(shared, enc)),
        )
    assert code(info) == ERR.PIN_AUTH_INVALID


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ERR.MISSING_PARAMETER),
        ({2: 2}, ERR.MISSING_PARAMETER),  # no protocol
        ({1: 2, 2: 0x0F}, ERR.INVALID_SUBCOMMAND),
        ({1: 2, 2: 0x06}, ERR.INVALID_SUBCOMMAND),  # no built-in UV
        ({1: 7, 2: 2}, ERR.INVALID_PARAMETER),
        ({1: "two", 2: 2}, ERR.CBOR_UNEXPECTED_TYPE),
        ({1: 2, 2: "two"}, ERR.CBOR_UNEXPECTED_TYPE),
        ({1: 2, 2: 3}, ERR.MISSING_PARAMETER),
        ({1: 2, 2: 3, 3: {1: 2}, 4: b"x", 5: b"y"}, ERR.INVALID_PARAMETER),
        ({1: 2, 2: 3, 3: {}, 4: "x", 5: b"y"}, ERR.CBOR_UNEXPECTED_TYPE),
        ({1: 2, 2: 5, 3: {1: 2}, 6: b"x"}, ERR.PIN_NOT_SET),
    ],
)
def test_client_pin_errors(ctap2: Ctap2, params: dict[int, object], expected: int) -> None:
    with pytest.raises(CtapError) as info:
        ctap2.send_cbor(Ctap2.CMD.CLIENT_PIN, params)
    assert code(info) == expected


def test_bad_key_agreement_point(ctap2: Ctap2, protocol: PinProtocol) -> None:
    pin = ClientPin(ctap2, protocol)
    key_agreement, shared = pin._get_shared_secret()
    enc = protocol.encrypt(shared, PIN.encode().ljust(64, b"\0"))
    off_curve = dict(key_agreement)
    off_curve[-3] = bytes(32)
    with pytest.raises(CtapError) as info:
        ctap2.client_pin(
            protocol.VERSION,
            ClientPin.CMD.SET_PIN,
            key_agreement=off_curve,
            new_pin_enc=enc,
            pin_uv_param=protocol.authenticate(shared, enc),
        )
    assert code(info) == ERR.INVALID_PARAMETER


def test_cred_protect_required_needs_uv(
    ctap2: Ctap2, client_pin: ClientPin, protocol: PinProtocol
) -> None:
    made = make_credential(ctap2, extensions={"credProtect": 3})
    assert made.auth_data.extensions == {"credProtect": 3}
    with pytest.raises(CtapError) as info:
        ctap2.get_assertion(RP["id"], CDH, [descriptor_of(made)])
    assert code(info) == ERR.NO_CREDENTIALS
    token = client_pin.get_pin_token(PIN, PERM.GET_ASSERTION, RP["id"])
    ctap2.get_assertion(
        RP["id"],
        CDH,
        [descriptor_of(made)],
        pin_uv_param=protocol.authenticate(token, CDH),
        pin_uv_protocol=protocol.VERSION,
    )
