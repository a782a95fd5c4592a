"""App instances at rest, in two halves that share only the app id.

The verifier's half (``app_verifier``) holds the public key, the level the app was enrolled at,
its status and which transactions it has answered; :class:`VerifierRecord` is what of it goes into
an :class:`~authenticators.protocol.Enrollment`, written and read back only here. The phone's
half (``app_phone``) holds the private key and the PIN hash: nothing on the verifier side ever
reads it.
"""

from __future__ import annotations

import enum
import json
import re
import secrets
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from authenticators.app.channel import FrameCollector
from authenticators.app.pin import hash_pin, pin_problem
from authenticators.app.policy import AppPolicy
from authenticators.protocol import Enrollment, ErrorCode, Level, ProtocolError
from authenticators.store import Schema, Store

KIND = "app"
USED_KEPT = 64  # answered transaction ids the verifier remembers per app

SCHEMA = Schema(
    "app",
    [
        """
        CREATE TABLE app_verifier (
            app_id TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            public_key BLOB NOT NULL,
            level TEXT NOT NULL,
            biometrics INTEGER NOT NULL,
            status TEXT NOT NULL,
            used TEXT NOT NULL,
            created_at REAL NOT NULL,
            changed_at REAL NOT NULL
        );
        CREATE INDEX app_verifier_owner ON app_verifier(owner, status);
        CREATE TABLE app_phone (
            app_id TEXT PRIMARY KEY REFERENCES app_verifier(app_id) ON DELETE CASCADE,
            private_key BLOB NOT NULL,
            pin_hash TEXT NOT NULL,
            pin_failures INTEGER NOT NULL
        );
        CREATE TABLE app_phone_scans (
            app_id TEXT NOT NULL REFERENCES app_phone(app_id) ON DELETE CASCADE,
            transaction_id TEXT NOT NULL,
            frames TEXT NOT NULL,
            PRIMARY KEY (app_id, transaction_id)
        )
        """
    ],
)

ENROLL_LEVELS = (Level.SUBSTANTIAL, Level.HIGH)
_APP_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class AppStatus(enum.Enum):
    ACTIVE = "active"
    BLOCKED = "blocked"  # too many wrong PINs: must be activated again
    DEACTIVATED = "deactivated"


def _invalid(message: str) -> ProtocolError:
    return ProtocolError(ErrorCode.INVALID_ARGUMENT, message)


def check_app_id(app_id: str) -> str:
    if not _APP_ID.fullmatch(app_id):
        raise _invalid(f"invalid app id {app_id!r}: use 1-64 letters, digits, '.', '_' or '-'")
    return app_id


def new_app_id() -> str:
    return f"app-{secrets.token_hex(4)}"


def parse_level(text: str | Level) -> Level:
    """An enrollment level: substantial or high."""
    try:
        level = text if isinstance(text, Level) else Level(text.lower())
    except ValueError:
        level = None
    if level not in ENROLL_LEVELS:
        raise _invalid(f"an app is enrolled at substantial or high, not {text!r}")
    assert isinstance(level, Level)
    return level


@dataclass(frozen=True)
class VerifierRecord:
    """What the app verifier checks an answer against: key, level, status, answered logins."""

    public_key: bytes = field(repr=False)
    level: Level
    biometrics: bool
    status: AppStatus
    used: tuple[str, ...] = field(repr=False)
    owner: str

    def enrollment(self, kind: str, app_id: str) -> Enrollment:
        record = {
            "public_key": self.public_key,
            "level": self.level.value,
            "biometrics": self.biometrics,
            "status": self.status.value,
            "used": list(self.used),
            "owner": self.owner,
        }
        return Enrollment(kind, app_id, record)

    @classmethod
    def from_enrollment(cls, enrollment: Enrollment) -> VerifierRecord:
        """Raises ``KeyError``, ``TypeError`` or ``ValueError`` for a damaged record."""
        record = enrollment.record
        return cls(
            public_key=bytes(record["public_key"]),
            level=Level(record["level"]),
            biometrics=bool(record.get("biometrics", False)),
            status=AppStatus(record["status"]),
            used=tuple(str(tx) for tx in record.get("used", ())),
            owner=str(record.get("owner", "")),
        )


