"""The CLI beside a running login server keeps the server's time: its clock may be moved or
frozen through the control API, and what the CLI shows or signs must hold there."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from authenticators.codeviser.tokens import TokenRepository
from authenticators.server.runner import ServerThread
from authenticators.server.testing import (
    BrowserLogin,
    Callback,
    Emulator,
    Page,
    authorization_request,
)
from authenticators.store import Store
from tests.server.conftest import emulator_for, own_server  # noqa: F401 - a fixture
from tests.support import Emu

REDIRECT = "http://127.0.0.1:9/cb"
HOUR = 3600.0


def totp(seed: bytes, at: float) -> str:
    mac = hmac.new(seed, int(at // 30).to_bytes(8, "big"), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return f"{(int.from_bytes(mac[offset : offset + 4], 'big') & 0x7FFFFFFF) % 1_000_000:06d}"


def _freeze_an_hour_ahead(emulator: Emulator) -> float:
    at = (time.time() + HOUR) // 30 * 30 + 10  # well inside a time step
    emulator.clock(freeze=True, at=at)
    return at


def test_codeviser_code_beside_a_server_shows_the_code_of_the_servers_clock(
    own_server: ServerThread,  # noqa: F811
) -> None:
    emulator = emulator_for(own_server)
    emulator.create_identity("kim.t", "Kim T")
    enrolled = emulator.enroll("kim.t", "codeviser")
    secret = parse_qs(urlsplit(enrolled["otpauth_uri"]).query)["secret"][0]
    seed = base64.b32decode(secret + "=" * (-len(secret) % 8))
    at = _freeze_an_hour_ahead(emulator)
    emu = Emu(Path(own_server.config.state_dir))
    shown = emu("codeviser", "code", enrolled["id"], "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["code"] == totp(seed, at)
    emulator.close()


def _open_app_step(browser: BrowserLogin, server: ServerThread, app_id: str) -> Page:
    page = browser.open(
        authorization_request(server.url, "phone-client", REDIRECT, prompt="login").url
    )
    assert isinstance(page, Page)
    page = browser.submit(page, user_id="far.away")
    assert isinstance(page, Page)
    if page.stage != "step":
        page = browser.submit(page, method=f"app:{app_id}")
        assert isinstance(page, Page)
    assert page.stage == "step", page.html
    return page


def test_app_server_answers_on_the_servers_clock_and_a_refusal_is_exit_1(
    own_server: ServerThread,  # noqa: F811
    tmp_path: Path,
) -> None:
    emulator = emulator_for(own_server)
    emulator.add_client("phone-client", [REDIRECT], public=True)
    emulator.create_identity("far.away", "Far Away")
    _freeze_an_hour_ahead(emulator)  # this machine's clock is an hour behind the server's
    phone = Emu(tmp_path / "phone")
    server = ["app", "--server", own_server.url, "--admin-token", own_server.admin_token]
    enrolled = phone(*server, "enroll", "--user-id", "far.away", "--pin", "246810", "--json")
    assert enrolled.exit_code == 0, enrolled.output
    app_id = json.loads(enrolled.stdout)["app_id"]
    browser = BrowserLogin(own_server.url, emulator)
    try:
        page = _open_app_step(browser, own_server, app_id)
        page = browser.submit(page, view="code")  # "I cannot scan": the page shows the code
        assert isinstance(page, Page)
        code = page.html.split('data-code="')[1].split('"')[0]
        wrong = f"{(int(code) + 1) % 10000:04d}"
        refused = phone(*server, "approve", "--code", wrong)
        assert refused.exit_code == 1, refused.output
        assert "approved" not in refused.stdout

        watched = phone(*server, "watch", "--auto-approve", "--once", "--timeout", "30")
        assert watched.exit_code == 0, watched.output
        assert "approved login" in watched.stdout
        callback = browser.submit(page)
        assert isinstance(callback, Callback), getattr(callback, "html", callback)
        assert callback.code

        page = _open_app_step(browser, own_server, app_id)
        rejected = phone(*server, "reject")
        assert rejected.exit_code == 0, rejected.output
        denied = browser.submit(page)
        assert isinstance(denied, Callback)
        assert denied.error == "access_denied"
    finally:
        browser.close()
        emulator.close()


def test_a_missing_authenticator_is_never_offered_nor_a_500(
    own_server: ServerThread,  # noqa: F811
) -> None:
    emulator = emulator_for(own_server)
    emulator.add_client("gone-client", [REDIRECT], public=True)
    emulator.create_identity(
        "gone.user",
        "Gone",
        password="long-enough-1",
        authenticators=[{"kind": "codeviser", "name": "old"}, {"kind": "codeviser", "name": "new"}],
    )
    emu = Emu(Path(own_server.config.state_dir))
    # a state from before deletes were refused: "old" is linked but gone
    TokenRepository(Store(Path(own_server.config.state_dir)), "codeviser").delete("old")
    browser = BrowserLogin(own_server.url, emulator)
    try:
        page = browser.open(authorization_request(own_server.url, "gone-client", REDIRECT).url)
        assert isinstance(page, Page)
        page = browser.submit(page, user_id="gone.user")
        assert isinstance(page, Page)
        assert "codeviser:old" not in page.html
        if page.stage == "method":
            page = browser.submit(page, method="codeviser:new")
            assert isinstance(page, Page)
        assert page.stage == "step", page.html
        flow = page.html.split('action="/login/')[1].split("/")[0]
        # the token is taken away and deleted while the login shows its step
        assert (
            emu("identity", "remove-authenticator", "gone.user", "codeviser", "new").exit_code == 0
        )
        assert emu("codeviser", "delete", "new").exit_code == 0
        for _ in range(2):  # every reload
            shown = browser.http.get(f"{own_server.url}/login/{flow}")
            assert shown.status_code == 200, shown.text
            assert 'data-stage="failed"' in shown.text or "failed" in shown.text
    finally:
        browser.close()
        emulator.close()


def test_the_control_api_takes_an_80_bit_seed_with_the_warning_and_its_code_works(
    own_server: ServerThread,  # noqa: F811
) -> None:
    emulator = emulator_for(own_server)
    emulator.create_identity("short.seed", "Short Seed")
    uri = "otpauth://totp/MitID:t?secret=JBSWY3DPEHPK3PXP"  # 80 bits
    enrolled = emulator.enroll("short.seed", "codeviser", otpauth_uri=uri)
    assert "RFC 4226" in enrolled["warning"]
    at = _freeze_an_hour_ahead(emulator)
    code = emulator.call("GET", f"/emulator/code-tokens/codeviser/{enrolled['id']}/code")
    assert code["code"] == totp(base64.b32decode("JBSWY3DPEHPK3PXP"), at)
    too_short = emulator.http.post(
        "/emulator/identities/short.seed/authenticators",
        json={"kind": "codeviser", "otpauth_uri": "otpauth://totp/MitID:t?secret=AAAAAAAAAAAAAAA"},
    )
    assert too_short.status_code == 400
    assert "at least 80 bits" in too_short.json()["error_description"]
    emulator.close()
