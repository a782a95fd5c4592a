"""A clock every worker shares: real time, moved by an offset or frozen, kept in the state.

The emulator control API freezes and moves it; each worker reads the row again after a short
cache time, so a change made through one worker is seen by all of them within that time (and at
once by the worker that made it).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from authenticators.store import Schema, Store

SCHEMA = Schema(
    "emulator_clock",
    [
        """
        CREATE TABLE emulator_clock (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            offset REAL NOT NULL,
            frozen_at REAL
        );
        INSERT INTO emulator_clock (id, offset, frozen_at) VALUES (1, 0.0, NULL)
        """
    ],
)


@dataclass(frozen=True)
class ClockSetting:
    offset: float = 0.0
    frozen_at: float | None = None

    def now(self, real: float) -> float:
        return self.frozen_at if self.frozen_at is not None else real + self.offset


class StateClock:
    """A :class:`~authenticators.clock.Clock` whose offset and freeze live in the store."""

    def __init__(self, store: Store, cache_seconds: float = 0.1) -> None:
        store.ensure(SCHEMA)
        self.store = store
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._setting = ClockSetting()
        self._read_at = float("-inf")

    def __repr__(self) -> str:
        return f"StateClock({self.store!r})"

    def setting(self) -> ClockSetting:
        mono = time.monotonic()
        with self._lock:
            if mono - self._read_at < self.cache_seconds:
                return self._setting
        with self.store.read() as conn:
            row = conn.execute("SELECT offset, frozen_at FROM emulator_clock").fetchone()
        setting = ClockSetting(float(row["offset"]), row["frozen_at"])
        with self._lock:
            self._setting, self._read_at = setting, mono
        return setting

    def now(self) -> float:
        return self.setting().now(time.time())

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    # -- control --------------------------------------------------------------------------------

    def _write(self, setting: ClockSetting) -> ClockSetting:
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE emulator_clock SET offset = ?, frozen_at = ? WHERE id = 1",
                (setting.offset, setting.frozen_at),
            )
        with self._lock:
            self._setting, self._read_at = setting, time.monotonic()
        return setting

    def freeze(self, at: float | None = None) -> ClockSetting:
        """Stop the clock at ``at`` (default: now as it stands)."""
        with self.store.transaction():
            self._read_at = float("-inf")
            current = self.setting()
            frozen = current.now(time.time()) if at is None else at
            return self._write(ClockSetting(current.offset, frozen))

    def unfreeze(self) -> ClockSetting:
        """Let the clock run again from where it stands."""
        with self.store.transaction():
            self._read_at = float("-inf")
            current = self.setting()
            if current.frozen_at is None:
                return current
            return self._write(ClockSetting(current.frozen_at - time.time(), None))

    def advance(self, seconds: float) -> ClockSetting:
        """Move the clock (frozen or running) by ``seconds``."""
        with self.store.transaction():
            self._read_at = float("-inf")
            current = self.setting()
            if current.frozen_at is not None:
                return self._write(ClockSetting(current.offset, current.frozen_at + seconds))
            return self._write(ClockSetting(current.offset + seconds, None))

    def set(self, at: float) -> ClockSetting:
        """Jump to ``at``, keeping the clock frozen or running as it is."""
        with self.store.transaction():
            self._read_at = float("-inf")
            current = self.setting()
            if current.frozen_at is not None:
                return self._write(ClockSetting(current.offset, at))
            return self._write(ClockSetting(at - time.time(), None))

    def reset(self) -> ClockSetting:
        return self._write(ClockSetting())
