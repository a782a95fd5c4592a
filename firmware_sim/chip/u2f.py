"""CTAP1/U2F raw messages (FIDO U2F Raw Message Formats v1.2) carried in CTAPHID_MSG.

Key handles are the same wrapped credential IDs CTAP2 uses, bound to the application parameter,
so a U2F registration is usable through CTAP2 getAssertion when the RP ID hashes to the AppID
parameter. User presence is checked without waiting, as U2F expects: ``SW_CONDITIONS_NOT_SATISFIED``
tells the host to ask the user and retry.
"""

from __future__ import annotations

import struct

from firmware_sim.chip.attestation import BatchAttestation
from firmware_sim.chip.credentials import ES256, CredentialVault
from firmware_sim.chip.presence import Button
from firmware_sim.chip.state import ChipState

SW_NO_ERROR = 0x9000
SW_CONDITIONS_NOT_SATISFIED = 0x6985
SW_WRONG_DATA = 0x6A80
SW_WRONG_LENGTH = 0x6700
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00

INS_REGISTER = 0x01
INS_AUTHENTICATE = 0x02
INS_VERSION = 0x03

AUTH_ENFORCE = 0x03
AUTH_CHECK_ONLY = 0x07
AUTH_DONT_ENFORCE = 0x08


class ApduError(Exception):
    """A request the U2F layer refuses; ``sw`` is the status word it answers with."""

    def __init__(self, sw: int) -> None:
        super().__init__(f"SW {sw:04X}")
        self.sw = sw


def _sw(sw: int) -> bytes:
    return struct.pack(">H", sw)


def parse_apdu(apdu: bytes) -> tuple[int, int, int, int, bytes]:
    """ISO 7816-4 command APDU, short or extended length encoding."""
    if len(apdu) < 4:
        raise ApduError(SW_WRONG_LENGTH)
    cla, ins, p1, p2 = apdu[0], apdu[1], apdu[2], apdu[3]
    body = apdu[4:]
    if len(body) <= 1:  # no data; at most a short Le
        return cla, ins, p1, p2, b""
    if body[0] != 0:  # short Lc
        lc = body[0]
        data = body[1 : 1 + lc]
        rest = len(body) - 1 - lc
        if len(data) != lc or rest not in (0, 1):
            raise ApduError(SW_WRONG_LENGTH)
        return cla, ins, p1, p2, data
    if len(body) == 3:  # extended Le only
        return cla, ins, p1, p2, b""
    if len(body) < 3:
        raise ApduError(SW_WRONG_LENGTH)
    lc = struct.unpack(">H", body[1:3])[0]
    data = body[3 : 3 + lc]
    rest = len(body) - 3 - lc
    if len(data) != lc or rest not in (0, 2):
        raise ApduError(SW_WRONG_LENGTH)
    return cla, ins, p1, p2, data


class U2F:
    """The three U2F instructions over the device's credentials, counter and button."""

    def __init__(
        self,
        state: ChipState,
        vault: CredentialVault,
        button: Button,
        batch: BatchAttestation,
    ) -> None:
        self.state = state
        self.vault = vault
        self.button = button
        self.batch = batch

    def __repr__(self) -> str:
        return "U2F()"

    def handle(self, apdu: bytes) -> bytes:
        """One CTAPHID_MSG payload in, response data plus status word out."""
        try:
            cla, ins, p1, _p2, data = parse_apdu(apdu)
            if cla != 0:
                raise ApduError(SW_CLA_NOT_SUPPORTED)
            if self.state.always_uv:
                # CTAP 2.1 §7.2.4: with alwaysUv on, U2F cannot verify the user, so it is off.
                raise ApduError(SW_CONDITIONS_NOT_SATISFIED)
            if ins == INS_REGISTER:
                return self._register(data) + _sw(SW_NO_ERROR)
            if ins == INS_AUTHENTICATE:
                return self._authenticate(p1, data) + _sw(SW_NO_ERROR)
            if ins == INS_VERSION:
                if data:
                    raise ApduError(SW_WRONG_LENGTH)
                return b"U2F_V2" + _sw(SW_NO_ERROR)
            raise ApduError(SW_INS_NOT_SUPPORTED)
        except ApduError as exc:
            return _sw(exc.sw)

    def _register(self, data: bytes) -> bytes:
        if len(data) != 64:
            raise ApduError(SW_WRONG_LENGTH)
        challenge, application = data[:32], data[32:]
        if not self.button.check("register", None):
            raise ApduError(SW_CONDITIONS_NOT_SATISFIED)
        credential = self.vault.create(application, ES256, u2f=True)
        public = credential.u2f_public_key()
        handle = credential.id
        signed = b"\x00" + application + challenge + handle + public
        return (
            b"\x05"
            + public
            + bytes([len(handle)])
            + handle
            + self.batch.cert_der
            + self.batch.sign(signed)
        )

    def _authenticate(self, control: int, data: bytes) -> bytes:
        if len(data) < 65:
            raise ApduError(SW_WRONG_LENGTH)
        challenge, application, length = data[:32], data[32:64], data[64]
        handle = data[65:]
        if len(handle) != length:
            raise ApduError(SW_WRONG_LENGTH)
        if control not in (AUTH_ENFORCE, AUTH_CHECK_ONLY, AUTH_DONT_ENFORCE):
            raise ApduError(SW_WRONG_DATA)
        credential = self.vault.open(handle, application)
        if credential is None or credential.alg != ES256:
            raise ApduError(SW_WRONG_DATA)
        if credential.resident and handle not in self.state.residents:
            raise ApduError(SW_WRONG_DATA)
        if control == AUTH_CHECK_ONLY:
            # "Conditions not satisfied" is how U2F says: yes, this key handle is mine.
            raise ApduError(SW_CONDITIONS_NOT_SATISFIED)
        presence = 0
        if control == AUTH_ENFORCE:
            if not self.button.check("authenticate", None):
                raise ApduError(SW_CONDITIONS_NOT_SATISFIED)
            presence = 1
        counter = struct.pack(">I", self.state.next_counter())
        signed = application + bytes([presence]) + counter + challenge
        return bytes([presence]) + counter + credential.sign(signed)
