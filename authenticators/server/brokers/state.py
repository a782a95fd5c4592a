"""What each broker issuer keeps in the state: its clients and its signing key.

A broker's clients are its own (the same client ID at two brokers is two clients), with two
options a broker sets per client: ``simulate`` (the no-UI path is allowed) and ``long_claims``
(Idura's long claim names). Each broker signs with a key of its own, made on first use.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from joserfc.jwk import RSAKey

from authenticators.clock import Clock
from authenticators.server.clients import (
    MAX_REDIRECT_URIS,
    ClientError,
    OIDCClient,
    _digest,
    check_client_id,
    check_redirect_uri,
)
from authenticators.store import Schema, Store

SCHEMA = Schema(
    "broker_state",
    [
        """
        CREATE TABLE broker_clients (
            broker TEXT NOT NULL,
            client_id TEXT NOT NULL,
            name TEXT NOT NULL,
            secret_sha256 BLOB,
            redirect_uris TEXT NOT NULL,
            scopes TEXT NOT NULL,
            simulate INTEGER NOT NULL,
            long_claims INTEGER NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (broker, client_id)
        );
        CREATE TABLE broker_keys (
            broker TEXT PRIMARY KEY,
            jwk TEXT NOT NULL,
            created_at REAL NOT NULL
        )
        """,
        """
        CREATE TABLE broker_persons (
            identity_uuid TEXT PRIMARY KEY,
            protected INTEGER NOT NULL
        )
        """,
    ],
)

ALG = "RS256"


@dataclass(frozen=True)
class BrokerClient(OIDCClient):
    broker: str = ""
    simulate: bool = False
    long_claims: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "broker": self.broker,
            "simulate": self.simulate,
            "long_claims": self.long_claims,
        }


def _row(row: sqlite3.Row) -> BrokerClient:
    secret = row["secret_sha256"]
    return BrokerClient(
        client_id=row["client_id"],
        name=row["name"],
        redirect_uris=tuple(json.loads(row["redirect_uris"])),
        scopes=tuple(json.loads(row["scopes"])),
        source="cli",
        created_at=row["created_at"],
        secret_sha256=None if secret is None else bytes(secret),
        broker=row["broker"],
        simulate=bool(row["simulate"]),
        long_claims=bool(row["long_claims"]),
    )


class BrokerClients:
    """The clients of every broker issuer, each under its broker's name."""

    def __init__(self, store: Store, clock: Clock) -> None:
        store.ensure(SCHEMA)
        self.store = store
        self.clock = clock

    def add(
        self,
        broker: str,
        client_id: str,
        redirect_uris: Iterable[str],
        *,
        supported_scopes: Iterable[str],
        name: str | None = None,
        public: bool = False,
        secret: str | None = None,
        scopes: Iterable[str] | None = None,
        simulate: bool = False,
        long_claims: bool = False,
    ) -> tuple[BrokerClient, str | None]:
        check_client_id(client_id)
        uris = tuple(dict.fromkeys(check_redirect_uri(u) for u in redirect_uris))
        if not uris:
            raise ClientError("a client needs at least one redirect URI")
        if len(uris) > MAX_REDIRECT_URIS:
            raise ClientError(f"a client has at most {MAX_REDIRECT_URIS} redirect URIs")
        supported = tuple(supported_scopes)
        wanted = tuple(scopes) if scopes is not None else supported
        unknown = [s for s in wanted if s not in supported]
        if unknown:
            raise ClientError(
                f"unknown scope {unknown[0]!r} at {broker}; supported: {', '.join(supported)}"
            )
        if "openid" not in wanted:
            wanted = ("openid", *wanted)
        if public and secret is not None:
            raise ClientError("a public client has no secret")
        if not public and secret is None:
            secret = secrets.token_urlsafe(32)
        if secret is not None and not 16 <= len(secret) <= 512:
            raise ClientError("a client secret is 16-512 characters")
        label = (name or client_id).strip()[:200] or client_id
        with self.store.transaction() as conn:
            try:
                conn.execute(
                    "INSERT INTO broker_clients (broker, client_id, name, secret_sha256,"
                    " redirect_uris, scopes, simulate, long_claims, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        broker,
                        client_id,
                        label,
                        None if secret is None else _digest(secret),
                        json.dumps(list(uris)),
                        json.dumps(list(dict.fromkeys(wanted))),
                        int(simulate),
                        int(long_claims),
                        self.clock.now(),
                    ),
                )
            except sqlite3.IntegrityError:
                raise ClientError(
                    f"a client {client_id!r} exists already at {broker}; remove it first",
                    conflict=True,
                ) from None
        found = self.find(broker, client_id)
        assert found is not None
        return found, secret

    def find(self, broker: str, client_id: str) -> BrokerClient | None:
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT * FROM broker_clients WHERE broker = ? AND client_id = ?",
                (broker, client_id),
            ).fetchone()
        return None if row is None else _row(row)

    def list(self, broker: str | None = None) -> list[BrokerClient]:
        with self.store.read() as conn:
            if broker is None:
                rows = conn.execute(
                    "SELECT * FROM broker_clients ORDER BY broker, client_id"
                ).fetchall()
            else:
                rows = conn.execute(
                    "SELECT * FROM broker_clients WHERE broker = ? ORDER BY client_id", (broker,)
                ).fetchall()
        return [_row(r) for r in rows]

    def remove(self, broker: str, client_id: str) -> None:
        with self.store.transaction() as conn:
            cursor = conn.execute(
                "DELETE FROM broker_clients WHERE broker = ? AND client_id = ?",
                (broker, client_id),
            )
        if cursor.rowcount == 0:
            raise ClientError(f"no client {client_id!r} at {broker}", unknown=True)


