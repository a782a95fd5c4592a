"""The reader's voice: a code spoken digit by digit, as 16-bit PCM mono WAV, a file or the speakers.

The engine is pyttsx3 with its espeak-ng driver, in process; the espeak-ng program is used directly
where pyttsx3 cannot load or writes nothing. pyttsx3 2.99 on Linux has faults this module is built
around, each covered by a test:

* ``say()`` plays through ``aplay`` with ``os.system`` and silently does nothing without it. So
  ``say()`` is never called: playback is ours (:func:`find_audio_output`, :func:`play`), and a
  machine without audio output is refused with a message, not ignored.
* Only the last of several ``save_to_file()`` calls queued before one ``runAndWait()`` is written.
  So every utterance is one ``save_to_file()`` followed by its own ``runAndWait()``, and the file
  is checked afterwards.
* The driver keeps the last ``save_to_file()`` path, so a later ``say()`` (anyone's, in the same
  process) synthesises into that file. So pyttsx3 only ever writes private scratch files, read and
  deleted at once; the WAV a person asked for is written by this module alone.
* It prints ``Audio saved to …`` on standard output; that is captured.

espeak-ng keeps state between utterances in one process: the same text comes out a few samples
different the second time. The engine therefore remembers the messages it rendered and gives
back exactly those samples when asked again, as the device replays its last message (a few recent
messages, so several readers in one process each replay their own); a fresh process renders the
same message identically every time.

Digits are spoken as words, one per digit, separated by commas; the pause espeak-ng makes at a
comma shrinks with speed, so the utterance is cut at the longest silences (one fewer than there are
digits) and put back together with a pause of our own that suits the speed.
"""

from __future__ import annotations

import contextlib
import io
import math
import operator
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import wave
from array import array
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from firmware_sim.audio_reader import VoiceSettings, spoken_words

SAMPLE_WIDTH = 2  # bytes: 16-bit PCM
ESPEAK_VOICES = {"da": "da", "en": "en"}
LEAD_IN = 0.10  # seconds of silence before the first digit
TAIL = 0.20  # after the last
MIN_PAUSE = 0.25  # seconds between digits, at any speed
SYNTH_TIMEOUT = 30.0
RECENT_MESSAGES = 16  # messages remembered for replay, across the readers in one process
INSTALL_HINT = "install it with `sudo apt-get install espeak-ng` (`make test` does this for you)"


class SpeechError(Exception):
    """Speech could not be made or delivered; the message says what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SpeechUnavailable(SpeechError):
    """Neither pyttsx3's espeak-ng driver nor the espeak-ng program can run here."""


class NoAudioOutput(SpeechError):
    """``--play`` on a machine that cannot play sound."""


class OutputPathError(SpeechError):
    """The WAV file cannot be written where asked."""


