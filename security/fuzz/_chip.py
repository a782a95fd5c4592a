"""A simulated chip for the harnesses: fresh for every input, with fixed device secrets so that
key handles and credential IDs in the corpus stay valid from run to run."""

from __future__ import annotations

import logging
from typing import Any

from authenticators.clock import FrozenClock
from firmware_sim.chip import ChipDevice, MemoryBackend, Status, cbor

T0 = 1_700_000_000.0
WRAP_KEY = bytes(range(32))
HMAC_KEY = bytes(range(32, 64))
KNOWN_STATUS = frozenset(int(s) for s in Status)


def fixed_device(**options: Any) -> ChipDevice:
    backend = MemoryBackend()
    backend.commit({"secrets": cbor.encode({"wrap": WRAP_KEY, "hmac": HMAC_KEY})})
    return ChipDevice(
        backend=backend,
        clock=FrozenClock(T0),
        presence="always",
        user_action_timeout=0.05,
        **options,
    )


class CrashLog(logging.Handler):
    """Collects the ERROR records the simulator writes when a command handler crashed."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


crash_log = CrashLog()
logging.getLogger("firmware_sim").addHandler(crash_log)
