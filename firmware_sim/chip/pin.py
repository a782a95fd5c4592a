"""PIN/UV auth protocols 1 and 2 and the clientPIN command (CTAP 2.1 §6.5).

Holds the per-boot part of PIN state — key-agreement keys, the pinUvAuthToken with its
permissions, and the consecutive-mismatch count that makes a power cycle necessary after three
wrong PINs — while the retry counter (8 in all) lives in persistent state and is decremented
*before* the PIN is compared, so pulling the plug mid-guess costs a retry.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from authenticators.clock import Clock
from authenticators.ct import bytes_eq
from firmware_sim.chip.errors import ChipError, Status
from firmware_sim.chip.state import PIN_RETRIES_MAX, ChipState

PERM_MC = 0x01
PERM_GA = 0x02
PERM_CM = 0x04
PERM_BE = 0x08
PERM_LBW = 0x10
PERM_ACFG = 0x20
PERM_PCMR = 0x40
SUPPORTED_PERMISSIONS = PERM_MC | PERM_GA | PERM_CM | PERM_LBW | PERM_ACFG | PERM_PCMR


class Param(IntEnum):
    """authenticatorClientPIN parameters (CTAP 2.1 §6.5.5)."""

    PIN_UV_AUTH_PROTOCOL = 0x01
    SUB_COMMAND = 0x02
    KEY_AGREEMENT = 0x03
    PIN_UV_AUTH_PARAM = 0x04
    NEW_PIN_ENC = 0x05
    PIN_HASH_ENC = 0x06
    PERMISSIONS = 0x09
    RP_ID = 0x0A


class Sub(IntEnum):
    GET_PIN_RETRIES = 0x01
    GET_KEY_AGREEMENT = 0x02
    SET_PIN = 0x03
    CHANGE_PIN = 0x04
    GET_PIN_TOKEN = 0x05
    GET_PIN_UV_AUTH_TOKEN_USING_PIN_WITH_PERMISSIONS = 0x09


class Response(IntEnum):
    KEY_AGREEMENT = 0x01
    PIN_UV_AUTH_TOKEN = 0x02
    PIN_RETRIES = 0x03
    POWER_CYCLE_STATE = 0x04


_BYTES_PARAMS = (Param.PIN_UV_AUTH_PARAM, Param.NEW_PIN_ENC, Param.PIN_HASH_ENC)

MAX_CONSECUTIVE_MISMATCHES = 3
MAX_PIN_BYTES = 63
TOKEN_LIFETIME = 600.0  # the longest usage period CTAP 2.1 §6.5.2.1 allows

_HKDF_SALT = b"\x00" * 32


class PinProtocol:
    """PIN/UV auth protocol one: SHA-256 KDF, AES-CBC with a zero IV, 16-byte HMAC tags."""

    version = 1

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())

    def __repr__(self) -> str:
        return f"PinProtocol(version={self.version})"

    def regenerate(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())

    def key_agreement(self) -> dict[int, Any]:
        numbers = self._key.public_key().public_numbers()
        return {
            1: 2,
            3: -25,
            -1: 1,
            -2: numbers.x.to_bytes(32, "big"),
            -3: numbers.y.to_bytes(32, "big"),
        }

    def shared_secret(self, peer: Any) -> bytes:
        """ECDH with the platform's COSE key; malformed keys are INVALID_PARAMETER."""
        if not isinstance(peer, Mapping):
            raise ChipError(Status.CBOR_UNEXPECTED_TYPE, "keyAgreement is not a map")
        x, y = peer.get(-2), peer.get(-3)
        if peer.get(1) != 2 or not isinstance(x, bytes) or not isinstance(y, bytes):
            raise ChipError(Status.INVALID_PARAMETER, "keyAgreement is not an EC2 key")
        if len(x) != 32 or len(y) != 32:
            raise ChipError(Status.INVALID_PARAMETER, "keyAgreement coordinates")
        try:
            public = ec.EllipticCurvePublicNumbers(
                int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
            ).public_key()
            z = self._key.exchange(ec.ECDH(), public)
        except ValueError:
            raise ChipError(Status.INVALID_PARAMETER, "keyAgreement point") from None
        return self.kdf(z)

    def kdf(self, z: bytes) -> bytes:
        return hashlib.sha256(z).digest()

    def encrypt(self, key: bytes, plaintext: bytes) -> bytes:
        enc = Cipher(algorithms.AES(key[-32:]), modes.CBC(b"\x00" * 16)).encryptor()
        return enc.update(plaintext) + enc.finalize()

    def decrypt(self, key: bytes, ciphertext: bytes) -> bytes:
        if not ciphertext or len(ciphertext) % 16:
            raise ChipError(Status.INVALID_PARAMETER, "ciphertext length")
        dec = Cipher(algorithms.AES(key[-32:]), modes.CBC(b"\x00" * 16)).decryptor()
        return dec.update(ciphertext) + dec.finalize()

    def authenticate(self, key: bytes, message: bytes) -> bytes:
        return hmac.new(key[:32], message, hashlib.sha256).digest()[:16]

    def verify(self, key: bytes, message: bytes, signature: bytes) -> bool:
        return bytes_eq(self.authenticate(key, message), signature)


