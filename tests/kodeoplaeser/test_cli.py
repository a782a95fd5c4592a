"""``mitid-emu kodeoplaeser …`` and ``mitid-emu login --method kodeoplaeser``, as a user runs them."""

from __future__ import annotations

import os
import re
import stat
import sys
from pathlib import Path

import pytest

from authenticators.kodeoplaeser import speech
from authenticators.store import Store
from firmware_sim.audio_reader import DIGIT_WORDS, Language, VoiceSettings
from tests.kodeoplaeser.conftest import as_json, hardware
from tests.support import T0, Emu, assert_user_error

AT = str(int(T0))
PASSWORD = "correct horse 42"


def test_the_group_has_the_code_display_commands_and_speech(emu: Emu) -> None:
    for command in ("new", "import", "export", "list", "delete", "verify", "resync", "code"):
        assert emu("kodeoplaeser", command, "--help").exit_code == 0, command
    for command in ("speak", "repeat", "key"):
        result = emu("kodeoplaeser", command, "--help")
        assert result.exit_code == 0, command
    assert "--transcript" in emu("kodeoplaeser", "speak", "--help").stdout


def test_speak_writes_a_wav_and_the_code_verifies(emu: Emu, reader: str, tmp_path: Path) -> None:
    out = tmp_path / "code.wav"
    data = as_json(emu("kodeoplaeser", "speak", reader, "--at", AT, "--out", str(out), "--json"))
    audio = speech.read_wav(out)
    assert audio.sample_rate == data["sample_rate"]
    assert len(speech.speech_segments(audio)) == 6
    assert data["language"] == "da"
    assert data["file"] == str(out)
    assert data["words"] == [DIGIT_WORDS[Language.DA][int(d)] for d in data["code"]]
    verified = emu("kodeoplaeser", "verify", reader, data["code"], "--at", AT)
    assert verified.exit_code == 0, verified.output


def test_the_transcript_names_the_digits_on_the_display(
    emu: Emu, reader: str, tmp_path: Path
) -> None:
    shown = emu("kodeoplaeser", "speak", reader, "--at", AT, "--out", str(tmp_path / "a.wav"))
    code = re.search(r"Code (\d{6}):", shown.stdout)
    assert code, shown.stdout
    said = emu(
        "kodeoplaeser", "repeat", reader, "--at", AT, "--out", str(tmp_path / "b.wav"),
        "--transcript", "--lang", "en",
    )  # fmt: skip
    assert said.exit_code == 0, said.output
    digits = re.search(r"^Code: ((?:\d ){5}\d)$", said.stdout, re.MULTILINE)
    assert digits, said.stdout
    assert digits.group(1).replace(" ", "") == code.group(1)
    line = said.stdout.split("English at 150 words per minute, volume 80: ")[1].splitlines()[0]
    words = line.split(", ")
    spoken = "".join(str(DIGIT_WORDS[Language.EN].index(w)) for w in words)
    assert spoken == code.group(1)
    assert "|_" not in said.stdout  # a transcript is text, not the seven-segment drawing


def test_repeat_says_the_same_code_without_pressing(
    emu: Emu, reader: str, tmp_path: Path, store: Store
) -> None:
    first, again = tmp_path / "first.wav", tmp_path / "again.wav"
    spoken = as_json(
        emu("kodeoplaeser", "speak", reader, "--at", AT, "--out", str(first), "--json")
    )
    battery = hardware(store)["battery"]
    later = str(int(T0) + 600)  # the token's current code is another one by now
    result = emu("kodeoplaeser", "repeat", reader, "--at", later, "--out", str(again), "--json")
    assert as_json(result)["code"] == spoken["code"]
    assert "no longer the current code" in result.stderr
    assert again.read_bytes() == first.read_bytes()
    assert hardware(store)["battery"] == battery


@pytest.mark.slow
def test_repeat_is_the_same_audio_across_processes(emu: Emu, reader: str, tmp_path: Path) -> None:
    first, again = tmp_path / "first.wav", tmp_path / "again.wav"
    spoken = emu.run("kodeoplaeser", "speak", reader, "--at", AT, "--out", str(first))
    assert spoken.exit_code == 0, spoken.output
    repeated = emu.run("kodeoplaeser", "repeat", reader, "--at", AT, "--out", str(again))
    assert repeated.exit_code == 0, repeated.output
    assert again.read_bytes() == first.read_bytes()


