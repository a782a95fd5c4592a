"""The OIDC provider through HTTP: the happy path, and every refusal a lax mock forgets."""

from __future__ import annotations

import base64

import httpx
import pytest

from authenticators.pytest_plugin import MitIDClient, MitIDIdentity, MitIDServer
from authenticators.server.testing import BrowserLogin, Callback, LoginFailed, pkce_pair
from tests.server.conftest import exchange, id_token_claims, login

ACR = "urn:grn:authn:dk:mitid:"


def test_discovery_lists_the_mitid_acr_values_and_s256(
    http: httpx.Client, mitid_server: MitIDServer
) -> None:
    meta = http.get("/.well-known/openid-configuration").json()
    assert meta["issuer"] == mitid_server.url
    assert meta["acr_values_supported"] == [
        ACR + v for v in ("low", "substantial", "high", "business")
    ]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["token_endpoint"] == mitid_server.url + "/token"
    keys = http.get("/jwks").json()["keys"]
    assert keys
    assert all("d" not in k and k["kty"] == "RSA" for k in keys)


def test_login_issues_broker_style_claims(
    http: httpx.Client,
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
    mitid_server: MitIDServer,
) -> None:
    request, callback = login(mitid_browser, mitid_client, mitid_identity, scope="openid profile")
    assert callback.params["state"] == request.state
    token = exchange(http, mitid_client, request, callback.code or "")
    assert token.status_code == 200, token.text
    assert token.headers["cache-control"] == "no-store"
    body = token.json()
    claims = id_token_claims(http, body["id_token"])
    assert claims["iss"] == mitid_server.url
    assert claims["aud"] == mitid_client.client_id
    assert claims["nonce"] == request.nonce
    assert claims["sub"] == claims["uuid"] == mitid_identity.uuid
    assert claims["name"] == "Test Person"
    assert claims["birthdate"] == "1990-01-01"
    assert "cprNumberIdentifier" not in claims  # only with the ssn scope
    assert claims["amr"] == ["code_token", "pwd"]
    assert claims["acr"] == ACR + "substantial"
    for claim in ("loa", "aal"):
        assert claims[claim] == f"https://data.gov.dk/concept/core/nsis/{claim}/Substantial"
    assert claims["ial"].startswith("https://data.gov.dk/concept/core/nsis/ial/")
    assert "cvr" not in claims
    info = http.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert info.status_code == 200
    assert info.json()["uuid"] == mitid_identity.uuid


def test_the_ssn_scope_adds_the_cpr_number(
    http: httpx.Client,
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
) -> None:
    request, callback = login(mitid_browser, mitid_client, mitid_identity, scope="openid ssn")
    claims = id_token_claims(
        http, exchange(http, mitid_client, request, callback.code or "").json()["id_token"]
    )
    assert claims["cprNumberIdentifier"] == mitid_identity.cpr


def test_a_wrong_pkce_verifier_is_refused_and_burns_the_code(
    http: httpx.Client,
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
) -> None:
    request, callback = login(mitid_browser, mitid_client, mitid_identity)
    other, _ = pkce_pair()
    refused = exchange(http, mitid_client, request, callback.code or "", code_verifier=other)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"
    # one try per code: the right verifier no longer helps
    again = exchange(http, mitid_client, request, callback.code or "")
    assert again.json()["error"] == "invalid_grant"


def test_a_missing_pkce_verifier_is_refused(
    http: httpx.Client,
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
) -> None:
    request, callback = login(mitid_browser, mitid_client, mitid_identity)
    form = {
        "grant_type": "authorization_code",
        "code": callback.code or "",
        "redirect_uri": request.redirect_uri,
        "client_id": mitid_client.client_id,
    }
    refused = http.post("/token", data=form)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_request"


def test_a_reused_code_is_refused_and_revokes_its_token(
    http: httpx.Client,
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
) -> None:
    request, callback = login(mitid_browser, mitid_client, mitid_identity)
    first = exchange(http, mitid_client, request, callback.code or "")
    assert first.status_code == 200
    access = first.json()["access_token"]
    assert http.get("/userinfo", headers={"Authorization": f"Bearer {access}"}).status_code == 200
    second = exchange(http, mitid_client, request, callback.code or "")
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"
    revoked = http.get("/userinfo", headers={"Authorization": f"Bearer {access}"})
    assert revoked.status_code == 401
    assert revoked.json()["error"] == "invalid_token"


