"""Organisations (MitID Erhverv): companies by CVR number, and the identities that act for them.

A person logs in for a company with a business login: they authenticate as themselves, then pick
the company (when they may act for several). The membership carries the roles the company gave
them. This is identity data, so it lives in the core beside the identities it refers to.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from typing import Any

from authenticators.clock import Clock
from authenticators.core.errors import CoreError, CoreErrorCode
from authenticators.core.identities import SCHEMA as IDENTITIES_SCHEMA
from authenticators.core.identities import IdentityRepository
from authenticators.store import Schema, Store

SCHEMA = Schema(
    "organisations",
    [
        """
        CREATE TABLE organisations (
            cvr TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            created_at REAL NOT NULL
        );
        CREATE TABLE organisation_members (
            identity_uuid TEXT NOT NULL REFERENCES identities(uuid) ON DELETE CASCADE,
            cvr TEXT NOT NULL REFERENCES organisations(cvr) ON DELETE CASCADE,
            roles TEXT NOT NULL,
            added_at REAL NOT NULL,
            PRIMARY KEY (identity_uuid, cvr)
        );
        CREATE INDEX organisation_members_cvr ON organisation_members(cvr)
        """
    ],
)

_CVR = re.compile(r"[1-9]\d{7}")
_ROLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
MAX_ROLES = 32


@dataclass(frozen=True)
class Organisation:
    cvr: str
    name: str
    created_at: float

    def to_dict(self) -> dict[str, Any]:
        return {"cvr": self.cvr, "name": self.name, "created_at": self.created_at}


@dataclass(frozen=True)
class Membership:
    """One identity's right to act for one company, with the roles it holds there."""

    cvr: str
    org_name: str
    roles: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"cvr": self.cvr, "org_name": self.org_name, "roles": list(self.roles)}


def _invalid(message: str) -> CoreError:
    return CoreError(CoreErrorCode.INVALID_IDENTITY, message)


def check_cvr(cvr: str) -> str:
    """A CVR number: eight digits, the first not 0 (a ``DK`` prefix is accepted and dropped)."""
    text = cvr.strip()
    if text[:2].upper() == "DK":
        text = text[2:]
    if not _CVR.fullmatch(text):
        raise _invalid(f"invalid CVR number {cvr!r}: use eight digits, the first not 0")
    return text


def check_roles(roles: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    if len(roles) > MAX_ROLES:
        raise _invalid(f"at most {MAX_ROLES} roles per membership")
    for role in roles:
        if not isinstance(role, str) or not _ROLE.fullmatch(role):
            raise _invalid(f"invalid role {role!r}: use 1-64 letters, digits, '.', '_', ':' or '-'")
    return tuple(dict.fromkeys(roles))


class OrganisationRepository:
    def __init__(self, store: Store, clock: Clock) -> None:
        store.ensure(IDENTITIES_SCHEMA)
        store.ensure(SCHEMA)
        self.store = store
        self.clock = clock
        self.identities = IdentityRepository(store, clock)

    def create(self, cvr: str, name: str) -> Organisation:
        number = check_cvr(cvr)
        name = name.strip()
        if not name or len(name) > 200:
            raise _invalid("a company name is 1-200 characters")
        now = self.clock.now()
        with self.store.transaction() as conn:
            try:
                conn.execute(
                    "INSERT INTO organisations (cvr, name, created_at) VALUES (?, ?, ?)",
                    (number, name, now),
                )
            except sqlite3.IntegrityError:
                raise CoreError(
                    CoreErrorCode.DUPLICATE_ORGANISATION,
                    f"a company with CVR {number} exists already",
                ) from None
        return Organisation(number, name, now)

    def get(self, cvr: str) -> Organisation:
        number = check_cvr(cvr)
        with self.store.read() as conn:
            row = conn.execute("SELECT * FROM organisations WHERE cvr = ?", (number,)).fetchone()
        if row is None:
            raise CoreError(CoreErrorCode.UNKNOWN_ORGANISATION, f"no company with CVR {number}")
        return Organisation(row["cvr"], row["name"], row["created_at"])

    def delete(self, cvr: str) -> None:
        with self.store.transaction() as conn:
            org = self.get(cvr)
            conn.execute("DELETE FROM organisations WHERE cvr = ?", (org.cvr,))

    def add_member(self, user_id: str, cvr: str, roles: list[str] | tuple[str, ...] = ()) -> None:
        """Let ``user_id`` act for the company; adding again replaces the roles."""
        checked = check_roles(roles)
        with self.store.transaction() as conn:
            identity = self.identities.get(user_id)
            org = self.get(cvr)
            conn.execute(
                "INSERT INTO organisation_members (identity_uuid, cvr, roles, added_at)"
                " VALUES (?, ?, ?, ?) "
                "ON CONFLICT(identity_uuid, cvr) DO UPDATE SET roles = excluded.roles",
                (identity.uuid, org.cvr, json.dumps(list(checked)), self.clock.now()),
            )

    def remove_member(self, user_id: str, cvr: str) -> None:
        number = check_cvr(cvr)
        with self.store.transaction() as conn:
            identity = self.identities.get(user_id)
            cursor = conn.execute(
                "DELETE FROM organisation_members WHERE identity_uuid = ? AND cvr = ?",
                (identity.uuid, number),
            )
            if cursor.rowcount == 0:
                raise CoreError(CoreErrorCode.NOT_LINKED, f"{user_id} does not act for {number}")

    def memberships(self, identity_uuid: str) -> list[Membership]:
        """The companies an identity may act for, by CVR number."""
        with self.store.read() as conn:
            rows = conn.execute(
                "SELECT m.cvr, o.name, m.roles FROM organisation_members m "
                "JOIN organisations o ON o.cvr = m.cvr WHERE m.identity_uuid = ? ORDER BY m.cvr",
                (identity_uuid,),
            ).fetchall()
        return [Membership(r["cvr"], r["name"], tuple(json.loads(r["roles"]))) for r in rows]

    def list(self) -> list[Organisation]:
        with self.store.read() as conn:
            rows = conn.execute("SELECT * FROM organisations ORDER BY cvr").fetchall()
        return [Organisation(r["cvr"], r["name"], r["created_at"]) for r in rows]