# -- audio ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Audio:
    """Mono 16-bit PCM samples (little-endian bytes) and their sample rate."""

    pcm: bytes = field(repr=False)
    sample_rate: int

    @property
    def frames(self) -> int:
        return len(self.pcm) // SAMPLE_WIDTH

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate

    def samples(self) -> array[int]:
        values = array("h")
        values.frombytes(self.pcm)
        if sys.byteorder == "big":
            values.byteswap()
        return values

    @classmethod
    def from_samples(cls, values: array[int], sample_rate: int) -> Audio:
        if sys.byteorder == "big":
            values = array("h", values)
            values.byteswap()
        return cls(values.tobytes(), sample_rate)

    def wav_bytes(self) -> bytes:
        out = io.BytesIO()
        with wave.open(out, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(SAMPLE_WIDTH)
            wav.setframerate(self.sample_rate)
            wav.writeframes(self.pcm)
        return out.getvalue()


def read_wav(source: Path | bytes) -> Audio:
    """Read a WAV file, insisting on 16-bit PCM mono."""
    try:
        with wave.open(io.BytesIO(source) if isinstance(source, bytes) else str(source)) as wav:
            if wav.getnchannels() != 1 or wav.getsampwidth() != SAMPLE_WIDTH:
                raise SpeechError(
                    f"expected 16-bit mono PCM, got {wav.getnchannels()} channel(s) of "
                    f"{8 * wav.getsampwidth()} bits"
                )
            if wav.getcomptype() != "NONE":
                raise SpeechError(f"expected uncompressed PCM, got {wav.getcompname()}")
            return Audio(wav.readframes(wav.getnframes()), wav.getframerate())
    except (wave.Error, EOFError) as exc:
        raise SpeechError(f"not a valid WAV file: {exc}") from None


def silence(seconds: float, sample_rate: int) -> bytes:
    return bytes(SAMPLE_WIDTH * round(seconds * sample_rate))


def pause_seconds(rate: int) -> float:
    """The pause between digits: about one word's time at this speed, never under 0.25 s."""
    return max(MIN_PAUSE, 60.0 / rate)


# -- analysis (also what the tests use to check what was said) ------------------------------------


@dataclass(frozen=True)
class Segment:
    start: float
    end: float

    @property
    def length(self) -> float:
        return self.end - self.start


def frame_energy(audio: Audio, frame_ms: float = 10.0) -> list[float]:
    """Root-mean-square level of each frame of ``frame_ms`` milliseconds."""
    values = audio.samples()
    size = max(1, round(audio.sample_rate * frame_ms / 1000))
    levels = []
    for start in range(0, len(values) - size + 1, size):
        chunk = values[start : start + size]
        levels.append(math.sqrt(sum(map(operator.mul, chunk, chunk)) / size))
    return levels


def speech_segments(
    audio: Audio,
    *,
    frame_ms: float = 10.0,
    threshold: float = 0.03,
    min_gap_ms: float = 120.0,
    min_length_ms: float = 30.0,
) -> list[Segment]:
    """Stretches of sound separated by silences of at least ``min_gap_ms``.

    A frame is sound when its energy exceeds ``threshold`` times the loudest frame's; shorter
    silences (the closure of a t or k inside a word) do not split a segment.
    """
    levels = frame_energy(audio, frame_ms)
    peak = max(levels, default=0.0)
    if peak == 0.0:
        return []
    runs: list[list[int]] = []
    for index, level in enumerate(levels):
        if level > peak * threshold:
            if runs and (index - runs[-1][1]) * frame_ms < min_gap_ms:
                runs[-1][1] = index + 1
            else:
                runs.append([index, index + 1])
    return [
        Segment(start * frame_ms / 1000, end * frame_ms / 1000)
        for start, end in runs
        if (end - start) * frame_ms >= min_length_ms
    ]


def _split_words(values: array[int], sample_rate: int, count: int) -> list[array[int]] | None:
    """Cut an utterance of ``count`` words at its ``count - 1`` longest silences.

    Returns None unless those silences are clearly longer than every other one (espeak-ng's pause at
    a comma shrinks with speed until, above about 275 words per minute, it is no longer than the
    closure of a t inside a word); the caller then synthesises word by word.
    """
    size = max(1, sample_rate // 200)  # 5 ms frames
    # The peak of every third sample: speech is far below a third of the sample rate, and this
    # keeps the search to a few milliseconds.
    levels = []
    for i in range(0, len(values) - size + 1, size):
        frame = values[i : i + size : 3]
        levels.append(max(max(frame), -min(frame)))
    peak = max(levels, default=0)
    if peak == 0:
        return None
    loud = [level > peak * 0.01 for level in levels]
    first = loud.index(True)
    last = len(loud) - loud[::-1].index(True)
    gaps: list[tuple[int, int]] = []  # (start, end) frames of each silence inside the utterance
    start: int | None = None
    for index in range(first, last):
        if not loud[index] and start is None:
            start = index
        elif loud[index] and start is not None:
            gaps.append((start, index))
            start = None
    ranked = sorted(gaps, key=lambda g: g[1] - g[0], reverse=True)
    if len(ranked) < count - 1:
        return None
    shortest_cut = ranked[count - 2][1] - ranked[count - 2][0]
    longest_kept = ranked[count - 1][1] - ranked[count - 1][0] if len(ranked) >= count else 0
    if shortest_cut < 8 or shortest_cut < 1.8 * longest_kept:
        return None  # the pauses between words are no longer than those inside words
    cuts = sorted(ranked[: count - 1])
    bounds = [first, *(edge for gap in cuts for edge in gap), last]
    words = [values[bounds[i] * size : bounds[i + 1] * size] for i in range(0, len(bounds), 2)]
    if any(len(word) < size * 4 for word in words):  # under 20 ms: not a word
        return None
    return words


def _audible(audio: Audio) -> bool:
    values = audio.samples()
    return len(values) > 0 and max(max(values), -min(values)) > 64


def _trim(values: array[int]) -> array[int]:
    loud = [i for i, v in enumerate(values) if abs(v) > 64]
    return values[loud[0] : loud[-1] + 1] if loud else values[:0]


# -- engines --------------------------------------------------------------------------------------


class Backend(Protocol):
    name: str

    def synthesize(self, text: str, voice: str, rate: int, volume: int) -> Audio: ...


class Pyttsx3Backend:
    """pyttsx3's espeak-ng driver, one ``save_to_file`` per ``runAndWait``, into scratch files.

    Two more things this driver gets wrong, found by the tests: espeak-ng runs asynchronously in
    its own thread, and ``runAndWait()`` can return before the file is written (when commands were
    queued while the driver was busy), so each utterance also waits for the driver's
    ``finished-utterance`` notification; and a rate or volume set right
    after a voice change is sometimes lost, so those are set twice. Now and then an utterance
    comes back silent; it is synthesised again, and the espeak-ng program takes over if it stays so.
    """

    name = "pyttsx3"

    def __init__(self, scratch: Path) -> None:
        self._engine = _load_pyttsx3()
        self._scratch = scratch
        self._count = 0
        self._finished = threading.Event()
        self._engine.connect("finished-utterance", self._on_finished)

    def _on_finished(self, **_: object) -> None:
        self._finished.set()

    def synthesize(self, text: str, voice: str, rate: int, volume: int) -> Audio:
        """One utterance; now and then the driver hands back silence, so that is tried again."""
        for _ in range(3):
            audio = self._synthesize_once(text, voice, rate, volume)
            if volume == 0 or _audible(audio):
                return audio
        raise SpeechError("pyttsx3 wrote only silence")

    def _synthesize_once(self, text: str, voice: str, rate: int, volume: int) -> Audio:
        self._count += 1
        path = self._scratch / f"pyttsx3-{self._count}.wav"
        engine = self._engine
        engine.setProperty("voice", voice)
        for _ in range(2):
            engine.setProperty("rate", rate)
            engine.setProperty("volume", volume / 100)
        self._finished.clear()
        with contextlib.redirect_stdout(io.StringIO()):
            engine.save_to_file(text, str(path))
            engine.runAndWait()
            finished = self._finished.wait(SYNTH_TIMEOUT)
        try:
            if not finished or not path.is_file() or path.stat().st_size == 0:
                raise SpeechError("pyttsx3 wrote no audio")
            return read_wav(path)
        finally:
            path.unlink(missing_ok=True)


def _load_pyttsx3() -> Any:
    import pyttsx3

    return pyttsx3.init("espeak")


class EspeakProgram:
    """The espeak-ng program, run once per utterance with an argument list."""

    name = "espeak-ng"

    def __init__(self, executable: str, scratch: Path) -> None:
        self._executable = executable
        self._scratch = scratch
        self._count = 0

    def synthesize(self, text: str, voice: str, rate: int, volume: int) -> Audio:
        self._count += 1
        path = self._scratch / f"espeak-{self._count}.wav"
        command = [*espeak_command(voice, rate, volume, path, self._executable), text]
        try:
            subprocess.run(command, check=True, capture_output=True, timeout=SYNTH_TIMEOUT)
            return read_wav(path)
        except FileNotFoundError:
            raise SpeechUnavailable(f"espeak-ng is not installed; {INSTALL_HINT}") from None
        except subprocess.CalledProcessError as exc:
            detail = exc.stderr.decode(errors="replace").strip().splitlines()
            raise SpeechError(f"espeak-ng failed: {detail[-1] if detail else exc}") from None
        except subprocess.TimeoutExpired:
            raise SpeechError("espeak-ng did not finish in time") from None
        finally:
            path.unlink(missing_ok=True)


def espeak_command(voice: str, rate: int, volume: int, out: Path, executable: str) -> list[str]:
    """The espeak-ng command line that writes ``out`` (the text goes last)."""
    return [executable, "-v", voice, "-s", str(rate), "-a", str(volume), "-w", str(out)]


class SpeechEngine:
    """Renders codes as audio with the first backend that works, the next as fallback."""

    def __init__(self, backends: Sequence[Backend], scratch: tempfile.TemporaryDirectory[str]):
        if not backends:
            raise SpeechUnavailable(f"espeak-ng is not installed; {INSTALL_HINT}")
        self.backends = list(backends)
        self._scratch = scratch
        self._recent: OrderedDict[tuple[str, VoiceSettings], Audio] = OrderedDict()
        self.readings: Counter[str] = Counter()  # readings rendered, by the backend that made them

    @property
    def name(self) -> str:
        return self.backends[0].name

    @classmethod
    def detect(cls) -> SpeechEngine:
        """pyttsx3 first, the espeak-ng program second; refuse when there is neither."""
        scratch = tempfile.TemporaryDirectory(prefix="mitid-emu-speech-")
        path = Path(scratch.name)
        backends: list[Backend] = []
        with contextlib.suppress(Exception):  # any failure to load means: not usable here
            backends.append(Pyttsx3Backend(path))
        program = shutil.which("espeak-ng")
        if program is not None:
            backends.append(EspeakProgram(program, path))
        return cls(backends, scratch)

    def render(self, code: str, voice: VoiceSettings) -> Audio:
        """The code read aloud ``voice.repeats`` times, digit by digit, at ``voice``'s settings."""
        key = (code, voice)
        if key in self._recent:
            self._recent.move_to_end(key)
            return self._recent[key]
        reading = self._reading(code, voice)
        between = silence(3 * pause_seconds(voice.rate), reading.sample_rate)
        pcm = between.join([reading.pcm] * voice.repeats)
        lead, tail = silence(LEAD_IN, reading.sample_rate), silence(TAIL, reading.sample_rate)
        audio = Audio(lead + pcm + tail, reading.sample_rate)
        self._recent[key] = audio
        while len(self._recent) > RECENT_MESSAGES:
            self._recent.popitem(last=False)
        return audio

    def _reading(self, code: str, voice: VoiceSettings) -> Audio:
        words = spoken_words(code, voice.language)
        espeak_voice = ESPEAK_VOICES[voice.language.value]
        loudness = voice.volume or 100  # muted: timed at full volume, then silenced
        error: SpeechError | None = None
        for backend in self.backends:
            try:
                clips, rate = self._clips(backend, words, espeak_voice, voice.rate, loudness)
            except SpeechError as exc:
                error = exc
                continue
            self.readings[backend.name] += 1
            pause = silence(pause_seconds(voice.rate), rate)
            pcm = pause.join(Audio.from_samples(clip, rate).pcm for clip in clips)
            if voice.volume == 0:
                pcm = bytes(len(pcm))
            return Audio(pcm, rate)
        assert error is not None
        raise error

    @staticmethod
    def _clips(
        backend: Backend, words: Sequence[str], voice: str, rate: int, volume: int
    ) -> tuple[list[array[int]], int]:
        """One clip per word: one utterance cut at its silences, or one utterance per word."""
        whole = backend.synthesize(", ".join(words), voice, rate, volume)
        clips = _split_words(whole.samples(), whole.sample_rate, len(words))
        if clips is not None:
            return clips, whole.sample_rate
        said: dict[str, array[int]] = {}
        for word in words:
            if word not in said:
                said[word] = _trim(backend.synthesize(word, voice, rate, volume).samples())
        return [said[word] for word in words], whole.sample_rate


_ENGINE: SpeechEngine | None = None


def speech_engine() -> SpeechEngine:
    """The process's engine, found on first use (espeak-ng initialises once per process)."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = SpeechEngine.detect()
    return _ENGINE


# -- transcript -----------------------------------------------------------------------------------


def transcript(kind_label: str, name: str, serial: str, code: str, voice: VoiceSettings) -> str:
    """Plain text for screen readers and logs: the digits, then the words as spoken."""
    words = ", ".join(spoken_words(code, voice.language))
    times = "" if voice.repeats == 1 else f", {voice.repeats} times"
    return (
        f"{kind_label} {name} (serial {serial})\n"
        f"Code: {' '.join(code)}\n"
        f"Spoken in {voice.language.label} at {voice.rate} words per minute, "
        f"volume {voice.volume}{times}: {words}"
    )


# -- output ---------------------------------------------------------------------------------------


def check_output_path(path: Path) -> None:
    """Refuse, before anything happens, a WAV path that cannot be written."""
    try:
        _check_output_path(path)
    except OSError as exc:  # a name too long for the file system, a loop of links…
        raise OutputPathError(f"cannot write {path}: {exc.strerror or exc}") from None


def _check_output_path(path: Path) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise OutputPathError(f"cannot write {path}: it is a directory; give a file name")
    if not parent.is_dir():
        raise OutputPathError(
            f"cannot write {path}: directory {parent} does not exist; create it or choose "
            "another --out"
        )
    target = path if path.exists() else parent
    if not os.access(target, os.W_OK):
        raise OutputPathError(
            f"cannot write {path}: permission denied; choose a --out path you may write to"
        )


def write_wav(audio: Audio, path: Path) -> None:
    """Write the WAV atomically: a reader sees the old file or the whole new one."""
    check_output_path(path)
    parent = path.parent if str(path.parent) else Path(".")
    try:
        with tempfile.NamedTemporaryFile(
            dir=parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
        ) as handle:
            handle.write(audio.wav_bytes())
        os.replace(handle.name, path)
    except OSError as exc:
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(handle.name)
        raise OutputPathError(f"cannot write {path}: {exc.strerror or exc}") from None


PLAYERS: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    # program, options, needs a sound server (PulseAudio / PipeWire)
    ("aplay", ("-q",), False),
    ("paplay", (), True),
    ("pw-play", (), True),
)


def _sound_server() -> bool:
    if os.environ.get("PULSE_SERVER"):
        return True
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if not runtime:
        return False
    return any((Path(runtime) / sub).exists() for sub in ("pulse/native", "pipewire-0"))


def _sound_card() -> bool:
    snd = Path("/dev/snd")
    return snd.is_dir() and any(snd.glob("pcmC*D*p"))


def find_audio_output() -> list[str]:
    """The command (without the file) that plays a WAV here; refuse when nothing can."""
    players = [(p, opts, server) for p, opts, server in PLAYERS if shutil.which(p)]
    if not players:
        raise NoAudioOutput(
            "no audio output: no audio player (aplay, paplay or pw-play) is installed; "
            "write the code to a file with --out FILE.wav, or install alsa-utils"
        )
    server, card = _sound_server(), _sound_card()
    for program, options, needs_server in players:
        if server or (card and not needs_server):
            return [program, *options]
    raise NoAudioOutput(
        "no audio output: this machine has no sound card and no PulseAudio or PipeWire server; "
        "write the code to a file with --out FILE.wav instead"
    )


def play(audio: Audio, player: Sequence[str]) -> None:
    """Play through ``player`` and wait until done; a failing player is reported, not ignored."""
    with tempfile.TemporaryDirectory(prefix="mitid-emu-play-") as scratch:
        path = Path(scratch) / "code.wav"
        path.write_bytes(audio.wav_bytes())
        try:
            subprocess.run(
                [*player, str(path)],
                check=True,
                capture_output=True,
                timeout=audio.duration + SYNTH_TIMEOUT,
            )
        except subprocess.CalledProcessError as exc:
            lines = exc.stderr.decode(errors="replace").strip().splitlines()
            reason = lines[-1] if lines else f"exit code {exc.returncode}"
            raise NoAudioOutput(
                f"no audio output: {player[0]} could not play ({reason}); "
                "write the code to a file with --out FILE.wav instead"
            ) from None
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise NoAudioOutput(f"no audio output: {player[0]} failed ({exc})") from None
