"""The chip: files, access control (BAC, PACE), secure messaging, Active and Chip Authentication.

:meth:`PassportChip.transmit` takes one command APDU and returns the response APDU; it never
raises, whatever the bytes (a malformed command gets its ISO/IEC 7816-4 status word). A failed
secure-messaging check ends the session, as 9303-11 §9.8 requires, and so does a plain command
sent while a session is open.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from authenticators.ct import bytes_eq
from authenticators.icao9303 import oids, tlv
from authenticators.icao9303.crypto import (
    ENC,
    MAC,
    PACE,
    CipherKind,
    SessionKeys,
    aes_encrypt,
    auth_token,
    bac_seed,
    kdf,
    pad,
    retail_mac,
    tdes_decrypt,
    tdes_encrypt,
)
from authenticators.icao9303.ecc import CURVES_BY_PARAMETER_ID, Curve
from firmware_sim.passport.apdu import SW, CardError, Command

log = logging.getLogger(__name__)

EF_CARD_ACCESS = 0x011C
MF = 0x3F00


def _contactless_atr(historical: bytes) -> bytes:
    """The ATR a PC/SC reader reports for an ISO 14443-4 card (PC/SC part 3 §3.1.3.2.3)."""
    body = bytes([0x80 | len(historical), 0x80, 0x01]) + historical
    check = 0
    for byte in body:
        check ^= byte
    return b"\x3b" + body + bytes([check])


ATR = _contactless_atr(b"MRTD-sim")

INS_SELECT = 0xA4
INS_READ_BINARY = 0xB0
INS_READ_BINARY_ODD = 0xB1
INS_GET_CHALLENGE = 0x84
INS_EXTERNAL_AUTHENTICATE = 0x82
INS_INTERNAL_AUTHENTICATE = 0x88
INS_MSE = 0x22
INS_GENERAL_AUTHENTICATE = 0x86

MAX_READ = 0xDF  # what one short-Le READ BINARY returns at most under secure messaging

Random = Callable[[int], bytes]


@dataclass
class ChipData:
    """What personalisation wrote into the chip: its files and its secrets."""

    files: Mapping[int, bytes]  # FID -> contents; EF.CardAccess in the MF, the rest in LDS1
    mrz_information: str = field(repr=False)
    can: str | None = field(default=None, repr=False)
    aa_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | None = field(default=None, repr=False)
    ca_key: ec.EllipticCurvePrivateKey | None = field(default=None, repr=False)


@dataclass
class _Pace:
    oid: str
    curve: Curve
    password: bytes
    step: int = 1
    nonce: int = 0
    mapping_key: int = 0
    generator: tuple[int, int] | None = None
    key: int = 0
    reader_public: bytes = b""
    chip_public: bytes = b""
    secret: bytes = b""


class PassportChip:
    def __init__(self, data: ChipData, *, rng: Random = secrets.token_bytes) -> None:
        self.data = data
        self._rng = rng
        self.pace_infos = _pace_infos(data.files.get(EF_CARD_ACCESS, b""))
        self.reset()

    def reset(self) -> None:
        """Power on: nothing selected, no session."""
        self._in_application = False
        self._selected: int | None = None
        self._session: SessionKeys | None = None
        self._challenge: bytes | None = None
        self._pace: _Pace | None = None
        self._ca_protocol: str | None = None  # Chip Authentication by MSE:Set AT, awaiting GA

    @property
    def secure(self) -> bool:
        return self._session is not None

    def power_on(self) -> bytes:
        self.reset()
        return ATR

    # -- the APDU layer ------------------------------------------------------------------

    def transmit(self, raw: bytes) -> bytes:
        try:
            return self._transmit(bytes(raw))
        except CardError as exc:
            return exc.sw.to_bytes(2, "big")
        except Exception:  # a bug must not take the card down: answer as a card would
            log.exception("the passport chip failed on a command")
            self._session = None
            return SW.NO_DIAGNOSIS.to_bytes(2, "big")

    def _transmit(self, raw: bytes) -> bytes:
        command = Command.parse(raw)
        if command.cla & 0xE3 != 0:
            raise CardError(SW.CLA_NOT_SUPPORTED)
        if command.cla & 0x0C:
            if command.cla & 0x0C != 0x0C:
                raise CardError(SW.SM_NOT_SUPPORTED, "only SM with an authenticated header")
            session = self._session
            if session is None:
                raise CardError(SW.SM_NOT_SUPPORTED, "no secure messaging session")
            inner = self._unwrap(session, command)
            try:
                data, sw = self._dispatch(inner)
            except CardError as exc:
                data, sw = b"", exc.sw
            switched = inner.ins in (INS_MSE, INS_GENERAL_AUTHENTICATE)
            if self._session is not session and sw == SW.OK and switched:
                # Chip Authentication: the answer goes under the old keys, then the new apply.
                return self._wrap(session, inner, data, sw)
            if self._session is None:
                return sw.to_bytes(2, "big")
            return self._wrap(self._session, inner, data, sw)
        if self._session is not None:
            self._session = None  # a plain command ends secure messaging
        data, sw = self._dispatch(command)
        return data + sw.to_bytes(2, "big")

    def _unwrap(self, session: SessionKeys, command: Command) -> Command:
        try:
            objects = tlv.parse(command.data)
        except tlv.TlvError:
            self._session = None
            raise CardError(SW.SM_OBJECTS_INCORRECT, "not TLV") from None
        if not objects or objects[-1][0] != 0x8E:
            self._session = None
            raise CardError(SW.SM_OBJECTS_MISSING, "no MAC")
        crypto: bytes | None = None
        le: int | None = None
        macced = b""
        for tag, value in objects[:-1]:
            if tag in (0x85, 0x87) and crypto is None:
                crypto = value if tag == 0x85 else (value[1:] if value[:1] == b"\x01" else None)
                if crypto is None:
                    self._session = None
                    raise CardError(SW.SM_OBJECTS_INCORRECT, "padding indicator")
            elif tag == 0x97 and le is None and len(value) <= 2:
                le = int.from_bytes(value, "big") or (256 if len(value) <= 1 else 65536)
            else:
                self._session = None
                raise CardError(SW.SM_OBJECTS_INCORRECT, f"unexpected object {tag:02X}")
            macced += tlv.tlv(tag, value)
        session.step()
        header = bytes([command.cla, command.ins, command.p1, command.p2])
        expected = session.mac(pad(header, session.block) + macced)
        if not bytes_eq(expected, objects[-1][1]):
            self._session = None
            raise CardError(SW.SM_OBJECTS_INCORRECT, "wrong MAC")
        data = b""
        if crypto is not None:
            try:
                data = session.decrypt(crypto)
            except ValueError:
                self._session = None
                raise CardError(SW.SM_OBJECTS_INCORRECT, "cryptogram") from None
        return Command(command.cla & 0xF3, command.ins, command.p1, command.p2, data, le)

    def _wrap(self, session: SessionKeys, command: Command, data: bytes, sw: SW) -> bytes:
        session.step()
        objects = b""
        if data:
            cryptogram = session.encrypt(data)
            if command.ins & 1:
                objects += tlv.tlv(0x85, cryptogram)
            else:
                objects += tlv.tlv(0x87, b"\x01" + cryptogram)
        objects += tlv.tlv(0x99, sw.to_bytes(2, "big"))
        objects += tlv.tlv(0x8E, session.mac(objects))
        return objects + sw.to_bytes(2, "big")

    def _dispatch(self, command: Command) -> tuple[bytes, SW]:
        handler = {
            INS_SELECT: self._select,
            INS_READ_BINARY: self._read_binary,
            INS_READ_BINARY_ODD: self._read_binary,
            INS_GET_CHALLENGE: self._get_challenge,
            INS_EXTERNAL_AUTHENTICATE: self._external_authenticate,
            INS_INTERNAL_AUTHENTICATE: self._internal_authenticate,
            INS_MSE: self._manage_security_environment,
            INS_GENERAL_AUTHENTICATE: self._general_authenticate,
        }.get(command.ins)
        if handler is None:
            raise CardError(SW.INS_NOT_SUPPORTED)
        if command.cla & 0x10 and command.ins != INS_GENERAL_AUTHENTICATE:
            raise CardError(SW.LAST_COMMAND_EXPECTED, "chaining only for GENERAL AUTHENTICATE")
        return handler(command)

    # -- files ---------------------------------------------------------------------------

    def _select(self, command: Command) -> tuple[bytes, SW]:
        if command.p2 not in (0x00, 0x04, 0x0C):
            raise CardError(SW.WRONG_P1P2)
        if command.p1 == 0x04:
            if command.data != oids.AID_LDS1:
                raise CardError(SW.FILE_NOT_FOUND, "no such application")
            self._in_application = True
            self._selected = None
            return b"", SW.OK
        if command.p1 not in (0x00, 0x02):
            raise CardError(SW.WRONG_P1P2)
        if command.p1 == 0x00 and command.data in (b"", MF.to_bytes(2, "big")):
            self._in_application = False
            self._selected = None
            return b"", SW.OK
        if len(command.data) != 2:
            raise CardError(SW.WRONG_LENGTH, "a file identifier is two bytes")
        fid = int.from_bytes(command.data, "big")
        if fid not in self.data.files or (fid != EF_CARD_ACCESS and not self._in_application):
            raise CardError(SW.FILE_NOT_FOUND)
        self._selected = fid
        if command.p2 == 0x0C:
            return b"", SW.OK
        size = len(self.data.files[fid])
        fcp = tlv.tlv(0x80, size.to_bytes(2, "big")) + tlv.tlv(0x82, b"\x01")
        return tlv.tlv(0x62, fcp + tlv.tlv(0x83, command.data)), SW.OK

    def _file_by_sfi(self, sfi: int) -> int:
        for fid in self.data.files:
            visible = fid == EF_CARD_ACCESS or self._in_application
            if fid & 0x1F == sfi and fid >> 8 == 0x01 and visible:
                return fid
        raise CardError(SW.FILE_NOT_FOUND)

    def _read_binary(self, command: Command) -> tuple[bytes, SW]:
        if command.ins == INS_READ_BINARY:
            if command.p1 & 0x80:
                if command.p1 & 0x60:
                    raise CardError(SW.WRONG_P1P2)
                self._selected = self._file_by_sfi(command.p1 & 0x1F)
                offset = command.p2
            else:
                offset = (command.p1 << 8) | command.p2
        else:
            pointer = command.p1 << 8 | command.p2
            if pointer:
                if command.p1 == 0 and command.p2 & 0xE0 == 0:
                    self._selected = self._file_by_sfi(command.p2 & 0x1F)
                elif pointer in self.data.files:
                    self._selected = pointer
                else:
                    raise CardError(SW.FILE_NOT_FOUND)
            try:
                value = tlv.find(command.data, 0x54)
            except tlv.TlvError:
                raise CardError(SW.WRONG_DATA, "not an offset object") from None
            if value is None or not 1 <= len(value) <= 3:
                raise CardError(SW.WRONG_DATA, "no offset object")
            offset = int.from_bytes(value, "big")
        fid = self._selected
        if fid is None:
            raise CardError(SW.CONDITIONS, "no file selected")
        if fid != EF_CARD_ACCESS and not self.secure:
            raise CardError(SW.SECURITY_STATUS, "the file needs BAC or PACE")
        if command.le is None:
            raise CardError(SW.WRONG_LENGTH, "READ BINARY needs Le")
        content = self.data.files[fid]
        if offset >= len(content):
            raise CardError(SW.WRONG_OFFSET, "offset beyond the end of the file")
        wanted = command.le
        if command.ins == INS_READ_BINARY_ODD:
            chunk = content[offset : offset + max(0, wanted - 4)]
            answer = tlv.tlv(0x53, chunk)
        else:
            chunk = content[offset : offset + wanted]
            answer = chunk
        short = len(chunk) < wanted and command.le not in (256, 65536)
        return answer, SW.END_OF_FILE if short else SW.OK

    # -- BAC (9303-11 §4.3) --------------------------------------------------------------

    def _get_challenge(self, command: Command) -> tuple[bytes, SW]:
        if command.p1 or command.p2:
            raise CardError(SW.WRONG_P1P2)
        if command.le != 8 or command.data:
            raise CardError(SW.WRONG_LENGTH, "a challenge is 8 bytes")
        self._challenge = self._rng(8)
        return self._challenge, SW.OK

    def _external_authenticate(self, command: Command) -> tuple[bytes, SW]:
        challenge, self._challenge = self._challenge, None
        if command.p1 or command.p2:
            raise CardError(SW.WRONG_P1P2)
        if len(command.data) != 40:
            raise CardError(SW.WRONG_LENGTH, "BAC takes 40 bytes")
        if challenge is None:
            raise CardError(SW.CONDITIONS, "GET CHALLENGE first")
        seed = bac_seed(self.data.mrz_information)
        k_enc, k_mac = kdf(seed, ENC), kdf(seed, MAC)
        cryptogram, mac = command.data[:32], command.data[32:]
        if not bytes_eq(retail_mac(k_mac, pad(cryptogram)), mac):
            raise CardError(SW.VERIFICATION_FAILED, "BAC: wrong MAC (the MRZ does not match)")
        plain = tdes_decrypt(k_enc, cryptogram)
        rnd_ifd, rnd_ic, k_ifd = plain[:8], plain[8:16], plain[16:]
        if not bytes_eq(rnd_ic, challenge):
            raise CardError(SW.VERIFICATION_FAILED, "BAC: not our challenge")
        k_ic = self._rng(16)
        answer = tdes_encrypt(k_enc, rnd_ic + rnd_ifd + k_ic)
        answer += retail_mac(k_mac, pad(answer))
        seed = bytes(a ^ b for a, b in zip(k_ifd, k_ic, strict=True))
        ssc = int.from_bytes(rnd_ic[-4:] + rnd_ifd[-4:], "big")
        self._pace = None
        self._session = SessionKeys(CipherKind.TDES, kdf(seed, ENC), kdf(seed, MAC), ssc)
        return answer, SW.OK

    # -- PACE (9303-11 §4.4), generic mapping, ECDH --------------------------------------

    def _manage_security_environment(self, command: Command) -> tuple[bytes, SW]:
        if (command.p1, command.p2) == (0xC1, 0xA4):
            return self._pace_set_at(command)
        if (command.p1, command.p2) == (0x41, 0xA6):
            return self._chip_authenticate(command)
        if (command.p1, command.p2) == (0x41, 0xA4):
            return self._chip_authentication_set_at(command)
        raise CardError(SW.WRONG_P1P2)

    def _pace_set_at(self, command: Command) -> tuple[bytes, SW]:
        try:
            objects = dict(tlv.parse(command.data))
        except tlv.TlvError:
            raise CardError(SW.WRONG_DATA, "not TLV") from None
        try:
            oid = oids.decode_oid(objects.get(0x80, b""))
        except ValueError:
            raise CardError(SW.WRONG_DATA, "no protocol") from None
        params = [pid for known, pid in self.pace_infos if known == oid]
        if not params:
            raise CardError(SW.REFERENCED_DATA, "a PACE protocol this chip does not offer")
        if 0x84 in objects:
            parameter_id = int.from_bytes(objects[0x84], "big")
            if parameter_id not in params:
                raise CardError(SW.REFERENCED_DATA, "domain parameters this chip does not offer")
        else:
            parameter_id = params[0]
        reference = objects.get(0x83)
        if reference == b"\x01":
            password = hashlib.sha1(self.data.mrz_information.encode("ascii")).digest()  # noqa: S324
        elif reference == b"\x02" and self.data.can:
            password = self.data.can.encode("ascii")
        else:
            raise CardError(SW.REFERENCED_DATA, "an unknown password")
        self._pace = _Pace(oid, CURVES_BY_PARAMETER_ID[parameter_id], password)
        self._ca_protocol = None
        self._session = None
        return b"", SW.OK

    def _general_authenticate(self, command: Command) -> tuple[bytes, SW]:
        if self._ca_protocol is not None:
            return self._chip_authentication_ga(command)
        pace = self._pace
        if pace is None:
            raise CardError(SW.CONDITIONS, "MSE:Set AT first")
        try:
            tag, body, end = tlv.read_tlv(command.data)
            if tag != 0x7C or end != len(command.data):
                raise tlv.TlvError("not a dynamic authentication data object")
            objects = dict(tlv.parse(body))
        except tlv.TlvError:
            self._pace = None
            raise CardError(SW.WRONG_DATA, "not a dynamic authentication data object") from None
        curve = pace.curve
        try:
            if pace.step == 1 and not objects:
                nonce = self._rng(16)
                pace.nonce = int.from_bytes(nonce, "big")
                k_pi = kdf(pace.password, PACE, CipherKind.AES128)
                answer = tlv.tlv(0x80, aes_encrypt(k_pi, nonce))
            elif pace.step == 2 and 0x81 in objects:
                reader = curve.decode(objects[0x81])
                pace.mapping_key = curve.scalar(self._rng(curve.size))
                shared = curve.multiply(pace.mapping_key, reader)
                generator = curve.add(curve.multiply(pace.nonce, curve.g), shared)
                if generator is None:
                    raise ValueError("the mapped generator is the point at infinity")
                pace.generator = generator
                answer = tlv.tlv(0x82, curve.encode(curve.multiply(pace.mapping_key, curve.g)))
            elif pace.step == 3 and 0x83 in objects:
                reader_point = curve.decode(objects[0x83])
                pace.key = curve.scalar(self._rng(curve.size))
                pace.chip_public = curve.encode(curve.multiply(pace.key, pace.generator))
                if pace.chip_public == objects[0x83]:
                    raise ValueError("the reader sent the chip's own key")
                pace.reader_public = objects[0x83]
                secret = curve.multiply(pace.key, reader_point)
                if secret is None:
                    raise ValueError("a shared secret at infinity")
                pace.secret = secret[0].to_bytes(curve.size, "big")
                answer = tlv.tlv(0x84, pace.chip_public)
            elif pace.step == 4 and 0x85 in objects:
                k_enc = kdf(pace.secret, ENC, CipherKind.AES128)
                k_mac = kdf(pace.secret, MAC, CipherKind.AES128)
                expected = auth_token(
                    CipherKind.AES128, k_mac, _token_input(pace.oid, pace.chip_public)
                )
                if not bytes_eq(expected, objects[0x85]):
                    self._pace = None
                    raise CardError(SW.VERIFICATION_FAILED, "PACE: wrong token (wrong password)")
                token = auth_token(
                    CipherKind.AES128, k_mac, _token_input(pace.oid, pace.reader_public)
                )
                self._pace = None
                self._session = SessionKeys(CipherKind.AES128, k_enc, k_mac, 0)
                return tlv.tlv(0x7C, tlv.tlv(0x86, token)), SW.OK
            else:
                self._pace = None
                raise CardError(SW.WRONG_DATA, f"not PACE step {pace.step}")
        except ValueError as exc:
            self._pace = None
            raise CardError(SW.WRONG_DATA, str(exc)) from None
        pace.step += 1
        return tlv.tlv(0x7C, answer), SW.OK

    # -- Chip Authentication (DG14) and Active Authentication (DG15) ---------------------

    def _chip_authenticate(self, command: Command) -> tuple[bytes, SW]:
        """MSE:Set KAT: Chip Authentication with 3DES session keys, in one command."""
        try:
            objects = dict(tlv.parse(command.data))
        except tlv.TlvError:
            raise CardError(SW.WRONG_DATA, "not TLV") from None
        self._agree(objects.get(0x91, b""), CipherKind.TDES)
        return b"", SW.OK

    def _chip_authentication_set_at(self, command: Command) -> tuple[bytes, SW]:
        """MSE:Set AT for Chip Authentication (AES): the protocol; GENERAL AUTHENTICATE follows."""
        if self._session is None:
            raise CardError(SW.SECURITY_STATUS, "Chip Authentication runs under SM")
        try:
            objects = dict(tlv.parse(command.data))
            oid = oids.decode_oid(objects.get(0x80, b""))
        except (tlv.TlvError, ValueError):
            raise CardError(SW.WRONG_DATA, "no protocol") from None
        if oid not in (oids.ID_CA_ECDH_AES128, oids.ID_CA_ECDH_3DES):
            raise CardError(SW.REFERENCED_DATA, "a Chip Authentication protocol not offered")
        self._ca_protocol = oid
        return b"", SW.OK

    def _chip_authentication_ga(self, command: Command) -> tuple[bytes, SW]:
        protocol, self._ca_protocol = self._ca_protocol, None
        try:
            tag, body, end = tlv.read_tlv(command.data)
            if tag != 0x7C or end != len(command.data):
                raise tlv.TlvError("not a dynamic authentication data object")
            public = tlv.find(body, 0x80) or b""
        except tlv.TlvError:
            raise CardError(SW.WRONG_DATA, "not a dynamic authentication data object") from None
        kind = CipherKind.AES128 if protocol == oids.ID_CA_ECDH_AES128 else CipherKind.TDES
        self._agree(public, kind)
        return tlv.tlv(0x7C, b""), SW.OK

    def _agree(self, public: bytes, kind: CipherKind) -> None:
        """ECDH with the chip's static key; the new keys apply after this command's answer
        (which the caller still protects with the session it arrived under)."""
        if self._session is None:
            raise CardError(SW.SECURITY_STATUS, "Chip Authentication runs under SM")
        if self.data.ca_key is None:
            raise CardError(SW.REFERENCED_DATA, "this chip has no Chip Authentication key")
        try:
            reader = ec.EllipticCurvePublicKey.from_encoded_point(self.data.ca_key.curve, public)
            secret = self.data.ca_key.exchange(ec.ECDH(), reader)
        except ValueError:
            raise CardError(SW.WRONG_DATA, "not a key on the chip's curve") from None
        self._session = SessionKeys(kind, kdf(secret, ENC, kind), kdf(secret, MAC, kind), 0)

    def _internal_authenticate(self, command: Command) -> tuple[bytes, SW]:
        if not self.secure:
            raise CardError(SW.SECURITY_STATUS, "Active Authentication runs under SM")
        if self.data.aa_key is None:
            raise CardError(SW.INS_NOT_SUPPORTED, "this chip has no Active Authentication key")
        if command.p1 or command.p2:
            raise CardError(SW.WRONG_P1P2)
        if len(command.data) != 8:
            raise CardError(SW.WRONG_LENGTH, "the challenge is 8 bytes")
        key = self.data.aa_key
        if isinstance(key, rsa.RSAPrivateKey):
            return self._iso9796_2_signature(key, command.data), SW.OK
        der = key.sign(command.data, ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        size = (key.curve.key_size + 7) // 8
        return r.to_bytes(size, "big") + s.to_bytes(size, "big"), SW.OK

    def _iso9796_2_signature(self, key: rsa.RSAPrivateKey, challenge: bytes) -> bytes:
        """ISO/IEC 9796-2 digital signature scheme 1 with SHA-1, partial message recovery
        (9303-11 §6.1): a random recoverable part M1, the challenge as the non-recoverable M2."""
        numbers = key.private_numbers()
        n = numbers.public_numbers.n
        size = (n.bit_length() + 7) // 8
        m1 = self._rng(size - 22)
        digest = hashlib.sha1(m1 + challenge).digest()  # noqa: S324 - fixed by ICAO 9303
        message = int.from_bytes(b"\x6a" + m1 + digest + b"\xbc", "big")
        # The RSA private operation by the CRT (cryptography offers no raw RSA signing).
        m_p = pow(message, numbers.dmp1, numbers.p)
        m_q = pow(message, numbers.dmq1, numbers.q)
        h = (numbers.iqmp * (m_p - m_q)) % numbers.p
        return (m_q + h * numbers.q).to_bytes(size, "big")


def _token_input(oid: str, public: bytes) -> bytes:
    return tlv.tlv(0x7F49, tlv.tlv(0x06, oids.encode_oid(oid)) + tlv.tlv(0x86, public))


def _pace_infos(card_access: bytes) -> list[tuple[str, int]]:
    """(protocol, parameter ID) of every PACEInfo in EF.CardAccess that this chip implements."""
    found: list[tuple[str, int]] = []
    try:
        tag, body, _ = tlv.read_tlv(card_access)
        if tag != 0x31:
            return found
        for seq_tag, info in tlv.parse(body):
            parts = tlv.parse(info) if seq_tag == 0x30 else []
            if len(parts) != 3 or parts[0][0] != 0x06:
                continue
            oid = oids.decode_oid(parts[0][1])
            parameter_id = int.from_bytes(parts[2][1], "big")
            if oid == oids.ID_PACE_ECDH_GM_AES128 and parameter_id in CURVES_BY_PARAMETER_ID:
                found.append((oid, parameter_id))
    except (tlv.TlvError, ValueError):
        return []
    return found
