"""Credentials: key pairs, wrapped credential IDs, and the resident (discoverable) store.

A credential ID *is* the credential: ``version ‖ nonce ‖ AES-256-GCM(wrap key, key material)``
with the RP ID hash as associated data, so a non-resident credential needs no storage on the
device and an ID presented for another RP simply fails to open. Resident credentials use the
same IDs and add a stored record (user, RP name, large-blob key) that can be listed and deleted.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from authenticators.ct import bytes_eq
from firmware_sim.chip.state import ChipState


class Alg(IntEnum):
    """COSE algorithm identifiers the chip makes keys for (IANA COSE registry)."""

    ES256 = -7
    EDDSA = -8
    ES384 = -35
    ES512 = -36
    PS256 = -37
    ES256K = -47
    RS256 = -257


ES256 = Alg.ES256
EDDSA = Alg.EDDSA
#: In the order of preference getInfo lists them.
SUPPORTED_ALGORITHMS: tuple[int, ...] = (
    Alg.ES256,
    Alg.EDDSA,
    Alg.ES384,
    Alg.ES512,
    Alg.ES256K,
    Alg.PS256,
    Alg.RS256,
)

_ALG_CODES: dict[int, int] = {
    Alg.ES256: 1,
    Alg.EDDSA: 2,
    Alg.ES384: 3,
    Alg.ES512: 4,
    Alg.ES256K: 5,
    Alg.PS256: 6,
    Alg.RS256: 7,
}
_CODE_ALGS = {code: alg for alg, code in _ALG_CODES.items()}
#: EC curves whose private scalar is derived from the 32-byte seed a credential ID carries, with
#: their COSE curve identifier and hash; ES256 keeps its scalar itself (IDs made before).
_DERIVED_CURVES: dict[int, tuple[ec.EllipticCurve, int, hashes.HashAlgorithm]] = {
    Alg.ES384: (
        ec.SECP384R1(),
        2,
        hashes.SHA384(),
    ),
    Alg.ES512: (
        ec.SECP521R1(),
        3,
        hashes.SHA512(),
    ),
    Alg.ES256K: (
        ec.SECP256K1(),
        8,
        hashes.SHA256(),
    ),
}
_RSA_BITS = 2048
_VERSION = 1
_NONCE_SIZE = 12
_KEY_SIZE = 32
_AAD_PREFIX = b"mitid-emu/credential/v1"
_CACHE_SIZE = 512

FLAG_RESIDENT = 0x01
FLAG_U2F = 0x02
FLAG_HMAC_SECRET = 0x04
FLAG_THIRD_PARTY_PAYMENT = 0x08

MAX_CRED_BLOB_LENGTH = 32

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey


@dataclass(eq=False)
class Credential:
    """One opened credential; the private key never appears in its repr."""

    id: bytes
    rp_id_hash: bytes
    alg: int
    private_key: PrivateKey = field(repr=False)
    cred_protect: int = 1
    resident: bool = False
    u2f: bool = False
    hmac_secret: bool = False
    cred_blob: bytes | None = field(default=None, repr=False)
    third_party_payment: bool = False

    def sign(self, message: bytes) -> bytes:
        key = self.private_key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            curve = _DERIVED_CURVES.get(self.alg)
            digest = curve[2] if curve is not None else hashes.SHA256()
            return key.sign(message, ec.ECDSA(digest))
        if isinstance(key, rsa.RSAPrivateKey):
            if self.alg == Alg.PS256:
                # RFC 8230 §2: the salt is as long as the hash output.
                pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
                return key.sign(message, pss, hashes.SHA256())
            return key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        return key.sign(message)

    def cose_public_key(self) -> dict[int, Any]:
        key = self.private_key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            numbers = key.public_key().public_numbers()
            size = (key.curve.key_size + 7) // 8
            curve = _DERIVED_CURVES.get(self.alg)
            return {
                1: 2,
                3: self.alg,
                -1: curve[1] if curve is not None else 1,
                -2: numbers.x.to_bytes(size, "big"),
                -3: numbers.y.to_bytes(size, "big"),
            }
        if isinstance(key, rsa.RSAPrivateKey):
            public = key.public_key().public_numbers()
            return {
                1: 3,
                3: self.alg,
                -1: public.n.to_bytes((public.n.bit_length() + 7) // 8, "big"),
                -2: public.e.to_bytes((public.e.bit_length() + 7) // 8, "big"),
            }
        return {1: 1, 3: EDDSA, -1: 6, -2: key.public_key().public_bytes_raw()}

    def u2f_public_key(self) -> bytes:
        """The uncompressed P-256 point U2F registration returns."""
        key = self.private_key
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )


class CredentialVault:
    """Creates and opens wrapped credential IDs under the device's current wrap key."""

    def __init__(self, state: ChipState) -> None:
        self._state = state
        self._lock = threading.Lock()
        self._cache: OrderedDict[bytes, Credential] = OrderedDict()
        self._aead_key: bytes | None = None
        self._aead: AESGCM | None = None

    def __repr__(self) -> str:
        return "CredentialVault()"

    def _cipher(self) -> AESGCM:
        key = self._state.wrap_key
        if self._aead is None or self._aead_key is None or self._aead_key != key:
            self._aead = AESGCM(key)
            self._aead_key = key
            self._cache.clear()
        return self._aead

    def forget(self) -> None:
        """Drop opened credentials (after a reset or a deletion)."""
        with self._lock:
            self._cache.clear()

    def create(
        self,
        rp_id_hash: bytes,
        alg: int,
        *,
        resident: bool = False,
        u2f: bool = False,
        cred_protect: int = 1,
        hmac_secret: bool = False,
        cred_blob: bytes | None = None,
        third_party_payment: bool = False,
    ) -> Credential:
        if alg not in _ALG_CODES:
            raise ValueError("unsupported algorithm")
        private: PrivateKey
        if alg == Alg.ES256:
            private = ec.generate_private_key(ec.SECP256R1())
            raw = private.private_numbers().private_value.to_bytes(_KEY_SIZE, "big")
        elif alg == Alg.EDDSA:
            private = ed25519.Ed25519PrivateKey.generate()
            raw = private.private_bytes_raw()
        else:
            raw = secrets.token_bytes(_KEY_SIZE)
            if alg in (Alg.RS256, Alg.PS256):
                private = rsa.generate_private_key(65537, _RSA_BITS)
                self._state.put_key(_handle(raw), _rsa_der(private))
            else:
                private = _derived_ec_key(alg, raw)
        flags = (
            (FLAG_RESIDENT if resident else 0)
            | (FLAG_U2F if u2f else 0)
            | (FLAG_HMAC_SECRET if hmac_secret else 0)
            | (FLAG_THIRD_PARTY_PAYMENT if third_party_payment else 0)
        )
        plaintext = bytes([_ALG_CODES[alg], flags, cred_protect]) + raw + (cred_blob or b"")
        nonce = secrets.token_bytes(_NONCE_SIZE)
        with self._lock:
            sealed = self._cipher().encrypt(nonce, plaintext, _AAD_PREFIX + rp_id_hash)
        cred_id = bytes([_VERSION]) + nonce + sealed
        credential = Credential(
            id=cred_id,
            rp_id_hash=rp_id_hash,
            alg=alg,
            private_key=private,
            cred_protect=cred_protect,
            resident=resident,
            u2f=u2f,
            hmac_secret=hmac_secret,
            cred_blob=cred_blob,
            third_party_payment=third_party_payment,
        )
        self._remember(credential)
        return credential

    def _remember(self, credential: Credential) -> None:
        with self._lock:
            self._cache[credential.id] = credential
            if len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)

    def open(self, cred_id: bytes, rp_id_hash: bytes) -> Credential | None:
        """The credential behind ``cred_id`` if it was made by this device for this RP."""
        with self._lock:
            cipher = self._cipher()
            cached = self._cache.get(cred_id)
            if cached is not None:
                if bytes_eq(cached.rp_id_hash, rp_id_hash):
                    self._cache.move_to_end(cred_id)
                    return cached
                return None
        if len(cred_id) < 1 + _NONCE_SIZE + 16 + 3 + _KEY_SIZE or cred_id[0] != _VERSION:
            return None
        nonce = cred_id[1 : 1 + _NONCE_SIZE]
        try:
            plaintext = cipher.decrypt(nonce, cred_id[1 + _NONCE_SIZE :], _AAD_PREFIX + rp_id_hash)
        except InvalidTag:
            return None
        alg = _CODE_ALGS.get(plaintext[0])
        if alg is None:
            return None
        flags, protect, raw = plaintext[1], plaintext[2], plaintext[3 : 3 + _KEY_SIZE]
        private: PrivateKey
        if alg == Alg.ES256:
            private = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
        elif alg == Alg.EDDSA:
            private = ed25519.Ed25519PrivateKey.from_private_bytes(raw)
        elif alg in (Alg.RS256, Alg.PS256):
            der = self._state.key(_handle(raw))
            if der is None:
                return None  # wiped by a reset
            loaded = serialization.load_der_private_key(der, password=None)
            assert isinstance(loaded, rsa.RSAPrivateKey)
            private = loaded
        else:
            private = _derived_ec_key(alg, raw)
        credential = Credential(
            id=cred_id,
            rp_id_hash=rp_id_hash,
            alg=alg,
            private_key=private,
            cred_protect=protect,
            resident=bool(flags & FLAG_RESIDENT),
            u2f=bool(flags & FLAG_U2F),
            hmac_secret=bool(flags & FLAG_HMAC_SECRET),
            cred_blob=plaintext[3 + _KEY_SIZE :] or None,
            third_party_payment=bool(flags & FLAG_THIRD_PARTY_PAYMENT),
        )
        self._remember(credential)
        return credential

    def cred_random(self, credential: Credential, uv: bool) -> bytes:
        """hmac-secret's CredRandom: one value with UV and another without (CTAP 2.1 §12.5)."""
        return hmac.new(
            self._state.cred_random_key,
            b"hmac-secret" + (b"\x01" if uv else b"\x00") + credential.id,
            hashlib.sha256,
        ).digest()


def _derived_ec_key(alg: int, seed: bytes) -> ec.EllipticCurvePrivateKey:
    """The private key of a curve whose scalar is derived from the credential's seed."""
    curve = _DERIVED_CURVES[alg][0]
    bits = curve.key_size - 1  # below 2**(size - 1), so always below the group order
    wide = HKDF(
        algorithm=hashes.SHA512(),
        length=(bits + 7) // 8 + 16,
        salt=None,
        info=b"mitid-emu/credential/ec/" + str(alg).encode(),
    ).derive(seed)
    return ec.derive_private_key(int.from_bytes(wide, "big") % (1 << bits) + 1, curve)


def _handle(seed: bytes) -> str:
    """Where an RSA credential's key is kept (too large to wrap into its ID)."""
    return "key:" + hashlib.sha256(b"mitid-emu/credential/rsa" + seed).hexdigest()[:32]


def _rsa_der(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