def test_speak_options_are_for_one_reading_and_the_function_keys_change_settings(
    emu: Emu, reader: str, tmp_path: Path
) -> None:
    out = str(tmp_path / "a.wav")
    once = as_json(
        emu("kodeoplaeser", "speak", reader, "--at", AT, "--out", out, "--lang", "en",
            "--rate", "200", "--volume", "40", "--repeats", "2", "--json")
    )  # fmt: skip
    assert (once["language"], once["rate"], once["volume"], once["repeats"]) == ("en", 200, 40, 2)
    kept = VoiceSettings()
    assert hardware_voice(emu, reader, out) == (kept.language.value, kept.rate, kept.volume)
    key = as_json(emu("kodeoplaeser", "key", reader, "6", "--json"))
    assert (key["language"], key["rate"], key["changed"]) == ("da", kept.rate + 25, True)
    assert as_json(emu("kodeoplaeser", "key", reader, "8", "--json"))["language"] == "en"
    data = as_json(emu("kodeoplaeser", "speak", reader, "--at", AT, "--out", out, "--json"))
    assert (data["language"], data["rate"]) == ("en", kept.rate + 25)


def hardware_voice(emu: Emu, reader: str, out: str) -> tuple[str, int, int]:
    """The reader's own settings, as a plain repeat (no options) reads with them."""
    data = as_json(emu("kodeoplaeser", "repeat", reader, "--at", AT, "--out", out, "--json"))
    return data["language"], data["rate"], data["volume"]


def test_repeat_before_any_press_says_what_to_do(emu: Emu, reader: str, tmp_path: Path) -> None:
    result = emu("kodeoplaeser", "repeat", reader, "--out", str(tmp_path / "a.wav"))
    assert_user_error(result, "has not read a code yet", "speak")


def _enroll_user(emu: Emu, reader: str) -> None:
    created = emu(
        "identity", "create", "--user-id", "demo.user", "--name", "Demo", "--password", PASSWORD
    )
    assert created.exit_code == 0, created.output
    assert emu("identity", "add-authenticator", "demo.user", "kodeoplaeser", reader).exit_code == 0


def test_login_pressing_the_reader(emu: Emu, reader: str) -> None:
    _enroll_user(emu, reader)
    result = emu(
        "login", "--user-id", "demo.user", "--method", "kodeoplaeser", "--press",
        "--password", PASSWORD, "--json",
    )  # fmt: skip
    assert as_json(result)["amr"] == ["code_reader", "pwd"]
    assert "reads aloud in Danish" in result.stderr


def test_login_with_the_code_heard(emu: Emu, reader: str, tmp_path: Path) -> None:
    _enroll_user(emu, reader)
    spoken = as_json(
        emu("kodeoplaeser", "speak", reader, "--out", str(tmp_path / "a.wav"), "--json")
    )
    typed = emu(
        "login", "--user-id", "demo.user", "--method", "kodeoplaeser", "--code", spoken["code"],
        "--password", PASSWORD,
    )  # fmt: skip
    assert typed.exit_code == 0, typed.output
    assert "amr:   code_reader, pwd" in typed.stdout


# -- bad input: a message that says what to do, exit 2, nothing changed ---------------------------


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--lang", "fr"], ["unknown language 'fr'", "da", "en"]),
        (["--rate", "79"], ["rate", "80 to 400"]),
        (["--rate", "401"], ["rate", "80 to 400"]),
        (["--volume", "101"], ["volume", "0 to 100"]),
        (["--volume", "-1"], ["volume", "0 to 100"]),
        (["--repeats", "4"], ["repeats"]),
        ([], ["--out FILE.wav or --play"]),
        (["--out", "x.wav", "--play"], ["one of the two"]),
    ],
)
def test_bad_options_change_nothing(
    emu: Emu, reader: str, store: Store, options: list[str], words: list[str]
) -> None:
    before = hardware(store)
    for command in ("speak", "repeat"):
        out = [] if "--out" in options or not options or "--play" in options else ["--out", "x.wav"]
        result = emu("kodeoplaeser", command, reader, *options, *out)
        assert_user_error(result, *map(re.escape, words))
    assert hardware(store) == before