@dataclass(frozen=True)
class AppRecord:
    """The verifier's half of one app."""

    app_id: str
    owner: str
    public_key: bytes = field(repr=False)
    level: Level
    biometrics: bool
    status: AppStatus
    used: tuple[str, ...] = field(repr=False)
    created_at: float
    changed_at: float

    def enrollment(self) -> Enrollment:
        record = VerifierRecord(
            public_key=self.public_key,
            level=self.level,
            biometrics=self.biometrics,
            status=self.status,
            used=self.used,
            owner=self.owner,
        )
        return record.enrollment(KIND, self.app_id)

    def summary(self) -> dict[str, Any]:
        """Everything safe to show: no key material, no PIN."""
        return {
            "app_id": self.app_id,
            "level": self.level.value,
            "biometrics": self.biometrics,
            "status": self.status.value,
            "created_at": self.created_at,
            "changed_at": self.changed_at,
        }


@dataclass(frozen=True)
class PhoneSecrets:
    """The phone's half of one app: never shown, never logged."""

    app_id: str
    private_key: bytes = field(repr=False)
    pin_hash: str = field(repr=False)
    pin_failures: int = 0

    def signing_key(self) -> ec.EllipticCurvePrivateKey:
        key = serialization.load_der_private_key(self.private_key, password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key


def new_device_key() -> tuple[bytes, bytes]:
    """A fresh P-256 key pair: (private key PKCS#8 DER, public key SubjectPublicKeyInfo DER)."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


class AppRepository:
    """Both halves of every app in the store."""

    def __init__(self, store: Store, policy: AppPolicy | None = None) -> None:
        store.ensure(SCHEMA)
        self.store = store
        self.policy = policy or AppPolicy()

    # -- enrollment ------------------------------------------------------------------------------

    def enroll(
        self,
        owner: str,
        pin: str,
        now: float,
        *,
        level: Level | str = Level.SUBSTANTIAL,
        biometrics: bool = False,
        app_id: str | None = None,
        pin_hash: str | None = None,
    ) -> AppRecord:
        """A new app for ``owner``: refused when the owner already has the most active apps.

        ``pin_hash`` is :func:`hash_pin` of ``pin`` when the caller made it already, before a
        transaction of its own: the hash is slow, and no writer should wait for it.
        """
        if not owner:
            raise _invalid("an app needs an owner")
        problem = pin_problem(pin)
        if problem:
            raise _invalid(problem)
        enrolled_at = parse_level(level)
        app_id = check_app_id(app_id) if app_id else new_app_id()
        if pin_hash is None:
            pin_hash = hash_pin(pin)  # slow: before the write lock
        private, public = new_device_key()
        with self.store.transaction() as conn:
            self._insert_verifier(conn, app_id, owner, public, enrolled_at, biometrics, now)
            conn.execute(
                "INSERT INTO app_phone (app_id, private_key, pin_hash, pin_failures)"
                " VALUES (?, ?, ?, 0)",
                (app_id, private, pin_hash),
            )
        return self.get(app_id)

    def register(
        self,
        owner: str,
        public_key: bytes,
        now: float,
        *,
        level: Level | str = Level.SUBSTANTIAL,
        biometrics: bool = False,
        app_id: str | None = None,
    ) -> AppRecord:
        """The verifier's half only, for a phone that keeps its key and PIN itself (an app
        enrolled in another state, which answers through a login server's HTTP API)."""
        if not owner:
            raise _invalid("an app needs an owner")
        enrolled_at = parse_level(level)
        app_id = check_app_id(app_id) if app_id else new_app_id()
        try:
            key = serialization.load_der_public_key(public_key)
        except (ValueError, TypeError):
            key = None
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(
            key.curve, ec.SECP256R1
        ):
            raise _invalid("public_key must be a P-256 SubjectPublicKeyInfo (DER)")
        with self.store.transaction() as conn:
            self._insert_verifier(conn, app_id, owner, public_key, enrolled_at, biometrics, now)
        return self.get(app_id)

    def _insert_verifier(
        self,
        conn: sqlite3.Connection,
        app_id: str,
        owner: str,
        public: bytes,
        level: Level,
        biometrics: bool,
        now: float,
    ) -> None:
        self._check_room(conn, owner)
        try:
            conn.execute(
                "INSERT INTO app_verifier (app_id, owner, public_key, level, biometrics, status, "
                "used, created_at, changed_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    app_id,
                    owner,
                    public,
                    level.value,
                    int(biometrics),
                    AppStatus.ACTIVE.value,
                    "[]",
                    now,
                    now,
                ),
            )
        except sqlite3.IntegrityError:
            raise ProtocolError(
                ErrorCode.CONFLICT, f"an app with id {app_id!r} exists already"
            ) from None

    def _check_room(self, conn: sqlite3.Connection, owner: str) -> None:
        row = conn.execute(
            "SELECT COUNT(*) FROM app_verifier WHERE owner = ? AND status != ?",
            (owner, AppStatus.DEACTIVATED.value),
        ).fetchone()
        limit = self.policy.max_active_apps
        if row[0] >= limit:
            raise ProtocolError(
                ErrorCode.CONFLICT,
                f"this identity has {limit} active apps already, the most it may have; "
                "deactivate one first with `mitid-emu app remove APP_ID`",
            )

    # -- reading ---------------------------------------------------------------------------------

    def get(self, app_id: str) -> AppRecord:
        with self.store.read() as conn:
            row = conn.execute("SELECT * FROM app_verifier WHERE app_id = ?", (app_id,)).fetchone()
        if row is None:
            raise ProtocolError(
                ErrorCode.UNKNOWN_AUTHENTICATOR,
                f"no app with id {app_id!r}; list them with `mitid-emu app list`",
            )
        return _record(row)

    def find(self, app_ids: Sequence[str]) -> list[AppRecord]:
        """The apps among ``app_ids`` that exist, in the order given."""
        if not app_ids:
            return []
        marks = ", ".join("?" for _ in app_ids)
        with self.store.read() as conn:
            rows = conn.execute(
                f"SELECT * FROM app_verifier WHERE app_id IN ({marks})",  # noqa: S608 - only marks
                tuple(app_ids),
            ).fetchall()
        found = {row["app_id"]: _record(row) for row in rows}
        return [found[app_id] for app_id in app_ids if app_id in found]

    def list(self, owner: str | None = None) -> list[AppRecord]:
        with self.store.read() as conn:
            if owner is None:
                rows = conn.execute("SELECT * FROM app_verifier ORDER BY created_at, app_id")
            else:
                rows = conn.execute(
                    "SELECT * FROM app_verifier WHERE owner = ? ORDER BY created_at, app_id",
                    (owner,),
                )
            return [_record(row) for row in rows.fetchall()]

    def phone(self, app_id: str) -> PhoneSecrets:
        """The phone's half, for the phone only."""
        self.get(app_id)
        with self.store.read() as conn:
            row = conn.execute("SELECT * FROM app_phone WHERE app_id = ?", (app_id,)).fetchone()
        if row is None:
            raise ProtocolError(
                ErrorCode.UNKNOWN_AUTHENTICATOR, f"app {app_id!r} has no phone in this state"
            )
        return PhoneSecrets(
            app_id, bytes(row["private_key"]), str(row["pin_hash"]), int(row["pin_failures"])
        )

    # -- changes ---------------------------------------------------------------------------------

    def deactivate(self, app_id: str, now: float) -> AppRecord:
        with self.store.transaction():
            record = self.get(app_id)
            if record.status is AppStatus.DEACTIVATED:
                raise ProtocolError(ErrorCode.CONFLICT, f"app {app_id!r} is deactivated already")
            self._set_status(app_id, AppStatus.DEACTIVATED, now)
        return self.get(app_id)

    def activate(self, app_id: str, now: float, *, pin: str | None = None) -> AppRecord:
        """Unblock a blocked app, or bring back a deactivated one (room permitting)."""
        if pin is not None:
            problem = pin_problem(pin)
            if problem:
                raise _invalid(problem)
        pin_hash = hash_pin(pin) if pin is not None else None
        with self.store.transaction() as conn:
            record = self.get(app_id)
            if record.status is AppStatus.ACTIVE and pin_hash is None:
                raise ProtocolError(ErrorCode.CONFLICT, f"app {app_id!r} is active already")
            if record.status is AppStatus.DEACTIVATED:
                self._check_room(conn, record.owner)
            self._set_status(app_id, AppStatus.ACTIVE, now)
            conn.execute("UPDATE app_phone SET pin_failures = 0 WHERE app_id = ?", (app_id,))
            if pin_hash is not None:
                conn.execute(
                    "UPDATE app_phone SET pin_hash = ? WHERE app_id = ?", (pin_hash, app_id)
                )
        return self.get(app_id)

    def pin_failed(self, app_id: str, now: float) -> tuple[int, bool]:
        """Count a wrong PIN; block the app at the limit. Returns (failures, blocked)."""
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE app_phone SET pin_failures = pin_failures + 1 WHERE app_id = ?", (app_id,)
            )
            failures = int(
                conn.execute(
                    "SELECT pin_failures FROM app_phone WHERE app_id = ?", (app_id,)
                ).fetchone()[0]
            )
            blocked = failures >= self.policy.max_pin_failures
            if blocked:
                self._set_status(app_id, AppStatus.BLOCKED, now)
        return failures, blocked

    def pin_ok(self, app_id: str) -> None:
        with self.store.transaction() as conn:
            conn.execute("UPDATE app_phone SET pin_failures = 0 WHERE app_id = ?", (app_id,))

    def scanned(self, app_id: str, transaction_id: str) -> FrameCollector:
        """The QR frames the phone has read for one login (the phone's own memory)."""
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT frames FROM app_phone_scans WHERE app_id = ? AND transaction_id = ?",
                (app_id, transaction_id),
            ).fetchone()
        return FrameCollector.from_dict(json.loads(row["frames"]) if row else None)

    def save_scanned(self, app_id: str, transaction_id: str, frames: FrameCollector) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO app_phone_scans (app_id, transaction_id, frames)"
                " VALUES (?, ?, ?) ON CONFLICT(app_id, transaction_id)"
                " DO UPDATE SET frames = excluded.frames",
                (app_id, transaction_id, json.dumps(frames.to_dict())),
            )

    def save_used(self, app_id: str, used: Sequence[str]) -> None:
        kept = list(used)[-USED_KEPT:]
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE app_verifier SET used = ? WHERE app_id = ?", (json.dumps(kept), app_id)
            )

    def _set_status(self, app_id: str, status: AppStatus, now: float) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE app_verifier SET status = ?, changed_at = ? WHERE app_id = ?",
                (status.value, now, app_id),
            )


def _record(row: sqlite3.Row) -> AppRecord:
    return AppRecord(
        app_id=row["app_id"],
        owner=row["owner"],
        public_key=bytes(row["public_key"]),
        level=Level(row["level"]),
        biometrics=bool(row["biometrics"]),
        status=AppStatus(row["status"]),
        used=tuple(json.loads(row["used"])),
        created_at=row["created_at"],
        changed_at=row["changed_at"],
    )
