"""`mitid-emu serve` as a user runs it: a subprocess with two workers sharing one state."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from authenticators.server.testing import BrowserLogin, Emulator, authorization_request


def test_serve_starts_fast_prints_what_to_use_and_shares_state_across_workers(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "MITID_EMU_STATE": str(tmp_path / "state")}
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "authenticators.cli", "serve", "--port", "0", "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(8)]
        text = "".join(lines)
        issuer = re.search(r"login server: (http://127\.0\.0\.1:\d+)", text)
        token = re.search(r"admin token: (\S+)", text)
        assert issuer, text
        assert token, text
        assert "client:      example (public, PKCE)" in text
        url = issuer.group(1)
        while True:
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() - started < 10, "the server did not come up"
            time.sleep(0.05)
        up_after = time.monotonic() - started
        assert up_after < 8  # the issue asks under 2 s (about 1.1 s here); room for a busy CI
        emulator = Emulator(url, token.group(1))
        emulator.create_identity(
            "worker-user",
            "Worker",
            password="long-enough-1",
            authenticators=[{"kind": "codeviser", "name": "worker-cv"}],
        )
        emulator.add_client("worker-client", ["http://127.0.0.1:9/w"])
        frozen = emulator.clock(freeze=True, at=1_800_000_000)["now"]
        time.sleep(0.3)  # past every worker's clock cache
        # many requests land on both workers: all see the same frozen clock and the same state
        for _ in range(10):
            assert emulator.clock()["now"] == frozen
        for _ in range(3):
            browser = BrowserLogin(url, emulator)
            request = authorization_request(url, "worker-client", "http://127.0.0.1:9/w")
            callback = browser.login(request.url, "worker-user", password="long-enough-1")
            assert callback.code
            browser.close()
        emulator.close()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
