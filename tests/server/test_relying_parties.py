"""What real relying parties send and expect: refusals up front, levels, cookies, bodies."""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import jwt as pyjwt
from authlib.integrations.httpx_client import OAuth2Client

from authenticators.pytest_plugin import MitIDClient, MitIDIdentity, MitIDServer
from authenticators.server.config import ServerConfig
from authenticators.server.runner import ServerThread
from authenticators.server.testing import BrowserLogin, Callback, Emulator, Page
from tests.server.conftest import exchange, login

HIGH = "urn:grn:authn:dk:mitid:high"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _authorize(http: httpx.Client, client: MitIDClient, **params: str) -> httpx.Response:
    request = client.authorization_request(**params)
    return http.get(request.url)


def test_a_request_without_openid_is_refused_before_the_login(
    http: httpx.Client, mitid_client: MitIDClient
) -> None:
    for scope in ("profile", ""):
        refused = _authorize(http, mitid_client, scope=scope)
        assert refused.status_code == 302, refused.text[:200]
        callback = Callback(refused.headers["location"])
        assert callback.error == "invalid_scope"
        assert callback.params["state"]


def test_a_long_state_is_not_sent_back(http: httpx.Client, mitid_client: MitIDClient) -> None:
    refused = _authorize(http, mitid_client, state="s" * 30_000, scope="profile")
    assert refused.status_code == 400
    assert "location" not in refused.headers
    assert "s" * 3000 not in refused.text


def test_nonce_is_optional_and_may_repeat(
    http: httpx.Client,
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
    mitid_server: MitIDServer,
) -> None:
    verifier = secrets.token_urlsafe(48)
    with OAuth2Client(
        mitid_client.client_id,
        redirect_uri=mitid_client.redirect_uri,
        scope="openid",
        code_challenge_method="S256",
    ) as oauth:
        url, _ = oauth.create_authorization_url(
            f"{mitid_server.url}/authorize", code_verifier=verifier
        )
        assert "nonce=" not in url
        callback = mitid_browser.login(
            url, mitid_identity.user_id, password=mitid_identity.password
        )
        token = oauth.fetch_token(
            f"{mitid_server.url}/token", authorization_response=callback.url, code_verifier=verifier
        )
    claims = pyjwt.decode(token["id_token"], options={"verify_signature": False})
    assert "nonce" not in claims
    nonces = []
    for _ in range(2):
        request, callback = login(mitid_browser, mitid_client, mitid_identity, nonce="same-nonce")
        issued = exchange(http, mitid_client, request, callback.code or "").json()["id_token"]
        nonces.append(pyjwt.decode(issued, options={"verify_signature": False})["nonce"])
    assert nonces == ["same-nonce", "same-nonce"]


def _person_with_app_at(emulator: Emulator, user_id: str, level: str) -> str:
    created = emulator.create_identity(
        user_id,
        "Substantial App",
        password="long-enough-1",
        authenticators=[{"kind": "app", "pin": "246810", "level": level}],
    )
    return str(created["uuid"])


def test_only_methods_that_reach_the_level_are_offered(
    mitid_client: MitIDClient, mitid_browser: BrowserLogin, mitid_emulator: Emulator
) -> None:
    user_id = f"sub-app-{secrets.token_hex(4)}"
    uuid = _person_with_app_at(mitid_emulator, user_id, "substantial")
    # Named by uuid: no method reaches high, so the no_methods page at once.
    named = mitid_client.authorization_request(acr_values=HIGH, login_hint=f"uuid:{uuid}")
    page = mitid_browser.open(named.url)
    assert isinstance(page, Page)
    assert page.stage == "failed"
    assert page.reason == "no_methods"
    # Typed in: the same page after the user ID (no choice page without a choice).
    typed = mitid_client.authorization_request(acr_values=HIGH)
    page = mitid_browser.open(typed.url)
    assert isinstance(page, Page)
    page = mitid_browser.submit(page, user_id=user_id)
    assert isinstance(page, Page)
    assert page.reason == "no_methods"
    # At substantial the app is offered (and, the only one, started at once).
    fine = mitid_client.authorization_request(login_hint=f"uuid:{uuid}")
    page = mitid_browser.open(fine.url)
    assert isinstance(page, Page)
    assert page.stage == "step"
    assert page.form is not None
    assert page.form.kind == "app"


def test_the_qr_page_shows_no_python_internals(
    mitid_client: MitIDClient, mitid_browser: BrowserLogin, mitid_emulator: Emulator
) -> None:
    user_id = f"qr-app-{secrets.token_hex(4)}"
    uuid = _person_with_app_at(mitid_emulator, user_id, "high")
    request = mitid_client.authorization_request(login_hint=f"uuid:{uuid}")
    page = mitid_browser.open(request.url)
    assert isinstance(page, Page)
    assert page.stage == "step"
    assert 'data-update="1"' in page.html or 'data-update="0"' in page.html
    assert " at 0x" not in page.html
    assert "built-in" not in page.html


def test_cookies_are_secure_under_an_https_issuer(tmp_path: Path) -> None:
    config = ServerConfig(state_dir=str(tmp_path / "s"), port=0, issuer="https://login.test")
    with ServerThread(config) as server:
        listening = f"http://127.0.0.1:{server.config.port}"
        http = httpx.Client(base_url=listening)
        Emulator(listening, server.admin_token).add_client("secure-rp", ["https://rp.test/cb"])
        request = MitIDClient("secure-rp", "https://rp.test/cb", "https://login.test")
        response = http.get(request.authorization_request().url.replace("https://login.test", ""))
        assert response.status_code == 303
        cookie = response.headers["set-cookie"].lower()
        assert "; secure" in cookie
        assert "httponly" in cookie
        http.close()


