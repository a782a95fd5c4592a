"""The reader's hardware model: voice settings, the function key, replay, persistence."""

from __future__ import annotations

import pytest

from authenticators.otp import OtpParams
from firmware_sim.audio_reader import (
    DEFAULT_RATE,
    DEFAULT_VOLUME,
    RATE_MAX,
    RATE_MIN,
    RATE_STEP,
    VOLUME_MAX,
    VOLUME_STEP,
    AudioCodeReader,
    FunctionKey,
    Language,
    NothingToReplay,
    VoiceSettingError,
    VoiceSettings,
    spoken_words,
)
from tests.support import T0

SEED = bytes(range(20))


def make() -> AudioCodeReader:
    return AudioCodeReader(SEED, OtpParams(), serial="KO1", synced_at=T0)


def test_factory_settings_are_danish() -> None:
    assert make().voice == VoiceSettings(Language.DA, DEFAULT_RATE, DEFAULT_VOLUME, 1)


def test_digits_are_words_one_per_digit() -> None:
    assert spoken_words("120907", Language.DA) == ("en", "to", "nul", "ni", "nul", "syv")
    assert spoken_words("120907", Language.EN) == ("one", "two", "zero", "nine", "zero", "seven")
    with pytest.raises(ValueError):
        spoken_words("12a", Language.DA)


@pytest.mark.parametrize(
    ("change", "word"),
    [
        ({"language": "fr"}, "language"),
        ({"rate": RATE_MIN - 1}, "rate"),
        ({"rate": RATE_MAX + 1}, "rate"),
        ({"volume": -1}, "volume"),
        ({"volume": VOLUME_MAX + 1}, "volume"),
        ({"repeats": 0}, "repeats"),
        ({"rate": True}, "rate"),
    ],
)
def test_out_of_range_settings_are_refused(change: dict[str, object], word: str) -> None:
    with pytest.raises(VoiceSettingError, match=word):
        VoiceSettings().with_changes(**change)  # type: ignore[arg-type]


def test_speed_and_volume_keys_step_and_stop_at_the_ends() -> None:
    token = make()
    assert token.function(FunctionKey.SPEED_UP).voice.rate == DEFAULT_RATE + RATE_STEP
    assert token.function(FunctionKey.VOLUME_DOWN).voice.volume == DEFAULT_VOLUME - VOLUME_STEP
    for _ in range(50):
        token.function(FunctionKey.SPEED_DOWN)
    assert token.voice.rate == RATE_MIN
    assert token.function(FunctionKey.SPEED_DOWN).changed is False
    for _ in range(50):
        token.function(FunctionKey.VOLUME_UP)
    assert token.voice.volume == VOLUME_MAX


def test_language_keys_cycle_and_repeats_change() -> None:
    token = make()
    assert token.function(FunctionKey.LANGUAGE_NEXT).voice.language is Language.EN
    assert token.function(FunctionKey.LANGUAGE_NEXT).voice.language is Language.DA
    assert token.function(FunctionKey.LANGUAGE_PREVIOUS).voice.language is Language.EN
    assert token.function(FunctionKey.REPEATS_UP).voice.repeats == 2
    assert token.function(FunctionKey.REPEATS_DOWN).voice.repeats == 1


def test_replay_reads_the_last_code_without_pressing() -> None:
    token = make()
    with pytest.raises(NothingToReplay):
        token.function(FunctionKey.REPLAY)
    shown = token.press(T0)
    battery = token.battery
    # Long after, when the token's current code is another one:
    result = token.function(FunctionKey.REPLAY)
    assert result.replay == shown.code
    assert token.battery == battery
    assert token.code_at(T0 + 3600) != shown.code
    assert token.last_code == shown.code


def test_settings_survive_the_hardware_state() -> None:
    token = make()
    token.press(T0)
    token.function(FunctionKey.LANGUAGE_NEXT)
    token.function(FunctionKey.SPEED_UP)
    state = token.hardware_state()
    again = AudioCodeReader.from_state(SEED, OtpParams(), "KO1", state)
    assert again.voice == token.voice
    assert again.last_code == token.last_code
    assert again.battery == token.battery


def test_damaged_stored_settings_fall_back_to_factory_values() -> None:
    voice = VoiceSettings.from_dict({"language": "xx", "rate": 9999, "volume": 55, "bogus": 1})
    assert voice == VoiceSettings(volume=55)


def test_reprs_hold_no_seed_or_code() -> None:
    token = make()
    token.press(T0)
    assert token.last_code is not None
    text = repr(token) + repr(token.function(FunctionKey.REPLAY))
    assert SEED.hex() not in text
    assert token.last_code not in text
