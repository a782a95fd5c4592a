"""Simulated USB chip firmware: CTAPHID, CTAP1/U2F, CTAP 2.1."""

from __future__ import annotations

from firmware_sim.chip.attestation import DEFAULT_MODEL, Model
from firmware_sim.chip.connection import DeviceConnection
from firmware_sim.chip.device import ChipDevice
from firmware_sim.chip.errors import ChipError, Status
from firmware_sim.chip.presence import (
    AfterDelay,
    Always,
    AskCallback,
    Never,
    PresencePolicy,
    PresenceRequest,
    parse_policy,
)
from firmware_sim.chip.state import MemoryBackend, StoreBackend

__all__ = [
    "DEFAULT_MODEL",
    "AfterDelay",
    "Always",
    "AskCallback",
    "ChipDevice",
    "ChipError",
    "DeviceConnection",
    "MemoryBackend",
    "Model",
    "Never",
    "PresencePolicy",
    "PresenceRequest",
    "Status",
    "StoreBackend",
    "parse_policy",
]
