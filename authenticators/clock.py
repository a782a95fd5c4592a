"""Injectable clocks: nothing in the library reads the time except through one of these."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for timeouts."""
        ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real time."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def __repr__(self) -> str:
        return "SystemClock()"


class FrozenClock:
    """A clock that moves only when told to; ``sleep`` advances it instantly."""

    def __init__(self, at: float = 1_700_000_000.0) -> None:
        self._now = float(at)
        self._mono = 0.0

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a frozen clock moves forward only; use set() to jump")
        self._now += seconds
        self._mono += seconds

    def set(self, at: float) -> None:
        self._now = float(at)

    def __repr__(self) -> str:
        return f"FrozenClock(at={self._now!r})"
