"""Token times follow real time, however far the code display has moved the emulator's clock."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import jwt as pyjwt
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from authenticators.server.config import ServerConfig
from authenticators.server.runner import ServerThread
from authenticators.server.testing import BrowserLogin, authorization_request
from tests.server.conftest import emulator_for

REDIRECT = "http://127.0.0.1:9/times"
LOGINS = 100


def _exchange(http: httpx.Client, code: str, verifier: str) -> str:
    token = http.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": "times",
            "code_verifier": verifier,
        },
    )
    assert token.status_code == 200, token.text
    id_token: str = token.json()["id_token"]
    return id_token


@pytest.mark.slow
def test_a_hundred_code_display_logins_give_tokens_valid_now(own_server: ServerThread) -> None:
    emulator = emulator_for(own_server)
    emulator.create_identity(
        "times.user",
        "Times User",
        password="long-enough-1",
        authenticators=[{"kind": "codeviser", "name": "times-cv"}],
    )
    emulator.add_client("times", [REDIRECT])
    browser = BrowserLogin(own_server.url, emulator)
    keys = browser.http.get("/jwks").json()
    joserfc_keys = KeySet.import_key_set(keys)
    pyjwt_keys = pyjwt.PyJWKSet.from_dict(keys)
    try:
        for _ in range(LOGINS):
            # prompt=login: a code display login each time, not the browser's login session.
            request = authorization_request(own_server.url, "times", REDIRECT, prompt="login")
            callback = browser.login(request.url, "times.user", password="long-enough-1")
            assert callback.code
            id_token = _exchange(browser.http, callback.code, request.code_verifier)
            # Zero leeway, against this machine's clock, as a relying party checks.
            kid = pyjwt.get_unverified_header(id_token)["kid"]
            claims = pyjwt.decode(
                id_token,
                pyjwt_keys[kid].key,
                algorithms=["RS256"],
                audience="times",
                issuer=own_server.url,
                leeway=0,
                options={"require": ["exp", "iat", "auth_time"]},
            )
            assert claims["iat"] <= time.time()
            assert claims["auth_time"] <= time.time()
            decoded = jwt.decode(id_token, joserfc_keys, algorithms=["RS256"])
            JWTClaimsRegistry(
                now=int(time.time()),
                leeway=0,
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": request.nonce},
            ).validate(decoded.claims)
    finally:
        browser.close()
    # The code display did move the emulator's clock on, once per login after the first.
    assert emulator.clock()["offset"] > 30 * (LOGINS - 10)


def test_oidc_times_may_follow_the_emulator_clock(tmp_path: Path) -> None:
    config = ServerConfig(state_dir=str(tmp_path / "state"), port=0, oidc_clock="emulator")
    with ServerThread(config) as server:
        emulator = emulator_for(server)
        emulator.create_identity(
            "frozen.user",
            "Frozen User",
            password="long-enough-1",
            authenticators=[{"kind": "codeviser", "name": "frozen-cv"}],
        )
        emulator.add_client("times", [REDIRECT])
        emulator.clock(freeze=True, at=1_800_000_000)
        browser = BrowserLogin(server.url, emulator)
        try:
            request = authorization_request(server.url, "times", REDIRECT)
            callback = browser.login(request.url, "frozen.user", password="long-enough-1")
            assert callback.code
            id_token = _exchange(browser.http, callback.code, request.code_verifier)
            claims = pyjwt.decode(id_token, options={"verify_signature": False})
            assert claims["iat"] == claims["auth_time"] == 1_800_000_000
            # A code outlives its 60 s only on the emulator's clock.
            request = authorization_request(server.url, "times", REDIRECT)
            callback = browser.login(request.url, "frozen.user", password="long-enough-1")
            emulator.clock(advance=120)
            late = browser.http.post(
                "/token",
                data={
                    "grant_type": "authorization_code",
                    "code": callback.code or "",
                    "redirect_uri": REDIRECT,
                    "client_id": "times",
                    "code_verifier": request.code_verifier,
                },
            )
            assert late.json()["error"] == "invalid_grant"
        finally:
            browser.close()
