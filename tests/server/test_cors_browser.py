"""A single-page app on another origin calls discovery, JWKS, token and userinfo with fetch()
in chromium: allowed for the origin of a client's redirect URI, blocked for any other."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from authenticators.server.config import ServerConfig
from authenticators.server.runner import ServerThread
from authenticators.server.testing import BrowserLogin, authorization_request
from tests.server.conftest import emulator_for

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed (make test)"),
    pytest.mark.timeout(120),
    pytest.mark.slow,
]

# The app's script: every call the way an SPA's OIDC library makes it.
SPA_CALLS = """async ([issuer, form, accessToken]) => {
  const out = {};
  const read = async (name, promise) => {
    try { const r = await promise; out[name] = [r.status, await r.json()]; }
    catch (e) { out[name] = ["blocked", String(e)]; }
  };
  await read("discovery", fetch(issuer + "/.well-known/openid-configuration"));
  await read("jwks", fetch(issuer + "/jwks"));
  if (form) {
    await read("token", fetch(issuer + "/token", {method: "POST",
      headers: {"Content-Type": "application/x-www-form-urlencoded"},
      body: new URLSearchParams(form)}));
  }
  const bearer = out.token && out.token[1].access_token || accessToken || "none";
  await read("userinfo", fetch(issuer + "/userinfo",
    {headers: {"Authorization": "Bearer " + bearer}}));
  return out;
}"""


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>SPA</title><p>app</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def spa_port() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_an_spa_on_a_client_origin_may_fetch_and_others_may_not(
    tmp_path: Path, spa_port: int
) -> None:
    spa = f"http://127.0.0.1:{spa_port}"
    redirect = f"{spa}/callback"
    config = ServerConfig(state_dir=str(tmp_path / "s"), port=0)
    with ServerThread(config) as server:
        emulator = emulator_for(server)
        emulator.add_client("spa-client", [redirect], public=True)
        emulator.create_identity(
            "spa.user",
            "Spa User",
            password="long-enough-1",
            authenticators=[{"kind": "codeviser", "name": "spa-cv"}],
        )
        request = authorization_request(server.url, "spa-client", redirect)
        browser = BrowserLogin(server.url, emulator)
        callback = browser.login(request.url, "spa.user", password="long-enough-1")
        browser.close()
        form = {
            "grant_type": "authorization_code",
            "code": callback.code,
            "redirect_uri": redirect,
            "client_id": "spa-client",
            "code_verifier": request.code_verifier,
        }
        with sync_api.sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=ARGS
            )
            try:
                page = chromium.new_page()
                page.goto(spa + "/")
                allowed = page.evaluate(SPA_CALLS, [server.url, form, None])
                # The same page served from an origin no client uses (localhost, not 127.0.0.1).
                page.goto(f"http://localhost:{spa_port}/")
                token = allowed["token"][1].get("access_token")
                blocked = page.evaluate(SPA_CALLS, [server.url, None, token])
            finally:
                chromium.close()
    assert allowed["discovery"][0] == 200
    assert allowed["discovery"][1]["issuer"] == server.url
    assert allowed["jwks"][0] == 200
    assert allowed["jwks"][1]["keys"]
    assert allowed["token"][0] == 200, allowed["token"]
    assert allowed["token"][1]["id_token"]
    assert allowed["userinfo"][0] == 200, allowed["userinfo"]  # Authorization: a preflight
    assert allowed["userinfo"][1]["sub"]
    for name in ("discovery", "jwks", "userinfo"):
        assert blocked[name][0] == "blocked", (name, blocked[name])
