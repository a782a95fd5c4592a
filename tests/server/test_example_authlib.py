"""Example: test a service's MitID login with the pytest plugin and Authlib's OIDC client.

The plugin (installed with mitid-emulator) starts the login server once per session. A test gets
a registered client, an identity holding every kind with a login step, and a browser that goes
through the login pages; the code display's code is read through the emulator control API::

    def test_my_login(mitid_client, mitid_identity, mitid_browser, mitid_server):
        oauth = OAuth2Client(mitid_client.client_id, redirect_uri=mitid_client.redirect_uri,
                             scope="openid", code_challenge_method="S256")
        url, state = oauth.create_authorization_url(f"{mitid_server.url}/authorize",
                                                    code_verifier=verifier, nonce=nonce)
        callback = mitid_browser.login(url, mitid_identity.user_id, kind="codeviser",
                                       password=mitid_identity.password)
        token = oauth.fetch_token(f"{mitid_server.url}/token",
                                  authorization_response=callback.url, code_verifier=verifier)

Then check the ID token against the JWKS, as the service would.
"""

from __future__ import annotations

import secrets
import time

import pytest
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from authenticators.pytest_plugin import MitIDClient, MitIDIdentity, MitIDServer
from authenticators.server.testing import BrowserLogin


@pytest.mark.parametrize(
    ("kind", "amr"), [("codeviser", "code_token"), ("kodeoplaeser", "code_reader")]
)
def test_an_authlib_client_logs_in_with_each_kind(
    kind: str,
    amr: str,
    mitid_server: MitIDServer,
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
) -> None:
    issuer = mitid_server.url
    metadata = mitid_browser.http.get("/.well-known/openid-configuration").json()
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    with OAuth2Client(
        mitid_client.client_id,
        redirect_uri=mitid_client.redirect_uri,
        scope="openid ssn",
        code_challenge_method="S256",
    ) as oauth:
        url, state = oauth.create_authorization_url(
            metadata["authorization_endpoint"],
            code_verifier=verifier,
            nonce=nonce,
            acr_values="urn:grn:authn:dk:mitid:substantial",
        )
        callback = mitid_browser.login(
            url, mitid_identity.user_id, kind=kind, password=mitid_identity.password
        )
        assert callback.params["state"] == state
        token = oauth.fetch_token(
            metadata["token_endpoint"],
            authorization_response=callback.url,
            code_verifier=verifier,
        )
        userinfo = oauth.get(metadata["userinfo_endpoint"]).json()

    keys = KeySet.import_key_set(oauth_jwks(mitid_browser, metadata["jwks_uri"]))
    claims = jwt.decode(token["id_token"], keys, algorithms=["RS256"]).claims
    # Token times follow real time (however far a code display has moved the emulator's clock
    # to reach its next code): check them against this machine's clock, with no leeway.
    JWTClaimsRegistry(
        now=int(time.time()),
        leeway=0,
        exp={"essential": True},
        iat={"essential": True},
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": mitid_client.client_id},
        nonce={"essential": True, "value": nonce},
        sub={"essential": True},
    ).validate(claims)
    assert claims["amr"] == [amr, "pwd"]
    assert claims["acr"] == "urn:grn:authn:dk:mitid:substantial"
    assert claims["loa"] == "https://data.gov.dk/concept/core/nsis/loa/Substantial"
    assert claims["uuid"] == mitid_identity.uuid == claims["sub"]
    assert claims["cprNumberIdentifier"] == mitid_identity.cpr
    assert userinfo["sub"] == claims["sub"]
    assert userinfo["cprNumberIdentifier"] == mitid_identity.cpr


def oauth_jwks(browser: BrowserLogin, uri: str) -> dict[str, object]:
    data: dict[str, object] = browser.http.get(uri).json()
    return data