class PinProtocolTwo(PinProtocol):
    """PIN/UV auth protocol two: HKDF keys, random IVs, full 32-byte HMAC tags."""

    version = 2

    def kdf(self, z: bytes) -> bytes:
        return _hkdf(z, b"CTAP2 HMAC key") + _hkdf(z, b"CTAP2 AES key")

    def encrypt(self, key: bytes, plaintext: bytes) -> bytes:
        iv = secrets.token_bytes(16)
        enc = Cipher(algorithms.AES(key[-32:]), modes.CBC(iv)).encryptor()
        return iv + enc.update(plaintext) + enc.finalize()

    def decrypt(self, key: bytes, ciphertext: bytes) -> bytes:
        if len(ciphertext) < 32 or len(ciphertext) % 16:
            raise ChipError(Status.INVALID_PARAMETER, "ciphertext length")
        dec = Cipher(algorithms.AES(key[-32:]), modes.CBC(ciphertext[:16])).decryptor()
        return dec.update(ciphertext[16:]) + dec.finalize()

    def authenticate(self, key: bytes, message: bytes) -> bytes:
        return hmac.new(key[:32], message, hashlib.sha256).digest()


def _hkdf(z: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=info).derive(z)


@dataclass
class PinToken:
    """The per-boot pinUvAuthToken and what it may be used for."""

    value: bytes = field(repr=False)
    protocol: int
    permissions: int
    rp_id: str | None
    issued_at: float
    user_present: bool = False
    #: Issued by the legacy getPinToken, which CTAP 2.1-PRE commands take without permissions.
    legacy: bool = False


