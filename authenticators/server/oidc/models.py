"""What a finished login hands to OIDC, and the codes and tokens issued for it, at rest.

Codes and access tokens are kept only as SHA-256 digests: a lookup by digest never compares the
secret itself. A code is consumed the moment it is presented (one atomic update), so two token
requests racing with one code cannot both win; presenting a used code revokes what it issued.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from authenticators.clock import Clock
from authenticators.core.organisations import Membership
from authenticators.store import Schema, Store

SCHEMA = Schema(
    "oidc_grants",
    [
        """
        CREATE TABLE oidc_codes (
            code_sha256 BLOB PRIMARY KEY,
            client_id TEXT NOT NULL,
            redirect_uri TEXT NOT NULL,
            scope TEXT NOT NULL,
            nonce TEXT,
            code_challenge TEXT,
            code_challenge_method TEXT,
            authentication TEXT NOT NULL,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            used INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX oidc_codes_nonce ON oidc_codes(client_id, nonce);
        CREATE TABLE oidc_tokens (
            token_sha256 BLOB PRIMARY KEY,
            client_id TEXT NOT NULL,
            code_sha256 BLOB,
            scope TEXT NOT NULL,
            authentication TEXT NOT NULL,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            revoked INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX oidc_tokens_code ON oidc_tokens(code_sha256)
        """,
        # Refresh tokens (offline_access); a grant's tokens share the digest of its code. The
        # nonce index goes: a nonce seen before is no longer looked up.
        """
        DROP INDEX oidc_codes_nonce;
        CREATE TABLE oidc_refresh_tokens (
            token_sha256 BLOB PRIMARY KEY,
            client_id TEXT NOT NULL,
            grant_sha256 BLOB NOT NULL,
            scope TEXT NOT NULL,
            authentication TEXT NOT NULL,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            used INTEGER NOT NULL DEFAULT 0,
            revoked INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX oidc_refresh_tokens_grant ON oidc_refresh_tokens(grant_sha256)
        """,
        # Single sign-on: one login session per browser (the digest of its cookie).
        """
        CREATE TABLE oidc_sessions (
            browser TEXT PRIMARY KEY,
            sid TEXT NOT NULL UNIQUE,
            authentication TEXT NOT NULL,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL
        );
        CREATE TABLE oidc_pushed_requests (
            request_uri_sha256 BLOB PRIMARY KEY,
            client_id TEXT NOT NULL,
            params TEXT NOT NULL,
            expires_at REAL NOT NULL
        )
        """,
        # The ids of client assertions seen (private_key_jwt): each is accepted once.
        """
        CREATE TABLE oidc_assertion_ids (
            client_id TEXT NOT NULL,
            jti TEXT NOT NULL,
            expires_at REAL NOT NULL,
            PRIMARY KEY (client_id, jti)
        )
        """,
    ],
)


PAR_PREFIX = "urn:ietf:params:oauth:request_uri:"


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


@dataclass(frozen=True)
class Authentication:
    """A finished login: who, how, at which level, when, and for which company."""

    identity_uuid: str
    user_id: str
    acr: str
    level: str
    amr: tuple[str, ...]
    auth_time: float
    cvr: str | None = None
    org_name: str | None = None
    roles: tuple[str, ...] = ()
    # Set by a broker dialect (server/brokers): its name and what its claims need beyond this.
    broker: str | None = None
    details: tuple[tuple[str, str], ...] = ()
    session_id: str | None = None  # the browser's login session (``sid``), when it has one

    def __bool__(self) -> bool:
        return True

    @property
    def business(self) -> bool:
        return self.cvr is not None

    def with_organisation(self, membership: Membership, acr: str) -> Authentication:
        return Authentication(
            self.identity_uuid,
            self.user_id,
            acr,
            self.level,
            self.amr,
            self.auth_time,
            membership.cvr,
            membership.org_name,
            membership.roles,
            self.broker,
            self.details,
            self.session_id,
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Authentication:
        data: dict[str, Any] = json.loads(text)
        data["amr"] = tuple(data["amr"])
        data["roles"] = tuple(data.get("roles") or ())
        data["details"] = tuple((str(k), str(v)) for k, v in data.get("details") or ())
        return cls(**data)


@dataclass(frozen=True)
class StoredCode:
    """An authorization code as Authlib's ``AuthorizationCodeMixin`` expects it."""

    client_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    authentication: Authentication
    code_sha256: bytes

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return int(self.authentication.auth_time)

    def get_acr(self) -> str:
        return self.authentication.acr

    def get_amr(self) -> list[str]:
        return list(self.authentication.amr)


@dataclass(frozen=True)
class AccessToken:
    client_id: str
    scope: str
    authentication: Authentication
    expires_at: float
    issued_at: float = 0.0


@dataclass(frozen=True)
class RefreshToken:
    """A refresh token as Authlib's refresh grant expects it."""

    client_id: str
    grant_sha256: bytes
    scope: str
    authentication: Authentication
    issued_at: float
    expires_at: float

    def check_client(self, client: Any) -> bool:
        return bool(client.client_id == self.client_id)

    def get_scope(self) -> str:
        return self.scope


class GrantStore:
    def __init__(self, store: Store, clock: Clock) -> None:
        store.ensure(SCHEMA)
        self.store = store
        self.clock = clock

    def save_code(
        self,
        code: str,
        *,
        client_id: str,
        redirect_uri: str,
        scope: str,
        nonce: str | None,
        code_challenge: str | None,
        code_challenge_method: str | None,
        authentication: Authentication,
        lifetime: float,
    ) -> None:
        now = self.clock.now()
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO oidc_codes (code_sha256, client_id, redirect_uri, scope, nonce, "
                "code_challenge, code_challenge_method, authentication, created_at, expires_at, "
                "used)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                (
                    digest(code),
                    client_id,
                    redirect_uri,
                    scope,
                    nonce,
                    code_challenge,
                    code_challenge_method,
                    authentication.to_json(),
                    now,
                    now + lifetime,
                ),
            )

    def consume_code(self, code: str, client_id: str) -> StoredCode | None:
        """The code, used up now; None when unknown, expired, another client's, or used before.

        A code presented again revokes the access tokens it was exchanged for (RFC 6749 4.1.2).
        """
        key = digest(code)
        now = self.clock.now()
        with self.store.transaction() as conn:
            row = conn.execute("SELECT * FROM oidc_codes WHERE code_sha256 = ?", (key,)).fetchone()
            if row is None or row["client_id"] != client_id:
                return None
            if row["used"]:
                conn.execute("UPDATE oidc_tokens SET revoked = 1 WHERE code_sha256 = ?", (key,))
                return None
            conn.execute("UPDATE oidc_codes SET used = 1 WHERE code_sha256 = ?", (key,))
            if now >= row["expires_at"]:
                return None
        return StoredCode(
            client_id=row["client_id"],
            redirect_uri=row["redirect_uri"],
            scope=row["scope"],
            nonce=row["nonce"],
            code_challenge=row["code_challenge"],
            code_challenge_method=row["code_challenge_method"],
            authentication=Authentication.from_json(row["authentication"]),
            code_sha256=key,
        )

    def save_token(
        self,
        access_token: str,
        *,
        client_id: str,
        code_sha256: bytes | None,
        scope: str,
        authentication: Authentication,
        lifetime: float,
    ) -> None:
        now = self.clock.now()
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO oidc_tokens (token_sha256, client_id, code_sha256, scope, "
                "authentication, created_at, expires_at, revoked)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                (
                    digest(access_token),
                    client_id,
                    code_sha256,
                    scope,
                    authentication.to_json(),
                    now,
                    now + lifetime,
                ),
            )

    def save_refresh(
        self,
        refresh_token: str,
        *,
        client_id: str,
        grant_sha256: bytes,
        scope: str,
        authentication: Authentication,
        lifetime: float,
    ) -> None:
        now = self.clock.now()
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO oidc_refresh_tokens (token_sha256, client_id, grant_sha256, scope, "
                "authentication, created_at, expires_at, used, revoked)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0)",
                (
                    digest(refresh_token),
                    client_id,
                    grant_sha256,
                    scope,
                    authentication.to_json(),
                    now,
                    now + lifetime,
                ),
            )

    def use_refresh(self, refresh_token: str, client_id: str) -> RefreshToken | None:
        """The refresh token, used up now (each use gets a new one); None when unknown,
        expired, revoked or another client's. One presented again after its use revokes its
        whole grant: someone else holds a copy (RFC 9700 4.14.2)."""
        key = digest(refresh_token)
        now = self.clock.now()
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT * FROM oidc_refresh_tokens WHERE token_sha256 = ?", (key,)
            ).fetchone()
            if row is None or row["client_id"] != client_id or row["revoked"]:
                return None
            if row["used"]:
                self._revoke_grant(conn, row["grant_sha256"])
                return None
            conn.execute("UPDATE oidc_refresh_tokens SET used = 1 WHERE token_sha256 = ?", (key,))
            if now >= row["expires_at"]:
                return None
        return _refresh(row)

    @staticmethod
    def _revoke_grant(conn: Any, grant: bytes) -> None:
        conn.execute("UPDATE oidc_tokens SET revoked = 1 WHERE code_sha256 = ?", (grant,))
        conn.execute("UPDATE oidc_refresh_tokens SET revoked = 1 WHERE grant_sha256 = ?", (grant,))

    def revoke(self, token: str, client_id: str) -> bool:
        """Revoke an access or refresh token of ``client_id`` (RFC 7009); a refresh token takes
        its whole grant with it. False when no such token of that client exists."""
        key = digest(token)
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT client_id, grant_sha256 FROM oidc_refresh_tokens WHERE token_sha256 = ?",
                (key,),
            ).fetchone()
            if row is not None:
                if row["client_id"] != client_id:
                    return False
                self._revoke_grant(conn, row["grant_sha256"])
                return True
            row = conn.execute(
                "SELECT client_id FROM oidc_tokens WHERE token_sha256 = ?", (key,)
            ).fetchone()
            if row is None or row["client_id"] != client_id:
                return False
            conn.execute("UPDATE oidc_tokens SET revoked = 1 WHERE token_sha256 = ?", (key,))
            return True

    def live_refresh(self, refresh_token: str) -> RefreshToken | None:
        """A refresh token that could still be used, without using it."""
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT * FROM oidc_refresh_tokens WHERE token_sha256 = ?",
                (digest(refresh_token),),
            ).fetchone()
        if row is None or row["revoked"] or row["used"] or self.clock.now() >= row["expires_at"]:
            return None
        return _refresh(row)

    def token(self, access_token: str) -> AccessToken | None:
        """A live access token, or None (unknown, expired or revoked)."""
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT * FROM oidc_tokens WHERE token_sha256 = ?", (digest(access_token),)
            ).fetchone()
        if row is None or row["revoked"] or self.clock.now() >= row["expires_at"]:
            return None
        return AccessToken(
            row["client_id"],
            row["scope"],
            Authentication.from_json(row["authentication"]),
            row["expires_at"],
            row["created_at"],
        )

    # -- login sessions (single sign-on) ------------------------------------------------------

    def start_session(self, browser: str, auth: Authentication, lifetime: float) -> Authentication:
        """The browser's new login session (replacing any before it); ``auth`` with its id."""
        now = self.clock.now()
        auth = replace(auth, session_id=secrets.token_urlsafe(16))
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO oidc_sessions"
                " (browser, sid, authentication, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                (browser, auth.session_id, auth.to_json(), now, now + lifetime),
            )
        return auth

    def session_of(self, browser: str) -> Authentication | None:
        """The login the browser's live session holds, or None."""
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT authentication, expires_at FROM oidc_sessions WHERE browser = ?",
                (browser,),
            ).fetchone()
        if row is None or self.clock.now() >= row["expires_at"]:
            return None
        return Authentication.from_json(row["authentication"])

    def end_session(self, *, browser: str | None = None, sid: str | None = None) -> bool:
        """End the browser's session, or the one named ``sid``. Whether one ended."""
        with self.store.transaction() as conn:
            ended = 0
            if browser is not None:
                ended += conn.execute(
                    "DELETE FROM oidc_sessions WHERE browser = ?", (browser,)
                ).rowcount
            if sid is not None:
                ended += conn.execute("DELETE FROM oidc_sessions WHERE sid = ?", (sid,)).rowcount
        return ended > 0

    def first_use_of_assertion(self, client_id: str, jti: str, expires_at: float) -> bool:
        """Whether a client assertion's ``jti`` is new (and remember it until it expires)."""
        now = self.clock.now()
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM oidc_assertion_ids WHERE expires_at < ?", (now,))
            try:
                conn.execute(
                    "INSERT INTO oidc_assertion_ids (client_id, jti, expires_at) VALUES (?, ?, ?)",
                    (client_id, jti, max(expires_at, now) + 120),
                )
            except sqlite3.IntegrityError:
                return False
        return True

    # -- pushed authorization requests (RFC 9126) ----------------------------------------------

    def push_request(self, client_id: str, params: list[tuple[str, str]], lifetime: float) -> str:
        """Keep an authorization request's parameters; the ``request_uri`` that names them."""
        request_uri = PAR_PREFIX + secrets.token_urlsafe(32)
        now = self.clock.now()
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO oidc_pushed_requests"
                " (request_uri_sha256, client_id, params, expires_at) VALUES (?, ?, ?, ?)",
                (digest(request_uri), client_id, json.dumps(params), now + lifetime),
            )
            if secrets.randbelow(50) == 0:
                conn.execute("DELETE FROM oidc_pushed_requests WHERE expires_at < ?", (now,))
        return request_uri

    def pushed_request(self, request_uri: str, client_id: str) -> list[tuple[str, str]] | None:
        """The pushed parameters, used up now; None when unknown, expired or another client's."""
        key = digest(request_uri)
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT * FROM oidc_pushed_requests WHERE request_uri_sha256 = ?", (key,)
            ).fetchone()
            if row is None or row["client_id"] != client_id:
                return None
            conn.execute("DELETE FROM oidc_pushed_requests WHERE request_uri_sha256 = ?", (key,))
        if self.clock.now() >= row["expires_at"]:
            return None
        return [(str(k), str(v)) for k, v in json.loads(row["params"])]

    def prune(self, older_than: float) -> None:
        """Forget codes and tokens that ended before ``older_than``."""
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM oidc_codes WHERE expires_at < ?", (older_than,))
            conn.execute("DELETE FROM oidc_tokens WHERE expires_at < ?", (older_than,))
            conn.execute("DELETE FROM oidc_refresh_tokens WHERE expires_at < ?", (older_than,))


def _refresh(row: Any) -> RefreshToken:
    return RefreshToken(
        row["client_id"],
        row["grant_sha256"],
        row["scope"],
        Authentication.from_json(row["authentication"]),
        row["created_at"],
        row["expires_at"],
    )


def as_mapping(auth: Authentication) -> Mapping[str, Any]:
    return asdict(auth)
