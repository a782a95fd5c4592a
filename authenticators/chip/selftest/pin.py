"""clientPIN (§6.5): protocols, retries, key agreement, set / change, tokens, wrong PINs."""

from __future__ import annotations

import hashlib

from fido2.cose import CoseKey
from fido2.ctap import CtapError
from fido2.ctap2.pin import ClientPin, PinProtocol, PinProtocolV1, PinProtocolV2

from authenticators.chip.errors import ChipHostError
from authenticators.chip.selftest.ctap2 import refused_with
from authenticators.chip.selftest.runner import USER, Area, Session, Skip, expect

area = Area("pin")
ERR = CtapError.ERR
PERM = ClientPin.PERMISSION


def _protocols(session: Session) -> list[PinProtocol]:
    advertised = session.info().pin_uv_protocols
    if not advertised:
        raise Skip("no PIN/UV auth protocol advertised in getInfo")
    known = {1: PinProtocolV1, 2: PinProtocolV2}
    return [known[p]() for p in advertised if p in known]


def _protocol(session: Session, version: int) -> PinProtocol:
    for protocol in _protocols(session):
        if version == protocol.VERSION:
            return protocol
    raise Skip(f"PIN protocol {version} not advertised in getInfo")


@area.check("getInfo advertises PIN/UV auth protocols with the clientPin option")
def protocols_advertised(session: Session) -> str:
    info = session.info()
    if "clientPin" not in info.options:
        raise Skip("option clientPin not advertised in getInfo")
    expect(bool(info.pin_uv_protocols), "clientPin advertised but no pinUvAuthProtocols")
    return f"protocols {info.pin_uv_protocols}"


@area.check("getKeyAgreement returns a P-256 key for every advertised protocol")
def key_agreement(session: Session) -> str:
    versions = []
    for protocol in _protocols(session):
        with session.host.guard("agree a key"):
            answer = session.host.ctap2.client_pin(
                protocol.VERSION, ClientPin.CMD.GET_KEY_AGREEMENT
            )
        key = CoseKey(answer[ClientPin.RESULT.KEY_AGREEMENT])
        expect(key.get(1) == 2 and key.get(-1) == 1, "not an EC2 P-256 key")
        versions.append(str(protocol.VERSION))
    return "protocols " + ", ".join(versions)


@area.check("getPINRetries answers a count from 1 to 8 (or PIN_NOT_SET while no PIN is set)")
def retries(session: Session) -> str:
    _protocols(session)
    if not session.host.pin_is_set():
        try:
            count = session.host.pin_retries()
        except ChipHostError as exc:
            expect(exc.ctap == ERR.PIN_NOT_SET, f"refused with 0x{exc.ctap or 0:02x}")
            return "no PIN set (PIN_NOT_SET)"
        expect(0 < count <= 8, f"{count} retries")
        return f"{count} retries, no PIN set"
    count = session.host.pin_retries()
    expect(0 < count <= 8, f"{count} retries")
    return f"{count} retries"


@area.check("setPIN sets a PIN; getInfo then says clientPin true", destructive=True)
def set_pin(session: Session) -> None:
    _protocols(session)
    if session.host.pin_is_set():
        raise Skip("a PIN is set already (the reset check did not run)")
    pin = session.new_pin()
    session.host.set_pin(pin)
    session.pin = pin
    expect(session.host.pin_is_set(), "clientPin still false after setPIN")


@area.check("a PIN shorter than the minimum is refused (PIN_POLICY_VIOLATION)", destructive=True)
def short_pin(session: Session) -> None:
    pin = session.require_pin()
    refused_with(ERR.PIN_POLICY_VIOLATION, lambda: _change_pin_raw(session, pin, b"123"))


def _change_pin_raw(session: Session, old: str, new: bytes) -> None:
    """changePIN without the client's own length rule, so the token's rule is what is tested."""
    host = session.host
    protocol = host.pin_protocol()
    with host.guard("agree a key"):
        answer = host.ctap2.client_pin(protocol.VERSION, ClientPin.CMD.GET_KEY_AGREEMENT)
    key_agreement, shared = protocol.encapsulate(CoseKey(answer[ClientPin.RESULT.KEY_AGREEMENT]))
    pin_hash_enc = protocol.encrypt(shared, hashlib.sha256(old.encode()).digest()[:16])
    new_pin_enc = protocol.encrypt(shared, new.ljust(64, b"\x00"))
    with host.guard("change the PIN"):
        host.ctap2.client_pin(
            protocol.VERSION,
            ClientPin.CMD.CHANGE_PIN,
            key_agreement=key_agreement,
            pin_hash_enc=pin_hash_enc,
            new_pin_enc=new_pin_enc,
            pin_uv_param=protocol.authenticate(shared, new_pin_enc + pin_hash_enc),
        )


@area.check("a pinUvAuthToken comes with PIN protocol 1", destructive=True)
def token_protocol_1(session: Session) -> None:
    pin = session.require_pin()
    protocol = _protocol(session, 1)
    with session.host.guard("give a PIN token"):
        token = session.host.client_pin(protocol).get_pin_token(pin, PERM.MAKE_CREDENTIAL)
    expect(len(token) in (16, 32), f"token of {len(token)} bytes")


@area.check("a pinUvAuthToken comes with PIN protocol 2", destructive=True)
def token_protocol_2(session: Session) -> None:
    pin = session.require_pin()
    protocol = _protocol(session, 2)
    with session.host.guard("give a PIN token"):
        token = session.host.client_pin(protocol).get_pin_token(pin, PERM.MAKE_CREDENTIAL)
    expect(len(token) == 32, f"token of {len(token)} bytes")


@area.check("a wrong PIN is refused and costs one retry; the right one restores", destructive=True)
def wrong_pin(session: Session) -> str:
    pin = session.require_pin()
    before = session.host.pin_retries()
    refused_with(ERR.PIN_INVALID, lambda: session.host.pin_token(pin + "x", PERM.GET_ASSERTION))
    after = session.host.pin_retries()
    expect(after == before - 1, f"retries went {before} -> {after}")
    session.host.pin_token(pin, PERM.GET_ASSERTION)
    restored = session.host.pin_retries()
    expect(restored == before, f"retries {restored} after the right PIN, {before} is due")
    return f"{before} -> {after} -> {restored}"


@area.check("changePIN replaces the PIN; the old one stops working", destructive=True)
def change_pin(session: Session) -> None:
    old = session.require_pin()
    new = session.new_pin()
    session.host.change_pin(old, new)
    session.pin = new
    refused_with(ERR.PIN_INVALID, lambda: session.host.pin_token(old, PERM.GET_ASSERTION))
    session.host.pin_token(new, PERM.GET_ASSERTION)


@area.check("makeCredential with the PIN sets the UV flag", destructive=True)
def user_verified(session: Session) -> None:
    pin = session.require_pin()
    made = session.host.make_credential(session.rp_id, session.cdh(), USER, pin=pin)
    expect(made.auth_data.is_user_verified(), "UV flag clear")