class ClientPin:
    """clientPIN (0x06) and pinUvAuthParam verification for the other commands."""

    def __init__(
        self,
        state: ChipState,
        clock: Clock,
        *,
        versions: tuple[int, ...] = (2, 1),
        permissions: bool = True,
        persistent: bool = True,
        retries_need_pin: bool = True,
        block_on_auth_mismatch: bool = False,
    ) -> None:
        self._state = state
        self._clock = clock
        made = {2: PinProtocolTwo, 1: PinProtocol}
        self.protocols: dict[int, PinProtocol] = {v: made[v]() for v in versions}
        self.permissions = permissions
        self.supported_permissions = SUPPORTED_PERMISSIONS & ~(0 if persistent else PERM_PCMR)
        self.retries_need_pin = retries_need_pin
        self.token: PinToken | None = None
        self.mismatches = 0
        self._boot_token = secrets.token_bytes(32)
        #: solo1: three wrong pinUvAuthParams in a row block token use until a power cycle.
        self.block_on_auth_mismatch = block_on_auth_mismatch
        self.auth_mismatches = 0

    def __repr__(self) -> str:
        return f"ClientPin(mismatches={self.mismatches}, token={'set' if self.token else 'none'})"

    def power_up(self) -> None:
        """Per-boot state starts afresh: new keys, no token, mismatch count cleared."""
        for protocol in self.protocols.values():
            protocol.regenerate()
        self.token = None
        self._boot_token = secrets.token_bytes(32)
        self.auth_mismatches = 0
        self.mismatches = 0

    @property
    def is_set(self) -> bool:
        return self._state.pin_hash is not None

    def protocol(self, version: Any) -> PinProtocol:
        if not isinstance(version, int) or isinstance(version, bool):
            raise ChipError(Status.CBOR_UNEXPECTED_TYPE, "pinUvAuthProtocol")
        found = self.protocols.get(version)
        if found is None:
            raise ChipError(Status.INVALID_PARAMETER, "unsupported pinUvAuthProtocol")
        return found

    # -- token use by other commands -------------------------------------------------------

    def verify_param(
        self,
        protocol_version: Any,
        message: bytes,
        param: Any,
        permission: int,
        rp_id: str | None,
        *,
        legacy_ok: bool = False,
    ) -> PinToken:
        """Check a pinUvAuthParam over ``message`` and that the token grants ``permission``
        (or, with ``legacy_ok``, that it came from the legacy getPinToken)."""
        if protocol_version is None:
            raise ChipError(Status.MISSING_PARAMETER, "pinUvAuthProtocol")
        protocol = self.protocol(protocol_version)
        if not isinstance(param, bytes):
            raise ChipError(Status.CBOR_UNEXPECTED_TYPE, "pinUvAuthParam")
        token = self.token
        if self.auth_mismatches >= MAX_CONSECUTIVE_MISMATCHES:
            raise ChipError(Status.PIN_AUTH_BLOCKED, "power cycle needed")
        if token is None or token.protocol != protocol.version:
            raise self._auth_mismatch("no token")
        if self._clock.monotonic() - token.issued_at > TOKEN_LIFETIME:
            self.token = None
            raise ChipError(Status.PIN_AUTH_INVALID, "token expired")
        if not protocol.verify(token.value, message, param):
            raise self._auth_mismatch("pinUvAuthParam mismatch")
        self.auth_mismatches = 0
        if not (token.permissions & permission or (legacy_ok and token.legacy)):
            raise ChipError(Status.PIN_AUTH_INVALID, "permission not granted")
        if rp_id is not None and token.rp_id is not None and token.rp_id != rp_id:
            raise ChipError(Status.PIN_AUTH_INVALID, "token bound to another RP")
        first_use = rp_id is not None and token.rp_id is None
        if self.permissions and first_use and permission in (PERM_MC, PERM_GA):
            token.rp_id = rp_id  # CTAP 2.1 binds a token to the RP it is first used for
        return token

    def _auth_mismatch(self, why: str) -> ChipError:
        if self.block_on_auth_mismatch:
            self.auth_mismatches += 1
            if self.auth_mismatches >= MAX_CONSECUTIVE_MISMATCHES:
                return ChipError(Status.PIN_AUTH_BLOCKED, "power cycle needed")
        return ChipError(Status.PIN_AUTH_INVALID, why)

    def verify_persistent(self, protocol_version: Any, message: bytes, param: bytes) -> bool:
        """Whether ``param`` is the persistent token's MAC over ``message`` (CTAP 2.2 pcmr)."""
        stored = self._state.persistent_token
        if stored is None or protocol_version != stored[1]:
            return False
        protocol = self.protocols.get(stored[1])
        return protocol is not None and protocol.verify(stored[0], message, param)

    # -- the clientPIN command -------------------------------------------------------------

    def command(self, params: Mapping[int, Any]) -> dict[int, Any]:
        sub = params.get(Param.SUB_COMMAND)
        if sub is None:
            raise ChipError(Status.MISSING_PARAMETER, "subCommand")
        if not isinstance(sub, int) or isinstance(sub, bool):
            raise ChipError(Status.CBOR_UNEXPECTED_TYPE, "subCommand")
        if sub == Sub.GET_PIN_RETRIES:
            if self.retries_need_pin and not self.is_set:
                raise ChipError(Status.PIN_NOT_SET, "no PIN, so no tries to count")
            return {
                Response.PIN_RETRIES: self._state.pin_retries,
                Response.POWER_CYCLE_STATE: self.mismatches >= MAX_CONSECUTIVE_MISMATCHES,
            }
        with_permissions = sub == Sub.GET_PIN_UV_AUTH_TOKEN_USING_PIN_WITH_PERMISSIONS
        plain = (Sub.GET_KEY_AGREEMENT, Sub.SET_PIN, Sub.CHANGE_PIN, Sub.GET_PIN_TOKEN)
        if sub not in plain and not (with_permissions and self.permissions):
            raise ChipError(Status.INVALID_SUBCOMMAND, "clientPIN subcommand")
        if params.get(Param.PIN_UV_AUTH_PROTOCOL) is None:
            raise ChipError(Status.MISSING_PARAMETER, "pinUvAuthProtocol")
        protocol = self.protocol(params.get(Param.PIN_UV_AUTH_PROTOCOL))
        if sub == Sub.GET_KEY_AGREEMENT:
            return {Response.KEY_AGREEMENT: protocol.key_agreement()}
        if sub == Sub.SET_PIN:
            return self._set_pin(protocol, params)
        if sub == Sub.CHANGE_PIN:
            return self._change_pin(protocol, params)
        return self._get_token(protocol, params, with_permissions=with_permissions)

    def _require(self, params: Mapping[int, Any], *keys: Param) -> None:
        for key in keys:
            if params.get(key) is None:
                raise ChipError(Status.MISSING_PARAMETER, f"parameter {key.name}")
        for key in keys:
            if key in _BYTES_PARAMS and not isinstance(params[key], bytes):
                raise ChipError(Status.CBOR_UNEXPECTED_TYPE, f"parameter {key.name}")

    def _new_pin(self, protocol: PinProtocol, shared: bytes, new_pin_enc: bytes) -> None:
        padded = protocol.decrypt(shared, new_pin_enc)
        if len(padded) < 64:
            raise ChipError(Status.INVALID_PARAMETER, "padded PIN too short")
        pin = padded.rstrip(b"\x00")
        if len(pin) > MAX_PIN_BYTES or b"\x00" in pin:
            raise ChipError(Status.PIN_POLICY_VIOLATION, "PIN too long")
        try:
            code_points = len(pin.decode("utf-8"))
        except UnicodeDecodeError:
            raise ChipError(Status.PIN_POLICY_VIOLATION, "PIN is not UTF-8") from None
        if code_points < self._state.min_pin_length:
            raise ChipError(Status.PIN_POLICY_VIOLATION, "PIN too short")
        self._state.set_pin(hashlib.sha256(pin).digest()[:16], code_points)
        self.mismatches = 0
        self.token = None

    def _set_pin(self, protocol: PinProtocol, params: Mapping[int, Any]) -> dict[int, Any]:
        self._require(params, Param.KEY_AGREEMENT, Param.PIN_UV_AUTH_PARAM, Param.NEW_PIN_ENC)
        if self.is_set:
            raise ChipError(Status.NOT_ALLOWED, "PIN already set")
        shared = protocol.shared_secret(params[Param.KEY_AGREEMENT])
        if not protocol.verify(shared, params[Param.NEW_PIN_ENC], params[Param.PIN_UV_AUTH_PARAM]):
            raise ChipError(Status.PIN_AUTH_INVALID, "setPIN auth")
        self._new_pin(protocol, shared, params[Param.NEW_PIN_ENC])
        return {}

    def _check_pin(self, protocol: PinProtocol, shared: bytes, pin_hash_enc: bytes) -> None:
        """Decrement, compare, and on a mismatch apply the retry and power-cycle rules."""
        stored = self._state.pin_hash
        assert stored is not None
        retries = self._state.spend_pin_retry()
        pin_hash = protocol.decrypt(shared, pin_hash_enc)
        if len(pin_hash) != 16 or not bytes_eq(pin_hash, stored):
            protocol.regenerate()
            self.mismatches += 1
            if retries <= 0:
                raise ChipError(Status.PIN_BLOCKED, "no retries left")
            if self.mismatches >= MAX_CONSECUTIVE_MISMATCHES:
                raise ChipError(Status.PIN_AUTH_BLOCKED, "power cycle needed")
            raise ChipError(Status.PIN_INVALID, "wrong PIN")
        self.mismatches = 0
        self._state.set_pin_retries(PIN_RETRIES_MAX)

    def _guard(self) -> None:
        if not self.is_set:
            raise ChipError(Status.PIN_NOT_SET, "no PIN")
        if self._state.pin_retries <= 0:
            raise ChipError(Status.PIN_BLOCKED, "no retries left")
        if self.mismatches >= MAX_CONSECUTIVE_MISMATCHES:
            raise ChipError(Status.PIN_AUTH_BLOCKED, "power cycle needed")

    def _change_pin(self, protocol: PinProtocol, params: Mapping[int, Any]) -> dict[int, Any]:
        self._require(
            params,
            Param.KEY_AGREEMENT,
            Param.PIN_UV_AUTH_PARAM,
            Param.NEW_PIN_ENC,
            Param.PIN_HASH_ENC,
        )
        self._guard()
        shared = protocol.shared_secret(params[Param.KEY_AGREEMENT])
        if not protocol.verify(
            shared,
            params[Param.NEW_PIN_ENC] + params[Param.PIN_HASH_ENC],
            params[Param.PIN_UV_AUTH_PARAM],
        ):
            raise ChipError(Status.PIN_AUTH_INVALID, "changePIN auth")
        self._check_pin(protocol, shared, params[Param.PIN_HASH_ENC])
        self._new_pin(protocol, shared, params[Param.NEW_PIN_ENC])
        return {}

    def _get_token(
        self, protocol: PinProtocol, params: Mapping[int, Any], *, with_permissions: bool
    ) -> dict[int, Any]:
        self._require(params, Param.KEY_AGREEMENT, Param.PIN_HASH_ENC)
        permissions = params.get(Param.PERMISSIONS)
        rp_id = params.get(Param.RP_ID)
        if with_permissions:
            if permissions is None:
                raise ChipError(Status.MISSING_PARAMETER, "permissions")
            if not isinstance(permissions, int) or isinstance(permissions, bool):
                raise ChipError(Status.CBOR_UNEXPECTED_TYPE, "permissions")
            if rp_id is not None and not isinstance(rp_id, str):
                raise ChipError(Status.CBOR_UNEXPECTED_TYPE, "rpId")
            if permissions <= 0:
                raise ChipError(Status.INVALID_PARAMETER, "no permissions")
            if permissions & ~self.supported_permissions:
                raise ChipError(Status.UNAUTHORIZED_PERMISSION, "permission not supported")
            if permissions & PERM_PCMR and permissions != PERM_PCMR:
                raise ChipError(Status.UNAUTHORIZED_PERMISSION, "pcmr goes alone")
        else:
            if permissions is not None or rp_id is not None:
                raise ChipError(Status.INVALID_PARAMETER, "legacy getPinToken takes no permissions")
            permissions, rp_id = PERM_MC | PERM_GA, None
        self._guard()
        shared = protocol.shared_secret(params[Param.KEY_AGREEMENT])
        self._check_pin(protocol, shared, params[Param.PIN_HASH_ENC])
        if self._state.force_pin_change:
            raise ChipError(Status.PIN_INVALID, "PIN must be changed first")
        # CTAP 2.1 makes a new token for every request; a CTAP 2.0 key (no permissions) hands
        # out the one token it made at power-up (CTAP 2.0 §5.5.8), so earlier ones stay valid.
        value = secrets.token_bytes(32) if self.permissions else self._boot_token
        if permissions == PERM_PCMR:
            # CTAP 2.2: the persistent token survives power cycles, for read-only management;
            # a new one, a PIN change or a reset ends it. The ordinary token stays as it was.
            self._state.set_persistent_token(value, protocol.version)
            return {Response.PIN_UV_AUTH_TOKEN: protocol.encrypt(shared, value)}
        self.token = PinToken(
            value=value,
            protocol=protocol.version,
            permissions=permissions,
            rp_id=rp_id,
            issued_at=self._clock.monotonic(),
            legacy=not with_permissions,
        )
        return {Response.PIN_UV_AUTH_TOKEN: protocol.encrypt(shared, value)}
