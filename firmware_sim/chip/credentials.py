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
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from authenticators.ct import bytes_eq
from firmware_sim.chip.state import ChipState

ES256 = -7
EDDSA = -8
SUPPORTED_ALGORITHMS = (ES256, EDDSA)

_ALG_CODES = {ES256: 1, EDDSA: 2}
_CODE_ALGS = {code: alg for alg, code in _ALG_CODES.items()}
_VERSION = 1
_NONCE_SIZE = 12
_AAD_PREFIX = b"mitid-emu/credential/v1"
_CACHE_SIZE = 512

FLAG_RESIDENT = 0x01
FLAG_U2F = 0x02
FLAG_HMAC_SECRET = 0x04

MAX_CRED_BLOB_LENGTH = 32

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


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

    def sign(self, message: bytes) -> bytes:
        key = self.private_key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(message, ec.ECDSA(hashes.SHA256()))
        return key.sign(message)

    def cose_public_key(self) -> dict[int, Any]:
        key = self.private_key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            numbers = key.public_key().public_numbers()
            return {
                1: 2,
                3: ES256,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
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
    ) -> Credential:
        private: PrivateKey
        if alg == ES256:
            private = ec.generate_private_key(ec.SECP256R1())
            raw = private.private_numbers().private_value.to_bytes(32, "big")
        elif alg == EDDSA:
            private = ed25519.Ed25519PrivateKey.generate()
            raw = private.private_bytes_raw()
        else:
            raise ValueError("unsupported algorithm")
        flags = (
            (FLAG_RESIDENT if resident else 0)
            | (FLAG_U2F if u2f else 0)
            | (FLAG_HMAC_SECRET if hmac_secret else 0)
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
        if len(cred_id) < 1 + _NONCE_SIZE + 16 + 35 or cred_id[0] != _VERSION:
            return None
        nonce = cred_id[1 : 1 + _NONCE_SIZE]
        try:
            plaintext = cipher.decrypt(nonce, cred_id[1 + _NONCE_SIZE :], _AAD_PREFIX + rp_id_hash)
        except InvalidTag:
            return None
        alg = _CODE_ALGS.get(plaintext[0])
        if alg is None:
            return None
        flags, protect, raw = plaintext[1], plaintext[2], plaintext[3:35]
        private: PrivateKey
        if alg == ES256:
            private = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
        else:
            private = ed25519.Ed25519PrivateKey.from_private_bytes(raw)
        credential = Credential(
            id=cred_id,
            rp_id_hash=rp_id_hash,
            alg=alg,
            private_key=private,
            cred_protect=protect,
            resident=bool(flags & FLAG_RESIDENT),
            u2f=bool(flags & FLAG_U2F),
            hmac_secret=bool(flags & FLAG_HMAC_SECRET),
            cred_blob=plaintext[35:] or None,
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
