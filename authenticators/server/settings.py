"""Small server-wide values kept in the state: the admin token of the control API."""

from __future__ import annotations

import hashlib
import secrets

from authenticators.ct import bytes_eq
from authenticators.store import Schema, Store

SCHEMA = Schema(
    "server_settings",
    [
        """
        CREATE TABLE server_settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )
        """
    ],
)

ADMIN_TOKEN_KEY = "admin_token"  # noqa: S105 - the name of a setting


def _get(store: Store, key: str) -> str | None:
    with store.read() as conn:
        row = conn.execute("SELECT value FROM server_settings WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row["value"])


def admin_token(store: Store, given: str | None = None) -> str:
    """The control API's bearer token: ``given``, else the one kept in the state, else a new one."""
    store.ensure(SCHEMA)
    with store.transaction() as conn:
        if given is not None:
            token = given
        else:
            token = _get(store, ADMIN_TOKEN_KEY) or secrets.token_urlsafe(24)
        conn.execute(
            "INSERT INTO server_settings (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (ADMIN_TOKEN_KEY, token),
        )
    return token


class TokenCheck:
    """Compares a presented bearer token with the admin token, in constant time."""

    def __init__(self, token: str) -> None:
        self._digest = hashlib.sha256(token.encode("utf-8")).digest()

    def __repr__(self) -> str:
        return "TokenCheck(<hidden>)"

    def __call__(self, presented: str) -> bool:
        given = hashlib.sha256(presented.encode("utf-8", "surrogatepass")).digest()
        return bytes_eq(given, self._digest)
