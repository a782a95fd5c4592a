"""The MitID app step: push, QR frames and code, polling, approve/reject/expiry, control API."""

from __future__ import annotations

import secrets

import httpx
import pytest

from authenticators.app.channel import scan_png
from authenticators.pytest_plugin import AppApprover, MitIDClient, MitIDIdentity, MitIDServer
from authenticators.server.runner import ServerThread
from authenticators.server.testing import (
    BrowserLogin,
    Callback,
    Emulator,
    EmulatorError,
    LoginFailed,
    Page,
    authorization_request,
)
from tests.server.conftest import emulator_for, exchange, id_token_claims

ACR = "urn:grn:authn:dk:mitid:"


def open_app_step(
    browser: BrowserLogin, client: MitIDClient, identity: MitIDIdentity, **extra: str
) -> Page:
    request = client.authorization_request(**extra)
    page = browser.open(request.url)
    assert isinstance(page, Page)
    page = browser.submit(page, user_id=identity.user_id)
    assert isinstance(page, Page)
    assert page.form is not None
    choice = "app:" + identity.authenticators["app"]
    assert choice in page.form.choices["method"]
    page = browser.submit(page, method=choice)
    assert isinstance(page, Page)
    assert page.stage == "step", page.html
    return page


def transaction_of(page: Page) -> str:
    marker = 'data-transaction="'
    start = page.html.index(marker) + len(marker)
    return page.html[start : page.html.index('"', start)]


def test_app_login_with_the_qr_code_gives_code_app_at_substantial(
    http: httpx.Client,
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
) -> None:
    request = mitid_client.authorization_request()
    callback = mitid_browser.login(request.url, mitid_identity.user_id, kind="app")
    assert callback.code
    tokens = exchange(http, mitid_client, request, callback.code).json()
    claims = id_token_claims(http, tokens["id_token"])
    assert claims["amr"] == ["code_app"]
    assert claims["acr"] == ACR + "substantial"


def test_acr_high_with_the_app_enrolled_at_high_needs_the_pin(
    http: httpx.Client,
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
    mitid_emulator: object,
) -> None:
    page = open_app_step(mitid_browser, mitid_client, mitid_identity, acr_values=ACR + "high")
    assert "PIN" in page.html
    tx = transaction_of(page)
    emulator = mitid_browser.emulator
    assert emulator is not None
    with pytest.raises(EmulatorError) as no_pin:
        emulator.app_approve(tx)
    assert no_pin.value.status == 400
    assert "PIN" in no_pin.value.description
    with pytest.raises(EmulatorError) as wrong:
        emulator.app_approve(tx, pin="000000")
    assert (wrong.value.status, wrong.value.error) == (409, "refused")
    emulator.app_approve(tx, pin=mitid_identity.app_pin)
    callback = mitid_browser.submit(page)
    assert isinstance(callback, Callback)
    assert callback.code
    request_state = callback.params["state"]
    assert request_state
    # the same login again, all the way, at high
    request = mitid_client.authorization_request(acr_values=ACR + "high")
    done = mitid_browser.login(
        request.url, mitid_identity.user_id, kind="app", pin=mitid_identity.app_pin
    )
    claims = id_token_claims(
        http, exchange(http, mitid_client, request, done.code or "").json()["id_token"]
    )
    assert claims["acr"] == ACR + "high"
    assert claims["amr"] == ["code_app"]


def test_an_app_enrolled_at_substantial_does_not_reach_high(
    mitid_server: MitIDServer, mitid_client: MitIDClient, mitid_browser: BrowserLogin
) -> None:
    emulator = mitid_server.emulator
    user = emulator.create_identity(
        "app-subst-only", "App Person", authenticators=[{"kind": "app", "pin": "135790"}]
    )
    request = mitid_client.authorization_request(acr_values=ACR + "high")
    with pytest.raises(LoginFailed) as failed:
        mitid_browser.login(request.url, user["user_id"], kind="app", pin="135790")
    # Not offered at all (rather than failing after the PIN): no method reaches high.
    assert failed.value.reason == "no_methods"


