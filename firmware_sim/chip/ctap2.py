"""CTAP 2.1 authenticator API (§6): command dispatch and the commands themselves.

``Authenticator.handle`` takes one CTAPHID_CBOR payload (command byte + canonical CBOR map) and
returns status byte + canonical CBOR. Every failure is a :class:`ChipError` whose code becomes the
status byte; nothing the host sends can raise anything else out of here.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from authenticators.clock import Clock
from authenticators.ct import bytes_eq
from firmware_sim.chip import cbor
from firmware_sim.chip.attestation import (
    BatchAttestation,
    Model,
    enterprise_for,
    none_statement,
)
from firmware_sim.chip.credentials import (
    MAX_CRED_BLOB_LENGTH,
    Credential,
    CredentialVault,
)
from firmware_sim.chip.errors import ChipError, Status
from firmware_sim.chip.extensions import (
    CRED_PROTECT_OPTIONAL,
    CRED_PROTECT_OPTIONAL_WITH_LIST,
    CRED_PROTECT_REQUIRED,
    GetAssertionExtensions,
    HmacRequest,
    MakeCredentialExtensions,
    check_hmac_secret,
    hmac_secret_output,
)
from firmware_sim.chip.pin import (
    PERM_ACFG,
    PERM_CM,
    PERM_GA,
    PERM_LBW,
    PERM_MC,
    ClientPin,
)
from firmware_sim.chip.presence import Activity, Button
from firmware_sim.chip.state import ChipState

log = logging.getLogger(__name__)


class Cmd(IntEnum):
    """authenticatorAPI command bytes (CTAP 2.1 §6)."""

    MAKE_CREDENTIAL = 0x01
    GET_ASSERTION = 0x02
    GET_INFO = 0x04
    CLIENT_PIN = 0x06
    RESET = 0x07
    GET_NEXT_ASSERTION = 0x08
    CREDENTIAL_MANAGEMENT = 0x0A
    SELECTION = 0x0B
    LARGE_BLOBS = 0x0C
    CONFIG = 0x0D
    CREDENTIAL_MANAGEMENT_PRE = 0x41


class MakeCredential(IntEnum):
    """authenticatorMakeCredential parameters (§6.1)."""

    CLIENT_DATA_HASH = 0x01
    RP = 0x02
    USER = 0x03
    PUB_KEY_CRED_PARAMS = 0x04
    EXCLUDE_LIST = 0x05
    EXTENSIONS = 0x06
    OPTIONS = 0x07
    PIN_UV_AUTH_PARAM = 0x08
    PIN_UV_AUTH_PROTOCOL = 0x09
    ENTERPRISE_ATTESTATION = 0x0A


class MakeCredentialResponse(IntEnum):
    FMT = 0x01
    AUTH_DATA = 0x02
    ATT_STMT = 0x03
    EP_ATT = 0x04
    LARGE_BLOB_KEY = 0x05


class GetAssertion(IntEnum):
    """authenticatorGetAssertion parameters (§6.2)."""

    RP_ID = 0x01
    CLIENT_DATA_HASH = 0x02
    ALLOW_LIST = 0x03
    EXTENSIONS = 0x04
    OPTIONS = 0x05
    PIN_UV_AUTH_PARAM = 0x06
    PIN_UV_AUTH_PROTOCOL = 0x07


class GetAssertionResponse(IntEnum):
    CREDENTIAL = 0x01
    AUTH_DATA = 0x02
    SIGNATURE = 0x03
    USER = 0x04
    NUMBER_OF_CREDENTIALS = 0x05
    LARGE_BLOB_KEY = 0x07


class Info(IntEnum):
    """authenticatorGetInfo response members (§6.4, with CTAP 2.2's)."""

    VERSIONS = 0x01
    EXTENSIONS = 0x02
    AAGUID = 0x03
    OPTIONS = 0x04
    MAX_MSG_SIZE = 0x05
    PIN_UV_AUTH_PROTOCOLS = 0x06
    MAX_CREDENTIAL_COUNT_IN_LIST = 0x07
    MAX_CREDENTIAL_ID_LENGTH = 0x08
    TRANSPORTS = 0x09
    ALGORITHMS = 0x0A
    MAX_SERIALIZED_LARGE_BLOB_ARRAY = 0x0B
    FORCE_PIN_CHANGE = 0x0C
    MIN_PIN_LENGTH = 0x0D
    FIRMWARE_VERSION = 0x0E
    MAX_CRED_BLOB_LENGTH = 0x0F
    MAX_RP_IDS_FOR_SET_MIN_PIN_LENGTH = 0x10
    REMAINING_DISCOVERABLE_CREDENTIALS = 0x14


class CredentialManagement(IntEnum):
    """authenticatorCredentialManagement parameters (§6.8)."""

    SUB_COMMAND = 0x01
    SUB_COMMAND_PARAMS = 0x02
    PIN_UV_AUTH_PROTOCOL = 0x03
    PIN_UV_AUTH_PARAM = 0x04


class CredentialManagementSub(IntEnum):
    GET_CREDS_METADATA = 0x01
    ENUMERATE_RPS_BEGIN = 0x02
    ENUMERATE_RPS_NEXT = 0x03
    ENUMERATE_CREDENTIALS_BEGIN = 0x04
    ENUMERATE_CREDENTIALS_NEXT = 0x05
    DELETE_CREDENTIAL = 0x06
    UPDATE_USER_INFORMATION = 0x07


class CredentialManagementParam(IntEnum):
    RP_ID_HASH = 0x01
    CREDENTIAL_ID = 0x02
    USER = 0x03


class CredentialManagementResponse(IntEnum):
    EXISTING_RESIDENT_CREDENTIALS_COUNT = 0x01
    MAX_POSSIBLE_REMAINING_RESIDENT_CREDENTIALS_COUNT = 0x02
    RP = 0x03
    RP_ID_HASH = 0x04
    TOTAL_RPS = 0x05
    USER = 0x06
    CREDENTIAL_ID = 0x07
    PUBLIC_KEY = 0x08
    TOTAL_CREDENTIALS = 0x09
    CRED_PROTECT = 0x0A
    LARGE_BLOB_KEY = 0x0B
    THIRD_PARTY_PAYMENT = 0x0C


class LargeBlobs(IntEnum):
    """authenticatorLargeBlobs parameters (§6.10)."""

    GET = 0x01
    SET = 0x02
    OFFSET = 0x03
    LENGTH = 0x04
    PIN_UV_AUTH_PARAM = 0x05
    PIN_UV_AUTH_PROTOCOL = 0x06


class LargeBlobsResponse(IntEnum):
    CONFIG = 0x01


class Config(IntEnum):
    """authenticatorConfig parameters (§6.11)."""

    SUB_COMMAND = 0x01
    SUB_COMMAND_PARAMS = 0x02
    PIN_UV_AUTH_PROTOCOL = 0x03
    PIN_UV_AUTH_PARAM = 0x04


class ConfigSub(IntEnum):
    ENABLE_ENTERPRISE_ATTESTATION = 0x01
    TOGGLE_ALWAYS_UV = 0x02
    SET_MIN_PIN_LENGTH = 0x03


class SetMinPinLength(IntEnum):
    NEW_MIN_PIN_LENGTH = 0x01
    MIN_PIN_LENGTH_RP_IDS = 0x02
    FORCE_CHANGE_PIN = 0x03


_SUBS = frozenset(int(sub) for sub in CredentialManagementSub)
#: Read-only credentialManagement subcommands, which a persistent token may authorise.
_READ_ONLY_SUBS = (
    CredentialManagementSub.GET_CREDS_METADATA,
    CredentialManagementSub.ENUMERATE_RPS_BEGIN,
    CredentialManagementSub.ENUMERATE_CREDENTIALS_BEGIN,
)

FLAG_UP = 0x01
FLAG_UV = 0x04
FLAG_AT = 0x40
FLAG_ED = 0x80

RESET_WINDOW = 10.0
NEXT_ASSERTION_WINDOW = 30.0
MAX_USER_ID_LENGTH = 64
#: The empty serialized large-blob array: CBOR [] followed by LEFT(SHA-256([]), 16).
EMPTY_LARGE_BLOB = bytes.fromhex("8076be8b528d0075f7aae98d6fa57a6d3c")


@dataclass
class AuthenticatorOptions:
    """What varies between simulated devices."""

    model: Model
    resident_capacity: int = 50
    max_msg_size: int = 2048
    max_large_blob: int = 4096
    attestation: str = "packed"


@dataclass
class _AssertionQueue:
    """What getNextAssertion continues from."""

    credentials: list[Credential]
    rp_id: str
    client_data_hash: bytes
    flags: int
    extensions: GetAssertionExtensions = field(repr=False)
    hmac_request: HmacRequest | None = field(repr=False)
    uv: bool
    started: float
    total: int


@dataclass
class _Enumeration:
    kind: str
    items: list[Any]
    started: float


@dataclass
class _BlobWrite:
    expected_length: int
    buffer: bytearray = field(default_factory=bytearray)


def _get(params: Mapping[Any, Any], key: Any, kind: type, required: bool = False) -> Any:
    value = params.get(key)
    if value is None:
        if required:
            raise ChipError(Status.MISSING_PARAMETER, f"parameter {key!r}")
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ChipError(Status.CBOR_UNEXPECTED_TYPE, f"parameter {key!r}")
    return value


def _options(params: Mapping[Any, Any], key: int) -> dict[str, bool]:
    raw = _get(params, key, dict)
    if raw is None:
        return {}
    for value in raw.values():
        if not isinstance(value, bool):
            raise ChipError(Status.CBOR_UNEXPECTED_TYPE, "option values are booleans")
    return {k: v for k, v in raw.items() if isinstance(k, str)}


def _descriptors(params: Mapping[Any, Any], key: int) -> list[bytes]:
    raw = _get(params, key, list)
    if raw is None:
        return []
    ids = []
    for entry in raw:
        if not isinstance(entry, dict):
            raise ChipError(Status.CBOR_UNEXPECTED_TYPE, "credential descriptor")
        kind = _get(entry, "type", str, required=True)
        cred_id = _get(entry, "id", bytes, required=True)
        if kind == "public-key":
            ids.append(cred_id)
    return ids


def _user(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ChipError(Status.CBOR_UNEXPECTED_TYPE, "user")
    user_id = _get(value, "id", bytes, required=True)
    if len(user_id) > MAX_USER_ID_LENGTH:
        raise ChipError(Status.INVALID_PARAMETER, "user id too long")
    user: dict[str, Any] = {"id": user_id}
    for name in ("name", "displayName"):
        text = _get(value, name, str)
        if text is not None:
            user[name] = text
    return user


class Authenticator:
    """The CTAP2 command set over one device's state, PIN, button and attestation."""

    def __init__(
        self,
        state: ChipState,
        vault: CredentialVault,
        client_pin: ClientPin,
        button: Button,
        clock: Clock,
        batch: BatchAttestation,
        options: AuthenticatorOptions,
    ) -> None:
        self.state = state
        self.vault = vault
        self.client_pin = client_pin
        self.button = button
        self.clock = clock
        self.batch = batch
        self.options = options
        self.model = options.model
        self.booted_at = clock.monotonic()
        self._assertions: _AssertionQueue | None = None
        #: The RP and the credential enumerations in progress, kept apart so that a host may
        #: list each RP's credentials between enumerateRPsGetNextRP calls.
        self._enumerations: dict[str, _Enumeration] = {}
        self._blob_write: _BlobWrite | None = None
        model = self.model
        handlers: dict[int, Callable[[Mapping[Any, Any], Activity], dict[Any, Any]]] = {
            Cmd.MAKE_CREDENTIAL: self.make_credential,
            Cmd.GET_ASSERTION: self.get_assertion,
            Cmd.GET_INFO: self.get_info,
            Cmd.CLIENT_PIN: self.client_pin_command,
            Cmd.RESET: self.reset,
            Cmd.GET_NEXT_ASSERTION: self.get_next_assertion,
            Cmd.CREDENTIAL_MANAGEMENT_PRE: self.credential_management_pre,
            Cmd.SELECTION: self.selection,
        }
        if model.credential_management:
            handlers[Cmd.CREDENTIAL_MANAGEMENT] = self.credential_management
        if model.large_blobs:
            handlers[Cmd.LARGE_BLOBS] = self.large_blobs
        if model.config:
            handlers[Cmd.CONFIG] = self.config
        self._handlers = handlers if model.ctap2 else {}

    def __repr__(self) -> str:
        return f"Authenticator(model={self.model.key!r})"

    def power_up(self) -> None:
        """Per-boot state starts afresh and the 10-second reset window opens again."""
        self.booted_at = self.clock.monotonic()
        self._assertions = None
        self._enumerations = {}
        self._blob_write = None
        self.client_pin.power_up()

    # -- dispatch --------------------------------------------------------------------------

    def handle(self, request: bytes, activity: Activity) -> bytes:
        """One CTAPHID_CBOR message in, one out: status byte plus canonical CBOR."""
        try:
            if not request:
                raise ChipError(Status.INVALID_LENGTH, "empty request")
            handler = self._handlers.get(request[0])
            if handler is None:
                raise ChipError(Status.INVALID_COMMAND, f"command 0x{request[0]:02x}")
            params: Any = cbor.decode(request[1:]) if len(request) > 1 else {}
            if not isinstance(params, dict):
                raise ChipError(Status.CBOR_UNEXPECTED_TYPE, "request is not a map")
            if request[0] != Cmd.GET_NEXT_ASSERTION:
                self._assertions = None
            if request[0] not in (Cmd.CREDENTIAL_MANAGEMENT, Cmd.CREDENTIAL_MANAGEMENT_PRE):
                self._enumerations = {}
            result = handler(params, activity)
        except ChipError as exc:
            log.debug("CTAP2 command failed: %s", exc.code.name)
            return bytes([exc.code])
        if not result:
            return b"\x00"
        return b"\x00" + cbor.encode(result)

    # -- getInfo ---------------------------------------------------------------------------

    def remaining_resident(self) -> int:
        return max(self.options.resident_capacity - len(self.state.residents), 0)

    def get_info(self, params: Mapping[Any, Any], activity: Activity) -> dict[Any, Any]:
        model = self.model
        always_uv = self.state.always_uv
        versions = [v for v in model.versions if not (always_uv and v == "U2F_V2")]
        options: dict[str, bool] = {"rk": True, "up": True, "plat": False}
        if model.pin_protocols:
            options["clientPin"] = self.client_pin.is_set
        if model.credential_management:
            options["credMgmt"] = True
        else:
            options["credentialMgmtPreview"] = True
        if model.large_blobs:
            options["largeBlobs"] = True
        if model.permissions:
            options["pinUvAuthToken"] = True
        if model.config:
            options["setMinPINLength"] = True
            options["authnrCfg"] = True
            options["alwaysUv"] = always_uv
        if model.make_cred_uv_not_required:
            options["makeCredUvNotRqd"] = not always_uv
        if model.enterprise_attestation:
            options["ep"] = self.state.enterprise_attestation
        if model.persistent_token:
            options["perCredMgmtRO"] = True
        info: dict[int, Any] = {
            Info.VERSIONS: versions,
            Info.EXTENSIONS: list(model.extensions),
            Info.AAGUID: model.aaguid,
            Info.OPTIONS: options,
            Info.MAX_MSG_SIZE: self.options.max_msg_size,
            Info.PIN_UV_AUTH_PROTOCOLS: list(model.pin_protocols),
            Info.MAX_CREDENTIAL_COUNT_IN_LIST: model.max_creds_in_list,
            Info.MAX_CREDENTIAL_ID_LENGTH: model.max_cred_id_length,
            Info.TRANSPORTS: ["usb"],
            Info.ALGORITHMS: [{"alg": alg, "type": "public-key"} for alg in model.algorithms],
        }
        if model.large_blobs:
            info[Info.MAX_SERIALIZED_LARGE_BLOB_ARRAY] = self.options.max_large_blob
        if model.config:
            info[Info.FORCE_PIN_CHANGE] = self.state.force_pin_change
            info[Info.MIN_PIN_LENGTH] = self.state.min_pin_length
        info[Info.FIRMWARE_VERSION] = model.firmware_version
        if model.extension("credBlob"):
            info[Info.MAX_CRED_BLOB_LENGTH] = min(model.max_cred_blob_length, MAX_CRED_BLOB_LENGTH)
        if model.extension("minPinLength"):
            info[Info.MAX_RP_IDS_FOR_SET_MIN_PIN_LENGTH] = model.max_rp_ids_for_min_pin
        if model.permissions:
            info[Info.REMAINING_DISCOVERABLE_CREDENTIALS] = self.remaining_resident()
        return info

    # -- shared steps ----------------------------------------------------------------------

    def _verify_user(
        self,
        activity: Activity,
        *,
        rp_id: str,
        client_data_hash: bytes,
        auth_param: Any,
        protocol_version: Any,
        options: Mapping[str, bool],
        permission: int,
        uv_required: bool,
    ) -> bool:
        """The PIN/UV preamble makeCredential and getAssertion share (CTAP 2.1 §6.1.2 steps
        1-2 and 11, §6.2.2 steps 1-2 and 6): the zero-length probe, the protocol, the uv option,
        then the pinUvAuthParam or, without one, whether user verification was due. True when
        the user was verified."""
        if auth_param is not None and not isinstance(auth_param, bytes):
            raise ChipError(Status.CBOR_UNEXPECTED_TYPE, "pinUvAuthParam")
        if isinstance(auth_param, bytes) and len(auth_param) == 0 and self.model.pin_protocols:
            # A zero-length pinUvAuthParam asks "is a PIN set?" after a touch (step 1).
            activity.wait_for_touch(self.button, "select", rp_id)
            if self.client_pin.is_set:
                raise ChipError(Status(self.model.pin_probe_error), "PIN is set")
            raise ChipError(Status.PIN_NOT_SET, "no PIN")
        if auth_param is not None:
            if protocol_version is None:
                raise ChipError(Status.MISSING_PARAMETER, "pinUvAuthProtocol")
            self.client_pin.protocol(protocol_version)
        if options.get("uv") is True:
            raise ChipError(Status.INVALID_OPTION, "no built-in user verification")
        if auth_param is not None:
            self.client_pin.verify_param(
                protocol_version, client_data_hash, auth_param, permission, rp_id
            )
            return True
        if self.state.always_uv or uv_required:
            if self.client_pin.is_set:
                raise ChipError(Status.PUAT_REQUIRED, "pinUvAuthParam required")
            raise ChipError(Status.PIN_NOT_SET, "user verification required but no PIN")
        return False

    def _uv_required_error(self) -> ChipError:
        if self.client_pin.is_set:
            return ChipError(Status.PUAT_REQUIRED, "pinUvAuthParam required")
        return ChipError(Status.PIN_NOT_SET, "user verification required but no PIN")

    def _sign_counter(self) -> bytes:
        return struct.pack(">I", self.state.next_counter())

    def _hmac_request(self, request: Mapping[Any, Any] | None) -> HmacRequest | None:
        if request is None:
            return None
        return check_hmac_secret(request, self.client_pin, self.model.bad_salt_auth_error)

    # -- makeCredential --------------------------------------------------------------------

    def make_credential(self, params: Mapping[Any, Any], activity: Activity) -> dict[Any, Any]:
        client_data_hash = _get(params, MakeCredential.CLIENT_DATA_HASH, bytes, required=True)
        rp = _get(params, MakeCredential.RP, dict, required=True)
        if params.get(MakeCredential.USER) is None:
            raise ChipError(Status.MISSING_PARAMETER, "user")
        user = _user(params[MakeCredential.USER])
        cred_params = _get(params, MakeCredential.PUB_KEY_CRED_PARAMS, list, required=True)
        exclude = _descriptors(params, MakeCredential.EXCLUDE_LIST)
        extensions = MakeCredentialExtensions.parse(
            params.get(MakeCredential.EXTENSIONS), self.model.extensions
        )
        options = _options(params, MakeCredential.OPTIONS)
        enterprise = _get(params, MakeCredential.ENTERPRISE_ATTESTATION, int)
        rp_id = _get(rp, "id", str, required=True)
        rp_name = _get(rp, "name", str)
        if enterprise is not None:
            if not (self.model.enterprise_attestation and self.state.enterprise_attestation):
                raise ChipError(Status.INVALID_PARAMETER, "enterprise attestation not enabled")
            if enterprise not in (1, 2):
                raise ChipError(Status.INVALID_OPTION, "enterpriseAttestation is 1 or 2")

        alg = None
        for entry in cred_params:
            if not isinstance(entry, dict):
                raise ChipError(Status.CBOR_UNEXPECTED_TYPE, "pubKeyCredParams entry")
            kind = _get(entry, "type", str, required=True)
            entry_alg = _get(entry, "alg", int, required=True)
            if alg is None and kind == "public-key" and entry_alg in self.model.algorithms:
                alg = entry_alg
        if alg is None:
            raise ChipError(Status.UNSUPPORTED_ALGORITHM, "no supported algorithm")
        if options.get("up") is False or ("up" in options and self.model.ctap20_checks):
            raise ChipError(Status.INVALID_OPTION, "up is not a makeCredential option here")
        if self.model.ctap20_checks:
            for entity in (rp, params[MakeCredential.USER]):
                _get(entity, "icon", str)
        resident = options.get("rk", False)

        uv = self._verify_user(
            activity,
            rp_id=rp_id,
            client_data_hash=client_data_hash,
            auth_param=params.get(MakeCredential.PIN_UV_AUTH_PARAM),
            protocol_version=params.get(MakeCredential.PIN_UV_AUTH_PROTOCOL),
            options=options,
            permission=PERM_MC,
            uv_required=self.client_pin.is_set
            and (resident or not self.model.make_cred_uv_not_required),
        )

        rp_id_hash = hashlib.sha256(rp_id.encode()).digest()
        for cred_id in exclude:
            found = self._open(cred_id, rp_id_hash)
            if found is None:
                continue
            if found.cred_protect == CRED_PROTECT_REQUIRED and not uv:
                continue
            activity.wait_for_touch(self.button, "excluded", rp_id)
            raise ChipError(Status.CREDENTIAL_EXCLUDED, "credential excluded")

        if extensions.large_blob_key and not resident:
            raise ChipError(Status.INVALID_OPTION, "largeBlobKey needs a resident credential")
        hmac_request = self._hmac_request(extensions.hmac_secret_mc)
        replaces = None
        if resident:
            replaces = self._resident_for_user(rp_id_hash, user["id"])
            if replaces is None and self.remaining_resident() <= 0:
                raise ChipError(Status.KEY_STORE_FULL, "no room for resident credentials")

        activity.wait_for_touch(self.button, "register", rp_id)

        credential = self.vault.create(
            rp_id_hash,
            alg,
            resident=resident,
            cred_protect=extensions.cred_protect or CRED_PROTECT_OPTIONAL,
            hmac_secret=extensions.hmac_secret,
            cred_blob=extensions.storable_blob(),
            third_party_payment=extensions.third_party_payment,
        )
        large_blob_key = secrets.token_bytes(32) if extensions.large_blob_key else None
        if resident:
            record: dict[str, Any] = {
                "rp": {"id": rp_id, **({"name": rp_name} if rp_name is not None else {})},
                "rp_hash": rp_id_hash,
                "user": user,
                "created": self.state.counter + 1,
            }
            if large_blob_key is not None:
                record["large_blob_key"] = large_blob_key
            self.state.put_resident(credential.id, record, replaces)

        ext_out = extensions.outputs(
            credential, rp_id, self.state.min_pin_length, self.state.min_pin_rp_ids
        )
        if hmac_request is not None and credential.hmac_secret:
            ext_out["hmac-secret-mc"] = hmac_secret_output(self.vault, credential, uv, hmac_request)
        flags = FLAG_UP | FLAG_AT | (FLAG_UV if uv else 0) | (FLAG_ED if ext_out else 0)
        cose = cbor.encode(credential.cose_public_key())
        auth_data = (
            rp_id_hash
            + bytes([flags])
            + self._sign_counter()
            + self.model.aaguid
            + struct.pack(">H", len(credential.id))
            + credential.id
            + cose
            + (cbor.encode(ext_out) if ext_out else b"")
        )
        enterprise_used = enterprise == 2 or (
            enterprise == 1 and rp_id in self.model.enterprise_rp_ids
        )
        if enterprise_used:
            fmt, statement = self.enterprise_batch().packed(auth_data, client_data_hash)
        elif self.options.attestation == "none":
            fmt, statement = none_statement()
        else:
            fmt, statement = self.batch.packed(auth_data, client_data_hash)
        response: dict[Any, Any] = {
            MakeCredentialResponse.FMT: fmt,
            MakeCredentialResponse.AUTH_DATA: auth_data,
            MakeCredentialResponse.ATT_STMT: statement,
        }
        if enterprise_used:
            response[MakeCredentialResponse.EP_ATT] = True
        if large_blob_key is not None:
            response[MakeCredentialResponse.LARGE_BLOB_KEY] = large_blob_key
        return response

    def enterprise_batch(self) -> BatchAttestation:
        """This device's own enterprise attestation key, made on first use (§7.1)."""
        return enterprise_for(self.model, self.state)

    def _open(self, cred_id: bytes, rp_id_hash: bytes) -> Credential | None:
        credential = self.vault.open(cred_id, rp_id_hash)
        if credential is not None and credential.resident and cred_id not in self.state.residents:
            return None  # deleted, or wiped by a reset
        return credential

    def _resident_for_user(self, rp_id_hash: bytes, user_id: bytes) -> bytes | None:
        for cred_id, record in self.state.residents.items():
            if bytes_eq(record["rp_hash"], rp_id_hash) and bytes_eq(record["user"]["id"], user_id):
                return cred_id
        return None

    # -- getAssertion ----------------------------------------------------------------------

    def get_assertion(self, params: Mapping[Any, Any], activity: Activity) -> dict[Any, Any]:
        rp_id = _get(params, GetAssertion.RP_ID, str, required=True)
        client_data_hash = _get(params, GetAssertion.CLIENT_DATA_HASH, bytes, required=True)
        allow = _descriptors(params, GetAssertion.ALLOW_LIST)
        extensions = GetAssertionExtensions.parse(
            params.get(GetAssertion.EXTENSIONS), self.model.extensions
        )
        options = _options(params, GetAssertion.OPTIONS)
        if "rk" in options and not self.model.ctap20_checks:
            raise ChipError(Status.UNSUPPORTED_OPTION, "rk is not an assertion option")
        if len(params.get(GetAssertion.ALLOW_LIST) or []) > self.model.max_creds_in_list:
            raise ChipError(Status.LIMIT_EXCEEDED, "allowList too long")
        up = options.get("up", True)

        uv = self._verify_user(
            activity,
            rp_id=rp_id,
            client_data_hash=client_data_hash,
            auth_param=params.get(GetAssertion.PIN_UV_AUTH_PARAM),
            protocol_version=params.get(GetAssertion.PIN_UV_AUTH_PROTOCOL),
            options=options,
            permission=PERM_GA,
            uv_required=False,
        )

        rp_id_hash = hashlib.sha256(rp_id.encode()).digest()
        found: list[Credential] = []
        if allow:
            for cred_id in allow:
                credential = self._open(cred_id, rp_id_hash)
                if credential is None:
                    continue
                if credential.cred_protect == CRED_PROTECT_REQUIRED and not uv:
                    continue
                found = [credential]
                break
        else:
            residents = sorted(
                (
                    (record["created"], cred_id)
                    for cred_id, record in self.state.residents.items()
                    if bytes_eq(record["rp_hash"], rp_id_hash)
                ),
                reverse=True,
            )
            for _, cred_id in residents:
                credential = self._open(cred_id, rp_id_hash)
                if credential is None:
                    continue
                if credential.cred_protect >= CRED_PROTECT_OPTIONAL_WITH_LIST and not uv:
                    continue
                found.append(credential)
        hmac_request = self._hmac_request(extensions.hmac_secret)
        if not found:
            raise ChipError(Status.NO_CREDENTIALS, "no credentials")
        if up:
            activity.wait_for_touch(self.button, "authenticate", rp_id)
        flags = (FLAG_UP if up else 0) | (FLAG_UV if uv else 0)
        queue = _AssertionQueue(
            credentials=found[1:],
            rp_id=rp_id,
            client_data_hash=client_data_hash,
            flags=flags,
            extensions=extensions,
            hmac_request=hmac_request,
            uv=uv,
            started=self.clock.monotonic(),
            total=len(found),
        )
        response = self._assertion(found[0], queue, first=True)
        if queue.credentials:
            self._assertions = queue
        return response

    def _assertion(
        self, credential: Credential, queue: _AssertionQueue, *, first: bool
    ) -> dict[Any, Any]:
        ext_out = queue.extensions.outputs(credential, self.vault, queue.uv, queue.hmac_request)
        flags = queue.flags | (FLAG_ED if ext_out else 0)
        auth_data = (
            credential.rp_id_hash
            + bytes([flags])
            + self._sign_counter()
            + (cbor.encode(ext_out) if ext_out else b"")
        )
        response: dict[Any, Any] = {
            GetAssertionResponse.CREDENTIAL: {"id": credential.id, "type": "public-key"},
            GetAssertionResponse.AUTH_DATA: auth_data,
            GetAssertionResponse.SIGNATURE: credential.sign(auth_data + queue.client_data_hash),
        }
        record = self.state.residents.get(credential.id)
        if record is not None:
            # Names identify the user: they go out only after user verification, and only when
            # the user has to choose among several accounts (§6.2.2, member user (0x04)).
            user = record["user"]
            names = queue.uv and queue.total > 1
            response[GetAssertionResponse.USER] = dict(user) if names else {"id": user["id"]}
            if first and queue.total > 1:
                response[GetAssertionResponse.NUMBER_OF_CREDENTIALS] = queue.total
        if queue.extensions.large_blob_key and record is not None:
            key = record.get("large_blob_key")
            if key is not None:
                response[GetAssertionResponse.LARGE_BLOB_KEY] = key
        return response

    def get_next_assertion(self, params: Mapping[Any, Any], activity: Activity) -> dict[Any, Any]:
        queue = self._assertions
        if queue is None or not queue.credentials:
            raise ChipError(Status.NOT_ALLOWED, "no assertion to continue")
        if self.clock.monotonic() - queue.started > NEXT_ASSERTION_WINDOW:
            self._assertions = None
            raise ChipError(Status.NOT_ALLOWED, "getNextAssertion timer expired")
        credential = queue.credentials.pop(0)
        queue.started = self.clock.monotonic()
        response = self._assertion(credential, queue, first=False)
        if not queue.credentials:
            self._assertions = None
        return response

    # -- clientPIN, reset, selection -------------------------------------------------------

    def client_pin_command(self, params: Mapping[Any, Any], activity: Activity) -> dict[Any, Any]:
        if not self.model.pin_protocols:
            raise ChipError(Status.INVALID_COMMAND, "no clientPIN on this model")
        return self.client_pin.command(params)

    def reset(self, params: Mapping[Any, Any], activity: Activity) -> dict[Any, Any]:
        if self.clock.monotonic() - self.booted_at > RESET_WINDOW:
            raise ChipError(Status.NOT_ALLOWED, "reset only within 10 s of power-up")
        activity.wait_for_touch(self.button, "reset", None)
        self.state.factory_reset()
        self.vault.forget()
        self.client_pin.power_up()
        return {}

    def selection(self, params: Mapping[Any, Any], activity: Activity) -> dict[Any, Any]:
        activity.wait_for_touch(self.button, "select", None)
        return {}

    # -- credentialManagement --------------------------------------------------------------

    def credential_management_pre(
        self, params: Mapping[Any, Any], activity: Activity
    ) -> dict[Any, Any]:
        """The CTAP 2.1-PRE command (0x41): the same subcommands, and tokens from the legacy
        getPinToken count, as 2.1-PRE had no permissions."""
        return self._credential_management(params, legacy=True)

    def credential_management(
        self, params: Mapping[Any, Any], activity: Activity
    ) -> dict[Any, Any]:
        # A key without permissions (CTAP 2.1-PRE) takes its only kind of token here too.
        return self._credential_management(params, legacy=not self.model.permissions)

    def _credential_management(self, params: Mapping[Any, Any], *, legacy: bool) -> dict[Any, Any]:
        sub = _get(params, CredentialManagement.SUB_COMMAND, int, required=True)
        sub_params = _get(params, CredentialManagement.SUB_COMMAND_PARAMS, dict)
        if sub == CredentialManagementSub.ENUMERATE_RPS_NEXT:
            return self._enumerate_next("rps")
        if sub == CredentialManagementSub.ENUMERATE_CREDENTIALS_NEXT:
            return self._enumerate_next("creds")
        if sub not in _SUBS:
            raise ChipError(Status.INVALID_SUBCOMMAND, "credentialManagement subcommand")
        auth_param = _get(params, CredentialManagement.PIN_UV_AUTH_PARAM, bytes, required=True)
        message = bytes([sub]) + (cbor.encode(sub_params) if sub_params is not None else b"")
        protocol_version = params.get(CredentialManagement.PIN_UV_AUTH_PROTOCOL)
        rp_bound: str | None
        if sub in _READ_ONLY_SUBS and self.client_pin.verify_persistent(
            protocol_version, message, auth_param
        ):
            rp_bound = None
        else:
            token = self.client_pin.verify_param(
                protocol_version, message, auth_param, PERM_CM, None, legacy_ok=legacy
            )
            rp_bound = token.rp_id
        if sub == CredentialManagementSub.GET_CREDS_METADATA:
            return {
                CredentialManagementResponse.EXISTING_RESIDENT_CREDENTIALS_COUNT: len(
                    self.state.residents
                ),
                CredentialManagementResponse.MAX_POSSIBLE_REMAINING_RESIDENT_CREDENTIALS_COUNT: (
                    self.remaining_resident()
                ),
            }
        if sub == CredentialManagementSub.ENUMERATE_RPS_BEGIN:
            return self._enumerate_rps()
        if sub_params is None:
            raise ChipError(Status.MISSING_PARAMETER, "subCommandParams")
        if sub == CredentialManagementSub.ENUMERATE_CREDENTIALS_BEGIN:
            rp_id_hash = _get(sub_params, CredentialManagementParam.RP_ID_HASH, bytes, True)
            if rp_bound is not None:
                wanted = hashlib.sha256(rp_bound.encode()).digest()
                if not bytes_eq(wanted, rp_id_hash):
                    raise ChipError(Status.PIN_AUTH_INVALID, "token bound to another RP")
            return self._enumerate_credentials(rp_id_hash)
        descriptor = _get(sub_params, CredentialManagementParam.CREDENTIAL_ID, dict, True)
        cred_id = _get(descriptor, "id", bytes, required=True)
        record = self.state.residents.get(cred_id)
        if record is None:
            raise ChipError(Status.NO_CREDENTIALS, "no such credential")
        if rp_bound is not None and rp_bound != record["rp"]["id"]:
            raise ChipError(Status.PIN_AUTH_INVALID, "token bound to another RP")
        if sub == CredentialManagementSub.DELETE_CREDENTIAL:
            self.state.delete_resident(cred_id)
            self.vault.forget()
            return {}
        user = _user(_get(sub_params, CredentialManagementParam.USER, dict, required=True))
        if not bytes_eq(user["id"], record["user"]["id"]):
            raise ChipError(Status.INVALID_PARAMETER, "user id differs")
        updated = dict(record)
        updated["user"] = user
        self.state.put_resident(cred_id, updated, None)
        return {}

    def _enumerate_rps(self) -> dict[Any, Any]:
        rps: dict[bytes, dict[str, Any]] = {}
        for record in self.state.residents.values():
            rps.setdefault(record["rp_hash"], record["rp"])
        if not rps:
            raise ChipError(Status.NO_CREDENTIALS, "no resident credentials")
        items: list[dict[int, Any]] = [
            {CredentialManagementResponse.RP: dict(rp), CredentialManagementResponse.RP_ID_HASH: h}
            for h, rp in sorted(rps.items())
        ]
        first: dict[int, Any] = dict(items[0])
        first[CredentialManagementResponse.TOTAL_RPS] = len(items)
        self._enumerations["rps"] = _Enumeration("rps", items[1:], self.clock.monotonic())
        return first

    def _enumerate_credentials(self, rp_id_hash: bytes) -> dict[Any, Any]:
        items = []
        for cred_id, record in sorted(self.state.residents.items(), key=lambda i: i[1]["created"]):
            if not bytes_eq(record["rp_hash"], rp_id_hash):
                continue
            credential = self.vault.open(cred_id, rp_id_hash)
            if credential is None:
                continue
            item: dict[Any, Any] = {
                CredentialManagementResponse.USER: dict(record["user"]),
                CredentialManagementResponse.CREDENTIAL_ID: {"id": cred_id, "type": "public-key"},
                CredentialManagementResponse.PUBLIC_KEY: credential.cose_public_key(),
                CredentialManagementResponse.CRED_PROTECT: credential.cred_protect,
            }
            if "large_blob_key" in record:
                item[CredentialManagementResponse.LARGE_BLOB_KEY] = record["large_blob_key"]
            if self.model.extension("thirdPartyPayment"):
                item[CredentialManagementResponse.THIRD_PARTY_PAYMENT] = (
                    credential.third_party_payment
                )
            items.append(item)
        if not items:
            raise ChipError(Status.NO_CREDENTIALS, "no credentials for this RP")
        first = dict(items[0])
        first[CredentialManagementResponse.TOTAL_CREDENTIALS] = len(items)
        self._enumerations["creds"] = _Enumeration("creds", items[1:], self.clock.monotonic())
        return first

    def _enumerate_next(self, kind: str) -> dict[Any, Any]:
        enumeration = self._enumerations.get(kind)
        if enumeration is None or not enumeration.items:
            raise ChipError(Status.NOT_ALLOWED, "nothing to continue")
        item: dict[Any, Any] = enumeration.items.pop(0)
        return item

    # -- largeBlobs ------------------------------------------------------------------------

    def large_blobs(self, params: Mapping[Any, Any], activity: Activity) -> dict[Any, Any]:
        get = _get(params, LargeBlobs.GET, int)
        data = _get(params, LargeBlobs.SET, bytes)
        offset = _get(params, LargeBlobs.OFFSET, int, required=True)
        length = _get(params, LargeBlobs.LENGTH, int)
        max_fragment = self.options.max_msg_size - 64
        if (get is None) == (data is None):
            raise ChipError(Status.INVALID_PARAMETER, "exactly one of get and set")
        stored = self.state.large_blob or EMPTY_LARGE_BLOB
        if get is not None:
            if length is not None:
                raise ChipError(Status.INVALID_PARAMETER, "length only with set")
            if get > max_fragment or get < 0:
                raise ChipError(Status.INVALID_LENGTH, "fragment too long")
            if offset > len(stored) or offset < 0:
                raise ChipError(Status.INVALID_PARAMETER, "offset past the end")
            return {LargeBlobsResponse.CONFIG: stored[offset : offset + get]}
        assert data is not None
        if len(data) > max_fragment:
            raise ChipError(Status.INVALID_LENGTH, "fragment too long")
        if offset == 0:
            if length is None:
                raise ChipError(Status.INVALID_PARAMETER, "length required at offset 0")
            if length > self.options.max_large_blob:
                raise ChipError(Status.LARGE_BLOB_STORAGE_FULL, "too large")
            if length < 17:
                raise ChipError(Status.INVALID_PARAMETER, "too short to be an array")
            self._blob_write = _BlobWrite(expected_length=length)
        elif length is not None:
            raise ChipError(Status.INVALID_PARAMETER, "length only at offset 0")
        write = self._blob_write
        if write is None or offset != len(write.buffer):
            raise ChipError(Status.INVALID_SEQ, "unexpected offset")
        if self.client_pin.is_set or self.state.always_uv:
            auth_param = _get(params, LargeBlobs.PIN_UV_AUTH_PARAM, bytes)
            if auth_param is None:
                raise ChipError(Status.PUAT_REQUIRED, "pinUvAuthParam required")
            message = (
                b"\xff" * 32
                + bytes([Cmd.LARGE_BLOBS, 0x00])
                + struct.pack("<I", offset)
                + hashlib.sha256(data).digest()
            )
            self.client_pin.verify_param(
                params.get(LargeBlobs.PIN_UV_AUTH_PROTOCOL), message, auth_param, PERM_LBW, None
            )
        if offset + len(data) > write.expected_length:
            raise ChipError(Status.INVALID_PARAMETER, "more data than announced")
        write.buffer += data
        if len(write.buffer) == write.expected_length:
            self._blob_write = None
            blob = bytes(write.buffer)
            if not bytes_eq(hashlib.sha256(blob[:-16]).digest()[:16], blob[-16:]):
                raise ChipError(Status.INTEGRITY_FAILURE, "large-blob array checksum")
            self.state.set_large_blob(blob)
        return {}

    # -- authenticatorConfig ---------------------------------------------------------------

    def config(self, params: Mapping[Any, Any], activity: Activity) -> dict[Any, Any]:
        sub = _get(params, Config.SUB_COMMAND, int, required=True)
        sub_params = _get(params, Config.SUB_COMMAND_PARAMS, dict)
        known = [ConfigSub.TOGGLE_ALWAYS_UV, ConfigSub.SET_MIN_PIN_LENGTH]
        if self.model.enterprise_attestation:
            known.append(ConfigSub.ENABLE_ENTERPRISE_ATTESTATION)
        if sub not in known:
            raise ChipError(Status.INVALID_SUBCOMMAND, "config subcommand")
        auth_param = _get(params, Config.PIN_UV_AUTH_PARAM, bytes)
        if (self.client_pin.is_set or self.state.always_uv) and auth_param is None:
            raise self._uv_required_error()
        if auth_param is not None:
            message = (
                b"\xff" * 32
                + bytes([Cmd.CONFIG, sub])
                + (cbor.encode(sub_params) if sub_params is not None else b"")
            )
            self.client_pin.verify_param(
                params.get(Config.PIN_UV_AUTH_PROTOCOL), message, auth_param, PERM_ACFG, None
            )
        if sub == ConfigSub.ENABLE_ENTERPRISE_ATTESTATION:
            self.state.enable_enterprise_attestation()
            return {}
        if sub == ConfigSub.TOGGLE_ALWAYS_UV:
            self.state.set_always_uv(not self.state.always_uv)
            return {}
        sub_params = sub_params or {}
        new_min = _get(sub_params, SetMinPinLength.NEW_MIN_PIN_LENGTH, int)
        rp_ids = _get(sub_params, SetMinPinLength.MIN_PIN_LENGTH_RP_IDS, list)
        force = _get(sub_params, SetMinPinLength.FORCE_CHANGE_PIN, bool) or False
        current = self.state.min_pin_length
        if new_min is None:
            new_min = current
        if new_min < current:
            raise ChipError(Status.PIN_POLICY_VIOLATION, "minimum PIN length only grows")
        if rp_ids is not None:
            if not all(isinstance(r, str) for r in rp_ids):
                raise ChipError(Status.CBOR_UNEXPECTED_TYPE, "minPinLengthRPIDs")
            if len(rp_ids) > self.model.max_rp_ids_for_min_pin:
                raise ChipError(Status.PIN_POLICY_VIOLATION, "too many RP IDs")
        if force and not self.client_pin.is_set:
            raise ChipError(Status.PIN_NOT_SET, "no PIN to change")
        if self.client_pin.is_set and new_min > self.state.pin_length:
            force = True
        self.state.set_pin_policy(
            new_min,
            list(rp_ids) if rp_ids is not None else self.state.min_pin_rp_ids,
            force or self.state.force_pin_change,
        )
        return {}
