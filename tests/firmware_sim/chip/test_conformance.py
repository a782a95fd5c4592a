"""Divergences the field's suites found (python-fido2's device suite, tools written for the
SoloKeys simulator), each pinned to the CTAP section the simulator follows."""

from __future__ import annotations

import pytest
from fido2.ctap import CtapError
from fido2.ctap2 import Ctap2
from fido2.ctap2.pin import ClientPin, PinProtocolV1, PinProtocolV2

from firmware_sim.chip import ChipDevice

from .conftest import CDH, RP, descriptor_of, make_credential

ERR = CtapError.ERR
PIN = "1234"
PERM = ClientPin.PERMISSION


def code(exc: pytest.ExceptionInfo[CtapError]) -> int:
    return int(exc.value.code)


def test_pin_retries_without_a_pin_is_pin_not_set(ctap2: Ctap2) -> None:
    """CTAP 2.1 §6.5.5.2 counts the tries of a PIN; with none set there is nothing to count,
    and §8.2's PIN_NOT_SET is the answer (as python-fido2's suite expects)."""
    with pytest.raises(CtapError) as exc:
        ClientPin(ctap2, PinProtocolV2()).get_pin_retries()
    assert code(exc) == ERR.PIN_NOT_SET
    ClientPin(ctap2, PinProtocolV2()).set_pin(PIN)
    assert ClientPin(ctap2, PinProtocolV2()).get_pin_retries() == (8, False)


@pytest.mark.parametrize("protocol", [PinProtocolV1, PinProtocolV2])
def test_forced_pin_change_refuses_tokens_with_pin_invalid(
    ctap2: Ctap2, protocol: type[PinProtocolV1]
) -> None:
    """CTAP 2.1 §6.5.5.7.1/.2: while forcePINChange is true, getPinToken answers PIN_INVALID
    (not PIN_POLICY_VIOLATION); changing the PIN clears the flag."""
    from fido2.ctap2.config import Config

    pin = ClientPin(ctap2, protocol())
    pin.set_pin(PIN)
    Config(ctap2, protocol(), pin.get_pin_token(PIN, PERM.AUTHENTICATOR_CFG)).set_min_pin_length(
        force_change_pin=True
    )
    assert ctap2.get_info().force_pin_change is True
    with pytest.raises(CtapError) as exc:
        pin.get_pin_token(PIN, PERM.GET_ASSERTION)
    assert code(exc) == ERR.PIN_INVALID
    pin.change_pin(PIN, "4321")
    assert ctap2.get_info().force_pin_change is False
    assert pin.get_pin_token("4321", PERM.GET_ASSERTION)


def test_rsa_credentials_die_with_a_reset(device: ChipDevice, ctap2: Ctap2) -> None:
    """CTAP 2.1 §6.6: a reset makes every credential unusable, RSA keys kept on the device too."""
    made = make_credential(ctap2, alg=-257)
    ctap2.get_assertion(RP["id"], CDH, [descriptor_of(made)])
    ctap2.reset()
    with pytest.raises(CtapError) as exc:
        ctap2.get_assertion(RP["id"], CDH, [descriptor_of(made)])
    assert code(exc) == ERR.NO_CREDENTIALS


def _with_pin(ctap2: Ctap2) -> ClientPin:
    pin = ClientPin(ctap2, PinProtocolV2())
    pin.set_pin(PIN)
    return pin


def test_enterprise_attestation(device: ChipDevice, ctap2: Ctap2) -> None:
    """CTAP 2.1 §7.1 and §6.11.1: enterpriseAttestation is refused (INVALID_PARAMETER) until
    authenticatorConfig enables it; then 2 (platform-managed) or 1 for an RP on the vendor's
    list gets the device's own certificate and epAtt; a reset turns it off again."""
    from fido2.ctap2.config import Config

    user = {"id": b"u", "name": "bob"}
    es256 = [{"type": "public-key", "alg": -7}]
    with pytest.raises(CtapError) as exc:
        ctap2.make_credential(CDH, RP, user, es256, enterprise_attestation=2)
    assert code(exc) == ERR.INVALID_PARAMETER
    pin = _with_pin(ctap2)
    Config(
        ctap2, PinProtocolV2(), pin.get_pin_token(PIN, PERM.AUTHENTICATOR_CFG)
    ).enable_enterprise_attestation()
    assert ctap2.get_info().options["ep"] is True
    plain = ctap2.make_credential(CDH, RP, user, es256)
    managed = ctap2.make_credential(CDH, RP, user, es256, enterprise_attestation=2)
    assert managed.ep_att is True
    assert managed.att_stmt["x5c"][0] != plain.att_stmt["x5c"][0]
    unlisted = ctap2.make_credential(CDH, RP, user, es256, enterprise_attestation=1)
    assert not unlisted.ep_att
    assert unlisted.att_stmt["x5c"] == plain.att_stmt["x5c"]
    vendor_rp = {"id": device.model.enterprise_rp_ids[0]}
    vendor = ctap2.make_credential(CDH, vendor_rp, user, es256, enterprise_attestation=1)
    assert vendor.ep_att is True
    assert vendor.att_stmt["x5c"] == managed.att_stmt["x5c"]
    with pytest.raises(CtapError) as exc:
        ctap2.make_credential(CDH, RP, user, es256, enterprise_attestation=3)
    assert code(exc) == ERR.INVALID_OPTION
    device.power_cycle()
    ctap2.reset()
    assert ctap2.get_info().options["ep"] is False