def test_a_code_is_bound_to_its_client(
    http: httpx.Client,
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
    mitid_server: MitIDServer,
) -> None:
    mitid_server.emulator.add_client("thief-client", [mitid_client.redirect_uri], public=True)
    try:
        request, callback = login(mitid_browser, mitid_client, mitid_identity)
        stolen = exchange(
            http, mitid_client, request, callback.code or "", client_id="thief-client"
        )
        assert stolen.json()["error"] == "invalid_grant"
    finally:
        mitid_server.emulator.call("DELETE", "/emulator/clients/thief-client")


def one_char_off(uri: str) -> str:
    return uri[:-1] + ("X" if uri[-1] != "X" else "Y")


def test_a_redirect_uri_one_character_off_is_refused_at_authorize(
    mitid_client: MitIDClient,
    mitid_browser: BrowserLogin,
) -> None:
    for wrong in (
        one_char_off(mitid_client.redirect_uri),
        mitid_client.redirect_uri + "/",
        mitid_client.redirect_uri.upper(),
    ):
        request = mitid_client.authorization_request()
        url = request.url.replace(
            httpx.QueryParams({"redirect_uri": mitid_client.redirect_uri}).__str__(),
            httpx.QueryParams({"redirect_uri": wrong}).__str__(),
        )
        response = mitid_browser.http.get(url)
        # never redirected to an unregistered URI: an error page instead
        assert response.status_code == 400
        assert "location" not in response.headers
        assert "invalid_request" in response.text


def test_a_redirect_uri_one_character_off_is_refused_at_token(
    http: httpx.Client,
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
) -> None:
    request, callback = login(mitid_browser, mitid_client, mitid_identity)
    refused = exchange(
        http,
        mitid_client,
        request,
        callback.code or "",
        redirect_uri=one_char_off(request.redirect_uri),
    )
    assert refused.json()["error"] == "invalid_grant"


def authorize_error(browser: BrowserLogin, url: str) -> Callback:
    response = browser.http.get(url)
    assert response.status_code == 302, response.text[:300]
    callback = Callback(response.headers["location"])
    assert callback.error
    return callback


def test_the_id_token_carries_exactly_the_nonce_sent(
    http: httpx.Client,
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
) -> None:
    """A client that checks the nonce (as it must) refuses a token for another request."""
    first, cb1 = login(mitid_browser, mitid_client, mitid_identity)
    claims = id_token_claims(
        http, exchange(http, mitid_client, first, cb1.code or "").json()["id_token"]
    )
    second = mitid_client.authorization_request()
    assert claims["nonce"] == first.nonce != second.nonce


def test_public_clients_must_use_pkce_s256(
    mitid_client: MitIDClient, mitid_browser: BrowserLogin
) -> None:
    request = mitid_client.authorization_request()
    without = request.url.split("&code_challenge=")[0] + "&state=" + request.state
    without = without.replace(f"state={request.state}&", "", 1)
    assert authorize_error(mitid_browser, without).error == "invalid_request"
    plain = request.url.replace("code_challenge_method=S256", "code_challenge_method=plain")
    assert authorize_error(mitid_browser, plain).error == "invalid_request"


def test_a_confidential_client_needs_its_secret(
    http: httpx.Client,
    mitid_server: MitIDServer,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
) -> None:
    made = mitid_server.emulator.add_client(
        "confidential-app", ["http://127.0.0.1:9/conf"], public=False
    )
    secret = made["client_secret"]
    client = MitIDClient("confidential-app", "http://127.0.0.1:9/conf", mitid_server.url, secret)
    try:
        request, callback = login(mitid_browser, client, mitid_identity)
        basic = base64.b64encode(f"confidential-app:{secret[:-1]}X".encode()).decode()
        wrong = http.post(
            "/token",
            headers={"Authorization": f"Basic {basic}"},
            data={
                "grant_type": "authorization_code",
                "code": callback.code,
                "redirect_uri": request.redirect_uri,
                "code_verifier": request.code_verifier,
            },
        )
        assert wrong.status_code == 401
        assert wrong.json()["error"] == "invalid_client"
        request, callback = login(mitid_browser, client, mitid_identity)
        basic = base64.b64encode(f"confidential-app:{secret}".encode()).decode()
        right = http.post(
            "/token",
            headers={"Authorization": f"Basic {basic}"},
            data={
                "grant_type": "authorization_code",
                "code": callback.code,
                "redirect_uri": request.redirect_uri,
                "code_verifier": request.code_verifier,
            },
        )
        assert right.status_code == 200, right.text
        garbage = http.post("/token", headers={"Authorization": "Basic //79/w=="}, data={})
        assert garbage.status_code == 401
    finally:
        mitid_server.emulator.call("DELETE", "/emulator/clients/confidential-app")


