"""Server tests: the session server from the pytest plugin, and helpers to log in through it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from authenticators.pytest_plugin import MitIDClient, MitIDIdentity, MitIDServer
from authenticators.server.config import ServerConfig
from authenticators.server.runner import ServerThread
from authenticators.server.testing import AuthRequest, BrowserLogin, Callback, Emulator


@pytest.fixture
def http(mitid_server: MitIDServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mitid_server.url, follow_redirects=False) as client:
        yield client


@pytest.fixture
def admin(mitid_server: MitIDServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {mitid_server.admin_token}"}


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[ServerThread]:
    """A server of the test's own, for what would disturb the shared one (reset, the clock)."""
    with ServerThread(ServerConfig(state_dir=str(tmp_path / "state"), port=0)) as server:
        yield server


def login(
    browser: BrowserLogin,
    client: MitIDClient,
    identity: MitIDIdentity,
    kind: str = "codeviser",
    scope: str = "openid",
    **extra: str,
) -> tuple[AuthRequest, Callback]:
    request = client.authorization_request(scope=scope, **extra)
    callback = browser.login(request.url, identity.user_id, kind=kind, password=identity.password)
    return request, callback


def exchange(
    http: httpx.Client, client: MitIDClient, request: AuthRequest, code: str, **override: str
) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": request.redirect_uri,
        "client_id": client.client_id,
        "code_verifier": request.code_verifier,
        **override,
    }
    return http.post("/token", data=form)


def id_token_claims(http: httpx.Client, token: str) -> dict[str, Any]:
    keys = KeySet.import_key_set(http.get("/jwks").json())
    decoded = jwt.decode(token, keys, algorithms=["RS256"])
    return dict(decoded.claims)


def emulator_for(server: ServerThread) -> Emulator:
    return Emulator(server.url, server.admin_token)
