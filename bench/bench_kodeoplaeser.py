"""Audio code reader: time from the button press to a finished WAV for one code.

For each of 50 codes: press the reader's button (through the store, as the CLI does), render the
code with the speech engine and write the WAV. The baseline is the espeak-ng program alone writing
the same text (the digit words the engine says) at the same settings, measured in the same run.
Prints the medians and their ratio; it asserts nothing about time.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from authenticators.clock import FrozenClock
from authenticators.codeviser.plugin import CodeTokenOptions
from authenticators.kodeoplaeser.device import AudioReaderHolder
from authenticators.kodeoplaeser.plugin import plugin
from authenticators.kodeoplaeser.speech import (
    ESPEAK_VOICES,
    espeak_command,
    speech_engine,
    write_wav,
)
from authenticators.store import Store
from firmware_sim.audio_reader import VoiceSettings, spoken_words

CODES = 50
T0 = 1_700_000_000.0


def main() -> int:
    program = shutil.which("espeak-ng")
    if program is None:
        print("espeak-ng is not installed: `sudo apt-get install espeak-ng` (make bench does it)")
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-kodeoplaeser-") as scratch:
        work = Path(scratch)
        store = Store(work / "state")
        clock = FrozenClock(T0)
        plugin.enroll(store, clock, CodeTokenOptions(name="bench"))
        holder = plugin.authenticator(store, "bench", clock)
        assert isinstance(holder, AudioReaderHolder)
        voice = VoiceSettings()
        engine = speech_engine()  # loaded once per process, as in a long-running server
        ours: list[float] = []
        theirs: list[float] = []
        seen: set[str] = set()
        while len(ours) < CODES:
            clock.advance(30.0)  # a new time step, so a new code
            start = time.perf_counter()
            display = holder.press()
            assert display.code is not None
            audio = engine.render(display.code, voice)
            write_wav(audio, work / "ours.wav")
            elapsed = time.perf_counter() - start
            if display.code in seen:  # a code said before would be replayed, not rendered
                continue
            seen.add(display.code)
            ours.append(elapsed)
            text = ", ".join(spoken_words(display.code, voice.language))
            command = espeak_command(
                ESPEAK_VOICES[voice.language.value], voice.rate, voice.volume,
                work / "espeak.wav", program,
            )  # fmt: skip
            start = time.perf_counter()
            subprocess.run([*command, text], check=True, capture_output=True)
            theirs.append(time.perf_counter() - start)
        store.close()
    median_ours, median_theirs = statistics.median(ours), statistics.median(theirs)
    print(f"engine: {engine.name}; {CODES} codes, {voice.language.label}, {voice.rate} wpm")
    print(f"press -> WAV (median):        {median_ours * 1000:7.1f} ms")
    print(f"espeak-ng alone (median):     {median_theirs * 1000:7.1f} ms")
    print(f"ratio:                        {median_ours / median_theirs:7.2f}x (target <= 2x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
