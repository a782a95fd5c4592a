"""The hardware of a code display or audio code reader: seed, clock, button, display, battery.

Codes are generated here with pyotp, independently of the verifier's own HOTP code, so the two
cross-check each other in tests.
"""

from __future__ import annotations

import base64
import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pyotp

from authenticators.errors import CodedError
from authenticators.otp import Algorithm, OtpParams

DEFAULT_DISPLAY_SECONDS = 30.0
DEFAULT_BATTERY_PRESSES = 20_000


class TokenFault(enum.Enum):
    BATTERY_EMPTY = "battery_empty"


class TokenHardwareError(CodedError[TokenFault]):
    """The token's hardware cannot do it (an empty battery)."""


#: The shortest seed a token is shipped with: 80 bits, as real otpauth URIs carry (RFC 4226
#: asks for 128; the host side warns about anything shorter).
MIN_SEED_BITS = 80


class _Hotp(pyotp.HOTP):
    """pyotp's HOTP, taking seeds down to 80 bits as tokens and oathtool do (pyotp asks 112)."""

    min_secret_length_bits = MIN_SEED_BITS


@dataclass(frozen=True)
class Display:
    """What the display shows: a code and how long it stays valid, or nothing when blank."""

    code: str | None
    seconds_left: float = 0.0
    lit_for: float = 0.0

    @property
    def blank(self) -> bool:
        return self.code is None

    def __repr__(self) -> str:
        return f"Display(blank={self.blank}, seconds_left={self.seconds_left:.0f})"


@dataclass
class OtpToken:
    """One physical token. ``drift_ppm`` makes its clock run fast (>0) or slow (<0)."""

    seed: bytes = field(repr=False)
    params: OtpParams = field(default_factory=OtpParams)
    serial: str = ""
    drift_ppm: float = 0.0
    clock_offset: float = 0.0
    synced_at: float = 0.0
    display_seconds: float = DEFAULT_DISPLAY_SECONDS
    battery: int = DEFAULT_BATTERY_PRESSES
    lit_until: float = 0.0
    last_code: str | None = field(default=None, repr=False)

    def device_time(self, now: float) -> float:
        """The token's own idea of the time: its crystal drifts from the moment it was synced."""
        elapsed = now - self.synced_at
        return self.synced_at + self.clock_offset + elapsed * (1.0 + self.drift_ppm / 1_000_000)

    def code_at(self, now: float) -> str:
        step = self.params.step(self.device_time(now))
        return self._generator().at(step)

    def press(self, now: float) -> Display:
        """Press the button: light the display with the current code; one press of battery."""
        if self.battery <= 0:
            raise TokenHardwareError(
                TokenFault.BATTERY_EMPTY,
                f"token {self.serial or '?'} has an empty battery; replace the token",
            )
        self.battery -= 1
        self.lit_until = now + self.display_seconds
        self.last_code = self.code_at(now)
        return self.display(now)

    def display(self, now: float) -> Display:
        """What is on the display now, without pressing: blank once it has timed out."""
        if now >= self.lit_until or self.last_code is None:
            return Display(None)
        device_now = self.device_time(now)
        step_end = self.params.step_start(self.params.step(device_now) + 1)
        return Display(
            self.last_code, seconds_left=step_end - device_now, lit_for=self.lit_until - now
        )

    def _generator(self) -> pyotp.HOTP:
        digest = getattr(hashlib, self.params.algorithm.digest_name)
        secret = base64.b32encode(self.seed).decode("ascii")
        return _Hotp(secret, digits=self.params.digits, digest=digest)

    # -- persistence (the seed is stored by the caller, apart from this) ------------------------

    def hardware_state(self) -> dict[str, Any]:
        return {
            "drift_ppm": self.drift_ppm,
            "clock_offset": self.clock_offset,
            "synced_at": self.synced_at,
            "display_seconds": self.display_seconds,
            "battery": self.battery,
            "lit_until": self.lit_until,
            "last_code": self.last_code,
        }

    @classmethod
    def from_state(
        cls, seed: bytes, params: OtpParams, serial: str, state: Mapping[str, Any]
    ) -> OtpToken:
        return cls(
            seed=seed,
            params=params,
            serial=serial,
            drift_ppm=float(state.get("drift_ppm", 0.0)),
            clock_offset=float(state.get("clock_offset", 0.0)),
            synced_at=float(state.get("synced_at", 0.0)),
            display_seconds=float(state.get("display_seconds", DEFAULT_DISPLAY_SECONDS)),
            battery=int(state.get("battery", DEFAULT_BATTERY_PRESSES)),
            lit_until=float(state.get("lit_until", 0.0)),
            last_code=state.get("last_code"),
        )


# Seven-segment glyphs: which of the segments a..g are lit, drawn in three text rows.
_SEGMENTS = {
    "0": "abcdef", "1": "bc", "2": "abdeg", "3": "abcdg", "4": "bcfg",
    "5": "acdfg", "6": "acdefg", "7": "abc", "8": "abcdefg", "9": "abcdfg", "-": "g", " ": "",
}  # fmt: skip


def seven_segment(text: str) -> str:
    """Draw digits as a seven-segment display would, three rows of text."""
    rows = ["", "", ""]
    for char in text:
        lit = _SEGMENTS.get(char, "g")
        rows[0] += " " + ("_" if "a" in lit else " ") + "  "
        rows[1] += ("|" if "f" in lit else " ") + ("_" if "g" in lit else " ")
        rows[1] += ("|" if "b" in lit else " ") + " "
        rows[2] += ("|" if "e" in lit else " ") + ("_" if "d" in lit else " ")
        rows[2] += ("|" if "c" in lit else " ") + " "
    return "\n".join(row.rstrip() for row in rows)


__all__ = [
    "Algorithm",
    "Display",
    "OtpParams",
    "OtpToken",
    "TokenFault",
    "TokenHardwareError",
    "seven_segment",
]
