"""Between the verifier side and the phone: app logins, their pushes, the screen and the answers.

Everything passes through the state, so ``mitid-emu login`` in one terminal and the app in
another just work. The phone talks to it only through :class:`AppExchange` — the calls a login
server would serve to real phones over HTTP; :class:`StateExchange` is the embedded one.

An app login is ``pending`` until a phone answers (``answered``), then ``taken`` by the login
side that waits for it, or ``closed`` once judged. Only one app login per identity may be
pending or answered at a time; a second is refused as a parallel session.
"""

from __future__ import annotations

import enum
import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Protocol

from authenticators.app.answer import Answer
from authenticators.app.channel import Frame, binding_code, frames_for
from authenticators.app.errors import AppRefusal
from authenticators.protocol import Challenge, ErrorCode, ProtocolError, Reason
from authenticators.store import Schema, Store

SCHEMA = Schema(
    "app_inbox",
    [
        """
        CREATE TABLE app_logins (
            transaction_id TEXT PRIMARY KEY,
            identity_uuid TEXT NOT NULL,
            challenge TEXT NOT NULL,
            binding INTEGER NOT NULL,
            pin_required INTEGER NOT NULL,
            status TEXT NOT NULL,
            shown INTEGER NOT NULL,
            screen TEXT NOT NULL,
            scanned_update INTEGER,
            scanned_at REAL,
            answer TEXT,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            finished_at REAL
        );
        CREATE INDEX app_logins_identity ON app_logins(identity_uuid, status);
        CREATE TABLE app_pushes (
            transaction_id TEXT NOT NULL
                REFERENCES app_logins(transaction_id) ON DELETE CASCADE,
            app_id TEXT NOT NULL,
            pushed_at REAL NOT NULL,
            PRIMARY KEY (transaction_id, app_id)
        );
        CREATE INDEX app_pushes_app ON app_pushes(app_id)
        """
    ],
)


class SessionStatus(enum.Enum):
    PENDING = "pending"
    ANSWERED = "answered"
    TAKEN = "taken"
    CLOSED = "closed"


_OPEN = (SessionStatus.PENDING.value, SessionStatus.ANSWERED.value)


@dataclass(frozen=True)
class ScreenUpdate:
    """One binding value as the login screen shows it, from ``shown_at`` until the next one."""

    update: int
    value: bytes = field(repr=False)
    shown_at: float

    @property
    def code(self) -> str:
        return binding_code(self.value)

    def frames(self) -> tuple[Frame, Frame]:
        return frames_for(self.value, self.update)

    def to_dict(self) -> dict[str, Any]:
        return {"uc": self.update, "value": self.value.hex(), "at": self.shown_at}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScreenUpdate:
        return cls(int(data["uc"]), bytes.fromhex(data["value"]), float(data["at"]))


@dataclass(frozen=True)
class ScreenState:
    """What the login screen shows: the binding updates so far and where their PNGs are."""

    updates: tuple[ScreenUpdate, ...] = ()
    png: tuple[str, ...] = ()
    scanned: int | None = None
    scanned_at: float | None = None

    @property
    def current(self) -> ScreenUpdate | None:
        return self.updates[-1] if self.updates else None

    def to_dict(self) -> dict[str, Any]:
        return {"updates": [u.to_dict() for u in self.updates], "png": list(self.png)}

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> ScreenState:
        data = json.loads(row["screen"])
        updates = tuple(ScreenUpdate.from_dict(u) for u in data.get("updates", ()))
        png = tuple(str(p) for p in data.get("png", ()))
        return cls(updates, png, row["scanned_update"], row["scanned_at"])


@dataclass(frozen=True)
class AppSession:
    """One app login as the state holds it."""

    transaction_id: str
    identity_uuid: str
    challenge: Challenge
    binding_required: bool
    pin_required: bool
    status: SessionStatus
    shown: bool
    screen: ScreenState
    answer: Answer | None
    apps: tuple[str, ...]
    created_at: float
    expires_at: float

    def expired(self, now: float) -> bool:
        return now >= self.expires_at


