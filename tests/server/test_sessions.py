"""Single sign-on within a browser's login session, and RP-initiated logout, as an Authlib
relying party and PyJWT see them."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import jwt as pyjwt

from authenticators.pytest_plugin import MitIDClient, MitIDIdentity, MitIDServer
from authenticators.server.testing import AuthRequest, BrowserLogin, Callback, Page
from tests.server.conftest import exchange, login


def _claims(
    http: httpx.Client, client: MitIDClient, request: AuthRequest, code: str
) -> dict[str, Any]:
    token = exchange(http, client, request, code).json()["id_token"]
    keys = pyjwt.PyJWKSet.from_dict(http.get("/jwks").json())
    kid = pyjwt.get_unverified_header(token)["kid"]
    claims: dict[str, Any] = pyjwt.decode(
        token, keys[kid].key, algorithms=["RS256"], audience=client.client_id, leeway=0
    )
    claims["_raw"] = token
    return claims


def _straight_back(browser: BrowserLogin, url: str) -> Callback:
    """The authorize request answered at once, with no login page."""
    response = browser.http.get(url)
    assert response.status_code == 303, response.text[:300]
    return Callback(response.headers["location"])


def test_a_second_authorize_in_the_session_does_not_ask_again(
    http: httpx.Client,
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
) -> None:
    first, callback = login(mitid_browser, mitid_client, mitid_identity)
    first_claims = _claims(http, mitid_client, first, callback.code or "")
    assert first_claims["sid"]
    # Same browser, no prompt=login, within max_age: straight back, same auth_time and sid.
    again = mitid_client.authorization_request(max_age="3600")
    sso = _straight_back(mitid_browser, again.url)
    assert sso.code
    assert sso.params["state"] == again.state
    claims = _claims(http, mitid_client, again, sso.code)
    assert claims["auth_time"] == first_claims["auth_time"]
    assert claims["sid"] == first_claims["sid"]
    assert claims["sub"] == mitid_identity.uuid
    assert claims["nonce"] == again.nonce
    # prompt=none works inside the session.
    quiet = mitid_client.authorization_request(prompt="none")
    assert _straight_back(mitid_browser, quiet.url).code
    # prompt=login, a max_age that has passed, or a higher level ask again.
    for extra in (
        {"prompt": "login"},
        {"max_age": "0"},
        {"acr_values": "urn:grn:authn:dk:mitid:high"},
    ):
        page = mitid_browser.open(mitid_client.authorization_request(**extra).url)
        assert isinstance(page, Page), extra
        assert page.stage == "user_id", extra
    # Another browser has no session: prompt=none is login_required.
    other = BrowserLogin(mitid_browser.base_url)
    try:
        refused = _straight_back_or_redirect(other, quiet.url)
        assert refused.error == "login_required"
    finally:
        other.close()


def _straight_back_or_redirect(browser: BrowserLogin, url: str) -> Callback:
    response = browser.http.get(url)
    assert response.status_code in (302, 303), response.text[:300]
    return Callback(response.headers["location"])


def test_rp_initiated_logout_ends_the_session(
    http: httpx.Client,
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
    mitid_server: MitIDServer,
) -> None:
    meta = http.get("/.well-known/openid-configuration").json()
    assert meta["end_session_endpoint"] == mitid_server.url + "/logout"
    request, callback = login(mitid_browser, mitid_client, mitid_identity)
    id_token = _claims(http, mitid_client, request, callback.code or "")["_raw"]
    state = secrets.token_urlsafe(8)
    back = mitid_client.redirect_uri.rsplit("/", 1)[0] + "/logged-out"
    response = mitid_browser.http.get(
        "/logout",
        params={"id_token_hint": id_token, "post_logout_redirect_uri": back, "state": state},
    )
    assert response.status_code == 303
    assert Callback(response.headers["location"]).params["state"] == state
    assert response.headers["location"].startswith(back)
    # The session is over: prompt=none is refused, a new authorize shows the login pages.
    quiet = mitid_client.authorization_request(prompt="none")
    assert _straight_back_or_redirect(mitid_browser, quiet.url).error == "login_required"
    # A redirect elsewhere, or a hint this issuer did not sign, is refused.
    elsewhere = mitid_browser.http.get(
        "/logout",
        params={"id_token_hint": id_token, "post_logout_redirect_uri": "https://evil.example/"},
    )
    assert elsewhere.status_code == 400
    forged = mitid_browser.http.get("/logout", params={"id_token_hint": id_token[:-4] + "AAAA"})
    assert forged.status_code == 400
    # Without a redirect: a page that says so.
    done = mitid_browser.http.get("/logout")
    assert done.status_code == 200
    assert 'data-reason="logged_out"' in done.text
