"""CTAP1/U2F over CTAPHID_MSG: version, register, authenticate, check-only, the status words."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from typing import TypeVar

from fido2.ctap1 import APDU, ApduError, Ctap1, RegistrationData

from authenticators.chip.selftest.runner import Area, Session, Skip, expect

area = Area("u2f")
APP_PARAM = hashlib.sha256(b"https://selftest.mitid-emulator.test").digest()
SW_WRONG_DATA = 0x6A80
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00
T = TypeVar("T")


def _ctap1(session: Session) -> Ctap1:
    if session.host.supports_ctap2() and "U2F_V2" not in session.host.info.versions:
        raise Skip("U2F_V2 not advertised in getInfo versions")
    return Ctap1(session.device.ctap)


def _with_touch(session: Session, action: Callable[[], T], timeout: float = 30.0) -> T:
    """U2F answers "conditions not satisfied" until touched; the host asks again."""
    deadline = time.monotonic() + timeout
    prompted = False
    while True:
        try:
            return action()
        except ApduError as exc:
            if exc.code != APDU.USE_NOT_SATISFIED or time.monotonic() > deadline:
                raise
        if not prompted and session.host.on_touch_needed is not None:
            session.host.on_touch_needed()
            prompted = True
        time.sleep(0.1)


def _registered(session: Session) -> RegistrationData:
    if "u2f" not in session.cache:
        ctap1 = _ctap1(session)
        session.cache["u2f"] = _with_touch(
            session, lambda: ctap1.register(os.urandom(32), APP_PARAM)
        )
    reg: RegistrationData = session.cache["u2f"]
    return reg


@area.check("VERSION answers U2F_V2")
def version(session: Session) -> None:
    got = _ctap1(session).get_version()
    expect(got == "U2F_V2", f"version {got!r}")


@area.check("REGISTER returns a P-256 key and a valid attestation signature")
def register(session: Session) -> str:
    ctap1 = _ctap1(session)
    challenge = os.urandom(32)
    reg = _with_touch(session, lambda: ctap1.register(challenge, APP_PARAM))
    expect(len(reg.public_key) == 65 and reg.public_key[0] == 4, "not an uncompressed P-256 key")
    reg.verify(APP_PARAM, challenge)
    session.cache["u2f"] = reg
    return f"key handle {len(reg.key_handle)} bytes"


@area.check("AUTHENTICATE signs with the registered key; user presence set")
def authenticate(session: Session) -> str:
    reg = _registered(session)
    ctap1 = Ctap1(session.device.ctap)
    challenge = os.urandom(32)
    sig = _with_touch(session, lambda: ctap1.authenticate(challenge, APP_PARAM, reg.key_handle))
    sig.verify(APP_PARAM, challenge, reg.public_key)
    expect(sig.user_presence & 1 == 1, "user presence bit clear")
    return f"counter {sig.counter}"


@area.check("AUTHENTICATE counters strictly increase")
def counter_increases(session: Session) -> str:
    reg = _registered(session)
    ctap1 = Ctap1(session.device.ctap)
    first = _with_touch(
        session, lambda: ctap1.authenticate(os.urandom(32), APP_PARAM, reg.key_handle)
    )
    second = _with_touch(
        session, lambda: ctap1.authenticate(os.urandom(32), APP_PARAM, reg.key_handle)
    )
    expect(second.counter > first.counter, f"counter went {first.counter} -> {second.counter}")
    return f"{first.counter} -> {second.counter}"


@area.check("check-only on a known key handle answers 'conditions not satisfied'")
def check_only_known(session: Session) -> None:
    reg = _registered(session)
    try:
        Ctap1(session.device.ctap).authenticate(
            os.urandom(32), APP_PARAM, reg.key_handle, check_only=True
        )
    except ApduError as exc:
        expect(exc.code == APDU.USE_NOT_SATISFIED, f"status 0x{exc.code:04x}, 0x6985 is due")
        return
    expect(False, "check-only produced a signature")


@area.check("an unknown key handle is refused with 'wrong data'")
def unknown_key_handle(session: Session) -> None:
    ctap1 = _ctap1(session)
    try:
        ctap1.authenticate(os.urandom(32), APP_PARAM, os.urandom(64))
    except ApduError as exc:
        expect(exc.code == SW_WRONG_DATA, f"status 0x{exc.code:04x}, 0x6a80 is due")
        return
    expect(False, "signed with a key handle it never issued")


@area.check("a key handle used under another application is refused")
def other_application(session: Session) -> None:
    reg = _registered(session)
    try:
        Ctap1(session.device.ctap).authenticate(
            os.urandom(32), hashlib.sha256(b"https://other.test").digest(), reg.key_handle
        )
    except ApduError as exc:
        expect(exc.code == SW_WRONG_DATA, f"status 0x{exc.code:04x}, 0x6a80 is due")
        return
    expect(False, "signed for an application the key handle was not made for")


@area.check("an unknown instruction is refused with 'INS not supported'")
def unknown_instruction(session: Session) -> None:
    ctap1 = _ctap1(session)
    try:
        ctap1.send_apdu(ins=0x55)
    except ApduError as exc:
        expect(exc.code == SW_INS_NOT_SUPPORTED, f"status 0x{exc.code:04x}, 0x6d00 is due")
        return
    expect(False, "accepted instruction 0x55")


@area.check("an unknown class byte is refused with 'CLA not supported'")
def unknown_class(session: Session) -> None:
    ctap1 = _ctap1(session)
    try:
        ctap1.send_apdu(cla=0x80, ins=0x03)
    except ApduError as exc:
        expect(exc.code == SW_CLA_NOT_SUPPORTED, f"status 0x{exc.code:04x}, 0x6e00 is due")
        return
    expect(False, "accepted class 0x80")