class BrokerKeys:
    """One RS256 key per broker, made on first use; parsed once per process."""

    def __init__(self, store: Store, clock: Clock) -> None:
        store.ensure(SCHEMA)
        self.store = store
        self.clock = clock
        self._parsed: dict[str, RSAKey] = {}

    def key(self, broker: str) -> RSAKey:
        with self.store.read() as conn:
            row = conn.execute("SELECT jwk FROM broker_keys WHERE broker = ?", (broker,)).fetchone()
        if row is None:
            kid = f"{broker}-{secrets.token_urlsafe(9)}"
            made = RSAKey.generate_key(
                2048, parameters={"kid": kid, "use": "sig", "alg": ALG}, private=True
            )
            with self.store.transaction() as conn:
                conn.execute(
                    "INSERT OR IGNORE INTO broker_keys (broker, jwk, created_at) VALUES (?, ?, ?)",
                    (broker, json.dumps(made.as_dict(private=True)), self.clock.now()),
                )
                row = conn.execute(
                    "SELECT jwk FROM broker_keys WHERE broker = ?", (broker,)
                ).fetchone()
        text: str = row["jwk"]
        key = self._parsed.get(text)
        if key is None:
            key = RSAKey.import_key(json.loads(text))
            self._parsed = {text: key, **{k: v for k, v in self._parsed.items() if k != text}}
        return key

    def jwks(self, broker: str) -> dict[str, Any]:
        public = self.key(broker).as_dict(private=False)
        return {"keys": [{k: public[k] for k in ("kty", "kid", "use", "alg", "n", "e")}]}


class BrokerPersons:
    """What brokers know of a person beyond MitID: name and address protection (from CPR)."""

    def __init__(self, store: Store) -> None:
        store.ensure(SCHEMA)
        self.store = store

    def set_protected(self, identity_uuid: str, protected: bool) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO broker_persons (identity_uuid, protected) VALUES (?, ?)",
                (identity_uuid, int(protected)),
            )

    def protected(self, identity_uuid: str) -> bool:
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT protected FROM broker_persons WHERE identity_uuid = ?", (identity_uuid,)
            ).fetchone()
        return row is not None and bool(row["protected"])
