"""Each component's tables can grow: a migration that adds a column to every table reads the rows
written before it, and every writer still works (each INSERT names its columns)."""

from __future__ import annotations

import re
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from authenticators.server.config import ServerConfig
from authenticators.server.runner import ServerThread
from authenticators.server.testing import (
    BrowserLogin,
    Emulator,
    authorization_request,
    kind_drivers,
)
from authenticators.store import Schema

PASSWORD = "pw-migrate-1234"
PIN = "135790"
PROBE = "added_by_migration_2"
REDIRECT = "http://127.0.0.1:9/callback"


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


def _serve(state: Path) -> Iterator[tuple[ServerThread, Emulator]]:
    with ServerThread(ServerConfig(state_dir=str(state), port=0)) as server:
        emulator = Emulator(server.url, server.admin_token)
        try:
            yield server, emulator
        finally:
            emulator.close()


def _everything_once(server: ServerThread, emulator: Emulator, user_id: str) -> None:
    """A person with one authenticator of every kind logs in with each; one code is redeemed."""
    emulator.create_identity(
        user_id,
        "Mia Migration",
        password=PASSWORD,
        authenticators=[
            {"kind": kind, **driver.enrollment(user_id, PIN)}
            for kind, driver in kind_drivers().items()
        ],
    )
    browser = BrowserLogin(server.url, emulator)
    try:
        for kind in kind_drivers():
            request = authorization_request(
                server.url, "migration-client", REDIRECT, acr_values="urn:grn:authn:dk:mitid:low"
            )
            callback = browser.login(request.url, user_id, kind=kind, password=PASSWORD, pin=PIN)
            assert callback.code, (kind, callback.params)
        token = httpx.post(
            f"{server.url}/token",
            data={
                "grant_type": "authorization_code",
                "code": callback.code,
                "redirect_uri": REDIRECT,
                "client_id": "migration-client",
                "code_verifier": request.code_verifier,
            },
        )
        assert token.status_code == 200, token.text
    finally:
        browser.close()


def _schemas() -> dict[int, Schema]:
    found: dict[int, Schema] = {}
    for name, module in list(sys.modules.items()):
        if name.startswith(("authenticators.", "firmware_sim.")):
            for value in vars(module).values():
                if isinstance(value, Schema):
                    found[id(value)] = value
    return found


def _tables(schema: Schema) -> list[str]:
    return re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", "\n".join(schema.migrations))


@pytest.mark.slow
def test_a_column_added_by_migration_2_leaves_every_component_working(
    state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for server, emulator in _serve(state):
        emulator.add_client("migration-client", [REDIRECT], public=True)
        _everything_once(server, emulator, "mia-1")

    grown: dict[int, Schema] = {}
    for key, schema in _schemas().items():
        adds = [f"ALTER TABLE {t} ADD COLUMN {PROBE} TEXT DEFAULT 'old'" for t in _tables(schema)]
        grown[key] = Schema(schema.namespace, [*schema.migrations, "; ".join(adds)])
    for name, module in list(sys.modules.items()):
        if name.startswith(("authenticators.", "firmware_sim.")):
            for attr, value in list(vars(module).items()):
                if isinstance(value, Schema) and id(value) in grown:
                    monkeypatch.setattr(module, attr, grown[id(value)])

    for server, emulator in _serve(state):
        assert emulator.identity("mia-1")["name"] == "Mia Migration"  # written by migration 1
        _everything_once(server, emulator, "mia-2")

    conn = sqlite3.connect(state / "state.sqlite3")
    try:
        versions: dict[str, Any] = dict(conn.execute("SELECT * FROM schema_versions").fetchall())
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master").fetchall()}
        for schema in grown.values():
            if schema.namespace in versions:
                assert versions[schema.namespace] == len(schema.migrations), schema.namespace
                for table in _tables(schema):
                    assert table in tables
                    columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
                    assert columns[-1] == PROBE, table
        old = conn.execute(
            f"SELECT {PROBE} FROM identities WHERE user_id = 'mia-1'"  # noqa: S608
        ).fetchone()
        assert old == ("old",)
    finally:
        conn.close()
    assert {"identities", "login_transactions", "code_tokens", "oidc_grants"} <= set(versions)
