"""The rules an app login follows, in one place so the phone, the screen and the verifier agree."""

from __future__ import annotations

from dataclasses import dataclass

MAX_ACTIVE_APPS = 3
MAX_PIN_FAILURES = 3
FRAME_INTERVAL = 0.5  # seconds each of the two QR frames stays on the screen
ROTATE_EVERY = 5.0  # seconds before the screen shows a fresh binding value
BINDING_GRACE = 15.0  # seconds an update still counts after it left the screen
CLOCK_SKEW = 30.0  # seconds a phone's clock may run ahead of the verifier's


@dataclass(frozen=True)
class AppPolicy:
    """``require_pin`` asks for the PIN (or biometrics) on every login, not only at level high."""

    max_active_apps: int = MAX_ACTIVE_APPS
    max_pin_failures: int = MAX_PIN_FAILURES
    require_pin: bool = False
    rotate_every: float = ROTATE_EVERY
    binding_grace: float = BINDING_GRACE
    clock_skew: float = CLOCK_SKEW

    def __post_init__(self) -> None:
        if self.max_active_apps < 1 or self.max_pin_failures < 1:
            raise ValueError("max_active_apps and max_pin_failures must be at least 1")
        if self.rotate_every <= 0 or self.binding_grace < 0 or self.clock_skew < 0:
            raise ValueError("rotate_every must be positive, binding_grace and clock_skew >= 0")
