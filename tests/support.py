"""Test helpers: vector files, the CLI run as a user would, the shape of a user error."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from authenticators.cli import cli

VECTORS = Path(__file__).parent / "vectors"
T0 = 1_700_000_000.0


def load_vectors(name: str) -> list[dict[str, str]]:
    """Read a vector file: ``KEY = VALUE`` lines, blank lines or one-line records separate."""
    records: list[dict[str, str]] = []
    current: dict[str, str] = {}
    shared: dict[str, str] = {}
    for raw in (VECTORS / name).read_text().splitlines():
        line = raw.strip()
        if line.startswith("#"):
            continue
        if not line:
            if current:
                records.append({**shared, **current})
                current = {}
            continue
        pairs = dict(
            (k.strip(), v.strip()) for k, v in (part.split("=", 1) for part in line.split(","))
        )
        if "SECRET" in pairs and len(pairs) == 1:
            shared.update(pairs)
        elif len(pairs) > 1:
            records.append({**shared, **pairs})
        else:
            current.update(pairs)
    if current:
        records.append({**shared, **current})
    return records


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Emu:
    """Runs ``mitid-emu`` against one state directory, in process (fast) or as a subprocess."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir

    def __call__(self, *args: str, input: str | None = None) -> Result:
        runner = CliRunner()
        result = runner.invoke(
            cli, ["--state", str(self.state_dir), *args], input=input, prog_name="mitid-emu"
        )
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Result(result.exit_code, result.stdout, result.stderr)

    def run(self, *args: str, input: str | None = None, timeout: float = 60) -> Result:
        env = {**os.environ, "MITID_EMU_STATE": str(self.state_dir)}
        proc = subprocess.run(
            [sys.executable, "-m", "authenticators.cli", *args],
            input=input,
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)


def assert_user_error(result: Result, *words: str) -> None:
    """A user error: exit 2, one line on stderr naming the problem, no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "no message"
    message = lines[-1]
    assert message.startswith("Error: "), result.stderr
    for word in words:
        assert re.search(word, message, re.IGNORECASE), (word, message)
