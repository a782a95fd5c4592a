"""The assembled authenticator: state, credentials, PIN, button, CTAP2, U2F and CTAPHID.

``ChipDevice`` is a whole security key in one object. Hosts reach it through
:meth:`ChipDevice.connect` (64-byte reports) exactly as they reach hardware; tests and the
emulator's controls use :meth:`touch`, :meth:`power_cycle` and :attr:`presence`.
"""

from __future__ import annotations

import threading

from authenticators.clock import Clock, SystemClock
from firmware_sim.chip.attestation import DEFAULT_MODEL, Model, batch_for
from firmware_sim.chip.connection import DeviceConnection
from firmware_sim.chip.credentials import CredentialVault
from firmware_sim.chip.ctap2 import Authenticator, AuthenticatorOptions
from firmware_sim.chip.ctaphid import MESSAGE_TIMEOUT, CtapHidTransport
from firmware_sim.chip.pin import ClientPin
from firmware_sim.chip.presence import Activity, Button, PresencePolicy, parse_policy
from firmware_sim.chip.state import ChipState, MemoryBackend, StateBackend
from firmware_sim.chip.u2f import U2F

ATTESTATION_FORMATS = ("packed", "none")


class ChipDevice:
    """A simulated CTAP 2.1 security key with a USB HID interface."""

    def __init__(
        self,
        *,
        backend: StateBackend | None = None,
        clock: Clock | None = None,
        presence: PresencePolicy | str | None = None,
        model: Model = DEFAULT_MODEL,
        attestation: str = "packed",
        resident_capacity: int = 50,
        max_msg_size: int | None = None,
        user_action_timeout: float = 30.0,
        message_timeout: float = MESSAGE_TIMEOUT,
        strict_channels: bool = False,
    ) -> None:
        if attestation not in ATTESTATION_FORMATS:
            raise ValueError(f"attestation must be one of {ATTESTATION_FORMATS}")
        max_msg_size = model.max_msg_size if max_msg_size is None else max_msg_size
        if resident_capacity < 0:
            raise ValueError("resident_capacity must not be negative")
        self.clock: Clock = clock or SystemClock()
        self.backend: StateBackend = backend or MemoryBackend()
        self.model = model
        self.state = ChipState(self.backend)
        self.batch = batch_for(model, self.backend)
        self.vault = CredentialVault(self.state)
        policy = parse_policy(presence) if isinstance(presence, str) else presence
        self.button = Button(self.clock, policy, timeout=user_action_timeout)
        self.client_pin = ClientPin(
            self.state,
            self.clock,
            versions=model.pin_protocols,
            permissions=model.permissions,
            persistent=model.persistent_token,
            retries_need_pin=model.retries_need_pin,
            block_on_auth_mismatch=model.block_on_auth_mismatch,
        )
        self.ctap2 = Authenticator(
            self.state,
            self.vault,
            self.client_pin,
            self.button,
            self.clock,
            self.batch,
            AuthenticatorOptions(
                model=model,
                resident_capacity=resident_capacity,
                max_msg_size=max_msg_size,
                attestation=attestation,
            ),
        )
        self.u2f = U2F(self.state, self.vault, self.button, self.batch)
        version = model.firmware_version
        self.transport = CtapHidTransport(
            self.clock,
            on_cbor=self._cbor,
            on_msg=self._msg,
            on_power_cycle=self.power_cycle,
            max_msg_size=max_msg_size,
            device_version=((version >> 16) & 0xFF, (version >> 8) & 0xFF, version & 0xFF),
            cbor=model.ctap2,
            strict_channels=strict_channels,
            message_timeout=message_timeout,
        )
        self._commands = threading.Lock()
        self.boots = 1

    def __repr__(self) -> str:
        return f"ChipDevice(model={self.model.key!r}, backend={self.backend!r})"

    def _cbor(self, payload: bytes, activity: Activity) -> bytes:
        with self._commands:
            return self.ctap2.handle(payload, activity)

    def _msg(self, payload: bytes, activity: Activity) -> bytes:
        with self._commands:
            return self.u2f.handle(payload)

    # -- the host's side ---------------------------------------------------------------------

    def connect(self) -> DeviceConnection:
        """Open the HID interface (a fresh reader of every report the device sends)."""
        return DeviceConnection(self.transport)

    # -- the physical world ------------------------------------------------------------------

    @property
    def presence(self) -> PresencePolicy:
        return self.button.policy

    @presence.setter
    def presence(self, policy: PresencePolicy | str) -> None:
        self.button.policy = parse_policy(policy) if isinstance(policy, str) else policy

    def touch(self) -> None:
        """Press the button."""
        self.button.touch()

    def power_cycle(self) -> None:
        """Unplug and replug: persistent state stays, per-boot state and channels go."""
        self.transport.power_off()
        with self._commands:
            self.ctap2.power_up()
            self.boots += 1

    def close(self) -> None:
        self.transport.close()