def test_unknown_client_gets_an_error_page(mitid_browser: BrowserLogin) -> None:
    response = mitid_browser.http.get(
        "/authorize?response_type=code&client_id=nobody&redirect_uri=http://x/cb"
    )
    assert response.status_code == 400
    assert "invalid_client" in response.text


def test_cancel_returns_access_denied(
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
) -> None:
    request = mitid_client.authorization_request()
    page = mitid_browser.open(request.url)
    assert not isinstance(page, Callback)
    callback = mitid_browser.cancel(page)
    assert callback.error == "access_denied"
    assert callback.params["state"] == request.state
    assert callback.url.startswith(mitid_client.redirect_uri + "?")


def test_a_client_removed_during_the_login_gets_an_error_page_not_a_redirect(
    mitid_server: MitIDServer, mitid_client: MitIDClient, mitid_browser: BrowserLogin
) -> None:
    request = mitid_client.authorization_request()
    page = mitid_browser.open(request.url)
    assert not isinstance(page, Callback)
    mitid_server.emulator.call("DELETE", f"/emulator/clients/{mitid_client.client_id}")
    flow = page.url.split("/login/", 1)[1].split("/")[0]
    answer = mitid_browser.http.post(
        f"/login/{flow}/cancel", data=page.form.fields if page.form else {}
    )
    assert answer.status_code == 400
    assert "location" not in answer.headers  # its redirect URI is no longer one to trust
    assert "invalid_client" in answer.text
    assert "text/html" in answer.headers["content-type"]


def test_prompt_none_is_login_required_and_prompt_login_logs_in(
    http: httpx.Client,
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
) -> None:
    request = mitid_client.authorization_request(prompt="none")
    assert authorize_error(mitid_browser, request.url).error == "login_required"
    request, callback = login(mitid_browser, mitid_client, mitid_identity, prompt="login")
    assert exchange(http, mitid_client, request, callback.code or "").status_code == 200


def test_acr_values_decide_the_methods_offered(
    http: httpx.Client,
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
) -> None:
    # a code token cannot reach high: not offered (the app enrolled at high and the chip are)
    with pytest.raises(LoginFailed) as failed:
        login(mitid_browser, mitid_client, mitid_identity, acr_values=ACR + "high")
    page = failed.value.page
    assert page.stage == "method"
    assert page.form is not None
    assert {c.split(":")[0] for c in page.form.choices["method"]} == {"app", "chip"}
    request, callback = login(mitid_browser, mitid_client, mitid_identity, acr_values=ACR + "low")
    claims = id_token_claims(
        http, exchange(http, mitid_client, request, callback.code or "").json()["id_token"]
    )
    assert claims["acr"] == ACR + "substantial"  # what the method reached
    bad = mitid_client.authorization_request(acr_values="urn:grn:authn:dk:mitid:ultra")
    assert authorize_error(mitid_browser, bad.url).error == "invalid_request"


def test_login_hint_uuid_skips_the_user_id_and_message_sets_the_reference_text(
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
) -> None:
    text = "Log på Testbanken — æøå"
    message = base64.b64encode(text.encode()).decode()
    request = mitid_client.authorization_request(
        login_hint=f"uuid:{mitid_identity.uuid} message:{message}"
    )
    page = mitid_browser.open(request.url)
    assert not isinstance(page, Callback)
    assert page.stage == "method"
    assert text in page.html
    bad = mitid_client.authorization_request(login_hint="message:%%%")
    assert authorize_error(mitid_browser, bad.url).error == "invalid_request"
    long = base64.b64encode(("x" * 131).encode()).decode()
    too_long = mitid_client.authorization_request(login_hint=f"message:{long}")
    assert authorize_error(mitid_browser, too_long.url).error == "invalid_request"
    unknown = mitid_client.authorization_request(login_hint="email:someone@example.com")
    assert authorize_error(mitid_browser, unknown.url).error == "invalid_request"


def test_userinfo_refuses_missing_and_unknown_tokens(http: httpx.Client) -> None:
    assert http.get("/userinfo").status_code == 401
    unknown = http.get("/userinfo", headers={"Authorization": "Bearer nope"})
    assert unknown.status_code == 401
    assert unknown.json()["error"] == "invalid_token"


def test_the_token_endpoint_refuses_bad_requests(http: httpx.Client) -> None:
    assert http.post("/token", data={"grant_type": "password"}).status_code in (400, 401)
    assert (
        http.post("/token", content=b"{}", headers={"Content-Type": "application/json"}).status_code
        == 415
    )
    assert http.post("/token", data={"x": "y" * 70000}).status_code == 413
    assert http.get("/token").status_code == 405
