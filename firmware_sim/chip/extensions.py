"""CTAP 2.1 extensions (§12): credProtect, hmac-secret, credBlob, largeBlobKey, minPinLength;
and CTAP 2.2's hmac-secret-mc and thirdPartyPayment.

Parsing turns the platform's extension map into typed requests (wrong types are
``CBOR_UNEXPECTED_TYPE``); unknown extensions are ignored, as the specification requires.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from firmware_sim.chip.credentials import MAX_CRED_BLOB_LENGTH, Credential, CredentialVault
from firmware_sim.chip.errors import ChipError, Status
from firmware_sim.chip.pin import ClientPin, PinProtocol

CRED_PROTECT_OPTIONAL = 1
CRED_PROTECT_OPTIONAL_WITH_LIST = 2
CRED_PROTECT_REQUIRED = 3

#: A verified hmac-secret request: the PIN/UV protocol, the shared secret, the salts.
HmacRequest = tuple[PinProtocol, bytes, bytes]


def _typed(ext: Mapping[Any, Any], name: str, kind: type) -> Any:
    value = ext.get(name)
    if value is None:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ChipError(Status.CBOR_UNEXPECTED_TYPE, f"extension {name}")
    return value


def _extension_map(ext: Any, supported: Iterable[str]) -> Mapping[Any, Any]:
    """The inputs of the extensions this key supports; others are ignored (§12)."""
    if ext is None:
        return {}
    if not isinstance(ext, Mapping):
        raise ChipError(Status.CBOR_UNEXPECTED_TYPE, "extensions")
    names = set(supported)
    return {k: v for k, v in ext.items() if k in names}


def _hmac_secret_input(ext: Mapping[Any, Any], name: str) -> Mapping[Any, Any] | None:
    """An hmac-secret style input map (keyAgreement, saltEnc, saltAuth, protocol), checked."""
    secret = ext.get(name)
    if secret is None:
        return None
    if not isinstance(secret, Mapping):
        raise ChipError(Status.CBOR_UNEXPECTED_TYPE, name)
    for key in (1, 2, 3):
        if secret.get(key) is None:
            raise ChipError(Status.MISSING_PARAMETER, f"{name} parameter {key}")
    if not isinstance(secret[2], bytes) or not isinstance(secret[3], bytes):
        raise ChipError(Status.CBOR_UNEXPECTED_TYPE, f"{name} salts")
    return secret


def check_hmac_secret(
    request: Mapping[Any, Any], client_pin: ClientPin, bad_auth: int = Status.PIN_AUTH_INVALID
) -> HmacRequest:
    """Verify and decrypt the salts once, before any credential is used (§12.5)."""
    protocol = client_pin.protocol(request.get(4, 1))
    shared = protocol.shared_secret(request[1])
    if not protocol.verify(shared, request[2], request[3]):
        raise ChipError(Status(bad_auth), "saltAuth")
    salts = protocol.decrypt(shared, request[2])
    if len(salts) not in (32, 64):
        raise ChipError(Status.INVALID_LENGTH, "salt length")
    return protocol, shared, salts


def hmac_secret_output(
    vault: CredentialVault, credential: Credential, uv: bool, request: HmacRequest
) -> bytes:
    """The encrypted HMAC-SHA-256(CredRandom, salt) outputs, one per salt."""
    protocol, shared, salts = request
    cred_random = vault.cred_random(credential, uv)
    output = b"".join(
        hmac.new(cred_random, salts[i : i + 32], hashlib.sha256).digest()
        for i in range(0, len(salts), 32)
    )
    return protocol.encrypt(shared, output)


@dataclass
class MakeCredentialExtensions:
    cred_protect: int | None = None
    hmac_secret: bool = False
    hmac_secret_mc: Mapping[Any, Any] | None = None
    cred_blob: bytes | None = None
    large_blob_key: bool = False
    min_pin_length: bool = False
    third_party_payment: bool = False

    @classmethod
    def parse(cls, ext: Any, supported: Iterable[str]) -> MakeCredentialExtensions:
        ext = _extension_map(ext, supported)
        protect = _typed(ext, "credProtect", int)
        if protect is not None and protect not in (1, 2, 3):
            raise ChipError(Status.INVALID_PARAMETER, "credProtect level")
        large_blob_key = _typed(ext, "largeBlobKey", bool)
        if large_blob_key is False:
            raise ChipError(Status.INVALID_OPTION, "largeBlobKey must be true")
        hmac_secret = bool(_typed(ext, "hmac-secret", bool))
        return cls(
            cred_protect=protect,
            hmac_secret=hmac_secret,
            # CTAP 2.2 §12.7: hmac-secret-mc goes with hmac-secret, else it is ignored.
            hmac_secret_mc=_hmac_secret_input(ext, "hmac-secret-mc") if hmac_secret else None,
            cred_blob=_typed(ext, "credBlob", bytes),
            large_blob_key=bool(large_blob_key),
            min_pin_length=bool(_typed(ext, "minPinLength", bool)),
            third_party_payment=bool(_typed(ext, "thirdPartyPayment", bool)),
        )

    def storable_blob(self) -> bytes | None:
        """credBlob is kept only if it fits (the output then says false)."""
        if self.cred_blob is not None and len(self.cred_blob) <= MAX_CRED_BLOB_LENGTH:
            return self.cred_blob
        return None

    def outputs(
        self, credential: Credential, rp_id: str, min_pin_length: int, min_pin_rp_ids: list[str]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.cred_protect is not None:
            out["credProtect"] = credential.cred_protect
        if self.hmac_secret:
            out["hmac-secret"] = True
        if self.cred_blob is not None:
            out["credBlob"] = self.storable_blob() is not None
        if self.min_pin_length and rp_id in min_pin_rp_ids:
            out["minPinLength"] = min_pin_length
        return out


@dataclass
class GetAssertionExtensions:
    hmac_secret: Mapping[Any, Any] | None = None
    cred_blob: bool = False
    large_blob_key: bool = False
    third_party_payment: bool = False

    @classmethod
    def parse(cls, ext: Any, supported: Iterable[str]) -> GetAssertionExtensions:
        ext = _extension_map(ext, supported)
        large_blob_key = _typed(ext, "largeBlobKey", bool)
        if large_blob_key is False:
            raise ChipError(Status.INVALID_OPTION, "largeBlobKey must be true")
        return cls(
            hmac_secret=_hmac_secret_input(ext, "hmac-secret"),
            cred_blob=bool(_typed(ext, "credBlob", bool)),
            large_blob_key=bool(large_blob_key),
            third_party_payment=bool(_typed(ext, "thirdPartyPayment", bool)),
        )

    def outputs(
        self,
        credential: Credential,
        vault: CredentialVault,
        uv: bool,
        hmac_request: HmacRequest | None,
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if hmac_request is not None and credential.hmac_secret:
            out["hmac-secret"] = hmac_secret_output(vault, credential, uv, hmac_request)
        if self.cred_blob:
            out["credBlob"] = credential.cred_blob or b""
        if self.third_party_payment:
            # CTAP 2.2 §12.9: whether the credential may be used for payments.
            out["thirdPartyPayment"] = credential.third_party_payment
        return out
