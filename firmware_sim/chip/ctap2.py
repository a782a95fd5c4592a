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
from typing import Any

from authenticators.clock import Clock
from authenticators.ct import bytes_eq
from firmware_sim.chip import cbor
from firmware_sim.chip.attestation import BatchAttestation, Model, none_statement
from firmware_sim.chip.credentials import (
    MAX_CRED_BLOB_LENGTH,
    SUPPORTED_ALGORITHMS,
    Credential,
    CredentialVault,
)
from firmware_sim.chip.errors import ChipError, Status
from firmware_sim.chip.extensions import (
    CRED_PROTECT_OPTIONAL,
    CRED_PROTECT_OPTIONAL_WITH_LIST,
    CRED_PROTECT_REQUIRED,
    SUPPORTED,
    GetAssertionExtensions,
    MakeCredentialExtensions,
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

CMD_MAKE_CREDENTIAL = 0x01
CMD_GET_ASSERTION = 0x02
CMD_GET_INFO = 0x04
CMD_CLIENT_PIN = 0x06
CMD_RESET = 0x07
CMD_GET_NEXT_ASSERTION = 0x08
CMD_CREDENTIAL_MANAGEMENT = 0x0A
CMD_SELECTION = 0x0B
CMD_LARGE_BLOBS = 0x0C
CMD_CONFIG = 0x0D
CMD_CREDENTIAL_MANAGEMENT_PRE = 0x41

FLAG_UP = 0x01
FLAG_UV = 0x04
FLAG_AT = 0x40
FLAG_ED = 0x80

RESET_WINDOW = 10.0
NEXT_ASSERTION_WINDOW = 30.0
MAX_CREDENTIALS_IN_LIST = 16
MAX_CREDENTIAL_ID_LENGTH = 128
MAX_USER_ID_LENGTH = 64
MAX_RP_IDS_FOR_MIN_PIN = 8
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
    hmac_request: tuple[Any, bytes, bytes] | None = field(repr=False)
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
        self.booted_at = clock.monotonic()
        self._assertions: _AssertionQueue | None = None
        self._enumeration: _Enumeration | None = None
        self._blob_write: _BlobWrite | None = None
        self._handlers: dict[int, Callable[[Mapping[Any, Any], Activity], dict[Any, Any]]] = {
            CMD_MAKE_CREDENTIAL: self.make_credential,
            CMD_GET_ASSERTION: self.get_assertion,
            CMD_GET_INFO: self.get_info,
            CMD_CLIENT_PIN: self.client_pin_command,
            CMD_RESET: self.reset,
            CMD_GET_NEXT_ASSERTION: self.get_next_assertion,
            CMD_CREDENTIAL_MANAGEMENT: self.credential_management,
            CMD_CREDENTIAL_MANAGEMENT_PRE: self.credential_management,
            CMD_SELECTION: self.selection,
            CMD_LARGE_BLOBS: self.large_blobs,
            CMD_CONFIG: self.config,
        }

    def __repr__(self) -> str:
        return f"Authenticator(model={self.options.model.name!r})"

    def power_up(self) -> None:
        """Per-boot state starts afresh and the 10-second reset window opens again."""
        self.booted_at = self.clock.monotonic()
        self._assertions = None
        self._enumeration = None
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
            if request[0] != CMD_GET_NEXT_ASSERTION:
                self._assertions = None
            if request[0] not in (CMD_CREDENTIAL_MANAGEMENT, CMD_CREDENTIAL_MANAGEMENT_PRE):
                self._enumeration = None
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
        always_uv = self.state.always_uv
        versions = ["FIDO_2_0", "FIDO_2_1"] if always_uv else ["U2F_V2", "FIDO_2_0", "FIDO_2_1"]
        return {
            0x01: versions,
            0x02: list(SUPPORTED),
            0x03: self.options.model.aaguid,
            0x04: {
                "rk": True,
                "up": True,
                "plat": False,
                "clientPin": self.client_pin.is_set,
                "credMgmt": True,
                "largeBlobs": True,
                "pinUvAuthToken": True,
                "setMinPINLength": True,
                "makeCredUvNotRqd": not always_uv,
                "authnrCfg": True,
                "alwaysUv": always_uv,
            },
            0x05: self.options.max_msg_size,
            0x06: [2, 1],
            0x07: MAX_CREDENTIALS_IN_LIST,
            0x08: MAX_CREDENTIAL_ID_LENGTH,
            0x09: ["usb"],
            0x0A: [{"alg": alg, "type": "public-key"} for alg in SUPPORTED_ALGORITHMS],
            0x0B: self.options.max_large_blob,
            0x0C: self.state.force_pin_change,
            0x0D: self.state.min_pin_length,
            0x0E: self.options.model.firmware_version,
            0x0F: MAX_CRED_BLOB_LENGTH,
            0x10: MAX_RP_IDS_FOR_MIN_PIN,
            0x14: self.remaining_resident(),
        }

    # -- shared steps ----------------------------------------------------------------------

    def _pin_probe(self, param: Any, activity: Activity, rp_id: str | None) -> None:
        """A zero-length pinUvAuthParam asks "is a PIN set?" after a touch (§6.1.2 step 1)."""
        if isinstance(param, bytes) and len(param) == 0:
            activity.wait_for_touch(self.button, "select", rp_id)
            if self.client_pin.is_set:
                raise ChipError(Status.PIN_INVALID, "PIN is set")
            raise ChipError(Status.PIN_NOT_SET, "no PIN")

    def _uv_required_error(self) -> ChipError:
        if self.client_pin.is_set:
            return ChipError(Status.PUAT_REQUIRED, "pinUvAuthParam required")
        return ChipError(Status.PIN_NOT_SET, "user verification required but no PIN")

    def _sign_counter(self) -> bytes:
        return struct.pack(">I", self.state.next_counter())

    # -- makeCredential --------------------------------------------------------------------

    def make_credential(self, params: Mapping[Any, Any], activity: Activity) -> dict[Any, Any]:
        client_data_hash = _get(params, 1, bytes, required=True)
        rp = _get(params, 2, dict, required=True)
        if params.get(3) is None:
            raise ChipError(Status.MISSING_PARAMETER, "user")
        user = _user(params[3])
        cred_params = _get(params, 4, list, required=True)
        exclude = _descriptors(params, 5)
        extensions = MakeCredentialExtensions.parse(params.get(6))
        options = _options(params, 7)
        auth_param = params.get(8)
        if auth_param is not None and not isinstance(auth_param, bytes):
            raise ChipError(Status.CBOR_UNEXPECTED_TYPE, "pinUvAuthParam")
        protocol_version = params.get(9)
        if _get(params, 0x0A, int) is not None:
            raise ChipError(Status.INVALID_PARAMETER, "enterprise attestation not supported")
        rp_id = _get(rp, "id", str, required=True)
        rp_name = _get(rp, "name", str)

        self._pin_probe(auth_param, activity, rp_id)
        if auth_param is not None:
            if protocol_version is None:
                raise ChipError(Status.MISSING_PARAMETER, "pinUvAuthProtocol")
            self.client_pin.protocol(protocol_version)

        alg = None
        for entry in cred_params:
            if not isinstance(entry, dict):
                raise ChipError(Status.CBOR_UNEXPECTED_TYPE, "pubKeyCredParams entry")
            kind = _get(entry, "type", str, required=True)
            entry_alg = _get(entry, "alg", int, required=True)
            if alg is None and kind == "public-key" and entry_alg in SUPPORTED_ALGORITHMS:
                alg = entry_alg
        if alg is None:
            raise ChipError(Status.UNSUPPORTED_ALGORITHM, "no supported algorithm")

        if options.get("up") is False:
            raise ChipError(Status.INVALID_OPTION, "up=false is not allowed here")
        if options.get("uv") is True:
            raise ChipError(Status.INVALID_OPTION, "no built-in user verification")
        resident = options.get("rk", False)

        uv = False
        if auth_param is not None:
            self.client_pin.verify_param(
                protocol_version, client_data_hash, auth_param, PERM_MC, rp_id
            )
            uv = True
        elif self.state.always_uv or (self.client_pin.is_set and resident):
            raise self._uv_required_error()

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
        flags = FLAG_UP | FLAG_AT | (FLAG_UV if uv else 0) | (FLAG_ED if ext_out else 0)
        cose = cbor.encode(credential.cose_public_key())
        auth_data = (
            rp_id_hash
            + bytes([flags])
            + self._sign_counter()
            + self.options.model.aaguid
            + struct.pack(">H", len(credential.id))
            + credential.id
            + cose
            + (cbor.encode(ext_out) if ext_out else b"")
        )
        if self.options.attestation == "none":
            fmt, statement = none_statement()
        else:
            fmt, statement = self.batch.packed(auth_data, client_data_hash)
        response: dict[Any, Any] = {1: fmt, 2: auth_data, 3: statement}
        if large_blob_key is not None:
            response[5] = large_blob_key
        return response

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
        rp_id = _get(params, 1, str, required=True)
        client_data_hash = _get(params, 2, bytes, required=True)
        allow = _descriptors(params, 3)
        extensions = GetAssertionExtensions.parse(params.get(4))
        options = _options(params, 5)
        auth_param = params.get(6)
        if auth_param is not None and not isinstance(auth_param, bytes):
            raise ChipError(Status.CBOR_UNEXPECTED_TYPE, "pinUvAuthParam")
        protocol_version = params.get(7)

        self._pin_probe(auth_param, activity, rp_id)
        if auth_param is not None:
            if protocol_version is None:
                raise ChipError(Status.MISSING_PARAMETER, "pinUvAuthProtocol")
            self.client_pin.protocol(protocol_version)
        if "rk" in options:
            raise ChipError(Status.UNSUPPORTED_OPTION, "rk is not an assertion option")
        if options.get("uv") is True:
            raise ChipError(Status.INVALID_OPTION, "no built-in user verification")
        if len(params.get(3) or []) > MAX_CREDENTIALS_IN_LIST:
            raise ChipError(Status.LIMIT_EXCEEDED, "allowList too long")
        up = options.get("up", True)

        uv = False
        if auth_param is not None:
            self.client_pin.verify_param(
                protocol_version, client_data_hash, auth_param, PERM_GA, rp_id
            )
            uv = True
        elif self.state.always_uv:
            raise self._uv_required_error()

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
        hmac_request = extensions.check_hmac_secret(self.client_pin)
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
            1: {"id": credential.id, "type": "public-key"},
            2: auth_data,
            3: credential.sign(auth_data + queue.client_data_hash),
        }
        record = self.state.residents.get(credential.id)
        if record is not None:
            # Names identify the user, so they go out only after user verification (§6.2.2).
            user = record["user"]
            response[4] = dict(user) if queue.uv else {"id": user["id"]}
            if first and queue.total > 1:
                response[5] = queue.total
        if queue.extensions.large_blob_key and record is not None:
            key = record.get("large_blob_key")
            if key is not None:
                response[7] = key
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

    def credential_management(
        self, params: Mapping[Any, Any], activity: Activity
    ) -> dict[Any, Any]:
        sub = _get(params, 1, int, required=True)
        sub_params = _get(params, 2, dict)
        if sub in (0x03, 0x05):
            return self._enumerate_next("rps" if sub == 0x03 else "creds")
        if sub not in (0x01, 0x02, 0x04, 0x06, 0x07):
            raise ChipError(Status.INVALID_SUBCOMMAND, "credentialManagement subcommand")
        auth_param = _get(params, 4, bytes, required=True)
        message = bytes([sub]) + (cbor.encode(sub_params) if sub_params is not None else b"")
        token = self.client_pin.verify_param(params.get(3), message, auth_param, PERM_CM, None)
        if sub == 0x01:
            return {1: len(self.state.residents), 2: self.remaining_resident()}
        if sub == 0x02:
            return self._enumerate_rps()
        if sub_params is None:
            raise ChipError(Status.MISSING_PARAMETER, "subCommandParams")
        if sub == 0x04:
            rp_id_hash = _get(sub_params, 1, bytes, required=True)
            if token.rp_id is not None:
                wanted = hashlib.sha256(token.rp_id.encode()).digest()
                if not bytes_eq(wanted, rp_id_hash):
                    raise ChipError(Status.PIN_AUTH_INVALID, "token bound to another RP")
            return self._enumerate_credentials(rp_id_hash)
        descriptor = _get(sub_params, 2, dict, required=True)
        cred_id = _get(descriptor, "id", bytes, required=True)
        record = self.state.residents.get(cred_id)
        if record is None:
            raise ChipError(Status.NO_CREDENTIALS, "no such credential")
        if token.rp_id is not None and token.rp_id != record["rp"]["id"]:
            raise ChipError(Status.PIN_AUTH_INVALID, "token bound to another RP")
        if sub == 0x06:
            self.state.delete_resident(cred_id)
            self.vault.forget()
            return {}
        user = _user(_get(sub_params, 3, dict, required=True))
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
            {3: dict(rp), 4: rp_hash} for rp_hash, rp in sorted(rps.items())
        ]
        first: dict[int, Any] = dict(items[0])
        first[5] = len(items)
        self._enumeration = _Enumeration("rps", items[1:], self.clock.monotonic())
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
                6: dict(record["user"]),
                7: {"id": cred_id, "type": "public-key"},
                8: credential.cose_public_key(),
                0x0A: credential.cred_protect,
            }
            if "large_blob_key" in record:
                item[0x0B] = record["large_blob_key"]
            items.append(item)
        if not items:
            raise ChipError(Status.NO_CREDENTIALS, "no credentials for this RP")
        first = dict(items[0])
        first[9] = len(items)
        self._enumeration = _Enumeration("creds", items[1:], self.clock.monotonic())
        return first

    def _enumerate_next(self, kind: str) -> dict[Any, Any]:
        enumeration = self._enumeration
        if enumeration is None or enumeration.kind != kind or not enumeration.items:
            raise ChipError(Status.NOT_ALLOWED, "nothing to continue")
        item: dict[Any, Any] = enumeration.items.pop(0)
        return item

    # -- largeBlobs ------------------------------------------------------------------------

    def large_blobs(self, params: Mapping[Any, Any], activity: Activity) -> dict[Any, Any]:
        get = _get(params, 1, int)
        data = _get(params, 2, bytes)
        offset = _get(params, 3, int, required=True)
        length = _get(params, 4, int)
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
            return {1: stored[offset : offset + get]}
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
            auth_param = _get(params, 5, bytes)
            if auth_param is None:
                raise ChipError(Status.PUAT_REQUIRED, "pinUvAuthParam required")
            message = (
                b"\xff" * 32
                + b"\x0c\x00"
                + struct.pack("<I", offset)
                + hashlib.sha256(data).digest()
            )
            self.client_pin.verify_param(params.get(6), message, auth_param, PERM_LBW, None)
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
        sub = _get(params, 1, int, required=True)
        sub_params = _get(params, 2, dict)
        if sub not in (0x02, 0x03):
            raise ChipError(Status.INVALID_SUBCOMMAND, "config subcommand")
        auth_param = _get(params, 4, bytes)
        if (self.client_pin.is_set or self.state.always_uv) and auth_param is None:
            raise self._uv_required_error()
        if auth_param is not None:
            message = (
                b"\xff" * 32
                + bytes([CMD_CONFIG, sub])
                + (cbor.encode(sub_params) if sub_params is not None else b"")
            )
            self.client_pin.verify_param(params.get(3), message, auth_param, PERM_ACFG, None)
        if sub == 0x02:
            self.state.set_always_uv(not self.state.always_uv)
            return {}
        sub_params = sub_params or {}
        new_min = _get(sub_params, 1, int)
        rp_ids = _get(sub_params, 2, list)
        force = _get(sub_params, 3, bool) or False
        current = self.state.min_pin_length
        if new_min is None:
            new_min = current
        if new_min < current:
            raise ChipError(Status.PIN_POLICY_VIOLATION, "minimum PIN length only grows")
        if rp_ids is not None:
            if not all(isinstance(r, str) for r in rp_ids):
                raise ChipError(Status.CBOR_UNEXPECTED_TYPE, "minPinLengthRPIDs")
            if len(rp_ids) > MAX_RP_IDS_FOR_MIN_PIN:
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
