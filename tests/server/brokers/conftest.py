"""Broker dialect tests: a client at a broker's issuer, its token exchange, its ID token checked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from authenticators.pytest_plugin import MitIDBrokerClient
from authenticators.server.testing import AuthRequest, Callback


@dataclass
class Tokens:
    response: dict[str, Any]
    id_token: dict[str, Any]
    header: dict[str, Any]

    def userinfo(self, endpoint: str) -> httpx.Response:
        return httpx.get(
            endpoint, headers={"Authorization": f"Bearer {self.response['access_token']}"}
        )


def discovery(client: MitIDBrokerClient) -> dict[str, Any]:
    document: dict[str, Any] = httpx.get(client.issuer + "/.well-known/openid-configuration").json()
    return document


def redeem(client: MitIDBrokerClient, request: AuthRequest, callback: Callback) -> Tokens:
    """Exchange the callback's code and check the ID token's signature against the JWKS."""
    assert callback.params.get("state") == request.state, callback.params
    assert callback.code, callback.params
    document = discovery(client)
    form = {
        "grant_type": "authorization_code",
        "code": callback.code,
        "redirect_uri": client.redirect_uri,
        "client_id": client.client_id,
        "code_verifier": request.code_verifier,
    }
    if client.client_secret:
        form["client_secret"] = client.client_secret
    answer = httpx.post(document["token_endpoint"], data=form)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    keys = KeySet.import_key_set(httpx.get(document["jwks_uri"]).json())
    token = jwt.decode(body["id_token"], keys, algorithms=["RS256"])
    assert token.claims["iss"] == client.issuer == document["issuer"]
    assert token.claims["aud"] == client.client_id
    return Tokens(body, dict(token.claims), dict(token.header))


def callback_of(response: httpx.Response) -> Callback:
    """The redirect to the client (the no-UI path answers with it at once)."""
    assert response.status_code in (302, 303), response.text
    return Callback(response.headers["location"])
