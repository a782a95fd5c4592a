"""A client with registered keys: private_key_jwt (RFC 7523) with Authlib's client, and
signed request objects (RFC 9101), pushed or sent in the URL."""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt as pyjwt
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc import jwt
from joserfc.jwk import RSAKey

from authenticators.pytest_plugin import MitIDIdentity, MitIDServer
from authenticators.server.testing import BrowserLogin, Emulator, pkce_pair


@pytest.fixture
def keyed(mitid_emulator: Emulator) -> tuple[str, str, RSAKey]:
    key = RSAKey.generate_key(2048, parameters={"kid": "rp-1", "alg": "RS256"}, private=True)
    client_id = f"keyed-{secrets.token_hex(4)}"
    redirect = f"http://127.0.0.1:9/{client_id}/cb"
    mitid_emulator.call(
        "POST",
        "/emulator/clients",
        {
            "client_id": client_id,
            "redirect_uris": [redirect],
            "jwks": {"keys": [key.as_dict(private=False)]},
        },
    )
    return client_id, redirect, key


def _request_object(server: MitIDServer, issuer: str, key: RSAKey, **params: Any) -> str:
    claims = {"iss": issuer, "aud": server.url, "exp": int(time.time()) + 60, **params}
    return jwt.encode({"alg": "RS256", "kid": "rp-1"}, claims, key)


def test_private_key_jwt_with_authlib(
    mitid_server: MitIDServer,
    mitid_browser: BrowserLogin,
    mitid_identity: MitIDIdentity,
    keyed: tuple[str, str, RSAKey],
) -> None:
    client_id, redirect, key = keyed
    token_url = f"{mitid_server.url}/token"
    meta = httpx.get(f"{mitid_server.url}/.well-known/openid-configuration").json()
    assert "private_key_jwt" in meta["token_endpoint_auth_methods_supported"]
    with OAuth2Client(
        client_id,
        key,
        redirect_uri=redirect,
        scope="openid",
        code_challenge_method="S256",
        token_endpoint_auth_method=PrivateKeyJWT(token_url),
    ) as oauth:
        verifier = secrets.token_urlsafe(48)
        url, _ = oauth.create_authorization_url(
            f"{mitid_server.url}/authorize", code_verifier=verifier
        )
        callback = mitid_browser.login(
            url, mitid_identity.user_id, password=mitid_identity.password
        )
        token = oauth.fetch_token(
            token_url, authorization_response=callback.url, code_verifier=verifier
        )
    claims = pyjwt.decode(token["id_token"], options={"verify_signature": False})
    assert claims["aud"] == client_id
    # An assertion signed with another key, or used twice, is refused.
    other = RSAKey.generate_key(2048, parameters={"kid": "rp-1"}, private=True)
    now = int(time.time())
    assertion = {"iss": client_id, "sub": client_id, "aud": token_url, "exp": now + 60, "jti": "x1"}
    form = {
        "grant_type": "authorization_code",
        "code": "nothing",
        "redirect_uri": redirect,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    }
    forged = httpx.post(
        token_url, data={**form, "client_assertion": jwt.encode({"alg": "RS256"}, assertion, other)}
    )
    assert forged.status_code in (400, 401)
    assert forged.json()["error"] == "invalid_client"
    good = jwt.encode({"alg": "RS256", "kid": "rp-1"}, assertion, key)
    first = httpx.post(token_url, data={**form, "client_assertion": good})
    assert first.json()["error"] == "invalid_grant"  # authenticated; the code is nonsense
    replayed = httpx.post(token_url, data={**form, "client_assertion": good})
    assert replayed.json()["error"] == "invalid_client"


def test_a_signed_request_object_in_the_url_and_pushed(
    mitid_server: MitIDServer,
    mitid_browser: BrowserLogin,
    mitid_identity: MitIDIdentity,
    keyed: tuple[str, str, RSAKey],
) -> None:
    client_id, redirect, key = keyed
    _, challenge = pkce_pair()
    state, nonce = secrets.token_urlsafe(8), secrets.token_urlsafe(8)
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect,
        "scope": "openid",
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "max_age": 600,
    }
    signed = _request_object(mitid_server, client_id, key, **params)
    # Parameters only in the URL do not count: the request object's do.
    url = f"{mitid_server.url}/authorize?" + urlencode(
        {"client_id": client_id, "request": signed, "state": "ignored"}
    )
    callback = mitid_browser.login(url, mitid_identity.user_id, password=mitid_identity.password)
    assert callback.params["state"] == state
    # Pushed, authenticated with private_key_jwt.
    assertion = jwt.encode(
        {"alg": "RS256", "kid": "rp-1"},
        {
            "iss": client_id,
            "sub": client_id,
            "aud": mitid_server.url,
            "exp": int(time.time()) + 60,
            "jti": secrets.token_hex(8),
        },
        key,
    )
    pushed = httpx.post(
        f"{mitid_server.url}/par",
        data={
            "client_id": client_id,
            "request": _request_object(mitid_server, client_id, key, **{**params, "state": "p"}),
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
    )
    assert pushed.status_code == 201, pushed.text
    url = f"{mitid_server.url}/authorize?" + urlencode(
        {"client_id": client_id, "request_uri": pushed.json()["request_uri"]}
    )
    answered = mitid_browser.http.get(url)  # the session from the login above answers it
    assert answered.status_code == 303
    assert "state=p" in answered.headers["location"]
    # Signed by someone else, or for another issuer: refused, nothing sent back.
    other = RSAKey.generate_key(2048, parameters={"kid": "rp-1"}, private=True)
    for bad in (
        jwt.encode({"alg": "RS256"}, {"iss": client_id, "aud": mitid_server.url, **params}, other),
        _request_object(mitid_server, client_id, key, **{**params, "aud": "https://else.example"}),
    ):
        refused = mitid_browser.http.get(
            f"{mitid_server.url}/authorize?" + urlencode({"client_id": client_id, "request": bad})
        )
        assert refused.status_code == 400
        assert "invalid_request_object" in refused.text


def test_request_objects_need_registered_keys(
    mitid_server: MitIDServer, mitid_browser: BrowserLogin, mitid_emulator: Emulator
) -> None:
    with pytest.raises(Exception, match="public keys only"):
        mitid_emulator.call(
            "POST",
            "/emulator/clients",
            {
                "client_id": "keyed-private",
                "redirect_uris": ["http://127.0.0.1:9/p"],
                "jwks": {"keys": [RSAKey.generate_key(2048, private=True).as_dict(private=True)]},
            },
        )
