"""Browser login flows: one per authorization request, kept server-side in the state.

The flow id travels in the page URLs; a browser cookie binds the flow to the browser that
started it, and every form carries the flow's CSRF token. Both are compared in constant time.
Every worker process reads the same rows, so a browser may land on any of them.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from authenticators.clock import Clock
from authenticators.ct import bytes_eq
from authenticators.store import Schema, Store

SCHEMA = Schema(
    "login_flows",
    [
        """
        CREATE TABLE login_flows (
            id TEXT PRIMARY KEY,
            data TEXT NOT NULL,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL
        );
        CREATE INDEX login_flows_expiry ON login_flows(expires_at)
        """
    ],
)

# The stages of a flow, in order.
USER_ID = "user_id"
METHOD = "method"
STEP = "step"
ORGANISATION = "organisation"
FAILED = "failed"
DONE = "done"

# The finisher of a flow started by an OIDC authorization request.
OIDC = "oidc"


def browser_digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class Flow:
    """Where one browser is in one login, and what the service asked for."""

    id: str
    csrf: str = field(repr=False)
    browser: str = field(repr=False)
    params: list[tuple[str, str]]
    client_id: str
    client_name: str
    redirect_uri: str
    level: str
    business: bool
    reference_text: str
    lang: str
    hint_uuid: str | None = None
    hint_cvr: str | None = None
    # Who answers the service when the login ends (a name in ``Services.finishers``): the
    # OIDC redirect with a code by default; another protocol (SAML) registers its own.
    finisher: str = OIDC
    stage: str = USER_ID
    user_id: str | None = None
    kind: str | None = None
    authenticator_id: str | None = None
    transaction_id: str | None = None
    attempts: int = 0
    notice: str | None = None
    failure: str | None = None
    failure_detail: str = ""
    authentication: str | None = None
    step_data: dict[str, Any] = field(default_factory=dict)
    # The reference text's header (protocol.Action), and for a broker dialect's issuer its mount
    # name and what it asked for beyond the generic login (server/brokers).
    action: str = "LOG_ON"
    broker: str | None = None
    broker_data: dict[str, Any] = field(default_factory=dict)

    def check_csrf(self, given: str | None) -> bool:
        if not isinstance(given, str):
            return False
        return bytes_eq(given.encode("utf-8", "surrogatepass"), self.csrf.encode("ascii"))

    def check_browser(self, cookie: str | None) -> bool:
        if not isinstance(cookie, str):
            return False
        return bytes_eq(browser_digest(cookie).encode("ascii"), self.browser.encode("ascii"))

    def to_json(self) -> str:
        # The fields in order, as asdict gives them, without its deep copy (JSON copies).
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, text: str) -> Flow:
        data = json.loads(text)
        data["params"] = [tuple(p) for p in data["params"]]
        return cls(**data)


class FlowStore:
    def __init__(self, store: Store, clock: Clock, lifetime: float) -> None:
        store.ensure(SCHEMA)
        self.store = store
        self.clock = clock
        self.lifetime = lifetime

    def create(self, **values: Any) -> Flow:
        flow = Flow(id=secrets.token_urlsafe(18), csrf=secrets.token_urlsafe(18), **values)
        now = self.clock.now()
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO login_flows (id, data, created_at, expires_at) VALUES (?, ?, ?, ?)",
                (flow.id, flow.to_json(), now, now + self.lifetime),
            )
            if secrets.randbelow(50) == 0:
                conn.execute("DELETE FROM login_flows WHERE expires_at < ?", (now,))
        return flow

    def get(self, flow_id: str) -> Flow | None:
        if len(flow_id) > 64:
            return None
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT data, expires_at FROM login_flows WHERE id = ?", (flow_id,)
            ).fetchone()
        if row is None or self.clock.now() >= row["expires_at"]:
            return None
        return Flow.from_json(row["data"])

    def with_transaction(self, transaction_id: str) -> Flow | None:
        """The live flow whose step waits for ``transaction_id`` (a scan: for the rare case)."""
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT data FROM login_flows"
                " WHERE json_extract(data, '$.transaction_id') = ? AND expires_at > ?",
                (transaction_id, self.clock.now()),
            ).fetchone()
        return None if row is None else Flow.from_json(row["data"])

    def save(self, flow: Flow) -> None:
        with self.store.transaction() as conn:
            conn.execute("UPDATE login_flows SET data = ? WHERE id = ?", (flow.to_json(), flow.id))

    def delete(self, flow_id: str) -> None:
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM login_flows WHERE id = ?", (flow_id,))
