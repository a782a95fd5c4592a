"""ID token signing keys: RS256 key pairs kept in the state, rotated, published as a JWKS.

A process loads each key once and keeps it; it reads the key ids again (a cheap read) whenever
it signs or publishes, so a ``mitid-emu keys rotate`` in another terminal reaches every worker
at once.
After a rotation the old key stays published until every token it signed has expired.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from joserfc.jwk import KeySet, RSAKey

from authenticators.clock import Clock
from authenticators.store import Schema, Store

SCHEMA = Schema(
    "signing_keys",
    [
        """
        CREATE TABLE signing_keys (
            kid TEXT PRIMARY KEY,
            alg TEXT NOT NULL,
            jwk TEXT NOT NULL,
            created_at REAL NOT NULL,
            retired_at REAL,
            publish_until REAL
        )
        """
    ],
)

ALG = "RS256"
RSA_BITS = 2048


@dataclass(frozen=True)
class KeyInfo:
    kid: str
    alg: str
    created_at: float
    retired_at: float | None
    publish_until: float | None

    @property
    def active(self) -> bool:
        return self.retired_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kid": self.kid,
            "alg": self.alg,
            "created_at": self.created_at,
            "active": self.active,
            "retired_at": self.retired_at,
            "publish_until": self.publish_until,
        }


def _new_key() -> tuple[str, RSAKey]:
    kid = secrets.token_urlsafe(12)
    key = RSAKey.generate_key(
        RSA_BITS, parameters={"kid": kid, "use": "sig", "alg": ALG}, private=True
    )
    return kid, key


class KeyStore:
    """The keys at rest: create, rotate, list, prune."""

    def __init__(self, store: Store, clock: Clock) -> None:
        store.ensure(SCHEMA)
        self.store = store
        self.clock = clock

    def ensure_active(self) -> str:
        """Make a first key when there is none; return the active key's id."""
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT kid FROM signing_keys WHERE retired_at IS NULL "
                "ORDER BY created_at DESC LIMIT 1"
            ).fetchone()
            if row is not None:
                return str(row["kid"])
            return self._insert(conn)

    def _insert(self, conn: Any) -> str:
        kid, key = _new_key()
        conn.execute(
            "INSERT INTO signing_keys (kid, alg, jwk, created_at, retired_at, publish_until)"
            " VALUES (?, ?, ?, ?, NULL, NULL)",
            (kid, ALG, json.dumps(key.as_dict(private=True)), self.clock.now()),
        )
        return kid

    def rotate(self, keep_published: float) -> str:
        """A new active key; the old ones stay published for ``keep_published`` seconds."""
        now = self.clock.now()
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE signing_keys SET retired_at = ?, publish_until = ? "
                "WHERE retired_at IS NULL",
                (now, now + keep_published),
            )
            kid = self._insert(conn)
            self._prune(conn, now)
        return kid

    def _prune(self, conn: Any, now: float) -> None:
        conn.execute(
            "DELETE FROM signing_keys WHERE publish_until IS NOT NULL AND publish_until <= ?",
            (now,),
        )

    def published_rows(self, now: float) -> list[tuple[str, float | None, str]]:
        """(kid, retired_at, jwk) of every key still published, newest first."""
        with self.store.read() as conn:
            rows = conn.execute(
                "SELECT kid, retired_at, jwk FROM signing_keys "
                "WHERE publish_until IS NULL OR publish_until > ? ORDER BY created_at DESC",
                (now,),
            ).fetchall()
        return [(r["kid"], r["retired_at"], r["jwk"]) for r in rows]

    def kids(self, now: float) -> list[tuple[str, float | None]]:
        with self.store.read() as conn:
            rows = conn.execute(
                "SELECT kid, retired_at FROM signing_keys "
                "WHERE publish_until IS NULL OR publish_until > ? ORDER BY created_at DESC",
                (now,),
            ).fetchall()
        return [(r["kid"], r["retired_at"]) for r in rows]

    def list(self) -> list[KeyInfo]:
        with self.store.read() as conn:
            rows = conn.execute(
                "SELECT kid, alg, created_at, retired_at, publish_until FROM signing_keys "
                "ORDER BY created_at"
            ).fetchall()
        return [
            KeyInfo(r["kid"], r["alg"], r["created_at"], r["retired_at"], r["publish_until"])
            for r in rows
        ]


class KeyRing:
    """The keys one process signs and publishes with, each loaded once.

    Every signature and every JWKS reads the key ids again (one small read), so after a
    rotation in any process no worker signs with a key it does not publish, and no JWKS
    fetched after a token lacks that token's key.
    """

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys
        self._lock = threading.Lock()
        self._loaded: dict[str, RSAKey] = {}
        self._published: list[str] = []
        self._jwks: dict[str, Any] = {"keys": []}

    def __repr__(self) -> str:
        return f"KeyRing(published={len(self._published)})"

    def _current(self) -> tuple[str, dict[str, Any]]:
        """The active key id and the JWKS, as the state holds them now."""
        now = self.keys.clock.now()
        listed = self.keys.kids(now)
        kids = [kid for kid, _ in listed]
        with self._lock:
            if not listed or any(kid not in self._loaded for kid in kids):
                if not listed:
                    self.keys.ensure_active()
                for kid, _, jwk in self.keys.published_rows(now):
                    if kid not in self._loaded:
                        self._loaded[kid] = RSAKey.import_key(json.loads(jwk))
                listed = self.keys.kids(now)
                kids = [kid for kid, _ in listed]
            if kids != self._published:
                self._jwks = {"keys": [self._loaded[kid].as_dict(private=False) for kid in kids]}
                self._published = kids
                for gone in set(self._loaded) - set(kids):
                    del self._loaded[gone]
            active = [kid for kid, retired in listed if retired is None]
            return (active[0] if active else kids[0]), self._jwks

    def refresh(self) -> None:
        self._current()

    def signing_key(self) -> RSAKey:
        kid, _ = self._current()
        with self._lock:
            return self._loaded[kid]

    def jwks(self) -> dict[str, Any]:
        return self._current()[1]

    def key_set(self) -> KeySet:
        """The published public keys, for checking tokens."""
        return KeySet.import_key_set(self.jwks())  # type: ignore[arg-type]
