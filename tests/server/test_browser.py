"""Whole logins in a real browser (Debian's chromium through Playwright).

The app: the test's phone reads the QR frames off screenshots of the page with zxing-cpp, as a
phone camera would, and approves; the page's script notices and finishes the login. The app's
4-digit code and the code display are typed as a person would. The chip: Chrome's virtual
authenticator (CDP ``WebAuthn``) holds a credential the test registered by its public key, and
the page's ``navigator.credentials.get`` has it sign.

Skipped when chromium or the Playwright package is missing (``make test`` installs chromium).
"""

from __future__ import annotations

import base64
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fido2 import cbor
from fido2.cose import ES256

from authenticators.app.channel import ChannelError, scan_png
from authenticators.app.device import Phone
from authenticators.server.app import services_of_app
from authenticators.server.config import ServerConfig
from authenticators.server.runner import ServerThread, free_port
from authenticators.server.testing import AuthRequest, Emulator, authorization_request
from tests.server.conftest import id_token_claims

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP localhost 127.0.0.1",
]
REDIRECT = "http://127.0.0.1:9/callback"
ACR = "urn:grn:authn:dk:mitid:"

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed (make test)"),
    pytest.mark.timeout(120),
    pytest.mark.slow,
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    """Opened as localhost: WebAuthn takes a domain, not an IP address, as the RP ID."""
    port = free_port()
    state = tmp_path_factory.mktemp("browser-state")
    config = ServerConfig(state_dir=str(state), port=port, issuer=f"http://localhost:{port}")
    with ServerThread(config) as running:
        emulator = Emulator(running.url, running.admin_token)
        emulator.add_client("browser-client", [REDIRECT], public=True, name="Browser Service")
        emulator.close()
        yield running


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
            locale="en-GB",
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def emulator(server: ServerThread) -> Iterator[Emulator]:
    client = Emulator(server.url, server.admin_token)
    yield client
    client.close()


@dataclass
class Tab:
    """A browser tab and the service's redirect URIs it was sent back to."""

    page: Any
    callbacks: list[str] = field(default_factory=list)


@pytest.fixture
def tab(chromium: Any) -> Iterator[Tab]:
    chromium.clear_cookies()
    opened = Tab(chromium.new_page())

    def callback(route: Any) -> None:
        opened.callbacks.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<h1 id=done>back</h1>")

    opened.page.route("http://127.0.0.1:9/**", callback)
    yield opened
    opened.page.close()


def start_login(
    tab: Tab, server: ServerThread, user_id: str, method: str, **extra: str
) -> AuthRequest:
    page = tab.page
    request = authorization_request(server.url, "browser-client", REDIRECT, **extra)
    page.goto(request.url)
    page.fill("#user_id", user_id)
    page.click("button.primary")
    page.check(f"input[value='{method}']")
    page.click("button.primary")
    return request


def finish(
    tab: Tab, server: ServerThread, request: AuthRequest, timeout: float = 20.0
) -> dict[str, Any]:
    """Wait to be sent back to the service, then exchange the code and check the ID token."""
    deadline = time.monotonic() + timeout
    while not tab.callbacks and time.monotonic() < deadline:
        tab.page.wait_for_timeout(50)
    assert tab.callbacks, tab.page.content()
    params = httpx.URL(tab.callbacks[-1]).params
    assert params.get("state") == request.state
    assert params.get("code"), tab.callbacks[-1]
    form = {
        "grant_type": "authorization_code",
        "code": params["code"],
        "redirect_uri": REDIRECT,
        "client_id": "browser-client",
        "code_verifier": request.code_verifier,
    }
    with httpx.Client(base_url=server.url) as http:
        response = http.post("/token", data=form)
        assert response.status_code == 200, response.text
        return id_token_claims(http, response.json()["id_token"])


def phone_of(server: ServerThread, app_id: str) -> Phone:
    services = services_of_app(server.app)
    return Phone(services.store, app_id, services.clock)