@dataclass(frozen=True)
class PushRequest:
    """A push as one phone receives it: what to show and what the login needs from the user."""

    app_id: str
    challenge: Challenge
    binding_required: bool
    pin_required: bool
    shown: bool
    status: SessionStatus
    expires_at: float

    @property
    def transaction_id(self) -> str:
        return self.challenge.transaction_id

    def to_dict(self, now: float) -> dict[str, Any]:
        ref = self.challenge.reference_text
        return {
            "app_id": self.app_id,
            "transaction_id": self.transaction_id,
            "service_provider": self.challenge.service_provider,
            "header": ref.header.value,
            "body": ref.body,
            "binding_required": self.binding_required,
            "pin_required": self.pin_required,
            "status": self.status.value,
            "expires_in": max(0.0, round(self.expires_at - now, 1)),
        }

    def to_wire(self) -> dict[str, Any]:
        """Everything a phone needs, for an exchange over HTTP (the challenge is public)."""
        return {
            "app_id": self.app_id,
            "challenge": self.challenge.to_dict(),
            "binding_required": self.binding_required,
            "pin_required": self.pin_required,
            "shown": self.shown,
            "status": self.status.value,
            "expires_at": self.expires_at,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> PushRequest:
        """Read :meth:`to_wire` back (raises KeyError/TypeError/ValueError on anything else)."""
        return cls(
            app_id=str(data["app_id"]),
            challenge=Challenge.from_dict(dict(data["challenge"])),
            binding_required=bool(data["binding_required"]),
            pin_required=bool(data["pin_required"]),
            shown=bool(data["shown"]),
            status=SessionStatus(data["status"]),
            expires_at=float(data["expires_at"]),
        )


class AppExchange(Protocol):
    """What a phone asks of the login server: its pushes, 'I scanned', and its answer."""

    def inbox(self, app_id: str, now: float) -> list[PushRequest]: ...

    def request(self, transaction_id: str, app_id: str, now: float) -> PushRequest: ...

    def report_scan(self, transaction_id: str, app_id: str, update: int, now: float) -> None: ...

    def submit(self, answer: Answer, now: float) -> None: ...


class StateExchange:
    """The embedded exchange: app logins in the state, shared by every process using it."""

    def __init__(self, store: Store) -> None:
        store.ensure(SCHEMA)
        self.store = store

    def __repr__(self) -> str:
        return f"StateExchange({self.store!r})"

    # -- the verifier side -----------------------------------------------------------------------

    def push(
        self,
        challenge: Challenge,
        identity_uuid: str,
        app_ids: list[str],
        now: float,
        *,
        binding_required: bool,
        pin_required: bool,
    ) -> None:
        """Open an app login and push it to ``app_ids``; refuse a parallel one."""
        with self.store.transaction() as conn:
            row = conn.execute(
                "SELECT expires_at FROM app_logins WHERE identity_uuid = ? AND status IN (?, ?)"
                " AND expires_at > ? ORDER BY expires_at DESC LIMIT 1",
                (identity_uuid, *_OPEN, now),
            ).fetchone()
            if row is not None:
                raise ProtocolError(
                    ErrorCode.PARALLEL_SESSION,
                    "another app login for this user is waiting for an answer "
                    f"(it expires in {row['expires_at'] - now:.0f} s); one at a time",
                )
            try:
                conn.execute(
                    "INSERT INTO app_logins (transaction_id, identity_uuid, challenge, binding, "
                    "pin_required, status, shown, screen, scanned_update, scanned_at, answer, "
                    "created_at, expires_at, finished_at)"
                    " VALUES"
                    " (?, ?, ?, ?, ?, ?, 0, ?, NULL, NULL, NULL, ?, ?, NULL)",
                    (
                        challenge.transaction_id,
                        identity_uuid,
                        json.dumps(challenge.to_dict()),
                        int(binding_required),
                        int(pin_required),
                        SessionStatus.PENDING.value,
                        json.dumps(ScreenState().to_dict()),
                        challenge.issued_at,
                        challenge.expires_at,
                    ),
                )
            except sqlite3.IntegrityError:
                raise ProtocolError(
                    ErrorCode.CONFLICT, f"login {challenge.transaction_id} was pushed already"
                ) from None
            conn.executemany(
                "INSERT INTO app_pushes (transaction_id, app_id, pushed_at) VALUES (?, ?, ?)",
                [(challenge.transaction_id, app_id, now) for app_id in app_ids],
            )

    def show(
        self, transaction_id: str, screen: ScreenState, *, pin_required: bool | None = None
    ) -> None:
        """The login screen shows (or updates) its frames; phones may answer from now on."""
        with self.store.transaction() as conn:
            self._changing(transaction_id)
            self._row(conn, transaction_id)
            conn.execute(
                "UPDATE app_logins SET shown = 1, screen = ? WHERE transaction_id = ?",
                (json.dumps(screen.to_dict()), transaction_id),
            )
            if pin_required is not None:
                conn.execute(
                    "UPDATE app_logins SET pin_required = ? WHERE transaction_id = ?",
                    (int(pin_required), transaction_id),
                )

    def session(self, transaction_id: str) -> AppSession:
        memo = self.store.memo()
        key = (_MEMO, transaction_id)
        if memo is not None and key in memo:
            found: AppSession = memo[key]
            return found
        with self.store.read() as conn:
            row = self._row(conn, transaction_id)
            apps = conn.execute(
                "SELECT app_id FROM app_pushes WHERE transaction_id = ? ORDER BY app_id",
                (transaction_id,),
            ).fetchall()
        session = _session(row, tuple(a["app_id"] for a in apps))
        if memo is not None:
            memo[key] = session
        return session

    def open_logins(self, now: float, identity_uuid: str | None = None) -> list[tuple[str, str]]:
        """``(transaction_id, identity_uuid)`` of the logins still open (pending, or answered
        and not yet taken) that have not expired, oldest first; one person's when named."""
        open_now = (SessionStatus.PENDING.value, SessionStatus.ANSWERED.value, now)
        with self.store.read() as conn:
            if identity_uuid is None:
                rows = conn.execute(
                    "SELECT transaction_id, identity_uuid FROM app_logins"
                    " WHERE status IN (?, ?) AND expires_at > ? ORDER BY created_at",
                    open_now,
                ).fetchall()
            else:
                rows = conn.execute(
                    "SELECT transaction_id, identity_uuid FROM app_logins"
                    " WHERE status IN (?, ?) AND expires_at > ? AND identity_uuid = ?"
                    " ORDER BY created_at",
                    (*open_now, identity_uuid),
                ).fetchall()
        return [(row["transaction_id"], row["identity_uuid"]) for row in rows]

    def _changing(self, transaction_id: str) -> None:
        """Forget the session read in this transaction: it is about to change."""
        memo = self.store.memo()
        if memo is not None:
            memo.pop((_MEMO, transaction_id), None)

    def take_answer(self, transaction_id: str, now: float) -> Answer | None:
        """The phone's answer, once: the login side that waits takes it and ends the session."""
        with self.store.transaction() as conn:
            self._changing(transaction_id)
            row = self._row(conn, transaction_id)
            if row["status"] != SessionStatus.ANSWERED.value:
                return None
            conn.execute(
                "UPDATE app_logins SET status = ?, finished_at = ? WHERE transaction_id = ?",
                (SessionStatus.TAKEN.value, now, transaction_id),
            )
            return Answer.from_dict(json.loads(row["answer"]))

    def close(self, transaction_id: str, now: float) -> None:
        """The login is over (judged, timed out or abandoned): no phone may answer it now."""
        with self.store.transaction() as conn:
            self._changing(transaction_id)
            conn.execute(
                "UPDATE app_logins SET status = ?, finished_at = COALESCE(finished_at, ?)"
                " WHERE transaction_id = ?",
                (SessionStatus.CLOSED.value, now, transaction_id),
            )

    # -- the phone side (AppExchange) ------------------------------------------------------------

    def inbox(self, app_id: str, now: float) -> list[PushRequest]:
        """The pushes an app has not answered yet, oldest first."""
        with self.store.read() as conn:
            rows = conn.execute(
                "SELECT l.* FROM app_logins l JOIN app_pushes p"
                " ON p.transaction_id = l.transaction_id"
                " WHERE p.app_id = ? AND l.status = ? AND l.expires_at > ?"
                " ORDER BY l.created_at, l.transaction_id",
                (app_id, SessionStatus.PENDING.value, now),
            ).fetchall()
        return [_request(row, app_id) for row in rows]

    def request(self, transaction_id: str, app_id: str, now: float) -> PushRequest:
        """One push to one app, refused when it is no longer open."""
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT l.* FROM app_logins l JOIN app_pushes p"
                " ON p.transaction_id = l.transaction_id"
                " WHERE l.transaction_id = ? AND p.app_id = ?",
                (transaction_id, app_id),
            ).fetchone()
        if row is None:
            raise ProtocolError(
                ErrorCode.INVALID_ARGUMENT,
                f"app {app_id!r} has no request {transaction_id!r}; see `mitid-emu app inbox`",
            )
        request = _request(row, app_id)
        _check_open(request.status, request.expires_at, now)
        return request

    def report_scan(self, transaction_id: str, app_id: str, update: int, now: float) -> None:
        """A phone has read both frames of ``update``: the screen may hold it."""
        with self.store.transaction() as conn:
            self._changing(transaction_id)
            row = self._row(conn, transaction_id)
            self._check_pushed(conn, transaction_id, app_id)
            if row["status"] == SessionStatus.PENDING.value:
                conn.execute(
                    "UPDATE app_logins SET scanned_update = ?, scanned_at = ?"
                    " WHERE transaction_id = ?",
                    (update, now, transaction_id),
                )

    def submit(self, answer: Answer, now: float) -> None:
        """Hand in a signed answer; the first one counts, any later one is refused."""
        with self.store.transaction() as conn:
            self._changing(answer.transaction_id)
            row = self._row(conn, answer.transaction_id)
            self._check_pushed(conn, answer.transaction_id, answer.app_id)
            _check_open(SessionStatus(row["status"]), row["expires_at"], now)
            _check_answer(self.store, row, answer, now)
            conn.execute(
                "UPDATE app_logins SET status = ?, answer = ? WHERE transaction_id = ?",
                (SessionStatus.ANSWERED.value, json.dumps(answer.to_dict()), answer.transaction_id),
            )
            self._changing(answer.transaction_id)  # the judge read the session before the answer

    # -- helpers ---------------------------------------------------------------------------------

    @staticmethod
    def _check_pushed(conn: sqlite3.Connection, transaction_id: str, app_id: str) -> None:
        pushed = conn.execute(
            "SELECT 1 FROM app_pushes WHERE transaction_id = ? AND app_id = ?",
            (transaction_id, app_id),
        ).fetchone()
        if pushed is None:
            raise ProtocolError(
                ErrorCode.INVALID_ARGUMENT,
                f"login {transaction_id} was not pushed to app {app_id!r}",
            )

    @staticmethod
    def _row(conn: sqlite3.Connection, transaction_id: str) -> sqlite3.Row:
        row: sqlite3.Row | None = conn.execute(
            "SELECT * FROM app_logins WHERE transaction_id = ?", (transaction_id,)
        ).fetchone()
        if row is None:
            raise ProtocolError(
                ErrorCode.INVALID_ARGUMENT, f"no app login {transaction_id!r} in this state"
            )
        return row