def test_typing_the_code_instead_of_scanning(
    mitid_client: MitIDClient, mitid_identity: MitIDIdentity, mitid_browser: BrowserLogin
) -> None:
    page = open_app_step(mitid_browser, mitid_client, mitid_identity)
    assert 'id="app-qr"' in page.html
    shown = mitid_browser.submit(page, view="code")
    assert isinstance(shown, Page)
    assert 'id="app-code"' in shown.html
    assert 'id="app-qr"' not in shown.html
    emulator = mitid_browser.emulator
    assert emulator is not None
    assert emulator.app_approve(transaction_of(shown), bind="code")["bind_method"] == "code"
    callback = mitid_browser.submit(shown)
    assert isinstance(callback, Callback)
    assert callback.code


def test_rejecting_in_the_app_sends_access_denied(
    mitid_client: MitIDClient, mitid_identity: MitIDIdentity, mitid_browser: BrowserLogin
) -> None:
    request = mitid_client.authorization_request()
    callback = mitid_browser.login(
        request.url, mitid_identity.user_id, kind="app", app_action="reject"
    )
    assert callback.error == "access_denied"
    assert callback.params["state"] == request.state


def test_the_page_shows_a_frame_without_script_and_polls_with_one(
    mitid_client: MitIDClient, mitid_identity: MitIDIdentity, mitid_browser: BrowserLogin
) -> None:
    page = open_app_step(mitid_browser, mitid_client, mitid_identity)
    assert '<script src="/static/app-step.js"' in page.html
    assert 'id="app-refresh"' in page.html  # the way on without a script
    flow = page.url.split("/login/")[1].split("/")[0]
    status = mitid_browser.http.get(f"/login/{flow}/app/status").json()
    assert status["status"] == "pending"
    assert len(status["frames"]) == 2
    assert len(status["png"]) == 2
    assert len(status["code"]) == 4
    png = mitid_browser.http.get(status["png"][0])
    assert png.headers["content-type"] == "image/png"
    assert scan_png(png.content) == [status["frames"][0]]
    script = mitid_browser.http.get("/static/app-step.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    # another browser (no cookie) sees nothing
    with httpx.Client(base_url=mitid_browser.base_url) as stranger:
        assert stranger.get(f"/login/{flow}/app/status").status_code == 404
        assert stranger.get(status["png"][0]).status_code == 404
    # continuing before the app answered says so and stays
    again = mitid_browser.submit(page)
    assert isinstance(again, Page)
    assert again.stage == "step"
    assert again.reason == "app_waiting"
    emulator = mitid_browser.emulator
    assert emulator is not None
    emulator.app_approve(transaction_of(page))
    assert mitid_browser.http.get(f"/login/{flow}/app/status").json()["status"] == "answered"
    done = mitid_browser.submit(again)
    assert isinstance(done, Callback)
    assert done.code


def test_a_second_app_login_at_once_is_refused_as_parallel(
    mitid_client: MitIDClient, mitid_identity: MitIDIdentity, mitid_server: MitIDServer
) -> None:
    first = BrowserLogin(mitid_server.url, mitid_server.emulator)
    second = BrowserLogin(mitid_server.url, mitid_server.emulator)
    try:
        page = open_app_step(first, mitid_client, mitid_identity)
        with pytest.raises(AssertionError):
            open_app_step(second, mitid_client, mitid_identity)
        request = mitid_client.authorization_request()
        with pytest.raises(LoginFailed) as failed:
            second.login(request.url, mitid_identity.user_id, kind="app")
        assert failed.value.reason == "parallel_session"
        # leaving the first page takes the push back: the next login may begin
        left = first.submit(page, action=page.url.split("?")[0] + "/methods")
        assert isinstance(left, Page)
        assert left.stage == "method"
        callback = second.login(
            mitid_client.authorization_request().url, mitid_identity.user_id, kind="app"
        )
        assert callback.code
    finally:
        first.close()
        second.close()


def test_an_expired_app_login_gets_a_clear_page(own_server: ServerThread) -> None:
    emulator = emulator_for(own_server)
    emulator.add_client("expiry-client", ["http://127.0.0.1:9/cb"], public=True)
    emulator.create_identity("late.user", "Late", authenticators=[{"kind": "app"}])
    browser = BrowserLogin(own_server.url, emulator)
    try:
        request = authorization_request(own_server.url, "expiry-client", "http://127.0.0.1:9/cb")
        page = browser.open(request.url)
        assert isinstance(page, Page)
        page = browser.submit(page, user_id="late.user")
        assert isinstance(page, Page)
        assert page.form is not None
        page = browser.submit(page, method=page.form.choices["method"][0])
        assert isinstance(page, Page)
        assert page.stage == "step"
        flow = page.url.split("/login/")[1].split("/")[0]
        emulator.clock(advance=600)
        assert browser.http.get(f"/login/{flow}/app/status").json()["status"] == "expired"
        failed = browser.submit(page)
        assert isinstance(failed, Page)
        assert failed.stage == "failed"
        assert failed.reason == "expired"
        assert "expired" in failed.html or "udløbet" in failed.html
    finally:
        browser.close()


def test_control_api_lists_pending_app_logins_and_refuses_nonsense(
    mitid_client: MitIDClient, mitid_identity: MitIDIdentity, mitid_browser: BrowserLogin
) -> None:
    emulator = mitid_browser.emulator
    assert emulator is not None
    page = open_app_step(mitid_browser, mitid_client, mitid_identity)
    tx = transaction_of(page)
    pending = {p["transaction_id"]: p for p in emulator.app_logins()}
    assert pending[tx]["apps"] == [mitid_identity.authenticators["app"]]
    assert pending[tx]["user_id"] == mitid_identity.user_id
    assert pending[tx]["binding_required"] is True
    with pytest.raises(EmulatorError) as unknown:
        emulator.app_approve("no-such-login")
    assert unknown.value.status == 404
    with pytest.raises(EmulatorError) as not_pushed:
        emulator.app_approve(tx, app_id="app-other")
    assert not_pushed.value.status == 404
    emulator.app_reject(tx)
    with pytest.raises(EmulatorError) as twice:
        emulator.app_approve(tx)
    assert twice.value.status == 409
    # Answered, not yet collected by the login page: still open, and listed as such.
    assert {p["transaction_id"]: p for p in emulator.app_logins()}[tx]["status"] == "answered"
    callback = mitid_browser.submit(page)
    assert isinstance(callback, Callback)
    assert callback.error == "access_denied"


def test_the_mitid_app_fixture_approves_in_the_background(
    http: httpx.Client,
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
    mitid_app: AppApprover,
) -> None:
    request = mitid_client.authorization_request(acr_values=ACR + "high")
    callback = mitid_browser.login(
        request.url, mitid_identity.user_id, kind="app", app_action="wait"
    )
    assert callback.code
    assert mitid_app.approved
    claims = id_token_claims(
        http, exchange(http, mitid_client, request, callback.code).json()["id_token"]
    )
    assert claims["acr"] == ACR + "high"
    mitid_app.decision = "reject"
    denied = mitid_browser.login(
        mitid_client.authorization_request(prompt="login").url,
        mitid_identity.user_id,
        kind="app",
        app_action="wait",
    )
    assert denied.error == "access_denied"


def test_the_openapi_document_describes_the_app_and_chip_routes(
    http: httpx.Client, admin: dict[str, str]
) -> None:
    paths = http.get("/emulator/openapi.json").json()["paths"]
    for path in (
        "/emulator/app/logins",
        "/emulator/app/logins/{transaction_id}/approve",
        "/emulator/app/logins/{transaction_id}/reject",
        "/emulator/app/apps/{app_id}/inbox",
        "/emulator/app/apps/{app_id}/requests/{transaction_id}/scan",
        "/emulator/app/answers",
        "/emulator/chips/{name}/assert",
    ):
        assert path in paths, path
    enroll = http.get("/emulator/openapi.json").json()["components"]["schemas"]["Enroll"]
    assert {"pin", "public_key", "device", "credential_id"} <= set(enroll["properties"])
    kinds = {k["kind"]: k for k in http.get("/emulator/kinds", headers=admin).json()["kinds"]}
    assert kinds["app"]["login_step"] is True
    assert kinds["chip"]["login_step"] is True


def test_a_uuid_hint_goes_straight_to_the_persons_only_method(
    http: httpx.Client, mitid_client: MitIDClient, mitid_server: MitIDServer
) -> None:
    emulator = mitid_server.emulator
    person = emulator.create_identity(
        f"only-app-{secrets.token_hex(4)}",
        "Only App",
        authenticators=[{"kind": "app", "pin": "135790"}],
    )
    browser = BrowserLogin(mitid_server.url)
    try:
        request = mitid_client.authorization_request(login_hint=f"uuid:{person['uuid']}")
        page = browser.open(request.url)
        assert isinstance(page, Page)
        assert page.stage == "step", page.html  # no user ID, no choice of one method
        assert page.form is not None
        assert page.form.kind == "app"
        emulator.app_approve(transaction_of(page))
        callback = browser.submit(page)
        assert isinstance(callback, Callback)
        assert callback.code
        claims = id_token_claims(
            http, exchange(http, mitid_client, request, callback.code).json()["id_token"]
        )
        assert claims["uuid"] == person["uuid"]
        assert claims["amr"] == ["code_app"]
        # Going back from the step shows the choice, with its one method.
        again = mitid_client.authorization_request(
            login_hint=f"uuid:{person['uuid']}", prompt="login"
        )
        page = browser.open(again.url)
        assert isinstance(page, Page)
        assert page.stage == "step"
        flow = page.url.split("/login/", 1)[1].split("/")[0]
        back = browser.submit(page, action=f"/login/{flow}/restart")
        assert isinstance(back, Page)
        assert back.stage == "method"
    finally:
        browser.close()


def test_an_answered_login_never_collected_is_listed_cancelled_or_superseded(
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
    mitid_emulator: Emulator,
    mitid_server: MitIDServer,
) -> None:
    # Answered in the app, and the browser never comes back for it.
    first = transaction_of(open_app_step(mitid_browser, mitid_client, mitid_identity))
    mitid_emulator.app_approve(first)
    listed = {p["transaction_id"]: p for p in mitid_emulator.app_logins()}
    assert listed[first]["status"] == "answered"
    # The same browser starts again: the new login takes the old one's place.
    second = transaction_of(open_app_step(mitid_browser, mitid_client, mitid_identity))
    assert second != first
    open_now = {p["transaction_id"] for p in mitid_emulator.app_logins()}
    assert first not in open_now
    assert second in open_now
    # Another browser is refused as parallel until the open login is cancelled.
    other = BrowserLogin(mitid_server.url, mitid_emulator)
    try:
        request = mitid_client.authorization_request()
        with pytest.raises(LoginFailed) as refused:
            other.login(request.url, mitid_identity.user_id, kind="app")
        assert refused.value.reason == "parallel_session"
        assert mitid_emulator.call("POST", f"/emulator/app/logins/{second}/cancel") == {
            "transaction_id": second,
            "status": "cancelled",
        }
        assert second not in {p["transaction_id"] for p in mitid_emulator.app_logins()}
        request = mitid_client.authorization_request()
        assert other.login(request.url, mitid_identity.user_id, kind="app").code
    finally:
        other.close()
