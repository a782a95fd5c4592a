"""The host side of a token: python-fido2's CTAP2, PIN and credential management over the HAL.

:class:`ChipHost` wraps one opened :class:`~authenticators.hal.HalDevice`. Every call goes
through :meth:`ChipHost.guard`, so a token's refusal becomes :class:`ChipHostError` and an answer
that is not CTAP becomes ``HalError(GARBAGE)`` — both one line naming the device.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from threading import Event
from typing import Any

from fido2.ctap import STATUS, CtapError
from fido2.ctap2.base import AssertionResponse, AttestationResponse, Ctap2, Info
from fido2.ctap2.credman import CredentialManagement
from fido2.ctap2.pin import ClientPin, PinProtocol, PinProtocolV1, PinProtocolV2
from fido2.hid import CAPABILITY
from fido2.webauthn import PublicKeyCredentialDescriptor, PublicKeyCredentialType

from authenticators.chip.errors import ChipErrorCode, ChipHostError, from_ctap
from authenticators.hal import HalDevice, garbage_as_errors

ES256 = -7
EDDSA = -8
PERM = ClientPin.PERMISSION


@dataclass(frozen=True)
class StoredCredential:
    """A discoverable credential as credential management lists it."""

    rp_id: str
    credential_id: bytes
    user_id: bytes
    user_name: str | None
    display_name: str | None
    cred_protect: int | None

    def to_dict(self) -> dict[str, object]:
        return {
            "rp_id": self.rp_id,
            "credential_id": self.credential_id.hex(),
            "user_id": self.user_id.hex(),
            "user_name": self.user_name,
            "display_name": self.display_name,
            "cred_protect": self.cred_protect,
        }


class ChipHost:
    """One conversation with one token."""

    def __init__(
        self, device: HalDevice, on_touch_needed: Callable[[], None] | None = None
    ) -> None:
        self.device = device
        self.on_touch_needed = on_touch_needed
        self._ctap2: Ctap2 | None = None

    @property
    def uri(self) -> str:
        return self.device.uri

    def __repr__(self) -> str:
        return f"ChipHost({self.uri!r})"

    @contextmanager
    def guard(self, doing: str) -> Iterator[None]:
        """Translate what python-fido2 raises while ``doing`` something."""
        try:
            with garbage_as_errors(self.uri):
                yield
        except CtapError as exc:
            raise from_ctap(self.uri, exc, doing) from None

    def _keepalive(self, status: int) -> None:
        if status == STATUS.UPNEEDED and self.on_touch_needed is not None:
            self.on_touch_needed()

    # -- CTAP2 ---------------------------------------------------------------------------------

    @property
    def ctap2(self) -> Ctap2:
        if self._ctap2 is None:
            if not self.device.ctap.capabilities & CAPABILITY.CBOR:
                raise ChipHostError(
                    ChipErrorCode.NOT_SUPPORTED,
                    f"{self.uri}: the token does not speak CTAP2 (U2F only)",
                )
            with self.guard("read its getInfo"):
                self._ctap2 = Ctap2(self.device.ctap)
        return self._ctap2

    def refresh(self) -> None:
        """Forget cached getInfo (after a reset, a PIN change or a power cycle)."""
        self._ctap2 = None

    @property
    def info(self) -> Info:
        return self.ctap2.info

    def supports_ctap2(self) -> bool:
        try:
            _ = self.ctap2
        except ChipHostError as exc:
            if exc.code is ChipErrorCode.NOT_SUPPORTED:
                return False
            raise
        return True

    def pin_protocol(self) -> PinProtocol:
        protocols = self.info.pin_uv_protocols
        return PinProtocolV2() if 2 in protocols or not protocols else PinProtocolV1()

    def client_pin(self, protocol: PinProtocol | None = None) -> ClientPin:
        return ClientPin(self.ctap2, protocol or self.pin_protocol())

    def pin_is_set(self) -> bool:
        return bool(self.info.options.get("clientPin"))

    def pin_token(
        self, pin: str, permissions: ClientPin.PERMISSION, rp_id: str | None = None
    ) -> tuple[PinProtocol, bytes]:
        protocol = self.pin_protocol()
        with self.guard("accept the PIN"):
            token = self.client_pin(protocol).get_pin_token(pin, permissions, rp_id)
        return protocol, token

    def make_credential(
        self,
        rp_id: str,
        client_data_hash: bytes,
        user: Mapping[str, Any],
        *,
        pin: str | None = None,
        resident: bool = False,
        uv: bool = False,
        algorithms: tuple[int, ...] = (ES256, EDDSA),
        extensions: Mapping[str, Any] | None = None,
        exclude: list[bytes] | None = None,
        event: Event | None = None,
    ) -> AttestationResponse:
        pin_param = pin_proto = None
        if pin is not None:
            protocol, token = self.pin_token(pin, PERM.MAKE_CREDENTIAL, rp_id)
            pin_param, pin_proto = protocol.authenticate(token, client_data_hash), protocol.VERSION
        elif uv:
            raise ChipHostError(
                ChipErrorCode.PIN_REQUIRED,
                f"{self.uri}: user verification needs the PIN; give it with --pin",
            )
        options = {"rk": True} if resident else None
        with self.guard("make a credential"):
            return self.ctap2.make_credential(
                client_data_hash,
                {"id": rp_id, "name": rp_id},
                user,
                [{"type": "public-key", "alg": alg} for alg in algorithms],
                exclude_list=[{"type": "public-key", "id": c} for c in exclude or []] or None,
                extensions=extensions,
                options=options,
                pin_uv_param=pin_param,
                pin_uv_protocol=pin_proto,
                event=event,
                on_keepalive=self._keepalive,
            )

    def get_assertion(
        self,
        rp_id: str,
        client_data_hash: bytes,
        allow: list[bytes] | None = None,
        *,
        pin: str | None = None,
        up: bool = True,
        extensions: Mapping[str, Any] | None = None,
        event: Event | None = None,
    ) -> AssertionResponse:
        pin_param = pin_proto = None
        if pin is not None:
            protocol, token = self.pin_token(pin, PERM.GET_ASSERTION, rp_id)
            pin_param, pin_proto = protocol.authenticate(token, client_data_hash), protocol.VERSION
        options = None if up else {"up": False}
        with self.guard("sign in"):
            return self.ctap2.get_assertion(
                rp_id,
                client_data_hash,
                [{"type": "public-key", "id": c} for c in allow] if allow else None,
                extensions=extensions,
                options=options,
                pin_uv_param=pin_param,
                pin_uv_protocol=pin_proto,
                event=event,
                on_keepalive=self._keepalive,
            )

    # -- PIN -----------------------------------------------------------------------------------

    def _check_pin_shape(self, pin: str) -> None:
        size = len(pin.encode("utf-8"))
        minimum = max(self.info.min_pin_length, 4)
        if len(pin) < minimum or size > 63:
            raise ChipHostError(
                ChipErrorCode.PIN_POLICY,
                f"{self.uri}: a PIN here is {minimum} to 63 bytes long; choose another",
            )

    def set_pin(self, pin: str) -> None:
        self._check_pin_shape(pin)
        if self.pin_is_set():
            raise ChipHostError(
                ChipErrorCode.TOKEN_REFUSED,
                f"{self.uri}: a PIN is set already; change it with `mitid-emu chip pin change`",
            )
        with self.guard("set the PIN"):
            self.client_pin().set_pin(pin)
        self.refresh()

    def change_pin(self, old: str, new: str) -> None:
        self._check_pin_shape(new)
        if not self.pin_is_set():
            raise ChipHostError(
                ChipErrorCode.PIN_REQUIRED,
                f"{self.uri}: no PIN is set; set one with `mitid-emu chip pin set`",
            )
        with self.guard("change the PIN"):
            self.client_pin().change_pin(old, new)
        self.refresh()

    def pin_retries(self) -> int:
        with self.guard("tell its PIN retries"):
            return int(self.client_pin().get_pin_retries()[0])

    # -- credential management -----------------------------------------------------------------

    def credential_management(self, pin: str) -> CredentialManagement:
        if not CredentialManagement.is_supported(self.info):
            raise ChipHostError(
                ChipErrorCode.NOT_SUPPORTED,
                f"{self.uri}: the token does not offer credential management",
            )
        protocol, token = self.pin_token(pin, PERM.CREDENTIAL_MGMT)
        return CredentialManagement(self.ctap2, protocol, token)

    def credentials(self, pin: str) -> list[StoredCredential]:
        credman = self.credential_management(pin)
        found: list[StoredCredential] = []
        with self.guard("list its credentials"):
            if int(credman.get_metadata()[CredentialManagement.RESULT.EXISTING_CRED_COUNT]) == 0:
                return []
            for rp in credman.enumerate_rps():
                rp_entity = rp[CredentialManagement.RESULT.RP]
                rp_hash = rp[CredentialManagement.RESULT.RP_ID_HASH]
                for cred in credman.enumerate_creds(rp_hash):
                    user = cred[CredentialManagement.RESULT.USER]
                    found.append(
                        StoredCredential(
                            rp_id=str(rp_entity["id"]),
                            credential_id=bytes(
                                cred[CredentialManagement.RESULT.CREDENTIAL_ID]["id"]
                            ),
                            user_id=bytes(user["id"]),
                            user_name=user.get("name"),
                            display_name=user.get("displayName"),
                            cred_protect=cred.get(CredentialManagement.RESULT.CRED_PROTECT),
                        )
                    )
        return found

    def delete_credential(self, pin: str, credential_id: bytes) -> None:
        credman = self.credential_management(pin)
        with self.guard("delete the credential"):
            credman.delete_cred(
                PublicKeyCredentialDescriptor(
                    type=PublicKeyCredentialType.PUBLIC_KEY, id=credential_id
                )
            )

    # -- reset ---------------------------------------------------------------------------------

    def reset(self) -> None:
        """Factory reset: every credential and the PIN are gone (touch needed)."""
        with self.guard("reset"):
            self.ctap2.reset(on_keepalive=self._keepalive)
        self.refresh()


def rp_id_hash(rp_id: str) -> bytes:
    return hashlib.sha256(rp_id.encode()).digest()
