"""Code tokens at rest: one table for both code token kinds, keyed by (kind, name).

A row holds both halves of the emulation: the hardware (drift, battery, display) that the person
holds, and the verifier's record (seed, parameters, replay and lockout state).
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from authenticators.codeviser.record import (
    TokenState,
    VerifierRecord,
    params_from_dict,
    params_to_dict,
)
from authenticators.otp import OtpKey, OtpParams
from authenticators.protocol import Enrollment, ErrorCode, ProtocolError
from authenticators.store import Schema, Store

SCHEMA = Schema(
    "code_tokens",
    [
        """
        CREATE TABLE code_tokens (
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            serial TEXT NOT NULL,
            seed BLOB NOT NULL,
            params TEXT NOT NULL,
            hardware TEXT NOT NULL,
            state TEXT NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (kind, name)
        )
        """
    ],
)

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ProtocolError(
            ErrorCode.INVALID_ARGUMENT,
            f"invalid token name {name!r}: use 1-64 letters, digits, '.', '_' or '-'",
        )
    return name


def new_serial(prefix: str) -> str:
    return f"{prefix}{secrets.randbelow(10**10):010d}"


@dataclass
class CodeTokenRecord:
    kind: str
    name: str
    serial: str
    seed: bytes = field(repr=False)
    params: OtpParams
    hardware: dict[str, Any]
    state: TokenState
    created_at: float

    def key(self) -> OtpKey:
        return OtpKey(self.seed, self.params)

    def enrollment(self) -> Enrollment:
        record = VerifierRecord(self.seed, self.params, self.state, self.serial)
        return record.enrollment(self.kind, self.name)

    def summary(self, now: float) -> dict[str, Any]:
        """Everything safe to show: no seed, no code."""
        return {
            "kind": self.kind,
            "name": self.name,
            "serial": self.serial,
            **params_to_dict(self.params),
            "drift_ppm": self.hardware.get("drift_ppm", 0.0),
            "battery": self.hardware.get("battery"),
            "blocked_for": max(0.0, self.state.locked_until - now),
            "failures": self.state.failures,
            "learned_drift_steps": self.state.drift,
            "created_at": self.created_at,
        }


class TokenRepository:
    """Code tokens of one kind in the store."""

    def __init__(self, store: Store, kind: str, *, list_hint: str | None = None) -> None:
        store.ensure(SCHEMA)
        self.store = store
        self.kind = kind
        self._hint = list_hint or f"mitid-emu {kind} list"

    def create(
        self,
        name: str,
        seed: bytes,
        params: OtpParams,
        serial: str,
        hardware: Mapping[str, Any],
        now: float,
    ) -> CodeTokenRecord:
        check_name(name)
        record = CodeTokenRecord(
            self.kind, name, serial, seed, params, dict(hardware), TokenState(), now
        )
        with self.store.transaction() as conn:
            try:
                conn.execute(
                    "INSERT INTO code_tokens (kind, name, serial, seed, params, hardware, state, "
                    "created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        self.kind,
                        name,
                        serial,
                        seed,
                        json.dumps(params_to_dict(params)),
                        json.dumps(record.hardware),
                        json.dumps(record.state.to_dict()),
                        now,
                    ),
                )
            except sqlite3.IntegrityError:
                raise ProtocolError(
                    ErrorCode.CONFLICT,
                    f"a {self.kind} named {name!r} exists already; pick another --name",
                ) from None
        return record

    def get(self, name: str) -> CodeTokenRecord:
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT * FROM code_tokens WHERE kind = ? AND name = ?", (self.kind, name)
            ).fetchone()
        if row is None:
            raise ProtocolError(
                ErrorCode.UNKNOWN_AUTHENTICATOR,
                f"no {self.kind} named {name!r}; list them with `{self._hint}`",
            )
        return _record(row)

    def exists(self, name: str) -> bool:
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT 1 FROM code_tokens WHERE kind = ? AND name = ?", (self.kind, name)
            ).fetchone()
        return row is not None

    def list(self) -> list[CodeTokenRecord]:
        with self.store.read() as conn:
            rows = conn.execute(
                "SELECT * FROM code_tokens WHERE kind = ? ORDER BY name", (self.kind,)
            ).fetchall()
        return [_record(row) for row in rows]

    def delete(self, name: str) -> None:
        with self.store.transaction() as conn:
            self.get(name)
            conn.execute("DELETE FROM code_tokens WHERE kind = ? AND name = ?", (self.kind, name))

    def save_state(self, name: str, state: TokenState) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE code_tokens SET state = ? WHERE kind = ? AND name = ?",
                (json.dumps(state.to_dict()), self.kind, name),
            )

    def save_hardware(self, name: str, hardware: Mapping[str, Any]) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE code_tokens SET hardware = ? WHERE kind = ? AND name = ?",
                (json.dumps(dict(hardware)), self.kind, name),
            )


def _record(row: sqlite3.Row) -> CodeTokenRecord:
    return CodeTokenRecord(
        kind=row["kind"],
        name=row["name"],
        serial=row["serial"],
        seed=bytes(row["seed"]),
        params=params_from_dict(json.loads(row["params"])),
        hardware=json.loads(row["hardware"]),
        state=TokenState.from_dict(json.loads(row["state"])),
        created_at=row["created_at"],
    )
