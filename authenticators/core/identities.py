"""Identities: the people who log in, their password and the authenticators they hold."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from authenticators import registry
from authenticators.clock import Clock
from authenticators.core.errors import CoreError, CoreErrorCode
from authenticators.core.passwords import check_password, hash_password, password_problem
from authenticators.store import Schema, Store

SCHEMA = Schema(
    "identities",
    [
        """
        CREATE TABLE identities (
            uuid TEXT PRIMARY KEY,
            user_id TEXT NOT NULL UNIQUE COLLATE NOCASE,
            name TEXT NOT NULL,
            birthdate TEXT,
            cpr TEXT,
            password TEXT,
            created_at REAL NOT NULL
        );
        CREATE TABLE identity_authenticators (
            identity_uuid TEXT NOT NULL REFERENCES identities(uuid) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            authenticator_id TEXT NOT NULL,
            added_at REAL NOT NULL,
            PRIMARY KEY (kind, authenticator_id)
        )
        """
    ],
)

_USER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{2,63}")
_CPR = re.compile(r"(\d{2})(\d{2})(\d{2})-?(\d{4})")


@dataclass(frozen=True)
class Identity:
    uuid: str
    user_id: str
    name: str
    birthdate: str | None
    cpr: str | None = field(repr=False)
    has_password: bool
    created_at: float
    authenticators: tuple[tuple[str, str], ...] = ()

    def to_dict(self, *, with_cpr: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "uuid": self.uuid,
            "user_id": self.user_id,
            "name": self.name,
            "birthdate": self.birthdate,
            "has_password": self.has_password,
            "authenticators": [{"kind": k, "id": i} for k, i in self.authenticators],
            "created_at": self.created_at,
        }
        if with_cpr:
            data["cpr"] = self.cpr
        return data


def _invalid(message: str) -> CoreError:
    return CoreError(CoreErrorCode.INVALID_IDENTITY, message)


def check_user_id(user_id: str) -> str:
    if not _USER_ID.fullmatch(user_id):
        raise _invalid(
            f"invalid user ID {user_id!r}: use 3-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return user_id


def parse_birthdate(text: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise _invalid(f"invalid birth date {text!r}: use YYYY-MM-DD") from None


def parse_cpr(text: str) -> tuple[str, str]:
    """A test CPR number (DDMMYY-SSSS) and the birth date it implies."""
    match = _CPR.fullmatch(text.strip())
    if not match:
        raise _invalid(f"invalid CPR number {text!r}: use DDMMYY-SSSS (ten digits)")
    day, month, year, serial = (int(g) for g in match.groups())
    # The 7th digit and the two-digit year give the century (CPR office rules).
    seventh = serial // 1000
    if seventh <= 3:
        century = 1900
    elif seventh in (4, 9):
        century = 2000 if year <= 36 else 1900
    else:
        century = 2000 if year <= 57 else 1800
    try:
        born = dt.date(century + year, month, day)
    except ValueError:
        raise _invalid(
            f"invalid CPR number {text!r}: {day:02d}{month:02d}{year:02d} is no date"
        ) from None
    return f"{match.group(1)}{match.group(2)}{match.group(3)}{match.group(4)}", born.isoformat()


class IdentityRepository:
    def __init__(self, store: Store, clock: Clock) -> None:
        store.ensure(SCHEMA)
        self.store = store
        self.clock = clock

    def create(
        self,
        user_id: str,
        name: str,
        *,
        birthdate: str | None = None,
        cpr: str | None = None,
        password: str | None = None,
        password_hash: str | None = None,
    ) -> Identity:
        """A new identity. ``password_hash`` is :meth:`hash_password` of the password made
        ahead of an enclosing transaction (the hash is slow: no writer should wait for it)."""
        check_user_id(user_id)
        name = name.strip()
        if not name or len(name) > 200:
            raise _invalid("a name is 1-200 characters")
        cpr_number, cpr_birthdate = parse_cpr(cpr) if cpr else (None, None)
        born = parse_birthdate(birthdate) if birthdate else cpr_birthdate
        if cpr_birthdate and born != cpr_birthdate:
            raise _invalid(f"birth date {born} does not match the CPR number ({cpr_birthdate})")
        if password is not None and password_hash is not None:
            raise _invalid("give the password or its hash, not both")
        encoded = self.hash_password(password) if password is not None else password_hash
        identity_uuid = str(uuidlib.uuid4())
        now = self.clock.now()
        with self.store.transaction() as conn:
            try:
                conn.execute(
                    "INSERT INTO identities (uuid, user_id, name, birthdate, cpr, password, "
                    "created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (identity_uuid, user_id, name, born, cpr_number, encoded, now),
                )
            except sqlite3.IntegrityError:
                raise CoreError(
                    CoreErrorCode.DUPLICATE_IDENTITY,
                    f"user ID {user_id!r} is taken; choose another --user-id",
                ) from None
        return self.get(user_id)

    @staticmethod
    def hash_password(password: str) -> str:
        """The stored form of a password, refused when it is too weak (slow by design)."""
        problem = password_problem(password)
        if problem:
            raise _invalid(problem)
        return hash_password(password)

    def get(self, user_id: str) -> Identity:
        with self.store.read() as conn:
            row = conn.execute("SELECT * FROM identities WHERE user_id = ?", (user_id,)).fetchone()
            if row is None:
                raise CoreError(
                    CoreErrorCode.UNKNOWN_IDENTITY,
                    f"no identity with user ID {user_id!r}; "
                    "list them with `mitid-emu identity list`",
                )
            return self._identity(conn, row)

    def by_uuid(self, identity_uuid: str) -> Identity:
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT * FROM identities WHERE uuid = ?", (identity_uuid,)
            ).fetchone()
            if row is None:
                raise CoreError(CoreErrorCode.UNKNOWN_IDENTITY, f"no identity {identity_uuid}")
            return self._identity(conn, row)

    def list(self) -> list[Identity]:
        with self.store.read() as conn:
            rows = conn.execute("SELECT * FROM identities ORDER BY user_id").fetchall()
            return [self._identity(conn, row) for row in rows]

    def delete(self, user_id: str) -> None:
        with self.store.transaction() as conn:
            identity = self.get(user_id)
            conn.execute("DELETE FROM identities WHERE uuid = ?", (identity.uuid,))

    def set_password(self, user_id: str, password: str) -> None:
        encoded = self.hash_password(password)
        with self.store.transaction() as conn:
            identity = self.get(user_id)
            conn.execute(
                "UPDATE identities SET password = ? WHERE uuid = ?", (encoded, identity.uuid)
            )

    def check_password(
        self,
        user_id: str,
        password: str,
        *,
        checker: Callable[[str, str], bool] | None = None,
    ) -> bool:
        """Whether ``password`` is the identity's; ``checker(encoded, password)`` does the
        hashing when given (default: scrypt here)."""
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT password FROM identities WHERE user_id = ?", (user_id,)
            ).fetchone()
        if row is None or row["password"] is None:
            return False
        return (checker or check_password)(row["password"], password)

    def add_authenticator(self, user_id: str, kind: str, authenticator_id: str) -> None:
        plugin = registry.get(kind)
        with self.store.transaction() as conn:
            identity = self.get(user_id)
            plugin.load(self.store, authenticator_id)  # raises when it does not exist
            try:
                conn.execute(
                    "INSERT INTO identity_authenticators (identity_uuid, kind, authenticator_id, "
                    "added_at)"
                    " VALUES (?, ?, ?, ?)",
                    (identity.uuid, kind, authenticator_id, self.clock.now()),
                )
            except sqlite3.IntegrityError:
                raise CoreError(
                    CoreErrorCode.ALREADY_LINKED,
                    f"{kind} {authenticator_id!r} already belongs to an identity",
                ) from None

    def remove_authenticator(self, user_id: str, kind: str, authenticator_id: str) -> None:
        with self.store.transaction() as conn:
            identity = self.get(user_id)
            cursor = conn.execute(
                "DELETE FROM identity_authenticators "
                "WHERE identity_uuid = ? AND kind = ? AND authenticator_id = ?",
                (identity.uuid, kind, authenticator_id),
            )
            if cursor.rowcount == 0:
                raise CoreError(
                    CoreErrorCode.NOT_LINKED, f"{user_id} has no {kind} {authenticator_id!r}"
                )

    def owner(self, kind: str, authenticator_id: str) -> str | None:
        """The user ID an authenticator belongs to, if any."""
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT i.user_id FROM identity_authenticators a "
                "JOIN identities i ON i.uuid = a.identity_uuid "
                "WHERE a.kind = ? AND a.authenticator_id = ?",
                (kind, authenticator_id),
            ).fetchone()
        return None if row is None else str(row["user_id"])

    @staticmethod
    def _identity(conn: sqlite3.Connection, row: sqlite3.Row) -> Identity:
        links = conn.execute(
            "SELECT kind, authenticator_id FROM identity_authenticators "
            "WHERE identity_uuid = ? ORDER BY added_at, kind, authenticator_id",
            (row["uuid"],),
        ).fetchall()
        return Identity(
            uuid=row["uuid"],
            user_id=row["user_id"],
            name=row["name"],
            birthdate=row["birthdate"],
            cpr=row["cpr"],
            has_password=row["password"] is not None,
            created_at=row["created_at"],
            authenticators=tuple((link["kind"], link["authenticator_id"]) for link in links),
        )
