"""The voice: what is said, how long it takes, and the pyttsx3 faults the engine is built around.

These tests need espeak-ng (Debian package espeak-ng; `make test` installs it). Without it they fail
with that message rather than skip.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import shutil
import threading
from pathlib import Path

import pytest

from authenticators.kodeoplaeser import speech
from authenticators.kodeoplaeser.speech import (
    LEAD_IN,
    TAIL,
    Audio,
    Pyttsx3Backend,
    SpeechEngine,
    pause_seconds,
    read_wav,
    speech_segments,
    write_wav,
)
from firmware_sim.audio_reader import Language, VoiceSettings

CODES = ["012345", "678901", "886283", "707070"]


@pytest.fixture(scope="module")
def engine() -> SpeechEngine:
    assert shutil.which("espeak-ng"), "espeak-ng is missing: run `make test` or apt-get install it"
    found = speech.speech_engine()
    assert found.name == "pyttsx3", "pyttsx3's espeak-ng driver did not load"
    return found


def voice(lang: str = "da", rate: int = 150, volume: int = 80, repeats: int = 1) -> VoiceSettings:
    return VoiceSettings(Language(lang), rate, volume, repeats)


def speech_time(audio: Audio) -> float:
    """Seconds of the six words alone: the whole, less lead-in, tail and the five pauses."""
    return audio.duration - LEAD_IN - TAIL


@pytest.mark.parametrize("lang", ["da", "en"])
@pytest.mark.parametrize("rate", [80, 150, 275, 400])
def test_six_digits_are_six_segments_separated_by_silence(
    engine: SpeechEngine, lang: str, rate: int
) -> None:
    for code in CODES[:2]:
        audio = engine.render(code, voice(lang, rate))
        segments = speech_segments(audio)
        assert len(segments) == 6, (code, [round(s.length, 2) for s in segments])
        gaps = [b.start - a.end for a, b in itertools.pairwise(segments)]
        assert min(gaps) >= pause_seconds(rate) - 0.03


@pytest.mark.parametrize("rate", [80, 150, 275, 400])
def test_length_fits_six_digits_at_the_rate(engine: SpeechEngine, rate: int) -> None:
    audio = engine.render("012345", voice("en", rate))
    words = speech_time(audio) - 5 * pause_seconds(rate)
    nominal = 6 * 60.0 / rate  # six words at ``rate`` words per minute
    assert 0.35 * nominal <= words <= 1.5 * nominal, (words, nominal)


def test_a_higher_rate_gives_shorter_audio(engine: SpeechEngine) -> None:
    for lang in ("da", "en"):
        lengths = [engine.render("886283", voice(lang, r)).duration for r in (80, 150, 250, 400)]
        assert lengths == sorted(lengths, reverse=True), lengths
        assert len(set(lengths)) == 4


def test_danish_and_english_differ(engine: SpeechEngine) -> None:
    danish = engine.render("886283", voice("da"))
    english = engine.render("886283", voice("en"))
    assert danish.pcm != english.pcm
    assert abs(danish.duration - english.duration) > 0.01 or danish.samples() != english.samples()


def test_volume_scales_and_zero_is_silence_of_the_same_length(engine: SpeechEngine) -> None:
    loud = engine.render("707070", voice(volume=100))
    quiet = engine.render("707070", voice(volume=30))
    muted = engine.render("707070", voice(volume=0))
    assert max(map(abs, quiet.samples())) < 0.6 * max(map(abs, loud.samples()))
    assert not any(muted.pcm)
    assert abs(muted.duration - loud.duration) < 0.1


def test_repeats_read_the_code_again(engine: SpeechEngine) -> None:
    once = engine.render("012345", voice(repeats=1))
    twice = engine.render("012345", voice(repeats=2))
    assert len(speech_segments(twice)) == 12
    assert twice.duration > 2 * once.duration - LEAD_IN - TAIL


def test_repeat_gives_the_same_audio(engine: SpeechEngine) -> None:
    first = engine.render("886283", voice("en", 175))
    engine.render("012345", voice("da", 175))  # something else said in between
    assert engine.render("886283", voice("en", 175)) == first


def test_wav_round_trip_is_16_bit_mono(engine: SpeechEngine, tmp_path: Path) -> None:
    audio = engine.render("012345", voice())
    path = tmp_path / "code.wav"
    write_wav(audio, path)
    assert path.read_bytes()[:4] == b"RIFF"
    assert read_wav(path) == audio
    with pytest.raises(speech.SpeechError, match="WAV"):
        read_wav(b"RIFF-not-really")


def test_the_espeak_program_fallback_says_the_same(engine: SpeechEngine) -> None:
    program = shutil.which("espeak-ng")
    assert program
    scratch = engine._scratch
    only_program = SpeechEngine([speech.EspeakProgram(program, Path(scratch.name))], scratch)
    audio = only_program.render("886283", voice("en", 175))
    assert len(speech_segments(audio)) == 6
    # A fresh espeak-ng process renders identically every time.
    only_program._recent.clear()
    assert only_program.render("886283", voice("en", 175)) == audio


# -- pyttsx3 2.99's faults -------------------------------------------------------------------------


def _pyttsx3_engine(engine: SpeechEngine) -> object:
    backend = engine.backends[0]
    assert isinstance(backend, Pyttsx3Backend)
    return backend._engine


def test_pyttsx3_keeps_only_the_last_save_to_file_and_the_engine_gets_every_one(
    engine: SpeechEngine, tmp_path: Path
) -> None:
    """Two save_to_file calls before one runAndWait: pyttsx3 writes only the second file."""
    tts = _pyttsx3_engine(engine)
    done = threading.Event()
    token = tts.connect("finished-utterance", lambda **_: done.set())  # type: ignore[attr-defined]
    try:
        first, second = tmp_path / "first.wav", tmp_path / "second.wav"
        with contextlib.redirect_stdout(io.StringIO()):
            tts.save_to_file("en", str(first))  # type: ignore[attr-defined]
            tts.save_to_file("to", str(second))  # type: ignore[attr-defined]
            tts.runAndWait()  # type: ignore[attr-defined]
            assert done.wait(30)
        assert second.exists()
        assert not first.exists()
    finally:
        tts.disconnect(token)  # type: ignore[attr-defined]
    # The engine, asked for three codes in a row, gets three complete and different readings.
    readings = [engine.render(code, voice("da", 160)) for code in CODES[1:]]
    assert all(len(speech_segments(audio)) == 6 for audio in readings)
    assert len({audio.pcm for audio in readings}) == 3


def test_a_later_say_does_not_overwrite_the_wav(engine: SpeechEngine, tmp_path: Path) -> None:
    """pyttsx3 synthesises a later say() into the last saved file; ours is not that file."""
    out = tmp_path / "code.wav"
    write_wav(engine.render("678901", voice("da", 140)), out)
    before = out.read_bytes()
    tts = _pyttsx3_engine(engine)
    done = threading.Event()
    token = tts.connect("finished-utterance", lambda **_: done.set())  # type: ignore[attr-defined]
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            tts.say("something else entirely")  # type: ignore[attr-defined]
            tts.runAndWait()  # type: ignore[attr-defined]
            assert done.wait(30)
    finally:
        tts.disconnect(token)  # type: ignore[attr-defined]
    assert out.read_bytes() == before


def test_the_engine_never_calls_say(engine: SpeechEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    """say() needs aplay and does nothing silently without it, so the engine must not use it."""
    tts = _pyttsx3_engine(engine)

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("say() was called")

    monkeypatch.setattr(tts, "say", refuse)
    assert len(speech_segments(engine.render("345678", voice("en", 190)))) == 6


def test_settings_changes_in_one_process_all_take_effect(engine: SpeechEngine) -> None:
    """pyttsx3 can return before the file is written, and can lose a rate set after a voice."""
    program = shutil.which("espeak-ng")
    assert program
    backend = engine.backends[0]
    reference = speech.EspeakProgram(program, Path(engine._scratch.name))
    text = {"da": "syv, otte, fem", "en": "seven, eight, five"}
    for lang, rate in [("en", 300), ("da", 400), ("en", 400), ("en", 150), ("da", 80), ("en", 80)]:
        ours = backend.synthesize(text[lang], lang, rate, 100)
        theirs = reference.synthesize(text[lang], lang, rate, 100)
        assert abs(ours.duration - theirs.duration) < 0.05 * theirs.duration, (lang, rate)


def test_pyttsx3_makes_every_reading_without_falling_back(engine: SpeechEngine) -> None:
    """Every reading comes from pyttsx3 itself: none needed the espeak-ng program after a
    missing, silent or unreadable pyttsx3 file."""
    before = engine.readings.copy()
    for index, (lang, rate) in enumerate([("da", 120), ("en", 210), ("da", 260), ("en", 95)] * 3):
        engine.render(f"{index:02d}4321", voice(lang, rate))
    made = engine.readings - before
    assert made == {"pyttsx3": 12}
