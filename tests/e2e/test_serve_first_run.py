"""`serve` as a newcomer meets it: a start page, URLs that work as printed, any address."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from authenticators.server.runner import ServerThread
from authenticators.server.testing import BrowserLogin, Page
from tests.server.conftest import emulator_for, own_server  # noqa: F401 - a fixture
from tests.support import Emu, assert_user_error

REDIRECT = "http://127.0.0.1:9/cb"


def test_the_start_page_lists_issuers_clients_identities_and_logs_in(
    own_server: ServerThread,  # noqa: F811
) -> None:
    emulator = emulator_for(own_server)
    emulator.add_client("example", [REDIRECT], public=True)
    emulator.create_identity("start.user", "Start User", authenticators=[{"kind": "codeviser"}])
    page = httpx.get(own_server.url + "/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for shown in ("/.well-known/openid-configuration", "/nemlogin/saml/metadata", "/brokers/",
                  "example", REDIRECT, "start.user", "Start User", "codeviser",
                  "/emulator/openapi.json"):  # fmt: skip
        assert shown in page.text, shown
    self_service = re.search(r'id="self-service" href="([^"]+)"', page.text)
    assert self_service
    assert httpx.get(self_service.group(1)).status_code == 200
    index = httpx.get(own_server.url + "/emulator/")
    assert index.status_code == 200
    assert index.json()["openapi"] == own_server.url + "/emulator/openapi.json"

    login = re.search(r'id="login" href="([^"]+)"', page.text)
    assert login
    first = httpx.get(login.group(1))
    second = httpx.get(login.group(1))
    assert first.status_code == second.status_code == 302
    query = parse_qs(urlsplit(first.headers["location"]).query)
    assert query["client_id"] == ["example"]
    assert query["state"] != parse_qs(urlsplit(second.headers["location"]).query)["state"]
    browser = BrowserLogin(own_server.url, emulator)
    try:
        opened = browser.open(first.headers["location"])
        assert isinstance(opened, Page)
        assert opened.stage == "user_id", opened.html  # a login page, not invalid_request
    finally:
        browser.close()
        emulator.close()


@pytest.mark.slow
def test_serve_on_every_interface_warns_and_takes_the_external_issuer(tmp_path: Path) -> None:
    env = {**os.environ, "MITID_EMU_STATE": str(tmp_path / "state")}
    command = [sys.executable, "-m", "authenticators.cli", "serve", "--host", "0.0.0.0",  # noqa: S104
               "--port", "0", "--workers", "1", "--issuer", "http://mitid.test:8080"]  # fmt: skip
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        banner = ""
        while "Press Ctrl-C" not in banner:
            line = proc.stdout.readline()
            assert line, banner
            banner += line
        assert "login server: http://mitid.test:8080" in banner
        listening = _listening_port(proc.pid)
        discovery = httpx.get(f"http://127.0.0.1:{listening}/.well-known/openid-configuration")
        assert discovery.json()["issuer"] == "http://mitid.test:8080"
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, err
    assert "0.0.0.0" in warnings[0]  # noqa: S104
    assert "emulator" in warnings[0]


def _listening_port(pid: int) -> int:
    """The TCP port the server process listens on (from /proc: --port 0 picked it)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
            return int(fields[1].split(":")[1], 16)
    raise AssertionError("the server listens on no TCP port")


def test_a_bad_issuer_is_a_usage_error(emu: Emu) -> None:
    assert_user_error(emu("serve", "--issuer", "mitid:8080"), "--issuer", "http://")
