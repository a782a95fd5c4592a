"""``mitid-emu chip serve``: the command line, clean stops, and the counter across SIGKILL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from fido2.ctap2 import Ctap2
from fido2.hid import CtapHidDevice

from authenticators.cli import cli

from .conftest import CDH, RP, UdpConnection, descriptor, descriptor_of, free_udp_port
from .conftest import make_credential as make_cred

pytestmark = pytest.mark.timeout(60)


def test_help() -> None:
    result = CliRunner().invoke(cli, ["chip", "serve", "--help"])
    assert result.exit_code == 0
    assert "--presence" in result.output
    assert "--udp" in result.output
    assert CliRunner().invoke(cli, ["chip", "--help"]).exit_code == 0


def test_unknown_model_is_a_user_error_and_list_shows_the_models(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--state", str(tmp_path), "chip", "serve", "--model", "yubikey9"]
    )
    assert result.exit_code == 2
    assert "unknown model 'yubikey9' (models: mitid-chip, solo1, u2f-only)" in result.output
    assert "Traceback" not in result.output
    listed = CliRunner().invoke(
        cli, ["--state", str(tmp_path), "chip", "list", "--udp-port", str(free_udp_port())]
    )
    assert listed.exit_code == 0
    assert "models:" in listed.output
    assert "solo1        as the SoloKeys solo1 simulator answers" in listed.output


def test_each_model_reports_which_checks_apply(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--state", str(tmp_path), "chip", "selftest", "--each-model", "--area", "pin"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("mitid-chip   10 checks apply: 10 passed, 0 failed; 0 do not")
    assert lines[1].startswith("solo1        9 checks apply: 9 passed, 0 failed; 1 do not")
    assert lines[2].startswith("u2f-only     0 checks apply: 0 passed, 0 failed; 10 do not")
    both = CliRunner().invoke(cli, ["chip", "selftest", "--each-model", "--device", "sim:"])
    assert both.exit_code == 2


def test_bad_presence_is_a_user_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--state", str(tmp_path), "chip", "serve", "--presence", "sometimes"]
    )
    assert result.exit_code == 2
    assert "unknown presence policy" in result.output
    assert "Traceback" not in result.output


def test_port_in_use_is_a_user_error(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            cli, ["--state", str(tmp_path), "chip", "serve", "--udp", str(port)]
        )
    assert result.exit_code == 2
    assert f"cannot listen on udp://127.0.0.1:{port}" in result.output


@contextmanager
def serving(state: Path, port: int, reply: int) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from authenticators.cli import main; main()",
            "--state",
            str(state),
            "chip",
            "serve",
            "--udp",
            str(port),
            "--reply-port",
            str(reply),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert f"listening on udp://127.0.0.1:{port}" in line, process.stderr.read()  # type: ignore[union-attr]
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def open_udp(port: int, reply: int, timeout: float = 10.0) -> CtapHidDevice:
    return CtapHidDevice(descriptor("udp"), UdpConnection(port, reply, timeout))


def test_sigterm_stops_cleanly(tmp_path: Path) -> None:
    port, reply = free_udp_port(), free_udp_port()
    with serving(tmp_path, port, reply) as process:
        hid = open_udp(port, reply)
        assert hid.ping(b"up") == b"up"
        hid.close()
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=10)
        assert process.returncode == 0
        assert "state saved" in out


def test_counter_strictly_increases_across_sigkill(tmp_path: Path) -> None:
    port, reply = free_udp_port(), free_udp_port()
    seen: list[int] = []
    with serving(tmp_path, port, reply):
        hid = open_udp(port, reply)
        ctap = Ctap2(hid)
        made = make_cred(ctap)
        credential = descriptor_of(made)
        seen.append(made.auth_data.counter)
        for _ in range(5):
            seen.append(ctap.get_assertion(RP["id"], CDH, [credential]).auth_data.counter)
        hid.close()

    for _round in range(2):
        with serving(tmp_path, port, reply) as process:
            hid = open_udp(port, reply, timeout=1.0)
            ctap = Ctap2(hid)
            seen.append(ctap.get_assertion(RP["id"], CDH, [credential]).auth_data.counter)

            def in_flight(ctap: Ctap2 = ctap) -> None:
                try:
                    counter = ctap.get_assertion(RP["id"], CDH, [credential]).auth_data.counter
                except Exception:  # killed before it answered: that is the point
                    return
                seen.append(counter)

            worker = threading.Thread(target=in_flight)
            worker.start()
            process.send_signal(signal.SIGKILL)  # mid-operation, no chance to save anything
            process.wait(timeout=10)
            worker.join(timeout=15)
            hid.close()

    with serving(tmp_path, port, reply):
        hid = open_udp(port, reply)
        after = Ctap2(hid).get_assertion(RP["id"], CDH, [credential]).auth_data.counter
        hid.close()
    assert seen == sorted(seen)
    assert len(set(seen)) == len(seen)
    assert after > max(seen)
