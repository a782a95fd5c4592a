"""The code display through the CLI, as a person at a terminal uses it."""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from authenticators.otp import OtpKey, OtpParams
from tests.support import Emu, load_vectors

RFC4226 = load_vectors("rfc-4226.txt")
RFC6238 = load_vectors("rfc-6238.txt")
SEEDS = {
    "SHA1": b"12345678901234567890",
    "SHA256": b"12345678901234567890123456789012",
    "SHA512": b"1234567890123456789012345678901234567890123456789012345678901234",
}
T = 1_700_000_000


def uri(mode: str, digits: int = 8) -> str:
    secret = base64.b32encode(SEEDS[mode]).decode().rstrip("=")
    return f"otpauth://totp/MitID:t?secret={secret}&algorithm={mode}&digits={digits}&period=30"


@pytest.mark.parametrize("mode", ["SHA1", "SHA256", "SHA512"])
def test_rfc6238_vectors_through_the_cli(emu: Emu, mode: str) -> None:
    assert emu("codeviser", "import", uri(mode), "--name", mode.lower()).exit_code == 0
    for vector in (v for v in RFC6238 if v["MODE"] == mode):
        shown = emu("codeviser", "code", mode.lower(), "--at", vector["TIME"], "--json")
        assert shown.exit_code == 0, shown.output
        assert json.loads(shown.stdout)["code"] == vector["TOTP"]
        checked = emu("codeviser", "verify", mode.lower(), vector["TOTP"], "--at", vector["TIME"])
        assert checked.exit_code == 0, checked.output
        assert "accepted" in checked.stdout


def test_rfc4226_vectors_through_the_cli(emu: Emu) -> None:
    """TOTP is HOTP of the time step: at time 30·c a SHA-1 token shows HOTP(c)."""
    assert emu("codeviser", "import", uri("SHA1", 6), "--name", "hotp").exit_code == 0
    for vector in RFC4226:
        at = str(30 * int(vector["COUNT"]))
        shown = emu("codeviser", "code", "hotp", "--at", at, "--json")
        assert json.loads(shown.stdout)["code"] == vector["HOTP"]
        assert emu("codeviser", "verify", "hotp", vector["HOTP"], "--at", at).exit_code == 0


def test_new_code_verify_replay(emu: Emu) -> None:
    made = emu("codeviser", "new", "--name", "t1", "--json")
    assert made.exit_code == 0
    assert json.loads(made.stdout)["serial"].startswith("CV")
    shown = emu("codeviser", "code", "t1", "--at", str(T))
    assert shown.exit_code == 0
    assert "valid for" in shown.stdout
    assert " _ " in shown.stdout or "|_|" in shown.stdout  # the seven-segment drawing
    code = json.loads(emu("codeviser", "code", "t1", "--at", str(T), "--json").stdout)["code"]
    assert emu("codeviser", "verify", "t1", code, "--at", str(T)).exit_code == 0
    replay = emu("codeviser", "verify", "t1", code, "--at", str(T), "--json")
    assert replay.exit_code == 1
    assert json.loads(replay.stdout)["reason"] == "replayed"
    assert "refused: replayed" in replay.stderr


def test_lockout_through_the_cli(emu: Emu) -> None:
    emu("codeviser", "new", "--name", "t1")
    code = json.loads(emu("codeviser", "code", "t1", "--at", str(T), "--json").stdout)["code"]
    wrong = f"{(int(code) + 500_000) % 1_000_000:06d}"
    for _ in range(3):
        assert emu("codeviser", "verify", "t1", wrong, "--at", str(T)).exit_code == 1
    locked = emu("codeviser", "verify", "t1", code, "--at", str(T + 1))
    assert locked.exit_code == 1
    assert "locked" in locked.stderr
    later = str(T + 301)
    code = json.loads(emu("codeviser", "code", "t1", "--at", later, "--json").stdout)["code"]
    assert emu("codeviser", "verify", "t1", code, "--at", later).exit_code == 0


def test_list_shows_a_block_in_real_time(emu: Emu) -> None:
    emu("codeviser", "new", "--name", "t1")
    code = json.loads(emu("codeviser", "code", "t1", "--json").stdout)["code"]
    wrong = f"{(int(code) + 500_000) % 1_000_000:06d}"
    for _ in range(3):
        emu("codeviser", "verify", "t1", wrong)
    listed = json.loads(emu("codeviser", "list", "--json").stdout)
    assert 290 < listed[0]["blocked_for"] <= 300
    assert "(blocked)" in emu("codeviser", "list").stdout


def test_resync_through_the_cli(emu: Emu) -> None:
    emu("codeviser", "import", uri("SHA1", 6), "--name", "t1")
    key = OtpKey(SEEDS["SHA1"], OtpParams())
    step = OtpParams().step(T) + 30  # the token runs 15 minutes fast
    c1, c2, c3 = key.code(step), key.code(step + 1), key.code(step + 2)
    assert emu("codeviser", "verify", "t1", c1, "--at", str(T)).exit_code == 1
    result = emu("codeviser", "resync", "t1", c1, c2, "--at", str(T))
    assert result.exit_code == 0, result.output
    assert "resynchronised" in result.stdout
    assert emu("codeviser", "verify", "t1", c3, "--at", str(T + 30)).exit_code == 0


def test_export_and_import_round_trip(emu: Emu, tmp_path: Path) -> None:
    emu("codeviser", "new", "--name", "t1", "--algorithm", "SHA256", "--digits", "8")
    exported = emu("codeviser", "export", "t1", "--uri").stdout.strip()
    assert exported.startswith("otpauth://totp/")
    emu("codeviser", "import", exported, "--name", "copy")
    pskc = tmp_path / "t1.pskc"
    assert emu("codeviser", "export", "t1", "--pskc", str(pskc), "--password", "pw").exit_code == 0
    assert (
        emu("codeviser", "import", str(pskc), "--name", "copy2", "--password", "pw").exit_code == 0
    )
    codes = {
        name: json.loads(emu("codeviser", "code", name, "--at", str(T), "--json").stdout)["code"]
        for name in ("t1", "copy", "copy2")
    }
    assert len(set(codes.values())) == 1
    assert len(codes["t1"]) == 8
    names = [t["name"] for t in json.loads(emu("codeviser", "list", "--json").stdout)]
    assert names == ["copy", "copy2", "t1"]
    assert emu("codeviser", "delete", "copy").exit_code == 0
    assert "copy" not in emu("codeviser", "list").stdout.split()


def test_battery_runs_out(emu: Emu, state_dir: Path) -> None:
    from authenticators.codeviser.plugin import plugin
    from authenticators.store import Store

    emu("codeviser", "new", "--name", "t1")
    tokens = plugin.tokens(Store(state_dir))
    hardware = tokens.get("t1").hardware
    tokens.save_hardware("t1", {**hardware, "battery": 1})
    assert emu("codeviser", "code", "t1").exit_code == 0
    empty = emu("codeviser", "code", "t1")
    assert empty.exit_code == 2
    assert "empty battery" in empty.stderr


def test_watch_redraws_until_interrupted(emu: Emu, state_dir: Path) -> None:
    emu("codeviser", "new", "--name", "t1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "authenticators.cli", "--state", str(state_dir),
         "codeviser", "code", "t1", "--watch", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    shown = ""
    while not shown.endswith("}\n"):  # until the first code is on screen
        line = proc.stdout.readline()
        assert line, "the watch ended before showing a code"
        shown += line
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    first = json.loads(shown)
    assert len(first["code"]) == 6
