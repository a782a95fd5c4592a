"""The reader's half of ICAO 9303-11: access control (BAC, PACE), secure messaging, reading files,
Active Authentication (DG15) and Chip Authentication (DG14)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from authenticators.ct import bytes_eq
from authenticators.icao9303 import oids, tlv
from authenticators.icao9303.crypto import (
    ENC,
    MAC,
    PACE,
    CipherKind,
    SessionKeys,
    aes_decrypt,
    auth_token,
    bac_seed,
    kdf,
    pad,
    retail_mac,
    tdes_decrypt,
    tdes_encrypt,
)
from authenticators.icao9303.ecc import CURVES_BY_PARAMETER_ID
from authenticators.icao9303.lds import EF_CARD_ACCESS
from authenticators.passport.errors import PassportError, PassportErrorCode
from authenticators.passport.transport import ApduTransport

Random = Callable[[int], bytes]
CHUNK = 0xDF  # bytes per READ BINARY under secure messaging (fits one short response)
OK = 0x9000
END_OF_FILE = 0x6282


def _sw_text(sw: int) -> str:
    return f"{sw:04X}"


class PassportReader:
    """One session with one chip. ``rng`` is injectable so ICAO's worked examples reproduce."""

    def __init__(self, transport: ApduTransport, *, rng: Random = secrets.token_bytes) -> None:
        self.transport = transport
        self._rng = rng
        self._session: SessionKeys | None = None
        self.access: str | None = None  # "BAC" or "PACE" once a session is open

    # -- the APDU layer ------------------------------------------------------------------

    def _plain(self, apdu: bytes) -> tuple[bytes, int]:
        answer = self.transport.transmit(apdu)
        if len(answer) < 2:
            raise PassportError(PassportErrorCode.MALFORMED, "the chip answered less than a SW")
        return answer[:-2], int.from_bytes(answer[-2:], "big")

    def command(
        self, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None, cla: int = 0
    ) -> tuple[bytes, int]:
        """Send one command, protected when a session is open; the plain answer and its SW."""
        if self._session is None:
            return self._plain(_apdu(cla, ins, p1, p2, data, le))
        return self._protected(self._session, cla, ins, p1, p2, data, le)

    def _protected(
        self,
        keys: SessionKeys,
        cla: int,
        ins: int,
        p1: int,
        p2: int,
        data: bytes,
        le: int | None,
    ) -> tuple[bytes, int]:
        keys.step()
        header = bytes([cla | 0x0C, ins, p1, p2])
        objects = b""
        if data:
            cryptogram = keys.encrypt(data)
            objects += tlv.tlv(0x85, cryptogram) if ins & 1 else tlv.tlv(0x87, b"\x01" + cryptogram)
        if le is not None:
            objects += tlv.tlv(0x97, bytes([le & 0xFF]) if le <= 256 else le.to_bytes(2, "big"))
        objects += tlv.tlv(0x8E, keys.mac(pad(header, keys.block) + objects))
        answer = self.transport.transmit(_apdu(cla | 0x0C, ins, p1, p2, objects, 256))
        keys.step()
        if len(answer) < 2:
            raise PassportError(PassportErrorCode.MALFORMED, "the chip answered less than a SW")
        sw = int.from_bytes(answer[-2:], "big")
        if len(answer) == 2:
            # A plain status word: the chip refused the protected command and closed the session.
            self._session = None
            raise PassportError(
                PassportErrorCode.SECURE_MESSAGING,
                f"the chip ended secure messaging (status {_sw_text(sw)})",
            )
        try:
            found = tlv.parse(answer[:-2])
        except tlv.TlvError:
            raise PassportError(PassportErrorCode.SECURE_MESSAGING, "not SM objects") from None
        if not found or found[-1][0] != 0x8E:
            raise PassportError(PassportErrorCode.SECURE_MESSAGING, "an answer without a MAC")
        macced = b"".join(tlv.tlv(tag, value) for tag, value in found[:-1])
        if not bytes_eq(keys.mac(macced), found[-1][1]):
            self._session = None
            raise PassportError(PassportErrorCode.SECURE_MESSAGING, "the answer's MAC is wrong")
        objects_by_tag = dict(found[:-1])
        status = objects_by_tag.get(0x99)
        if status is None or len(status) != 2:
            raise PassportError(PassportErrorCode.SECURE_MESSAGING, "no protected status word")
        plain = b""
        hidden = objects_by_tag.get(0x85)
        padded = objects_by_tag.get(0x87)
        if padded is not None:
            if padded[:1] != b"\x01":
                raise PassportError(PassportErrorCode.SECURE_MESSAGING, "a padding indicator")
            hidden = padded[1:]
        if hidden is not None:
            try:
                plain = keys.decrypt(hidden)
            except ValueError:
                raise PassportError(PassportErrorCode.SECURE_MESSAGING, "a cryptogram") from None
        return plain, int.from_bytes(status, "big")

    def _expect(self, answer: tuple[bytes, int], what: str) -> bytes:
        data, sw = answer
        if sw not in (OK, END_OF_FILE):
            raise PassportError(PassportErrorCode.CARD_STATUS, f"{what}: the chip said {sw:04X}")
        return data

    # -- files ---------------------------------------------------------------------------

    def select_application(self) -> None:
        self._expect(self.command(0xA4, 0x04, 0x0C, oids.AID_LDS1), "SELECT the passport")

    def read_card_access(self) -> bytes | None:
        """EF.CardAccess, read before access control (None when the chip has none: BAC only)."""
        _, sw = self._plain(_apdu(0, 0xA4, 0x02, 0x0C, EF_CARD_ACCESS.to_bytes(2, "big")))
        if sw != OK:
            return None
        return self._read_selected()

    def read_file(self, fid: int) -> bytes:
        data, sw = self.command(0xA4, 0x02, 0x0C, fid.to_bytes(2, "big"))
        if sw == 0x6A82:
            raise PassportError(PassportErrorCode.CARD_STATUS, f"the chip has no file {fid:04X}")
        self._expect((data, sw), f"SELECT {fid:04X}")
        return self._read_selected()

    def _read_selected(self) -> bytes:
        head = self._read_at(0, 4)
        try:
            _, length, value_offset = tlv.read_header(head + bytes(4))
        except tlv.TlvError:
            raise PassportError(PassportErrorCode.MALFORMED, "a file that is not TLV") from None
        total = value_offset + length
        content = head[:total]
        while len(content) < total:
            part = self._read_at(len(content), min(CHUNK, total - len(content)))
            if not part:
                raise PassportError(PassportErrorCode.MALFORMED, "a file ends early")
            content += part
        return content

    def _read_at(self, offset: int, size: int) -> bytes:
        if offset <= 0x7FFF:
            return self._expect(
                self.command(0xB0, offset >> 8, offset & 0xFF, le=size), "READ BINARY"
            )
        data = self._expect(
            self.command(0xB1, 0, 0, tlv.tlv(0x54, offset.to_bytes(3, "big")), le=size + 4),
            "READ BINARY",
        )
        try:
            value = tlv.find(data, 0x53)
        except tlv.TlvError:
            value = None
        if value is None:
            raise PassportError(PassportErrorCode.MALFORMED, "an odd READ BINARY without DO 53")
        return value

    # -- BAC (9303-11 §4.3) --------------------------------------------------------------

    def bac(self, mrz_information: str) -> None:
        self._session = None
        seed = bac_seed(mrz_information)
        k_enc, k_mac = kdf(seed, ENC), kdf(seed, MAC)
        rnd_ic = self._expect(self._plain(_apdu(0, 0x84, 0, 0, le=8)), "GET CHALLENGE")
        if len(rnd_ic) != 8:
            raise PassportError(PassportErrorCode.MALFORMED, "a challenge of the wrong size")
        rnd_ifd, k_ifd = self._rng(8), self._rng(16)
        cryptogram = tdes_encrypt(k_enc, rnd_ifd + rnd_ic + k_ifd)
        data = cryptogram + retail_mac(k_mac, pad(cryptogram))
        answer, sw = self._plain(_apdu(0, 0x82, 0, 0, data, 40))
        if sw == 0x6300 or (sw != OK and sw >> 8 in (0x63, 0x69)):
            raise PassportError(
                PassportErrorCode.BAC_FAILED,
                "BAC failed: the chip refused the keys from the MRZ "
                "(check the document number, birth date and expiry date)",
            )
        if sw != OK or len(answer) != 40:
            raise PassportError(PassportErrorCode.BAC_FAILED, f"BAC failed: status {sw:04X}")
        if not bytes_eq(retail_mac(k_mac, pad(answer[:32])), answer[32:]):
            raise PassportError(PassportErrorCode.BAC_FAILED, "BAC failed: the chip's MAC")
        plain = tdes_decrypt(k_enc, answer[:32])
        if not bytes_eq(plain[:8], rnd_ic) or not bytes_eq(plain[8:16], rnd_ifd):
            raise PassportError(PassportErrorCode.BAC_FAILED, "BAC failed: the chip's nonces")
        k_ic = plain[16:]
        session_seed = bytes(a ^ b for a, b in zip(k_ifd, k_ic, strict=True))
        ssc = int.from_bytes(rnd_ic[-4:] + rnd_ifd[-4:], "big")
        self._session = SessionKeys(
            CipherKind.TDES, kdf(session_seed, ENC), kdf(session_seed, MAC), ssc
        )
        self.access = "BAC"

    # -- PACE (9303-11 §4.4), generic mapping, ECDH, AES-128 -----------------------------

    def pace(
        self,
        password: str,
        *,
        can: bool = False,
        parameter_id: int = 13,
        send_parameter_id: bool = True,
    ) -> None:
        """PACE with the MRZ information (or the CAN when ``can``) on the standardized domain
        parameters ``parameter_id``, named in MSE:Set AT unless ``send_parameter_id`` is off
        (9303-11 requires it when the chip offers more than one)."""
        self._session = None
        curve = CURVES_BY_PARAMETER_ID.get(parameter_id)
        if curve is None:
            raise PassportError(PassportErrorCode.INVALID_ARGUMENT, "unsupported PACE parameters")
        oid = oids.encode_oid(oids.ID_PACE_ECDH_GM_AES128)
        mse = tlv.tlv(0x80, oid) + tlv.tlv(0x83, b"\x02" if can else b"\x01")
        if send_parameter_id:
            mse += tlv.tlv(0x84, bytes([parameter_id]))
        self._pace_expect(self._plain(_apdu(0, 0x22, 0xC1, 0xA4, mse)), "MSE:Set AT")
        if can:
            secret = password.encode("ascii")
        else:
            secret = hashlib.sha1(password.encode("ascii")).digest()  # noqa: S324 - ICAO 9303
        k_pi = kdf(secret, PACE, CipherKind.AES128)
        z = self._general_authenticate(b"", 0x80)
        if len(z) != 16:
            raise PassportError(PassportErrorCode.PACE_FAILED, "PACE: a nonce of the wrong size")
        nonce = int.from_bytes(aes_decrypt(k_pi, z), "big")
        mapping_key = curve.scalar(self._rng(curve.size))
        chip_mapping = self._point(
            curve,
            self._general_authenticate(
                tlv.tlv(0x81, curve.encode(curve.multiply(mapping_key, curve.g))), 0x82
            ),
        )
        shared = curve.multiply(mapping_key, chip_mapping)
        generator = curve.add(curve.multiply(nonce, curve.g), shared)
        if generator is None:
            raise PassportError(PassportErrorCode.PACE_FAILED, "PACE: a degenerate generator")
        key = curve.scalar(self._rng(curve.size))
        reader_public = curve.encode(curve.multiply(key, generator))
        chip_public_bytes = self._general_authenticate(tlv.tlv(0x83, reader_public), 0x84)
        chip_public = self._point(curve, chip_public_bytes)
        if chip_public_bytes == reader_public:
            raise PassportError(PassportErrorCode.PACE_FAILED, "PACE: the chip echoed our key")
        point = curve.multiply(key, chip_public)
        if point is None:
            raise PassportError(PassportErrorCode.PACE_FAILED, "PACE: a degenerate secret")
        secret_x = point[0].to_bytes(curve.size, "big")
        k_enc = kdf(secret_x, ENC, CipherKind.AES128)
        k_mac = kdf(secret_x, MAC, CipherKind.AES128)
        token = auth_token(CipherKind.AES128, k_mac, _token_input(oid, chip_public_bytes))
        chip_token = self._general_authenticate(tlv.tlv(0x85, token), 0x86, last=True)
        expected = auth_token(CipherKind.AES128, k_mac, _token_input(oid, reader_public))
        if not bytes_eq(expected, chip_token):
            raise PassportError(PassportErrorCode.PACE_FAILED, "PACE: the chip's token is wrong")
        self._session = SessionKeys(CipherKind.AES128, k_enc, k_mac, 0)
        self.access = "PACE"

    def _pace_expect(self, answer: tuple[bytes, int], what: str) -> bytes:
        data, sw = answer
        if sw == 0x6300:
            raise PassportError(
                PassportErrorCode.PACE_FAILED,
                "PACE failed: the chip refused the key from the MRZ "
                "(check the document number, birth date and expiry date)",
            )
        if sw != OK:
            raise PassportError(PassportErrorCode.PACE_FAILED, f"PACE: {what}: status {sw:04X}")
        return data

    def _general_authenticate(self, body: bytes, answer_tag: int, *, last: bool = False) -> bytes:
        cla = 0x00 if last else 0x10
        data = self._pace_expect(
            self._plain(_apdu(cla, 0x86, 0, 0, tlv.tlv(0x7C, body), 256)), "GENERAL AUTHENTICATE"
        )
        try:
            tag, value, end = tlv.read_tlv(data)
            found = tlv.find(value, answer_tag) if tag == 0x7C and end == len(data) else None
        except tlv.TlvError:
            found = None
        if found is None:
            raise PassportError(PassportErrorCode.PACE_FAILED, "PACE: a malformed answer")
        return found

    @staticmethod
    def _point(curve: object, data: bytes) -> tuple[int, int]:
        from authenticators.icao9303.ecc import Curve

        assert isinstance(curve, Curve)
        try:
            return curve.decode(data)
        except ValueError:
            raise PassportError(PassportErrorCode.PACE_FAILED, "PACE: not a point") from None

    # -- Active and Chip Authentication --------------------------------------------------

    def active_authentication(self, dg15_key: bytes) -> None:
        """INTERNAL AUTHENTICATE with 8 random bytes; the answer must verify with DG15's key."""
        try:
            key = serialization.load_der_public_key(dg15_key)
        except ValueError:
            raise PassportError(PassportErrorCode.MALFORMED, "DG15 holds no public key") from None
        if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
            raise PassportError(
                PassportErrorCode.ACTIVE_AUTHENTICATION, "DG15 holds neither an EC nor an RSA key"
            )
        challenge = self._rng(8)
        signature = self._expect(
            self.command(0x88, 0, 0, challenge, le=256), "INTERNAL AUTHENTICATE"
        )
        failed = PassportError(
            PassportErrorCode.ACTIVE_AUTHENTICATION,
            "Active Authentication failed: the chip does not hold DG15's key (a cloned chip?)",
        )
        if isinstance(key, rsa.RSAPublicKey):
            if not _iso9796_2_verify(key, signature, challenge):
                raise failed
            return
        size = (key.curve.key_size + 7) // 8
        if len(signature) != 2 * size:
            raise failed
        der = encode_dss_signature(
            int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
        )
        try:
            key.verify(der, challenge, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise failed from None

    def chip_authentication(self, ca_key: bytes, protocol: str | None = None) -> None:
        """Chip Authentication (DG14), ECDH: with 3DES by MSE:Set KAT, with AES by MSE:Set AT
        and GENERAL AUTHENTICATE. Secure messaging then restarts under keys only the holder of
        DG14's private key can have, which the next command proves."""
        if self._session is None:
            raise PassportError(PassportErrorCode.CHIP_AUTHENTICATION, "no session to upgrade")
        try:
            chip_key = serialization.load_der_public_key(ca_key)
        except ValueError:
            raise PassportError(PassportErrorCode.MALFORMED, "DG14 holds no CA key") from None
        if not isinstance(chip_key, ec.EllipticCurvePublicKey):
            raise PassportError(PassportErrorCode.CHIP_AUTHENTICATION, "only ECDH CA")
        ephemeral = ec.generate_private_key(chip_key.curve)
        public = ephemeral.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        failed = PassportError(
            PassportErrorCode.CHIP_AUTHENTICATION,
            "Chip Authentication failed: the chip does not hold DG14's key (a cloned chip?)",
        )
        aes = protocol == oids.ID_CA_ECDH_AES128
        kind = CipherKind.AES128 if aes else CipherKind.TDES
        try:
            if aes:
                mse = tlv.tlv(0x80, oids.encode_oid(oids.ID_CA_ECDH_AES128))
                self._expect(self.command(0x22, 0x41, 0xA4, mse), "MSE:Set AT")
                body = tlv.tlv(0x7C, tlv.tlv(0x80, public))
                self._expect(self.command(0x86, 0, 0, body, le=256), "GENERAL AUTHENTICATE")
            else:
                kat = tlv.tlv(0x91, public)
                self._expect(self.command(0x22, 0x41, 0xA6, kat), "MSE:Set KAT")
            secret = ephemeral.exchange(ec.ECDH(), chip_key)
            self._session = SessionKeys(kind, kdf(secret, ENC, kind), kdf(secret, MAC, kind), 0)
            self.select_application()
        except PassportError as exc:
            if exc.code is PassportErrorCode.SECURE_MESSAGING:
                raise failed from None
            raise
        except ValueError:
            raise failed from None


def _iso9796_2_verify(key: rsa.RSAPublicKey, signature: bytes, challenge: bytes) -> bool:
    """ISO/IEC 9796-2 scheme 1 (9303-11 §6.1.2): recover M1 and the hash, check them."""
    numbers = key.public_numbers()
    size = (numbers.n.bit_length() + 7) // 8
    value = int.from_bytes(signature, "big")
    if len(signature) != size or not 0 < value < numbers.n:
        return False
    recovered = pow(value, numbers.e, numbers.n).to_bytes(size, "big")
    if recovered[0] != 0x6A:
        return False
    if recovered[-1] == 0xBC:
        digest_name, digest_size, end = "sha1", 20, size - 1
    elif recovered[-2:] == b"\x34\xcc":
        digest_name, digest_size, end = "sha256", 32, size - 2
    else:
        return False
    m1 = recovered[1 : end - digest_size]
    expected = hashlib.new(digest_name, m1 + challenge).digest()
    return bytes_eq(expected, recovered[end - digest_size : end])


def _token_input(oid: bytes, public: bytes) -> bytes:
    return tlv.tlv(0x7F49, tlv.tlv(0x06, oid) + tlv.tlv(0x86, public))


def _apdu(cla: int, ins: int, p1: int, p2: int, data: bytes = b"", le: int | None = None) -> bytes:
    apdu = bytes([cla, ins, p1, p2])
    extended = len(data) > 255 or (le is not None and le > 256)
    if data:
        apdu += (b"\x00" + len(data).to_bytes(2, "big")) if extended else bytes([len(data)])
        apdu += data
    if le is not None:
        if extended:
            apdu += (b"" if data else b"\x00") + (le % 65536).to_bytes(2, "big")
        else:
            apdu += bytes([le % 256])
    return apdu