def test_unwritable_output_changes_nothing(
    emu: Emu, reader: str, store: Store, tmp_path: Path
) -> None:
    before = hardware(store)
    missing = tmp_path / "no-such-dir" / "code.wav"
    assert_user_error(
        emu("kodeoplaeser", "speak", reader, "--out", str(missing)), "does not exist", "--out"
    )
    assert_user_error(emu("kodeoplaeser", "speak", reader, "--out", str(tmp_path)), "directory")
    if os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
        result = emu("kodeoplaeser", "speak", reader, "--out", str(locked / "code.wav"))
        assert_user_error(result, "permission denied")
    assert hardware(store) == before


def _path_without(tmp_path: Path, *programs: str) -> str:
    """A PATH holding only the Python interpreter's directory, checked not to have ``programs``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for program in programs:
        assert not (bin_dir / program).exists()
    return str(bin_dir)


def test_no_espeak_ng_installed(
    emu: Emu, reader: str, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing() -> None:
        raise OSError("libespeak-ng.so.1: cannot open shared object file")

    monkeypatch.setattr(speech, "_ENGINE", None)
    monkeypatch.setattr(speech, "_load_pyttsx3", missing)
    monkeypatch.setenv("PATH", _path_without(tmp_path, "espeak-ng"))
    before = hardware(store)
    result = emu("kodeoplaeser", "speak", reader, "--out", str(tmp_path / "a.wav"))
    assert_user_error(result, "espeak-ng is not installed", "apt-get install espeak-ng")
    assert hardware(store) == before
    assert not (tmp_path / "a.wav").exists()


def test_play_without_audio_output_is_refused(
    emu: Emu, reader: str, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyttsx3's say() would do nothing at all here; --play says so and exits 2."""
    monkeypatch.setenv("PATH", _path_without(tmp_path, "aplay", "paplay", "pw-play"))
    before = hardware(store)
    assert_user_error(emu("kodeoplaeser", "speak", reader, "--play"), "no audio output", "--out")
    assert hardware(store) == before


def test_play_with_a_player_but_no_sound_device_is_refused(
    emu: Emu, reader: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = Path(_path_without(tmp_path))
    player = bin_dir / "paplay"
    player.write_text("#!/bin/sh\nexit 0\n")
    player.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("PULSE_SERVER", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    assert_user_error(emu("kodeoplaeser", "speak", reader, "--play"), "no audio output")


def test_play_hands_the_same_audio_to_the_player(
    emu: Emu, reader: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stand-in for aplay records what it is given; it must be the reading itself."""
    bin_dir = Path(_path_without(tmp_path))
    played = tmp_path / "played.wav"
    player = bin_dir / "aplay"
    player.write_text(
        f"#!{sys.executable}\nimport shutil, sys\nshutil.copy(sys.argv[-1], {str(played)!r})\n"
    )
    player.chmod(0o755)
    (tmp_path / "run" / "pulse").mkdir(parents=True)
    (tmp_path / "run" / "pulse" / "native").touch()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    out = tmp_path / "code.wav"
    emu("kodeoplaeser", "speak", reader, "--at", AT, "--out", str(out))
    monkeypatch.setenv("PATH", str(bin_dir))
    result = emu("kodeoplaeser", "repeat", reader, "--at", AT, "--play")
    assert result.exit_code == 0, result.output
    assert "played through" in result.stdout
    assert played.read_bytes() == out.read_bytes()


def test_a_failing_player_is_reported(
    emu: Emu, reader: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = Path(_path_without(tmp_path))
    player = bin_dir / "aplay"
    player.write_text("#!/bin/sh\necho 'aplay: main:831: audio open error: No such device' >&2\n"
                      "exit 1\n")  # fmt: skip
    player.chmod(0o755)
    (tmp_path / "run" / "pipewire-0").parent.mkdir(parents=True)
    (tmp_path / "run" / "pipewire-0").touch()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("PATH", str(bin_dir))
    result = emu("kodeoplaeser", "speak", reader, "--play")
    assert_user_error(result, "no audio output", "audio open error")