def _salt_input(ctap2: Ctap2, salts: bytes) -> tuple[dict[int, object], object, bytes]:
    protocol = PinProtocolV2()
    key_agreement, shared = ClientPin(ctap2, protocol)._get_shared_secret()
    salt_enc = protocol.encrypt(shared, salts)
    request = {1: key_agreement, 2: salt_enc, 3: protocol.authenticate(shared, salt_enc), 4: 2}
    return request, protocol, shared


def test_hmac_secret_mc_gives_the_assertion_outputs_at_registration(ctap2: Ctap2) -> None:
    """CTAP 2.2 §12.7 (hmac-secret-mc): with hmac-secret, the salts given to makeCredential
    yield the outputs getAssertion yields for the same salts."""
    salts = bytes(range(64))
    request, protocol, shared = _salt_input(ctap2, salts)
    made = make_credential(ctap2, extensions={"hmac-secret": True, "hmac-secret-mc": request})
    extensions = made.auth_data.extensions or {}
    assert extensions["hmac-secret"] is True
    at_registration = protocol.decrypt(shared, extensions["hmac-secret-mc"])
    request, protocol, shared = _salt_input(ctap2, salts)
    assertion = ctap2.get_assertion(
        RP["id"], CDH, [descriptor_of(made)], extensions={"hmac-secret": request}
    )
    at_login = protocol.decrypt(shared, (assertion.auth_data.extensions or {})["hmac-secret"])
    assert len(at_registration) == 64
    assert at_registration == at_login


def test_bad_salt_auth_is_pin_auth_invalid(ctap2: Ctap2) -> None:
    """CTAP 2.1 §12.5: an hmac-secret saltAuth that does not verify is PIN_AUTH_INVALID (the
    solo1 model answers EXTENSION_FIRST, as solo1 does)."""
    made = make_credential(ctap2, extensions={"hmac-secret": True})
    request, _, _ = _salt_input(ctap2, bytes(32))
    request[3] = bytes(32)
    with pytest.raises(CtapError) as exc:
        ctap2.get_assertion(
            RP["id"], CDH, [descriptor_of(made)], extensions={"hmac-secret": request}
        )
    assert code(exc) == ERR.PIN_AUTH_INVALID


def test_third_party_payment(ctap2: Ctap2) -> None:
    """CTAP 2.2 §12.9 (thirdPartyPayment): the flag is set at registration, reported by
    getAssertion when asked for and by credential management."""
    from fido2.ctap2.credman import CredentialManagement as CredMan

    pin = _with_pin(ctap2)
    mc = PinProtocolV2().authenticate(pin.get_pin_token(PIN, PERM.MAKE_CREDENTIAL), CDH)
    paying = make_credential(
        ctap2, rk=True, extensions={"thirdPartyPayment": True}, pin_uv_param=mc, pin_uv_protocol=2
    )
    plain = make_credential(ctap2, user_id=b"user-2")
    for made, expected in ((paying, True), (plain, False)):
        assertion = ctap2.get_assertion(
            RP["id"], CDH, [descriptor_of(made)], extensions={"thirdPartyPayment": True}
        )
        assert (assertion.auth_data.extensions or {})["thirdPartyPayment"] is expected
    token = pin.get_pin_token(PIN, PERM.CREDENTIAL_MGMT)
    (listed,) = CredMan(ctap2, PinProtocolV2(), token).enumerate_creds(paying.auth_data.rp_id_hash)
    assert listed[CredMan.RESULT.THIRD_PARTY_PAYMENT] is True


