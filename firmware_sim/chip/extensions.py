"""CTAP 2.1 extensions (§12): credProtect, hmac-secret, credBlob, largeBlobKey, minPinLength.

Parsing turns the platform's extension map into typed requests (wrong types are
``CBOR_UNEXPECTED_TYPE``); unknown extensions are ignored, as the specification requires.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from firmware_sim.chip.credentials import MAX_CRED_BLOB_LENGTH, Credential, CredentialVault
from firmware_sim.chip.errors import ChipError, Status
from firmware_sim.chip.pin import ClientPin

SUPPORTED = ["credBlob", "credProtect", "hmac-secret", "largeBlobKey", "minPinLength"]

CRED_PROTECT_OPTIONAL = 1
CRED_PROTECT_OPTIONAL_WITH_LIST = 2
CRED_PROTECT_REQUIRED = 3


def _typed(ext: Mapping[Any, Any], name: str, kind: type) -> Any:
    value = ext.get(name)
    if value is None:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ChipError(Status.CBOR_UNEXPECTED_TYPE, f"extension {name}")
    return value


def _extension_map(ext: Any) -> Mapping[Any, Any]:
    if ext is None:
        return {}
    if not isinstance(ext, Mapping):
        raise ChipError(Status.CBOR_UNEXPECTED_TYPE, "extensions")
    return ext


@dataclass
class MakeCredentialExtensions:
    cred_protect: int | None = None
    hmac_secret: bool = False
    cred_blob: bytes | None = None
    large_blob_key: bool = False
    min_pin_length: bool = False

    @classmethod
    def parse(cls, ext: Any) -> MakeCredentialExtensions:
        ext = _extension_map(ext)
        protect = _typed(ext, "credProtect", int)
        if protect is not None and protect not in (1, 2, 3):
            raise ChipError(Status.INVALID_PARAMETER, "credProtect level")
        large_blob_key = _typed(ext, "largeBlobKey", bool)
        if large_blob_key is False:
            raise ChipError(Status.INVALID_OPTION, "largeBlobKey must be true")
        return cls(
            cred_protect=protect,
            hmac_secret=bool(_typed(ext, "hmac-secret", bool)),
            cred_blob=_typed(ext, "credBlob", bytes),
            large_blob_key=bool(large_blob_key),
            min_pin_length=bool(_typed(ext, "minPinLength", bool)),
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

    @classmethod
    def parse(cls, ext: Any) -> GetAssertionExtensions:
        ext = _extension_map(ext)
        secret = ext.get("hmac-secret")
        if secret is not None:
            if not isinstance(secret, Mapping):
                raise ChipError(Status.CBOR_UNEXPECTED_TYPE, "hmac-secret")
            for key in (1, 2, 3):
                if secret.get(key) is None:
                    raise ChipError(Status.MISSING_PARAMETER, f"hmac-secret parameter {key}")
            if not isinstance(secret[2], bytes) or not isinstance(secret[3], bytes):
                raise ChipError(Status.CBOR_UNEXPECTED_TYPE, "hmac-secret salts")
        large_blob_key = _typed(ext, "largeBlobKey", bool)
        if large_blob_key is False:
            raise ChipError(Status.INVALID_OPTION, "largeBlobKey must be true")
        return cls(
            hmac_secret=secret,
            cred_blob=bool(_typed(ext, "credBlob", bool)),
            large_blob_key=bool(large_blob_key),
        )

    def check_hmac_secret(self, client_pin: ClientPin) -> tuple[Any, bytes, bytes] | None:
        """Verify and decrypt the salts once, before any credential is used."""
        request = self.hmac_secret
        if request is None:
            return None
        protocol = client_pin.protocol(request.get(4, 1))
        shared = protocol.shared_secret(request[1])
        if not protocol.verify(shared, request[2], request[3]):
            raise ChipError(Status.PIN_AUTH_INVALID, "saltAuth")
        salts = protocol.decrypt(shared, request[2])
        if len(salts) not in (32, 64):
            raise ChipError(Status.INVALID_LENGTH, "salt length")
        return protocol, shared, salts

    def outputs(
        self,
        credential: Credential,
        vault: CredentialVault,
        uv: bool,
        hmac_request: tuple[Any, bytes, bytes] | None,
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if hmac_request is not None and credential.hmac_secret:
            protocol, shared, salts = hmac_request
            cred_random = vault.cred_random(credential, uv)
            output = b"".join(
                hmac.new(cred_random, salts[i : i + 32], hashlib.sha256).digest()
                for i in range(0, len(salts), 32)
            )
            out["hmac-secret"] = protocol.encrypt(shared, output)
        if self.cred_blob:
            out["credBlob"] = credential.cred_blob or b""
        return out
