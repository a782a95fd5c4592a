"""The audio code reader (kodeoplæser): a code display with a voice and a function key.

It is an :class:`~firmware_sim.otp_token.OtpToken` (same seed, clock, button, display and battery)
plus what makes it speak: voice settings (language, speed, volume, repetitions) kept in the
device, and the red function button, held together with a digit key, to change them.

The device has nine function-key combinations. Public help pages confirm that function+0 replays the
last message and that the others set repetition, speed, volume and language, with keys on the right
turning a setting up and keys on the left turning it down. The digit for each of 1-9 below is this
emulator's layout, in that spirit:

=====  =======================  =====  =======================
key    function                 key    function
=====  =======================  =====  =======================
F+0    replay the last message
F+1    volume down              F+3    volume up
F+4    speed down               F+6    speed up
F+7    fewer repetitions        F+9    more repetitions
F+2    previous language        F+8    next language
=====  =======================  =====  =======================

Replaying never presses the button: it reads the code last shown again, even once that code has
expired, exactly as the device repeats its last message.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from authenticators.digits import is_digits
from authenticators.otp import OtpParams
from firmware_sim.otp_token import OtpToken


class Language(enum.Enum):
    """The languages the reader speaks, by ISO 639-1 code; Danish is the factory setting."""

    DA = "da"
    EN = "en"

    @property
    def label(self) -> str:
        return {Language.DA: "Danish", Language.EN: "English"}[self]

    @classmethod
    def parse(cls, text: str) -> Language:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise VoiceSettingError(
                f"unknown language {text!r}: use da (Danish) or en (English)"
            ) from None


# The words the device says for each digit; one word per digit, never a number read whole.
DIGIT_WORDS: dict[Language, tuple[str, ...]] = {
    Language.DA: ("nul", "en", "to", "tre", "fire", "fem", "seks", "syv", "otte", "ni"),
    Language.EN: ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
}

# espeak-ng's speed is monotonic from 80 to about 420 words per minute; at 450 it changes method.
RATE_MIN, RATE_MAX, RATE_STEP, DEFAULT_RATE = 80, 400, 25, 150  # words per minute
VOLUME_MIN, VOLUME_MAX, VOLUME_STEP, DEFAULT_VOLUME = 0, 100, 10, 80  # percent
REPEATS_MIN, REPEATS_MAX, DEFAULT_REPEATS = 1, 3, 1  # readings of the code per press


class VoiceSettingError(ValueError):
    """A setting out of range or unknown; the message says what is allowed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def spoken_words(code: str, language: Language) -> tuple[str, ...]:
    """The words for ``code``, digit by digit."""
    if not is_digits(code):
        raise ValueError("a code to read aloud is made of digits 0-9")
    words = DIGIT_WORDS[language]
    return tuple(words[int(digit)] for digit in code)