def test_persistent_token_reads_credentials_across_power_cycles(
    device: ChipDevice, ctap2: Ctap2
) -> None:
    """CTAP 2.2 (pcmr permission, perCredMgmtRO): the persistent token survives a power cycle,
    authorises the read-only credentialManagement subcommands only, goes alone, and a PIN change
    ends it."""
    from fido2.ctap2.credman import CredentialManagement as CredMan

    pin = _with_pin(ctap2)
    assert ctap2.get_info().options["perCredMgmtRO"] is True
    mc = PinProtocolV2().authenticate(pin.get_pin_token(PIN, PERM.MAKE_CREDENTIAL), CDH)
    made = make_credential(ctap2, rk=True, pin_uv_param=mc, pin_uv_protocol=2)
    with pytest.raises(CtapError) as exc:
        pin.get_pin_token(PIN, PERM.PERSISTENT_CREDENTIAL_MGMT | PERM.CREDENTIAL_MGMT)
    assert code(exc) == ERR.UNAUTHORIZED_PERMISSION
    token = pin.get_pin_token(PIN, PERM.PERSISTENT_CREDENTIAL_MGMT)
    device.power_cycle()
    credman = CredMan(ctap2, PinProtocolV2(), token)
    assert credman.get_metadata()[1] == 1
    assert len(credman.enumerate_creds(made.auth_data.rp_id_hash)) == 1
    with pytest.raises(CtapError) as exc:
        credman.delete_cred(descriptor_of(made))
    assert code(exc) == ERR.PIN_AUTH_INVALID
    pin.change_pin(PIN, "4321")
    with pytest.raises(CtapError) as exc:
        credman.get_metadata()
    assert code(exc) == ERR.PIN_AUTH_INVALID


def test_credential_management_pre_takes_legacy_tokens(ctap2: Ctap2) -> None:
    """CTAP 2.1-PRE credentialManagement (command 0x41) came before permissions: a token from
    getPinToken authorises it there, while the 2.1 command (0x0A) wants the cm permission."""
    pin = _with_pin(ctap2)
    mc = PinProtocolV2().authenticate(pin.get_pin_token(PIN, PERM.MAKE_CREDENTIAL), CDH)
    make_credential(ctap2, rk=True, pin_uv_param=mc, pin_uv_protocol=2)
    legacy = pin.get_pin_token(PIN)
    param = PinProtocolV2().authenticate(legacy, b"\x01")
    assert ctap2.send_cbor(0x41, {1: 1, 3: 2, 4: param})[1] == 1
    with pytest.raises(CtapError) as exc:
        ctap2.send_cbor(0x0A, {1: 1, 3: 2, 4: param})
    assert code(exc) == ERR.PIN_AUTH_INVALID


def test_user_names_only_when_verified_and_choosing_among_accounts(ctap2: Ctap2) -> None:
    """CTAP 2.1 §6.2.2, member user (0x04): without user verification only the user ID goes
    out; with it, names too, but only when there are several accounts to choose from."""
    pin = _with_pin(ctap2)
    token = pin.get_pin_token(PIN, PERM.MAKE_CREDENTIAL | PERM.GET_ASSERTION)
    param = PinProtocolV2().authenticate(token, CDH)
    make_credential(ctap2, rk=True, pin_uv_param=param, pin_uv_protocol=2)
    one = ctap2.get_assertion(RP["id"], CDH, pin_uv_param=param, pin_uv_protocol=2)
    assert one.user == {"id": b"user-1"}
    make_credential(ctap2, rk=True, user_id=b"user-2", pin_uv_param=param, pin_uv_protocol=2)
    first = ctap2.get_assertion(RP["id"], CDH, pin_uv_param=param, pin_uv_protocol=2)
    assert first.number_of_credentials == 2
    assert first.user == {"id": b"user-2", "name": "bob", "displayName": "Bob"}
    assert ctap2.get_next_assertion().user["name"] == "bob"
    silent = ctap2.get_assertion(RP["id"], CDH)
    assert silent.user == {"id": b"user-2"}


def test_credentials_listed_between_rps(ctap2: Ctap2) -> None:
    """CTAP 2.1 §6.8: enumerating an RP's credentials between enumerateRPsGetNextRP calls
    leaves the RP enumeration where it was (solo1 and the SoloKeys suite do it so)."""
    from fido2.ctap2.credman import CredentialManagement as CredMan

    pin = _with_pin(ctap2)
    for rp_id in ("a.example", "b.example"):
        token = pin.get_pin_token(PIN, PERM.MAKE_CREDENTIAL)
        param = PinProtocolV2().authenticate(token, CDH)
        make_credential(ctap2, rp={"id": rp_id}, rk=True, pin_uv_param=param, pin_uv_protocol=2)
    credman = CredMan(ctap2, PinProtocolV2(), pin.get_pin_token(PIN, PERM.CREDENTIAL_MGMT))
    first = credman.enumerate_rps_begin()
    assert first[CredMan.RESULT.TOTAL_RPS] == 2
    credman.enumerate_creds(first[CredMan.RESULT.RP_ID_HASH])
    second = credman.enumerate_rps_next()
    assert second[CredMan.RESULT.RP]["id"] != first[CredMan.RESULT.RP]["id"]
