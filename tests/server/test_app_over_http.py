"""`mitid-emu app --server`: a phone whose key lives in its own state answers over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from authenticators.server.runner import ServerThread
from authenticators.server.testing import BrowserLogin, Callback, Page, authorization_request
from tests.server.conftest import emulator_for

REDIRECT = "http://127.0.0.1:9/cb"


def cli(
    state: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "authenticators.cli", "--state", str(state), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


def open_step(browser: BrowserLogin, server: ServerThread, user_id: str, app_id: str) -> Page:
    request = authorization_request(server.url, "phone-client", REDIRECT, prompt="login")
    page = browser.open(request.url)
    assert isinstance(page, Page)
    page = browser.submit(page, user_id=user_id)
    assert isinstance(page, Page)
    page = browser.submit(page, method=f"app:{app_id}")
    assert isinstance(page, Page)
    assert page.stage == "step", page.html
    return page


@pytest.mark.slow
def test_watch_approve_and_reject_against_a_running_server(
    own_server: ServerThread, tmp_path: Path
) -> None:
    emulator = emulator_for(own_server)
    emulator.add_client("phone-client", [REDIRECT], public=True)
    emulator.create_identity("far.away", "Far Away")
    phone_state = tmp_path / "phone"
    server = ["app", "--server", own_server.url, "--admin-token", own_server.admin_token]

    enrolled = cli(
        phone_state, *server, "enroll", "--user-id", "far.away", "--pin", "246810", "--json"
    )
    assert enrolled.returncode == 0, enrolled.stderr
    app_id = json.loads(enrolled.stdout)["app_id"]
    held = emulator.identity("far.away")["authenticators"]
    assert {"kind": "app", "id": app_id} in held
    # the server keeps the public key only: its control API cannot answer for this phone
    browser = BrowserLogin(own_server.url, emulator)
    try:
        page = open_step(browser, own_server, "far.away", app_id)
        tx = page.html.split('data-transaction="')[1].split('"')[0]
        refused = emulator.http.post(f"/emulator/app/logins/{tx}/approve", json={})
        assert refused.status_code == 409

        watched = cli(phone_state, *server, "watch", "--auto-approve", "--once", "--timeout", "30")
        assert watched.returncode == 0, watched.stderr
        assert f"approved login {tx}" in watched.stdout
        callback = browser.submit(page)
        assert isinstance(callback, Callback)
        assert callback.code

        # the server and token from the environment; reject, then the inbox is empty
        page = open_step(browser, own_server, "far.away", app_id)
        env = {"MITID_EMU_SERVER": own_server.url, "MITID_EMU_ADMIN_TOKEN": own_server.admin_token}
        inbox = cli(phone_state, "app", "inbox", "--json", env=env)
        assert inbox.returncode == 0, inbox.stderr
        assert [r["app_id"] for r in json.loads(inbox.stdout)] == [app_id]
        rejected = cli(phone_state, "app", "reject", env=env)
        assert rejected.returncode == 0, rejected.stderr
        denied = browser.submit(page)
        assert isinstance(denied, Callback)
        assert denied.error == "access_denied"
        assert json.loads(cli(phone_state, "app", "inbox", "--json", env=env).stdout) == []

        # a wrong token, no token: one line, exit 2
        bad = cli(phone_state, "app", "--server", own_server.url, "--admin-token", "nope", "inbox")
        assert bad.returncode == 2
        assert "admin token" in bad.stderr
        missing = cli(phone_state, "app", "--server", own_server.url, "inbox")
        assert missing.returncode == 2
        assert "--admin-token" in missing.stderr
    finally:
        browser.close()
        emulator.close()


def test_the_http_exchange_reports_refusals_as_the_state_does(own_server: ServerThread) -> None:
    from authenticators.app.http_exchange import HttpExchange
    from authenticators.protocol import ProtocolError

    emulator = emulator_for(own_server)
    emulator.create_identity("near.by", "Near", authenticators=[{"kind": "app"}])
    app_id = emulator.identity("near.by")["authenticators"][0]["id"]
    with HttpExchange(own_server.url, own_server.admin_token) as exchange:
        assert exchange.inbox(app_id, 0.0) == []
        with pytest.raises(ProtocolError):
            exchange.inbox("app-unknown", 0.0)
        with pytest.raises(ProtocolError):
            exchange.request("no-such-login", app_id, 0.0)
        with pytest.raises(ProtocolError):
            exchange.report_scan("no-such-login", app_id, 0, 0.0)
    emulator.close()
