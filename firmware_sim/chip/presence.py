"""User presence: the simulated button, and the policies that stand in for the person touching it.

A real key blinks and waits for a finger. Here a *policy* decides — always, never, after a delay,
or by asking a callback — and :meth:`Button.touch` is the finger itself, which counts under any
policy. Waiting reads time only from the injected clock, so a ``FrozenClock`` makes a 30-second
timeout pass instantly in tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from authenticators.clock import Clock
from firmware_sim.chip.errors import ChipError, Status

#: How long a touch made before anyone asked stays valid (a real key latches a touch briefly).
TOUCH_LATCH_SECONDS = 5.0
#: How often a waiting request looks at the button, the cancel flag and the clock.
TICK_SECONDS = 0.02


@dataclass(frozen=True)
class PresenceRequest:
    """What the key is asking the user to confirm, handed to callback policies."""

    purpose: str
    rp_id: str | None
    elapsed: float


class PresencePolicy:
    """Decides, at each look at the button, whether the user touched (True), declined (False)
    or has not acted yet (None)."""

    spec = "custom"

    def decide(self, request: PresenceRequest) -> bool | None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<presence {self.spec}>"


class Always(PresencePolicy):
    """The user touches at once, every time."""

    spec = "always"

    def decide(self, request: PresenceRequest) -> bool | None:
        return True


class Never(PresencePolicy):
    """Nobody is there: requests time out unless :meth:`Button.touch` is called."""

    spec = "never"

    def decide(self, request: PresenceRequest) -> bool | None:
        return None


class AfterDelay(PresencePolicy):
    """The user touches ``ms`` milliseconds after the key starts asking."""

    def __init__(self, ms: int) -> None:
        if ms < 0:
            raise ValueError("delay must not be negative")
        self.ms = ms
        self.spec = f"delay:{ms}"

    def decide(self, request: PresenceRequest) -> bool | None:
        return True if request.elapsed * 1000.0 >= self.ms else None


class AskCallback(PresencePolicy):
    """Ask a function: True touches, False declines (``OPERATION_DENIED``), None waits."""

    spec = "callback"

    def __init__(self, callback: Callable[[PresenceRequest], bool | None]) -> None:
        self.callback = callback

    def decide(self, request: PresenceRequest) -> bool | None:
        return self.callback(request)


def parse_policy(spec: str) -> PresencePolicy:
    """``always``, ``never`` or ``delay:MS`` — the forms the command line accepts."""
    if spec == "always":
        return Always()
    if spec == "never":
        return Never()
    if spec.startswith("delay:"):
        value = spec[len("delay:") :]
        if value.isascii() and value.isdigit():
            return AfterDelay(int(value))
    raise ValueError(f"unknown presence policy {spec!r}; use always, never or delay:MS")


class Button:
    """The key's single button: a policy plus real touches, with a timeout on every wait."""

    def __init__(
        self,
        clock: Clock,
        policy: PresencePolicy | None = None,
        *,
        timeout: float = 30.0,
    ) -> None:
        self._clock = clock
        self.policy: PresencePolicy = policy or Always()
        self.timeout = timeout
        self._lock = threading.Lock()
        self._touched_at: float | None = None
        self._u2f_pending_since: float | None = None
        self.requests = 0

    def touch(self) -> None:
        """Press the button: satisfies the current request, or the next one soon after."""
        with self._lock:
            self._touched_at = self._clock.monotonic()

    def _take_touch(self) -> bool:
        with self._lock:
            touched = self._touched_at
            if touched is None:
                return False
            self._touched_at = None
            return self._clock.monotonic() - touched <= TOUCH_LATCH_SECONDS

    def wait(
        self,
        purpose: str,
        rp_id: str | None,
        cancelled: threading.Event,
        on_waiting: Callable[[], None] | None = None,
    ) -> None:
        """Block until the user touches; raise the CTAP2 error for timeout, cancel or refusal."""
        self.requests += 1
        start = self._clock.monotonic()
        announced = False
        while True:
            if self._take_touch():
                return
            elapsed = self._clock.monotonic() - start
            decision = self.policy.decide(PresenceRequest(purpose, rp_id, elapsed))
            if decision is True:
                return
            if decision is False:
                raise ChipError(Status.OPERATION_DENIED, "user declined")
            if cancelled.is_set():
                raise ChipError(Status.KEEPALIVE_CANCEL, "cancelled by the host")
            if elapsed >= self.timeout:
                raise ChipError(Status.USER_ACTION_TIMEOUT, "no touch")
            if not announced and on_waiting is not None:
                on_waiting()
                announced = True
            self._clock.sleep(min(TICK_SECONDS, max(self.timeout - elapsed, 0.0)))

    def check(self, purpose: str, rp_id: str | None) -> bool:
        """Non-blocking look, as U2F asks: the host retries while this says no."""
        self.requests += 1
        if self._take_touch():
            self._u2f_pending_since = None
            return True
        now = self._clock.monotonic()
        since = self._u2f_pending_since
        if since is None or now - since > self.timeout:
            since = self._u2f_pending_since = now
        decision = self.policy.decide(PresenceRequest(purpose, rp_id, now - since))
        if decision:
            self._u2f_pending_since = None
            return True
        return False


class Activity:
    """One command in progress: what keep-alives report and whether the host cancelled it."""

    PROCESSING = 1
    UP_NEEDED = 2

    def __init__(self) -> None:
        self.cancelled = threading.Event()
        self.status = Activity.PROCESSING

    def wait_for_touch(self, button: Button, purpose: str, rp_id: str | None) -> None:
        """Ask for a touch, reporting UPNEEDED in keep-alives while the key waits."""

        def waiting() -> None:
            self.status = Activity.UP_NEEDED

        try:
            button.wait(purpose, rp_id, self.cancelled, waiting)
        finally:
            self.status = Activity.PROCESSING