@dataclass(frozen=True)
class VoiceSettings:
    """How the reader speaks. Out-of-range values are refused, never clamped silently."""

    language: Language = Language.DA
    rate: int = DEFAULT_RATE
    volume: int = DEFAULT_VOLUME
    repeats: int = DEFAULT_REPEATS

    def __post_init__(self) -> None:
        _check_range("rate", self.rate, RATE_MIN, RATE_MAX, " words per minute")
        _check_range("volume", self.volume, VOLUME_MIN, VOLUME_MAX, "")
        _check_range("repeats", self.repeats, REPEATS_MIN, REPEATS_MAX, "")

    def with_changes(
        self,
        *,
        language: str | Language | None = None,
        rate: int | None = None,
        volume: int | None = None,
        repeats: int | None = None,
    ) -> VoiceSettings:
        """A copy with the given settings changed; raises :class:`VoiceSettingError`."""
        if isinstance(language, str):
            language = Language.parse(language)
        return VoiceSettings(
            language=self.language if language is None else language,
            rate=self.rate if rate is None else rate,
            volume=self.volume if volume is None else volume,
            repeats=self.repeats if repeats is None else repeats,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "language": self.language.value,
            "rate": self.rate,
            "volume": self.volume,
            "repeats": self.repeats,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> VoiceSettings:
        """Read stored settings; a damaged value falls back to the factory setting."""
        settings = cls()
        if not data:
            return settings
        for name, value in data.items():
            try:
                settings = settings.with_changes(**{name: value})
            except (VoiceSettingError, TypeError):
                continue
        return settings


def _check_range(name: str, value: object, low: int, high: int, unit: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise VoiceSettingError(f"{name} must be a whole number from {low} to {high}{unit}")


class FunctionKey(enum.IntEnum):
    """The digit key held together with the red function button."""

    REPLAY = 0
    VOLUME_DOWN = 1
    LANGUAGE_PREVIOUS = 2
    VOLUME_UP = 3
    SPEED_DOWN = 4
    SPEED_UP = 6
    REPEATS_DOWN = 7
    LANGUAGE_NEXT = 8
    REPEATS_UP = 9

    @property
    def description(self) -> str:
        return self.name.lower().replace("_", " ")


@dataclass(frozen=True)
class KeyResult:
    """What a function-key combination did: the settings after it, and a code to replay."""

    key: FunctionKey
    voice: VoiceSettings
    replay: str | None = field(default=None, repr=False)
    changed: bool = True


class NothingToReplay(Exception):
    def __init__(self, serial: str) -> None:
        super().__init__(f"audio code reader {serial or '?'} has not read a code yet")
        self.message = str(self)


@dataclass
class AudioCodeReader(OtpToken):
    """An :class:`OtpToken` that reads its code aloud with settings of its own."""

    voice: VoiceSettings = field(default_factory=VoiceSettings)

    def function(self, key: FunctionKey) -> KeyResult:
        """Hold the function button and press ``key``."""
        if key is FunctionKey.REPLAY:
            if self.last_code is None:
                raise NothingToReplay(self.serial)
            return KeyResult(key, self.voice, replay=self.last_code, changed=False)
        before = self.voice
        self.voice = _adjust(self.voice, key)
        return KeyResult(key, self.voice, changed=self.voice != before)

    def hardware_state(self) -> dict[str, Any]:
        return {**super().hardware_state(), "voice": self.voice.to_dict()}

    @classmethod
    def from_state(
        cls, seed: bytes, params: OtpParams, serial: str, state: Mapping[str, Any]
    ) -> AudioCodeReader:
        base = OtpToken.from_state(seed, params, serial, state)
        values = {f.name: getattr(base, f.name) for f in fields(OtpToken)}
        return cls(**values, voice=VoiceSettings.from_dict(state.get("voice")))


def _adjust(voice: VoiceSettings, key: FunctionKey) -> VoiceSettings:
    """One step of a setting, stopping at its end (the device beeps and stays put)."""
    if key in (FunctionKey.VOLUME_DOWN, FunctionKey.VOLUME_UP):
        step = VOLUME_STEP if key is FunctionKey.VOLUME_UP else -VOLUME_STEP
        return replace(voice, volume=_clamp(voice.volume + step, VOLUME_MIN, VOLUME_MAX))
    if key in (FunctionKey.SPEED_DOWN, FunctionKey.SPEED_UP):
        step = RATE_STEP if key is FunctionKey.SPEED_UP else -RATE_STEP
        return replace(voice, rate=_clamp(voice.rate + step, RATE_MIN, RATE_MAX))
    if key in (FunctionKey.REPEATS_DOWN, FunctionKey.REPEATS_UP):
        step = 1 if key is FunctionKey.REPEATS_UP else -1
        return replace(voice, repeats=_clamp(voice.repeats + step, REPEATS_MIN, REPEATS_MAX))
    languages = list(Language)
    step = 1 if key is FunctionKey.LANGUAGE_NEXT else -1
    index = (languages.index(voice.language) + step) % len(languages)
    return replace(voice, language=languages[index])


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


__all__ = [
    "DIGIT_WORDS",
    "AudioCodeReader",
    "FunctionKey",
    "KeyResult",
    "Language",
    "NothingToReplay",
    "VoiceSettingError",
    "VoiceSettings",
    "spoken_words",
]
