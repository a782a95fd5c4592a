"""``mitid-emu login`` as separate processes, the way a person or a script runs it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support import Emu

PASSWORD = "correct horse"


@pytest.fixture
def alice(emu: Emu) -> Emu:
    emu("codeviser", "new", "--name", "t1")
    emu("identity", "create", "--user-id", "alice", "--name", "Alice Test", "--password", PASSWORD)
    emu("identity", "add-authenticator", "alice", "codeviser", "t1")
    return emu


def current_code(emu: Emu) -> str:
    return str(json.loads(emu("codeviser", "code", "t1", "--json").stdout)["code"])


@pytest.mark.slow
def test_a_login_at_the_prompts(alice: Emu) -> None:
    code = current_code(alice)
    result = alice.run(
        "login", "--user-id", "alice", "--method", "codeviser",
        "--service-provider", "Demo Bank", "--reference-text", "Log on to Demo Bank",
        input=f"12\n{code}\n{PASSWORD}\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Service provider: Demo Bank" in result.stdout
    assert "[LOG_ON] Log on to Demo Bank" in result.stdout
    assert "a code is exactly 6 digits" in result.output  # the bad entry was asked again
    assert "Login accepted: Alice Test" in result.stdout
    assert "amr:   code_token, pwd" in result.stdout
    assert "urn:grn:authn:dk:mitid:substantial" in result.stdout
    assert PASSWORD not in result.output
    # The same code in a second process is a replay: the state is shared and durable.
    again = alice.run(
        "login", "--user-id", "alice", "--method", "codeviser", "--code", code,
        input=f"{PASSWORD}\n",
    )  # fmt: skip
    assert again.exit_code == 1
    assert "Login refused: replayed" in again.stderr


def test_the_audit_trail_records_attempts_without_secrets(alice: Emu) -> None:
    code = current_code(alice)
    alice(
        "login",
        "--user-id",
        "alice",
        "--method",
        "codeviser",
        "--code",
        code,
        "--password",
        PASSWORD,
    )
    alice("codeviser", "verify", "t1", code)
    trail = json.loads(alice("audit", "--json").stdout)
    assert [e["event"] for e in trail] == ["login_started", "login_finished", "code_verified"]
    assert [e["reason"] for e in trail[1:]] == ["ok", "replayed"]
    assert code not in json.dumps(trail)
    assert PASSWORD not in json.dumps(trail)
    text = alice("audit").stdout
    assert "login_finished" in text
    assert "alice" in text


def test_a_wrong_password_is_refused_with_exit_1(alice: Emu) -> None:
    result = alice.run(
        "login", "--user-id", "alice", "--method", "codeviser", "--press",
        "--password", "not the password", "--json",
    )  # fmt: skip
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert data["reason"] == "wrong_password"
    assert data["level"] is None


def test_json_for_scripts(alice: Emu) -> None:
    result = alice.run(
        "login", "--user-id", "alice", "--method", "codeviser", "--press",
        "--password", PASSWORD, "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # the conversation went to stderr
    assert data["ok"] is True
    assert data["amr"] == ["code_token", "pwd"]
    assert data["acr"] == "urn:grn:authn:dk:mitid:substantial"
    assert data["loa"] == "https://data.gov.dk/concept/core/nsis/loa/Substantial"
    assert data["user_id"] == "alice"


def test_usage_errors_exit_2(alice: Emu) -> None:
    result = alice.run("login", "--user-id", "alice")
    assert result.exit_code == 2
    assert "Missing option '--method'" in result.stderr
    no_password = alice.run("login", "--user-id", "alice", "--method", "codeviser", "--press")
    assert no_password.exit_code == 2
    assert "give the password with --password" in no_password.stderr
    assert "Traceback" not in no_password.stderr


@pytest.mark.slow
def test_the_demo_runs(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    if not (root / ".venv" / "bin" / "mitid-emu").exists():
        pytest.fail("make demo needs .venv: run `make test`, which sets it up")
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.run(
        ["bash", str(root / "scripts" / "demo.sh")],
        capture_output=True, text=True, env=env, timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Login accepted" in proc.stdout
    assert "refused: replayed" in proc.stdout + proc.stderr
    assert "refused: locked" in proc.stdout + proc.stderr
