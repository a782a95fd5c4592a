"""Key derivation, padding, ciphers and MACs of ICAO 9303-11 (§9.7, §9.8): 3DES with the retail
MAC for BAC, AES with CMAC for PACE and Chip Authentication."""

from __future__ import annotations

import enum
import hashlib

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

ENC = 1
MAC = 2
PACE = 3


class CipherKind(enum.Enum):
    TDES = "3DES"
    AES128 = "AES-128"
    AES192 = "AES-192"
    AES256 = "AES-256"

    @property
    def block(self) -> int:
        return 8 if self is CipherKind.TDES else 16

    @property
    def key_length(self) -> int:
        return {"3DES": 16, "AES-128": 16, "AES-192": 24, "AES-256": 32}[self.value]


def adjust_parity(key: bytes) -> bytes:
    """Each byte's lowest bit set so the byte has odd parity (DES keys)."""
    out = bytearray()
    for byte in key:
        ones = bin(byte >> 1).count("1")
        out.append((byte & 0xFE) | (0 if ones % 2 else 1))
    return bytes(out)


def kdf(secret: bytes, counter: int, kind: CipherKind = CipherKind.TDES) -> bytes:
    """KDF(K, c) of 9303-11 §9.7.1: a hash of the secret and a 32-bit counter."""
    data = secret + counter.to_bytes(4, "big")
    if kind in (CipherKind.TDES, CipherKind.AES128):
        key = hashlib.sha1(data).digest()[:16]  # noqa: S324 - fixed by ICAO 9303
        return adjust_parity(key) if kind is CipherKind.TDES else key
    return hashlib.sha256(data).digest()[: kind.key_length]


def bac_seed(mrz_information: str) -> bytes:
    return hashlib.sha1(mrz_information.encode("ascii")).digest()[:16]  # noqa: S324


def pad(data: bytes, block: int = 8) -> bytes:
    """ISO/IEC 9797-1 padding method 2: ``80`` then zeros to a whole block."""
    padded = data + b"\x80"
    return padded + b"\x00" * (-len(padded) % block)


def unpad(data: bytes) -> bytes:
    """Undo :func:`pad`; raises ValueError if the padding is not there."""
    stripped = data.rstrip(b"\x00")
    if not stripped or stripped[-1] != 0x80:
        raise ValueError("no ISO/IEC 9797-1 method 2 padding")
    return stripped[:-1]


def _tdes(key: bytes) -> TripleDES:
    """Single DES (8 bytes) and two-key 3DES (16 bytes) as the three-key form they equal."""
    if len(key) == 8:
        return TripleDES(key * 3)
    if len(key) == 16:
        return TripleDES(key + key[:8])
    return TripleDES(key)


def tdes_encrypt(key: bytes, data: bytes, iv: bytes = bytes(8)) -> bytes:
    encryptor = Cipher(_tdes(key), modes.CBC(iv)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def tdes_decrypt(key: bytes, data: bytes, iv: bytes = bytes(8)) -> bytes:
    decryptor = Cipher(_tdes(key), modes.CBC(iv)).decryptor()
    return decryptor.update(data) + decryptor.finalize()


def retail_mac(key: bytes, data: bytes) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 (DES, then 3DES on the last block) over padded ``data``.

    ``data`` must already be padded to whole 8-byte blocks."""
    if len(data) % 8 or not data:
        raise ValueError("the retail MAC takes whole 8-byte blocks")
    head, last = data[:-8], data[-8:]
    chain = bytes(8)
    if head:
        chain = tdes_encrypt(key[:8], head)[-8:]
    block = bytes(a ^ b for a, b in zip(chain, last, strict=True))
    encryptor = Cipher(_tdes(key), modes.ECB()).encryptor()  # noqa: S305 - one block
    return encryptor.update(block) + encryptor.finalize()


def aes_encrypt(key: bytes, data: bytes, iv: bytes = bytes(16)) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def aes_decrypt(key: bytes, data: bytes, iv: bytes = bytes(16)) -> bytes:
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return decryptor.update(data) + decryptor.finalize()


def aes_ecb_block(key: bytes, block: bytes) -> bytes:
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305 - one block
    return encryptor.update(block) + encryptor.finalize()


def aes_cmac8(key: bytes, data: bytes) -> bytes:
    mac = CMAC(algorithms.AES(key))
    mac.update(data)
    return mac.finalize()[:8]


class SessionKeys:
    """Secure messaging keys and the send sequence counter (9303-11 §9.8).

    3DES: CBC with a zero IV and the retail MAC, an 8-byte SSC. AES: CBC with IV = E(K_Enc, SSC),
    CMAC cut to 8 bytes, a 16-byte SSC. The counter goes up before every command and every answer.
    """

    def __init__(self, kind: CipherKind, k_enc: bytes, k_mac: bytes, ssc: int = 0) -> None:
        self.kind = kind
        self._k_enc = k_enc
        self._k_mac = k_mac
        self.ssc = ssc

    def __repr__(self) -> str:
        return f"SessionKeys({self.kind.value}, ssc={self.ssc})"

    @property
    def block(self) -> int:
        return self.kind.block

    def ssc_bytes(self) -> bytes:
        return self.ssc.to_bytes(self.block, "big")

    def step(self) -> None:
        self.ssc = (self.ssc + 1) % (1 << (8 * self.block))

    def _iv(self) -> bytes:
        if self.kind is CipherKind.TDES:
            return bytes(8)
        return aes_ecb_block(self._k_enc, self.ssc_bytes())

    def encrypt(self, data: bytes) -> bytes:
        """Pad and encrypt ``data`` under the current counter."""
        if self.kind is CipherKind.TDES:
            return tdes_encrypt(self._k_enc, pad(data, 8))
        return aes_encrypt(self._k_enc, pad(data, 16), self._iv())

    def decrypt(self, data: bytes) -> bytes:
        """Decrypt and unpad; ValueError when the cryptogram or its padding is wrong."""
        if not data or len(data) % self.block:
            raise ValueError("a cryptogram of no whole blocks")
        if self.kind is CipherKind.TDES:
            return unpad(tdes_decrypt(self._k_enc, data))
        return unpad(aes_decrypt(self._k_enc, data, self._iv()))

    def mac(self, data: bytes) -> bytes:
        """The 8-byte MAC over the counter and ``data`` (padded here)."""
        message = pad(self.ssc_bytes() + data, self.block)
        if self.kind is CipherKind.TDES:
            return retail_mac(self._k_mac, message)
        return aes_cmac8(self._k_mac, message)


def auth_token(kind: CipherKind, k_mac: bytes, data: bytes) -> bytes:
    """PACE's authentication token MAC (9303-11 §4.4.3.4): CMAC, or the retail MAC for 3DES."""
    if kind is CipherKind.TDES:
        return retail_mac(k_mac, pad(data, 8))
    return aes_cmac8(k_mac, data)