def test_no_redirect_is_built_from_the_host_header(http: httpx.Client) -> None:
    for path in ("/authorize/", "/token/", "/.well-known/openid-configuration/"):
        response = http.get(path, headers={"Host": "evil.example"})
        assert response.status_code == 404
        assert "evil.example" not in response.headers.get("location", "")


def test_app_answers_need_no_body(
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
    mitid_emulator: Emulator,
    mitid_server: MitIDServer,
) -> None:
    request = mitid_client.authorization_request(login_hint=f"uuid:{mitid_identity.uuid}")
    page = mitid_browser.open(request.url)
    assert isinstance(page, Page)
    assert page.form is not None
    assert page.form.choices.get("method")
    app = next(c for c in page.form.choices["method"] if c.startswith("app:"))
    page = mitid_browser.submit(page, method=app)
    assert isinstance(page, Page)
    pending = [p for p in mitid_emulator.app_logins() if p.get("user_id") == mitid_identity.user_id]
    assert pending
    rejected = httpx.post(
        f"{mitid_server.url}/emulator/app/logins/{pending[0]['transaction_id']}/reject",
        headers={"Authorization": f"Bearer {mitid_server.admin_token}"},
    )
    assert rejected.status_code == 200, rejected.text


def test_rfc8414_metadata_and_the_issuer_in_every_authorization_response(
    http: httpx.Client,
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
    mitid_server: MitIDServer,
) -> None:
    from authlib.oauth2 import rfc8414, rfc9207

    oauth_meta = http.get("/.well-known/oauth-authorization-server").json()
    assert oauth_meta == http.get("/.well-known/openid-configuration").json()
    assert oauth_meta["authorization_response_iss_parameter_supported"] is True
    metadata = rfc8414.AuthorizationServerMetadata(oauth_meta)
    metadata.validate_authorization_endpoint()
    metadata.validate_token_endpoint()
    metadata.validate_jwks_uri()
    rfc9207.AuthorizationServerMetadata(
        oauth_meta
    ).validate_authorization_response_iss_parameter_supported()
    _, callback = login(mitid_browser, mitid_client, mitid_identity)
    assert callback.code
    assert callback.params["iss"] == mitid_server.url
    refused = Callback(_authorize(http, mitid_client, max_age="abc").headers["location"])
    assert refused.error == "invalid_request"
    assert "max_age" in refused.params["error_description"]
    assert refused.params["iss"] == mitid_server.url
    page = mitid_browser.open(mitid_client.authorization_request(prompt="login").url)
    assert isinstance(page, Page)
    cancelled = mitid_browser.cancel(page)
    assert cancelled.error == "access_denied"
    assert cancelled.params["iss"] == mitid_server.url


def test_token_requests_rfc_6749_forbids_are_invalid_request(
    http: httpx.Client,
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
    mitid_emulator: Emulator,
) -> None:
    request, callback = login(mitid_browser, mitid_client, mitid_identity)
    code = callback.code or ""
    form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", request.redirect_uri),
        ("client_id", mitid_client.client_id),
        ("code_verifier", request.code_verifier),
    ]
    cases = {
        "missing grant_type": (form[1:], {}),
        "repeated code": ([*form, ("code", code)], {}),
        "basic and post": (
            [*form, ("client_secret", "s")],
            {"Authorization": "Basic " + "c2VjcmV0LWNsaWVudDpz"},
        ),
    }
    for name, (sent, headers) in cases.items():
        refused = http.post("/token", content=urlencode(sent), headers={**FORM, **headers})
        assert refused.status_code == 400, name
        assert refused.json()["error"] == "invalid_request", (name, refused.json())
    # None of them used the code up.
    assert exchange(http, mitid_client, request, code).status_code == 200


def test_userinfo_without_credentials_is_a_bare_bearer_challenge(http: httpx.Client) -> None:
    bare = http.get("/userinfo")
    assert bare.status_code == 401
    assert bare.headers["www-authenticate"] == "Bearer"
    wrong = http.get("/userinfo", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_a_pushed_authorization_request(
    http: httpx.Client,
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
    mitid_server: MitIDServer,
) -> None:
    meta = http.get("/.well-known/openid-configuration").json()
    assert meta["pushed_authorization_request_endpoint"] == mitid_server.url + "/par"
    request = mitid_client.authorization_request(acr_values="urn:grn:authn:dk:mitid:substantial")
    params = dict(parse_qsl(urlsplit(request.url).query))
    pushed = http.post("/par", data=params)
    assert pushed.status_code == 201, pushed.text
    body = pushed.json()
    assert body["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
    assert body["expires_in"] == 60
    url = "/authorize?" + urlencode(
        {"client_id": mitid_client.client_id, "request_uri": body["request_uri"]}
    )
    callback = mitid_browser.login(
        mitid_server.url + url, mitid_identity.user_id, password=mitid_identity.password
    )
    assert callback.params["state"] == request.state
    token = exchange(http, mitid_client, request, callback.code or "").json()["id_token"]
    claims = pyjwt.decode(token, options={"verify_signature": False})
    assert claims["nonce"] == request.nonce
    # Used once only; another client's; a bad push is refused up front.
    again = mitid_browser.http.get(url)
    assert again.status_code == 400
    assert "invalid_request_uri" in again.text
    bad = http.post("/par", data={**params, "redirect_uri": "https://evil.example/cb"})
    assert bad.status_code == 400
    no_openid = http.post("/par", data={**params, "scope": "profile"})
    assert no_openid.json()["error"] == "invalid_scope"
