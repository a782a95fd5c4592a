"""Login transactions: issue a challenge for one identity and one method, then judge the answer.

The judging happens inside one store transaction: the transaction is consumed, the authenticator's
new state saved and the attempt audited together, so a response counts at most once even when two
processes race with it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from authenticators import registry
from authenticators.clock import Clock
from authenticators.core.audit import AuditEvent, AuditLog
from authenticators.core.errors import CoreError, CoreErrorCode
from authenticators.core.identities import Identity, IdentityRepository
from authenticators.protocol import (
    Challenge,
    Enrollment,
    Level,
    ProtocolError,
    PushPlugin,
    Reason,
    ReferenceText,
    Response,
    Verdict,
)
from authenticators.store import Schema, Store

SCHEMA = Schema(
    "login_transactions",
    [
        """
        CREATE TABLE login_transactions (
            id TEXT PRIMARY KEY,
            identity_uuid TEXT NOT NULL,
            kind TEXT NOT NULL,
            authenticator_id TEXT NOT NULL,
            eligible TEXT NOT NULL,
            challenge TEXT NOT NULL,
            requested_level TEXT NOT NULL,
            status TEXT NOT NULL,
            reason TEXT,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            finished_at REAL
        );
        CREATE INDEX login_transactions_pending ON login_transactions(identity_uuid, status)
        """
    ],
)

PENDING = "pending"
DEFAULT_LIFETIME = 180.0
PASSWORD_AMR = "pwd"  # noqa: S105 - the amr value for a password

#: Checks a password against its stored hash: ``(encoded_hash, password) -> matches``. The
#: default runs scrypt in the calling thread; a server may run it elsewhere (a process pool).
PasswordChecker = Callable[[str, str], bool]


@dataclass(frozen=True)
class LoginResult:
    verdict: Verdict
    identity: Identity
    level: Level | None = None
    amr: tuple[str, ...] = ()
    transaction_id: str = ""

    @property
    def ok(self) -> bool:
        return self.verdict.ok

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "reason": self.verdict.reason.value,
            "detail": self.verdict.detail,
            "user_id": self.identity.user_id,
            "uuid": self.identity.uuid,
            "kind": self.verdict.kind,
            "amr": list(self.amr),
            "level": self.level.value if self.level else None,
            "acr": self.level.acr if self.level else None,
            "loa": self.level.loa if self.level else None,
            "transaction_id": self.transaction_id,
        }


@dataclass(frozen=True)
class PendingLogin:
    challenge: Challenge
    identity_uuid: str
    kind: str
    eligible: tuple[str, ...]
    status: str
    level: Level


@dataclass(frozen=True)
class OpenLogin:
    """A login waiting for its answer, as the control API lists it."""

    transaction_id: str
    user_id: str
    kind: str
    level: Level
    challenge: Challenge
    created_at: float
    expires_at: float


@dataclass
class LoginService:
    """The verifier side of a login, as a service provider's broker runs it."""

    store: Store
    clock: Clock
    lifetime: float = DEFAULT_LIFETIME
    password_checker: PasswordChecker | None = field(default=None, repr=False)
    identities: IdentityRepository = field(init=False)
    audit: AuditLog = field(init=False)

    def __post_init__(self) -> None:
        self.store.ensure(SCHEMA)
        self.identities = IdentityRepository(self.store, self.clock)
        self.audit = AuditLog(self.store)

    def methods(self, user_id: str, level: Level = Level.LOW) -> list[tuple[str, str]]:
        """The identity's authenticators that can reach ``level``."""
        identity = self.identities.get(user_id)
        return [
            (kind, auth_id)
            for kind, auth_id in identity.authenticators
            if kind in registry.plugins()
            and _reaches(kind, level)
            and self._exists(kind, auth_id)
            and self._enrolled_for(kind, auth_id, level)
        ]

    def _exists(self, kind: str, authenticator_id: str) -> bool:
        """Whether a linked authenticator is still there (a state from before deletes of linked
        tokens were refused may link one that is gone): never offer a missing one."""
        try:
            registry.get(kind).load(self.store, authenticator_id)
        except ProtocolError:
            return False
        return True

    def _enrolled_for(self, kind: str, authenticator_id: str, level: Level) -> bool:
        """Whether the enrollment itself reaches ``level``: an app enrolled at substantial
        never yields high, so it is not offered for a high login. Only a level above every
        kind's floor needs the enrollment read."""
        if level.rank <= Level.SUBSTANTIAL.rank:
            return True
        try:
            record = registry.get(kind).load(self.store, authenticator_id).record
        except ProtocolError:
            return False
        enrolled = record.get("level")
        return enrolled is None or Level(str(enrolled)).rank >= level.rank

    def begin(
        self,
        user_id: str,
        kind: str,
        *,
        service_provider: str,
        reference_text: ReferenceText,
        authenticator_id: str | None = None,
        level: Level = Level.LOW,
        extra: dict[str, Any] | None = None,
    ) -> Challenge:
        plugin = registry.get(kind)
        identity = self.identities.get(user_id)
        held = [
            auth_id
            for k, auth_id in identity.authenticators
            if k == kind and self._exists(kind, auth_id)
        ]
        pushing = isinstance(plugin, PushPlugin) and plugin.pushes_to_all
        if authenticator_id is not None:
            eligible = [authenticator_id] if authenticator_id in held else []
        else:
            eligible = held if pushing else held[:1]
        if not eligible:
            which = f" {authenticator_id!r}" if authenticator_id else ""
            hint = (
                f"enroll one with `mitid-emu app enroll --user-id {user_id}` (a removed one "
                "comes back with `mitid-emu app activate APP_ID`)"
                if kind == "app"
                else f"add one with `mitid-emu identity add-authenticator {user_id} {kind} NAME`"
            )
            raise CoreError(
                CoreErrorCode.METHOD_NOT_AVAILABLE, f"{user_id} has no {kind}{which}; {hint}"
            )
        if not _reaches(kind, level):
            raise CoreError(
                CoreErrorCode.INSUFFICIENT_LEVEL,
                f"a {kind} cannot reach level {level.value}; choose another method",
            )
        eligible = [auth_id for auth_id in eligible if self._enrolled_for(kind, auth_id, level)]
        if not eligible:
            raise CoreError(
                CoreErrorCode.INSUFFICIENT_LEVEL,
                f"{user_id}'s {kind} is enrolled below level {level.value}; choose another "
                "method or a lower level",
            )
        if plugin.needs_password and not identity.has_password:
            raise CoreError(
                CoreErrorCode.NO_PASSWORD,
                f"{user_id} has no password, which a {kind} login needs; set one with "
                f"`mitid-emu identity password {user_id}`",
            )
        challenge = Challenge.issue(
            kind, service_provider, reference_text, self.clock, self.lifetime, extra
        )
        chosen = eligible[0] if len(eligible) == 1 else ""
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO login_transactions (id, identity_uuid, kind, authenticator_id, "
                "eligible, challenge, requested_level, status, reason, created_at, expires_at, "
                "finished_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, NULL)",
                (
                    challenge.transaction_id,
                    identity.uuid,
                    kind,
                    chosen,
                    json.dumps(eligible),
                    json.dumps(challenge.to_dict()),
                    level.value,
                    PENDING,
                    challenge.issued_at,
                    challenge.expires_at,
                ),
            )
            self.audit.record(
                AuditEvent(
                    challenge.issued_at,
                    "login_started",
                    user_id,
                    kind,
                    chosen,
                    challenge.transaction_id,
                    level=level.value,
                )
            )
            if isinstance(plugin, PushPlugin):
                plugin.on_begin(self.store, challenge, identity.uuid, eligible, challenge.issued_at)
        return challenge

    def pending(self, transaction_id: str) -> PendingLogin:
        """A login as it stands: its challenge, who it is for and who may answer it."""
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT * FROM login_transactions WHERE id = ?", (transaction_id,)
            ).fetchone()
        if row is None:
            raise CoreError(CoreErrorCode.UNKNOWN_TRANSACTION, f"no login {transaction_id!r}")
        return PendingLogin(
            challenge=Challenge.from_dict(json.loads(row["challenge"])),
            identity_uuid=row["identity_uuid"],
            kind=row["kind"],
            eligible=tuple(json.loads(row["eligible"])),
            status=row["status"],
            level=Level(row["requested_level"]),
        )

    def open_logins(self, kind: str | None = None) -> list[OpenLogin]:
        """Logins waiting for an answer that have not expired, oldest first."""
        with self.store.read() as conn:
            rows = conn.execute(
                "SELECT t.id, t.kind, t.challenge, t.requested_level, t.created_at,"
                " t.expires_at, i.user_id FROM login_transactions t"
                " JOIN identities i ON i.uuid = t.identity_uuid"
                " WHERE t.status = ? AND t.expires_at > ? ORDER BY t.created_at",
                (PENDING, self.clock.now()),
            ).fetchall()
        return [
            OpenLogin(
                transaction_id=row["id"],
                user_id=row["user_id"],
                kind=row["kind"],
                level=Level(row["requested_level"]),
                challenge=Challenge.from_dict(json.loads(row["challenge"])),
                created_at=row["created_at"],
                expires_at=row["expires_at"],
            )
            for row in rows
            if kind is None or row["kind"] == kind
        ]

    def abandon(self, transaction_id: str, detail: str = "the login was broken off") -> None:
        """End a login that will get no answer (the device failed, the user gave up)."""
        with self.store.transaction() as conn:
            tx = conn.execute(
                "SELECT * FROM login_transactions WHERE id = ?", (transaction_id,)
            ).fetchone()
            if tx is None or tx["status"] != PENDING:
                return
            now = self.clock.now()
            conn.execute(
                "UPDATE login_transactions SET status = ?, reason = ?, finished_at = ?"
                " WHERE id = ?",
                ("abandoned", Reason.NOT_APPROVED.value, now, transaction_id),
            )
            plugin = registry.get(tx["kind"])
            if isinstance(plugin, PushPlugin):
                plugin.on_abandon(self.store, transaction_id, now)
            identity = self.identities.by_uuid(tx["identity_uuid"])
            self.audit.record(
                AuditEvent(
                    now,
                    "login_abandoned",
                    identity.user_id,
                    tx["kind"],
                    tx["authenticator_id"],
                    transaction_id,
                    Reason.NOT_APPROVED.value,
                    detail=detail,
                )
            )

    def complete(
        self, transaction_id: str, response: Response, password: str | None = None
    ) -> LoginResult:
        """Judge the response (and the password the method needs); the transaction is used up."""
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT identity_uuid, kind FROM login_transactions WHERE id = ?", (transaction_id,)
            ).fetchone()
        if row is None:
            raise CoreError(CoreErrorCode.UNKNOWN_TRANSACTION, f"no login {transaction_id!r}")
        identity = self.identities.by_uuid(row["identity_uuid"])
        plugin = registry.get(row["kind"])
        # The slow password hash runs before the write lock is taken; it is used only if the
        # authenticator step succeeds, which is the order MitID asks in.
        password_ok = (
            password is not None
            and self.identities.check_password(
                identity.user_id, password, checker=self.password_checker
            )
            if plugin.needs_password
            else True
        )
        with self.store.transaction() as conn:
            tx = conn.execute(
                "SELECT * FROM login_transactions WHERE id = ?", (transaction_id,)
            ).fetchone()
            challenge = Challenge.from_dict(json.loads(tx["challenge"]))
            now = self.clock.now()
            if tx["status"] != PENDING:
                verdict = Verdict(Reason.REPLAYED, kind=plugin.kind, detail="this login is over")
                return self._finish(identity, tx, verdict, None, (), now, consume=False)
            if challenge.expired(now):
                verdict = Verdict(Reason.EXPIRED, kind=plugin.kind, detail="the login has expired")
                return self._finish(identity, tx, verdict, None, (), now)
            answered = response.authenticator_id
            if answered not in json.loads(tx["eligible"]):
                verdict = Verdict(
                    Reason.MALFORMED,
                    kind=plugin.kind,
                    detail="answered by an authenticator this login was not sent to",
                )
                return self._finish(identity, tx, verdict, None, (), now)
            try:
                enrollment: Enrollment | None = plugin.load(self.store, answered)
            except ProtocolError:  # the authenticator was deleted since the login began
                enrollment = None
            if enrollment is None:
                verdict = Verdict(Reason.UNKNOWN_AUTHENTICATOR, kind=plugin.kind)
                return self._finish(identity, tx, verdict, None, (), now, answered)
            verdict = plugin.verifier().verify(enrollment, challenge, response, now)
            plugin.save_state(self.store, enrollment, verdict)
            if not verdict.ok:
                return self._finish(identity, tx, verdict, None, (), now, answered)
            if not password_ok:
                verdict = Verdict(
                    Reason.WRONG_PASSWORD, kind=plugin.kind, detail="the password is wrong"
                )
                return self._finish(identity, tx, verdict, None, (), now, answered)
            level = verdict.level
            requested = Level(tx["requested_level"])
            if level is None or level.rank < requested.rank:
                verdict = Verdict(
                    Reason.INSUFFICIENT_LEVEL,
                    kind=plugin.kind,
                    detail=f"reached {level.value if level else 'no level'}, "
                    f"{requested.value} was asked for",
                )
                return self._finish(identity, tx, verdict, None, (), now, answered)
            amr = (verdict.amr or plugin.amr, *((PASSWORD_AMR,) if plugin.needs_password else ()))
            return self._finish(identity, tx, verdict, level, amr, now, answered)

    def _finish(
        self,
        identity: Identity,
        tx: Any,
        verdict: Verdict,
        level: Level | None,
        amr: tuple[str, ...],
        now: float,
        answered: str | None = None,
        *,
        consume: bool = True,
    ) -> LoginResult:
        authenticator_id = answered or tx["authenticator_id"]
        if consume:
            with self.store.transaction() as conn:
                conn.execute(
                    "UPDATE login_transactions SET status = ?, reason = ?, finished_at = ?,"
                    " authenticator_id = ? WHERE id = ?",
                    (
                        "succeeded" if verdict.ok else "failed",
                        verdict.reason.value,
                        now,
                        authenticator_id,
                        tx["id"],
                    ),
                )
        self.audit.record(
            AuditEvent(
                now,
                "login_finished",
                identity.user_id,
                tx["kind"],
                authenticator_id,
                tx["id"],
                verdict.reason.value,
                level.value if level else None,
                verdict.detail,
            )
        )
        return LoginResult(verdict, identity, level, amr, tx["id"])


def _reaches(kind: str, level: Level) -> bool:
    plugin = registry.get(kind)
    return any(reachable.rank >= level.rank for reachable in plugin.levels)
