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
