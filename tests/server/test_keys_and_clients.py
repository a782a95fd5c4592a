"""Signing keys (persisted, loaded once, rotated with the old key kept) and clients (CLI, file)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from joserfc.jwk import RSAKey

from authenticators.pytest_plugin import MitIDClient
from authenticators.server.config import ServerConfig
from authenticators.server.runner import ServerThread
from authenticators.server.testing import BrowserLogin, authorization_request
from tests.server.conftest import emulator_for, id_token_claims
from tests.support import Emu, assert_user_error


def _login_token(server: ServerThread, http: httpx.Client) -> str:
    emulator = emulator_for(server)
    user = f"keys-{len(emulator.call('GET', '/emulator/identities')['identities'])}"
    emulator.create_identity(
        user,
        "Key Person",
        password="long-enough-1",
        authenticators=[{"kind": "codeviser", "name": f"{user}-cv"}],
    )
    browser = BrowserLogin(server.url, emulator)
    client = MitIDClient("keys-client", "http://127.0.0.1:9/k", server.url)
    request = authorization_request(server.url, client.client_id, client.redirect_uri)
    callback = browser.login(request.url, user, password="long-enough-1")
    browser.close()
    response = http.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": callback.code,
            "client_id": client.client_id,
            "redirect_uri": client.redirect_uri,
            "code_verifier": request.code_verifier,
        },
    )
    token: str = response.json()["id_token"]
    return token


def test_rotation_keeps_the_old_key_published(tmp_path: Path) -> None:
    imports = []
    original = RSAKey.import_key

    def counting(*args: object, **kwargs: object) -> RSAKey:
        imports.append(1)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    import pytest

    mp = pytest.MonkeyPatch()
    mp.setattr(RSAKey, "import_key", staticmethod(counting))
    try:
        with ServerThread(ServerConfig(state_dir=str(tmp_path / "s"), port=0)) as server:
            emulator_for(server).add_client("keys-client", ["http://127.0.0.1:9/k"])
            with httpx.Client(base_url=server.url) as http:
                old = _login_token(server, http)
                loaded = len(imports)
                _login_token(server, http)
                _login_token(server, http)
                assert len(imports) == loaded  # the key is not loaded again for each token
                old_kid = http.get("/jwks").json()["keys"][0]["kid"]
                Emu(tmp_path / "s")("keys", "rotate")
                new = _login_token(server, http)
                kids = [k["kid"] for k in http.get("/jwks").json()["keys"]]
                assert len(kids) == 2
                assert old_kid in kids
                assert id_token_claims(http, old)["iss"] == server.url  # still verifies
                assert id_token_claims(http, new)["iss"] == server.url
                from joserfc import jws

                assert jws.extract_compact(new.encode()).protected["kid"] != old_kid
    finally:
        mp.undo()
    listed = Emu(tmp_path / "s")("keys", "list", "--json")
    keys = json.loads(listed.stdout)
    assert [k["active"] for k in keys] == [False, True]


def test_clients_cli(emu: Emu) -> None:
    added = emu("clients", "add", "web-app", "--redirect-uri", "https://app.example/cb", "--json")
    assert added.exit_code == 0, added.output
    data = json.loads(added.stdout)
    assert data["public"] is False
    assert len(data["client_secret"]) >= 32
    public = emu("clients", "add", "spa", "--public", "--redirect-uri", "http://localhost:3000/cb")
    assert public.exit_code == 0
    assert "secret" not in public.stdout
    listed = emu("clients", "list")
    assert "web-app\tconfidential" in listed.stdout
    assert "spa\tpublic" in listed.stdout
    assert_user_error(
        emu("clients", "add", "spa", "--public", "--redirect-uri", "http://x/cb"), "exists"
    )
    assert_user_error(emu("clients", "add", "x!", "--redirect-uri", "http://x/cb"), "client ID")
    assert_user_error(emu("clients", "add", "ok-id", "--redirect-uri", "nota uri"), "redirect URI")
    assert emu("clients", "remove", "spa").exit_code == 0
    assert_user_error(emu("clients", "remove", "spa"), "no client")


def test_clients_from_a_file(tmp_path: Path) -> None:
    file = tmp_path / "clients.toml"
    file.write_text(
        '[[clients]]\nclient_id = "from-file"\nredirect_uris = ["http://127.0.0.1:9/f"]\n'
        'public = true\n\n[[clients]]\nclient_id = "secret-file"\n'
        'client_secret = "a-very-long-secret-value"\nredirect_uris = ["https://s/cb"]\n'
    )
    config = ServerConfig(state_dir=str(tmp_path / "s"), port=0, clients_file=str(file))
    with ServerThread(config) as server:
        clients = emulator_for(server).call("GET", "/emulator/clients")["clients"]
        assert {c["client_id"]: c["public"] for c in clients} == {
            "from-file": True,
            "secret-file": False,
        }
        emulator_for(server).reset()  # a reset keeps the file's clients
        assert len(emulator_for(server).call("GET", "/emulator/clients")["clients"]) == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("[[clients]]\nredirect_uris = []\n")
    result = Emu(tmp_path / "s2")("serve", "--clients", str(bad), "--port", "0")
    assert_user_error(result, "client_id")


@pytest.mark.slow
def test_a_rotation_reaches_every_worker_at_once(tmp_path: Path) -> None:
    """Two workers on one state: after a rotation through either, every token's key is in
    every JWKS fetched after it, and both sign with the new key."""
    from joserfc import jws

    config = ServerConfig(state_dir=str(tmp_path / "s"), port=0)
    with ServerThread(config) as first, ServerThread(config) as second:
        emulator_for(first).add_client("keys-client", ["http://127.0.0.1:9/k"])
        with httpx.Client(base_url=first.url) as a, httpx.Client(base_url=second.url) as b:
            _login_token(first, a)
            _login_token(second, b)  # both workers have loaded and published the first key
            for rotating, signing in ((first, second), (second, first), (first, first)):
                new_kid = emulator_for(rotating).call("POST", "/emulator/keys/rotate")["active"]
                with httpx.Client(base_url=signing.url) as http:
                    token = _login_token(signing, http)
                kid = jws.extract_compact(token.encode()).protected["kid"]
                assert kid == new_kid
                for http in (a, b):
                    assert kid in [k["kid"] for k in http.get("/jwks").json()["keys"]]
