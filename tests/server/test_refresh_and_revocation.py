"""Refresh tokens (offline_access), revocation (RFC 7009) and introspection (RFC 7662) with
Authlib's OAuth 2 client, as a confidential relying party uses them."""

from __future__ import annotations

import secrets

import httpx
import pytest
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client

from authenticators.pytest_plugin import MitIDIdentity, MitIDServer
from authenticators.server.testing import BrowserLogin, Emulator


@pytest.fixture
def backend(mitid_emulator: Emulator) -> tuple[str, str, str]:
    client_id = f"backend-{secrets.token_hex(4)}"
    redirect = f"http://127.0.0.1:9/{client_id}/cb"
    secret = "backend-secret-" + secrets.token_hex(8)
    mitid_emulator.add_client(client_id, [redirect], public=False, client_secret=secret)
    return client_id, redirect, secret


def _tokens(
    server: MitIDServer,
    browser: BrowserLogin,
    identity: MitIDIdentity,
    oauth: OAuth2Client,
) -> dict[str, object]:
    verifier = secrets.token_urlsafe(48)
    url, _ = oauth.create_authorization_url(f"{server.url}/authorize", code_verifier=verifier)
    callback = browser.login(url, identity.user_id, password=identity.password)
    token: dict[str, object] = oauth.fetch_token(
        f"{server.url}/token", authorization_response=callback.url, code_verifier=verifier
    )
    return token


def test_refresh_rotates_and_a_reused_refresh_token_ends_the_grant(
    mitid_server: MitIDServer,
    mitid_browser: BrowserLogin,
    mitid_identity: MitIDIdentity,
    backend: tuple[str, str, str],
) -> None:
    client_id, redirect, secret = backend
    with OAuth2Client(
        client_id,
        secret,
        redirect_uri=redirect,
        scope="openid offline_access",
        code_challenge_method="S256",
    ) as oauth:
        first = _tokens(mitid_server, mitid_browser, mitid_identity, oauth)
        assert first["refresh_token"]
        second = oauth.refresh_token(
            f"{mitid_server.url}/token", refresh_token=str(first["refresh_token"])
        )
        assert second["refresh_token"] != first["refresh_token"]
        assert second["access_token"] != first["access_token"]
        userinfo = oauth.get(f"{mitid_server.url}/userinfo")  # with the new access token
        assert userinfo.json()["sub"] == mitid_identity.uuid
        # The old refresh token again: refused, and the grant's tokens stop working.
        with pytest.raises(OAuthError) as reused:
            oauth.refresh_token(
                f"{mitid_server.url}/token", refresh_token=str(first["refresh_token"])
            )
        assert reused.value.error == "invalid_grant"
        assert oauth.get(f"{mitid_server.url}/userinfo").status_code == 401
        with pytest.raises(OAuthError):
            oauth.refresh_token(
                f"{mitid_server.url}/token", refresh_token=str(second["refresh_token"])
            )


def test_no_refresh_token_without_offline_access(
    mitid_server: MitIDServer,
    mitid_browser: BrowserLogin,
    mitid_identity: MitIDIdentity,
    backend: tuple[str, str, str],
) -> None:
    client_id, redirect, secret = backend
    with OAuth2Client(
        client_id, secret, redirect_uri=redirect, scope="openid", code_challenge_method="S256"
    ) as oauth:
        assert "refresh_token" not in _tokens(mitid_server, mitid_browser, mitid_identity, oauth)


def test_introspection_and_revocation(
    mitid_server: MitIDServer,
    mitid_browser: BrowserLogin,
    mitid_identity: MitIDIdentity,
    backend: tuple[str, str, str],
    mitid_emulator: Emulator,
) -> None:
    client_id, redirect, secret = backend
    introspect = f"{mitid_server.url}/introspect"
    revoke = f"{mitid_server.url}/revoke"
    with OAuth2Client(
        client_id,
        secret,
        redirect_uri=redirect,
        scope="openid offline_access",
        code_challenge_method="S256",
    ) as oauth:
        tokens = _tokens(mitid_server, mitid_browser, mitid_identity, oauth)
        access, refresh = str(tokens["access_token"]), str(tokens["refresh_token"])
        active = oauth.introspect_token(introspect, token=access).json()
        assert active["active"] is True
        assert active["client_id"] == client_id
        assert active["sub"] == mitid_identity.uuid
        assert "offline_access" in active["scope"].split()
        described = oauth.introspect_token(
            introspect, token=refresh, token_type_hint="refresh_token"
        ).json()
        assert described["active"] is True
        assert described["token_type"] == "refresh_token"
        # Another client learns nothing about it.
        other_id, other_secret = "other-" + client_id, "other-secret-0123456789"
        mitid_emulator.add_client(other_id, [redirect], public=False, client_secret=other_secret)
        with OAuth2Client(other_id, other_secret) as other:
            assert other.introspect_token(introspect, token=access).json() == {"active": False}
            other.revoke_token(revoke, token=access)  # not theirs: no effect
        assert oauth.introspect_token(introspect, token=access).json()["active"] is True
        # Revoking the refresh token takes the grant's access token with it.
        assert (
            oauth.revoke_token(revoke, token=refresh, token_type_hint="refresh_token").json() == {}
        )
        assert oauth.introspect_token(introspect, token=access).json() == {"active": False}
        assert oauth.introspect_token(introspect, token=refresh).json() == {"active": False}
        # An unknown token is no error (RFC 7009 2.2); a wrong secret is.
        assert oauth.revoke_token(revoke, token="no-such-token").status_code == 200
    wrong = httpx.post(introspect, data={"token": access}, auth=(client_id, "wrong"))
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