#: The key under which a session read in a transaction is kept (:meth:`Store.memo`).
_MEMO = "app.session"


def _check_open(status: SessionStatus, expires_at: float, now: float) -> None:
    if status is not SessionStatus.PENDING:
        raise AppRefusal(Reason.REPLAYED, "this request has been answered already")
    if now >= expires_at:
        raise AppRefusal(Reason.EXPIRED, "this request has expired")


def _check_answer(store: Store, row: sqlite3.Row, answer: Answer, now: float) -> None:
    """Refuse, keeping the login open, an answer its verifier would refuse: the reason, at once."""
    from authenticators.app.screen import judge_answer

    challenge = Challenge.from_dict(json.loads(row["challenge"]))
    verdict = judge_answer(store, challenge, answer, now)
    if verdict.reason not in (Reason.OK, Reason.REJECTED_BY_USER):
        raise AppRefusal(verdict.reason, verdict.detail or verdict.reason.value)


def _request(row: sqlite3.Row, app_id: str) -> PushRequest:
    return PushRequest(
        app_id=app_id,
        challenge=Challenge.from_dict(json.loads(row["challenge"])),
        binding_required=bool(row["binding"]),
        pin_required=bool(row["pin_required"]),
        shown=bool(row["shown"]),
        status=SessionStatus(row["status"]),
        expires_at=float(row["expires_at"]),
    )


def _session(row: sqlite3.Row, apps: tuple[str, ...]) -> AppSession:
    answer = row["answer"]
    return AppSession(
        transaction_id=row["transaction_id"],
        identity_uuid=row["identity_uuid"],
        challenge=Challenge.from_dict(json.loads(row["challenge"])),
        binding_required=bool(row["binding"]),
        pin_required=bool(row["pin_required"]),
        status=SessionStatus(row["status"]),
        shown=bool(row["shown"]),
        screen=ScreenState.from_row(row),
        answer=Answer.from_dict(json.loads(answer)) if answer else None,
        apps=apps,
        created_at=float(row["created_at"]),
        expires_at=float(row["expires_at"]),
    )