def test_app_login_scanning_the_qr_code_off_the_screen(
    server: ServerThread, emulator: Emulator, tab: Tab
) -> None:
    made = emulator.create_identity(
        "browser.app", "Browser App", authenticators=[{"kind": "app", "pin": "246810"}]
    )
    app_id = made["enrolled"][0]["id"]
    request = start_login(tab, server, "browser.app", f"app:{app_id}")
    page = tab.page
    page.wait_for_selector("#app-qr")
    phone = phone_of(server, app_id)
    deadline = time.monotonic() + 20
    complete = False
    parts: set[str] = set()
    while not complete and time.monotonic() < deadline:
        shot = page.locator("#app-qr").screenshot()
        try:
            payloads = scan_png(shot)
        except ChannelError:
            continue  # caught between two frames
        result = phone.scan_payloads(payloads)
        parts.update(str(p) for p in result.frames)
        complete = result.complete
        page.wait_for_timeout(150)
    assert complete, "the phone never read both frames"
    assert parts == {"1", "2"}  # the page alternated the two frames
    phone.approve()
    claims = finish(tab, server, request)
    assert claims["amr"] == ["code_app"]


def test_app_login_typing_the_code_the_page_shows(
    server: ServerThread, emulator: Emulator, tab: Tab
) -> None:
    made = emulator.create_identity(
        "browser.code", "Browser Code", authenticators=[{"kind": "app", "pin": "246810"}]
    )
    app_id = made["enrolled"][0]["id"]
    request = start_login(tab, server, "browser.code", f"app:{app_id}")
    page = tab.page
    page.click("button[name=view][value=code]")
    code = page.inner_text("#app-code").strip()
    assert len(code) == 4
    phone_of(server, app_id).approve(code=code)
    claims = finish(tab, server, request)
    assert claims["acr"] == ACR + "substantial"


def test_code_display_login_typing_code_and_password(
    server: ServerThread, emulator: Emulator, tab: Tab
) -> None:
    emulator.create_identity(
        "browser.cv",
        "Browser Codeviser",
        password="browser-pass-1",
        authenticators=[{"kind": "codeviser", "name": "browser-cv"}],
    )
    request = start_login(tab, server, "browser.cv", "codeviser:browser-cv")
    page = tab.page
    page.fill("#code", emulator.fresh_code("codeviser", "browser-cv"))
    page.fill("#password", "browser-pass-1")
    page.click("button.primary")
    claims = finish(tab, server, request)
    assert claims["amr"] == ["code_token", "pwd"]


def test_chip_login_with_the_virtual_authenticator(
    server: ServerThread, emulator: Emulator, tab: Tab, chromium: Any
) -> None:
    page = tab.page
    cdp = chromium.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": False,
                "hasUserVerification": False,
                "automaticPresenceSimulation": True,
            }
        },
    )["authenticatorId"]
    key = ec.generate_private_key(ec.SECP256R1())
    credential_id = b"virtual-chip-credential"
    private = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    cdp.send(
        "WebAuthn.addCredential",
        {
            "authenticatorId": authenticator,
            "credential": {
                "credentialId": base64.b64encode(credential_id).decode(),
                "isResidentCredential": False,
                "rpId": "localhost",
                "privateKey": base64.b64encode(private).decode(),
                "signCount": 0,
            },
        },
    )
    emulator.create_identity("browser.chip", "Browser Chip", password="browser-pass-2")
    b64url = base64.urlsafe_b64encode
    emulator.enroll(
        "browser.chip",
        "chip",
        name="virtual-chip",
        credential_id=b64url(credential_id).rstrip(b"=").decode(),
        public_key=b64url(cbor.encode(dict(ES256.from_cryptography_key(key.public_key()))))
        .rstrip(b"=")
        .decode(),
    )
    request = start_login(tab, server, "browser.chip", "chip:virtual-chip", acr_values=ACR + "high")
    page.fill("#password", "browser-pass-2")
    page.click("#chip-use")
    claims = finish(tab, server, request)
    assert claims["acr"] == ACR + "high"
    assert claims["amr"] == ["u2f_token", "pwd"]
