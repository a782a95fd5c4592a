"""OIDC clients (the services that log people in): kept in the state, or read from a file.

A client is public (a browser or native app: no secret, PKCE required) or confidential (a secret,
sent with HTTP Basic or in the form). Only the secret's SHA-256 is kept; it is compared in
constant time. Redirect URIs match exactly, character for character.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import sqlite3
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from authenticators.clock import Clock
from authenticators.ct import bytes_eq
from authenticators.store import Schema, Store

SCHEMA = Schema(
    "oidc_clients",
    [
        """
        CREATE TABLE oidc_clients (
            client_id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            secret_sha256 BLOB,
            redirect_uris TEXT NOT NULL,
            scopes TEXT NOT NULL,
            source TEXT NOT NULL,
            created_at REAL NOT NULL
        )
        """,
        # A client's public keys (a JWK set): private_key_jwt and signed request objects.
        "ALTER TABLE oidc_clients ADD COLUMN jwks TEXT",
    ],
)
MAX_CLIENT_KEYS = 10

SUPPORTED_SCOPES = ("openid", "profile", "ssn", "mitid_erhverv", "offline_access")
DEFAULT_SCOPES = SUPPORTED_SCOPES
_CLIENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{2,127}")
MAX_REDIRECT_URIS = 20
MAX_URI = 2000


class ClientError(Exception):
    """A client definition that cannot be used; the message says why."""

    def __init__(self, message: str, *, unknown: bool = False, conflict: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.unknown = unknown
        self.conflict = conflict


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


def check_client_id(client_id: str) -> str:
    if not isinstance(client_id, str) or not _CLIENT_ID.fullmatch(client_id):
        raise ClientError(
            f"invalid client ID {client_id!r}: use 3-128 letters, digits, '.', '_', ':' or '-'"
        )
    return client_id


def check_redirect_uri(uri: str) -> str:
    if not isinstance(uri, str) or not uri or len(uri) > MAX_URI:
        raise ClientError(f"a redirect URI is 1-{MAX_URI} characters")
    try:
        parts = urlsplit(uri)
    except ValueError:
        raise ClientError(f"invalid redirect URI {uri!r}") from None
    if not parts.scheme or parts.fragment or any(c.isspace() for c in uri):
        raise ClientError(
            f"invalid redirect URI {uri!r}: it needs a scheme and no fragment or spaces"
        )
    if parts.scheme in ("http", "https") and not parts.hostname:
        raise ClientError(f"invalid redirect URI {uri!r}: it needs a host")
    if parts.scheme.lower() in ("javascript", "data", "vbscript", "file"):
        raise ClientError(f"invalid redirect URI {uri!r}: scheme {parts.scheme} is not allowed")
    return uri


@dataclass(frozen=True)
class OIDCClient:
    """One registered client, shaped as Authlib's ``ClientMixin`` expects."""

    client_id: str
    name: str
    redirect_uris: tuple[str, ...]
    scopes: tuple[str, ...]
    source: str
    created_at: float
    secret_sha256: bytes | None = field(default=None, repr=False)
    jwks: str | None = None  # the client's public keys, a JWK set as JSON

    @property
    def public(self) -> bool:
        return self.secret_sha256 is None and self.jwks is None

    def key_set(self) -> KeySet | None:
        """The client's public keys (private_key_jwt, signed request objects), if it has any."""
        return None if self.jwks is None else KeySet.import_key_set(json.loads(self.jwks))

    def to_dict(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "name": self.name,
            "redirect_uris": list(self.redirect_uris),
            "scopes": list(self.scopes),
            "public": self.public,
            "private_key_jwt": self.jwks is not None,
            "source": self.source,
            "created_at": self.created_at,
        }

    # -- authlib's ClientMixin ------------------------------------------------------------------

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None  # OpenID Connect: the redirect_uri is always given

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        allowed = set(self.scopes)
        return " ".join(s for s in dict.fromkeys(scope.split()) if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        if self.secret_sha256 is None or not isinstance(client_secret, str):
            return False
        return bytes_eq(_digest(client_secret), self.secret_sha256)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.public:
            return method == "none"
        if method == "private_key_jwt":
            return self.jwks is not None
        return self.secret_sha256 is not None and method in (
            "client_secret_basic",
            "client_secret_post",
        )

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


def _row(row: sqlite3.Row) -> OIDCClient:
    secret = row["secret_sha256"]
    return OIDCClient(
        client_id=row["client_id"],
        name=row["name"],
        redirect_uris=tuple(json.loads(row["redirect_uris"])),
        scopes=tuple(json.loads(row["scopes"])),
        source=row["source"],
        created_at=row["created_at"],
        secret_sha256=None if secret is None else bytes(secret),
        jwks=row["jwks"],
    )


def check_jwks(jwks: Any) -> str:
    """A client's public keys as stored: a JWK set of at most a few public signing keys."""
    if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
        raise ClientError("'jwks' must be a JWK set: an object with a list of 'keys'")
    keys = jwks["keys"]
    if not 1 <= len(keys) <= MAX_CLIENT_KEYS:
        raise ClientError(f"'jwks' holds 1-{MAX_CLIENT_KEYS} keys")
    if any(not isinstance(k, Mapping) or "d" in k or "k" in k for k in keys):
        raise ClientError("'jwks' holds public keys only (no 'd', no symmetric 'k')")
    try:
        KeySet.import_key_set({"keys": [dict(k) for k in keys]})
    except (JoseError, ValueError, TypeError, KeyError, AttributeError):
        raise ClientError("'jwks' is not a valid JWK set") from None
    return json.dumps({"keys": [dict(k) for k in keys]})


class ClientRegistry:
    def __init__(self, store: Store, clock: Clock) -> None:
        store.ensure(SCHEMA)
        self.store = store
        self.clock = clock

    def add(
        self,
        client_id: str,
        redirect_uris: Iterable[str],
        *,
        name: str | None = None,
        public: bool = False,
        secret: str | None = None,
        scopes: Iterable[str] | None = None,
        source: str = "cli",
        replace: bool = False,
        jwks: Mapping[str, Any] | None = None,
    ) -> tuple[OIDCClient, str | None]:
        """Register a client; returns it and its secret (made here when not given)."""
        check_client_id(client_id)
        uris = tuple(dict.fromkeys(check_redirect_uri(u) for u in redirect_uris))
        if not uris:
            raise ClientError("a client needs at least one redirect URI")
        if len(uris) > MAX_REDIRECT_URIS:
            raise ClientError(f"a client has at most {MAX_REDIRECT_URIS} redirect URIs")
        wanted = tuple(scopes) if scopes is not None else DEFAULT_SCOPES
        unknown = [s for s in wanted if s not in SUPPORTED_SCOPES]
        if unknown:
            raise ClientError(
                f"unknown scope {unknown[0]!r}; supported: {', '.join(SUPPORTED_SCOPES)}"
            )
        if "openid" not in wanted:
            wanted = ("openid", *wanted)
        if public and (secret is not None or jwks is not None):
            raise ClientError("a public client has no secret and no keys")
        stored_jwks = None if jwks is None else check_jwks(jwks)
        if not public and secret is None and stored_jwks is None:
            secret = secrets.token_urlsafe(32)
        if secret is not None and not 16 <= len(secret) <= 512:
            raise ClientError("a client secret is 16-512 characters")
        label = (name or client_id).strip()[:200] or client_id
        digest = None if secret is None else _digest(secret)
        now = self.clock.now()
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        with self.store.transaction() as conn:
            try:
                conn.execute(
                    f"{verb} INTO oidc_clients (client_id, name, secret_sha256, redirect_uris, "
                    "scopes, source, created_at, jwks) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        client_id,
                        label,
                        digest,
                        json.dumps(list(uris)),
                        json.dumps(list(dict.fromkeys(wanted))),
                        source,
                        now,
                        stored_jwks,
                    ),
                )
            except sqlite3.IntegrityError:
                raise ClientError(
                    f"a client {client_id!r} exists already; remove it first or pick another ID",
                    conflict=True,
                ) from None
        return self.get(client_id), secret

    def get(self, client_id: str) -> OIDCClient:
        client = self.find(client_id)
        if client is None:
            raise ClientError(
                f"no client {client_id!r}; list them with `mitid-emu clients list`", unknown=True
            )
        return client

    def find(self, client_id: str) -> OIDCClient | None:
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT * FROM oidc_clients WHERE client_id = ?", (client_id,)
            ).fetchone()
        return None if row is None else _row(row)

    def remove(self, client_id: str) -> None:
        with self.store.transaction() as conn:
            cursor = conn.execute("DELETE FROM oidc_clients WHERE client_id = ?", (client_id,))
            if cursor.rowcount == 0:
                raise ClientError(
                    f"no client {client_id!r}; list them with `mitid-emu clients list`",
                    unknown=True,
                )

    def load_file(self, path: Path) -> list[OIDCClient]:
        """Register (or replace) the clients a TOML or JSON file lists under ``clients``."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ClientError(f"cannot read {path}: {exc.strerror or exc}") from None
        try:
            data: Any = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
        except (ValueError, tomllib.TOMLDecodeError) as exc:
            raise ClientError(f"{path} is not valid {path.suffix[1:] or 'TOML'}: {exc}") from None
        entries = data.get("clients") if isinstance(data, Mapping) else None
        if not isinstance(entries, list):
            raise ClientError(f"{path} needs a list of clients under 'clients'")
        loaded = []
        for number, entry in enumerate(entries, 1):
            if not isinstance(entry, Mapping):
                raise ClientError(f"{path}: client {number} is not a table")
            try:
                client, _ = self.add(
                    str(entry["client_id"]),
                    [str(u) for u in entry.get("redirect_uris", [])],
                    name=entry.get("name"),
                    public=bool(
                        entry.get("public", "client_secret" not in entry and "jwks" not in entry)
                    ),
                    secret=entry.get("client_secret"),
                    jwks=entry.get("jwks"),
                    scopes=entry.get("scopes"),
                    source=f"file:{path.name}",
                    replace=True,
                )
            except KeyError:
                raise ClientError(f"{path}: client {number} has no client_id") from None
            except ClientError as exc:
                raise ClientError(f"{path}: client {number}: {exc.message}") from None
            loaded.append(client)
        return loaded

    def list(self) -> list[OIDCClient]:
        with self.store.read() as conn:
            rows = conn.execute("SELECT * FROM oidc_clients ORDER BY client_id").fetchall()
        return [_row(r) for r in rows]
