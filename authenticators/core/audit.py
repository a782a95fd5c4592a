"""The audit log: every attempt, who and how and why, never a code, proof, PIN or password."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authenticators.store import Schema, Store

SCHEMA = Schema(
    "audit",
    [
        """
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at REAL NOT NULL,
            event TEXT NOT NULL,
            user_id TEXT,
            kind TEXT,
            authenticator_id TEXT,
            transaction_id TEXT,
            reason TEXT,
            level TEXT,
            detail TEXT NOT NULL DEFAULT ''
        )
        """
    ],
)


@dataclass(frozen=True)
class AuditEvent:
    at: float
    event: str
    user_id: str | None = None
    kind: str | None = None
    authenticator_id: str | None = None
    transaction_id: str | None = None
    reason: str | None = None
    level: str | None = None
    detail: str = ""


class AuditLog:
    def __init__(self, store: Store) -> None:
        store.ensure(SCHEMA)
        self.store = store

    def record(self, event: AuditEvent) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO audit (at, event, user_id, kind, authenticator_id, transaction_id,"
                " reason, level, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    event.at,
                    event.event,
                    event.user_id,
                    event.kind,
                    event.authenticator_id,
                    event.transaction_id,
                    event.reason,
                    event.level,
                    event.detail,
                ),
            )

    def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        with self.store.read() as conn:
            rows = conn.execute("SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [dict(row) for row in reversed(rows)]
