"""What the verifier keeps per enrolled chip: credential, public key, AAGUID, attestation, counter.

:class:`VerifierRecord` is the verifier's part and its one (de)serialisation: the repository writes
it into an :class:`~authenticators.protocol.Enrollment`, the assertion verifier
(:mod:`~authenticators.chip.webauthn`) reads it back.

One row per enrollment, named by the user (by default the device URI it was registered on, so
``identity add-authenticator USER chip sim:`` links the chip registered on ``sim:``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from authenticators.protocol import Enrollment, ErrorCode, ProtocolError
from authenticators.store import Schema, Store

KIND = "chip"

SCHEMA = Schema(
    "chip_authenticators",
    [
        """
        CREATE TABLE chip_authenticators (
            name TEXT PRIMARY KEY,
            uri TEXT NOT NULL,
            rp_id TEXT NOT NULL,
            credential_id BLOB NOT NULL,
            public_key BLOB NOT NULL,
            aaguid TEXT NOT NULL,
            attestation TEXT NOT NULL,
            user_handle BLOB NOT NULL,
            resident INTEGER NOT NULL,
            uv_required INTEGER NOT NULL,
            sign_count INTEGER NOT NULL,
            last_used REAL,
            created_at REAL NOT NULL
        )
        """
    ],
)


@dataclass(frozen=True)
class VerifierRecord:
    """The credential the verifier checks assertions against, and the last signature counter."""

    uri: str
    rp_id: str
    credential_id: bytes
    public_key: bytes = field(repr=False)
    aaguid: str
    attestation: Mapping[str, Any]
    resident: bool
    uv_required: bool
    sign_count: int

    def enrollment(self, kind: str, name: str) -> Enrollment:
        record = {
            "uri": self.uri,
            "rp_id": self.rp_id,
            "credential_id": self.credential_id.hex(),
            "public_key": self.public_key.hex(),
            "aaguid": self.aaguid,
            "attestation": dict(self.attestation),
            "resident": self.resident,
            "uv_required": self.uv_required,
            "sign_count": self.sign_count,
        }
        return Enrollment(kind, name, record)

    @classmethod
    def from_enrollment(cls, enrollment: Enrollment) -> VerifierRecord:
        record = enrollment.record
        return cls(
            uri=str(record.get("uri", "")),
            rp_id=str(record["rp_id"]),
            credential_id=bytes.fromhex(record["credential_id"]),
            public_key=bytes.fromhex(record["public_key"]),
            aaguid=str(record.get("aaguid", "")),
            attestation=dict(record.get("attestation") or {}),
            resident=bool(record.get("resident", False)),
            uv_required=bool(record.get("uv_required", False)),
            sign_count=int(record.get("sign_count", 0)),
        )


@dataclass(frozen=True)
class ChipRecord:
    """One enrolled chip. ``public_key`` is the credential's COSE key (CBOR)."""

    name: str
    uri: str
    rp_id: str
    credential_id: bytes
    public_key: bytes = field(repr=False)
    aaguid: str
    attestation: Mapping[str, Any]
    user_handle: bytes = field(repr=False)
    resident: bool
    uv_required: bool
    sign_count: int
    last_used: float | None
    created_at: float

    def enrollment(self) -> Enrollment:
        record = VerifierRecord(
            uri=self.uri,
            rp_id=self.rp_id,
            credential_id=self.credential_id,
            public_key=self.public_key,
            aaguid=self.aaguid,
            attestation=self.attestation,
            resident=self.resident,
            uv_required=self.uv_required,
            sign_count=self.sign_count,
        )
        return record.enrollment(KIND, self.name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "uri": self.uri,
            "rp_id": self.rp_id,
            "credential_id": self.credential_id.hex(),
            "aaguid": self.aaguid,
            "attestation": dict(self.attestation),
            "resident": self.resident,
            "uv_required": self.uv_required,
            "sign_count": self.sign_count,
            "last_used": self.last_used,
            "created_at": self.created_at,
        }


class ChipRepository:
    def __init__(self, store: Store) -> None:
        store.ensure(SCHEMA)
        self.store = store

    def add(self, record: ChipRecord) -> ChipRecord:
        with self.store.transaction() as conn:
            try:
                conn.execute(
                    "INSERT INTO chip_authenticators (name, uri, rp_id, credential_id, "
                    "public_key, aaguid, attestation, user_handle, resident, uv_required, "
                    "sign_count, last_used, created_at)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        record.name,
                        record.uri,
                        record.rp_id,
                        record.credential_id,
                        record.public_key,
                        record.aaguid,
                        json.dumps(dict(record.attestation), sort_keys=True),
                        record.user_handle,
                        int(record.resident),
                        int(record.uv_required),
                        record.sign_count,
                        record.last_used,
                        record.created_at,
                    ),
                )
            except sqlite3.IntegrityError:
                raise ProtocolError(
                    ErrorCode.CONFLICT,
                    f"a chip named {record.name!r} is enrolled already; choose another --name "
                    f"or delete it with `mitid-emu chip delete {record.name}`",
                ) from None
        return record

    def exists(self, name: str) -> bool:
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT 1 FROM chip_authenticators WHERE name = ?", (name,)
            ).fetchone()
        return row is not None

    def get(self, name: str) -> ChipRecord:
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT * FROM chip_authenticators WHERE name = ?", (name,)
            ).fetchone()
        if row is None:
            raise ProtocolError(
                ErrorCode.UNKNOWN_AUTHENTICATOR,
                f"no chip enrolled as {name!r}; register one with "
                f"`mitid-emu chip register --device URI` (the name defaults to the URI)",
            )
        return _record(row)

    def list(self) -> list[ChipRecord]:
        with self.store.read() as conn:
            rows = conn.execute("SELECT * FROM chip_authenticators ORDER BY name").fetchall()
        return [_record(row) for row in rows]

    def save_counter(self, name: str, sign_count: int, last_used: float) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE chip_authenticators SET sign_count = ?, last_used = ? WHERE name = ?",
                (sign_count, last_used, name),
            )

    def delete(self, name: str) -> None:
        with self.store.transaction() as conn:
            cursor = conn.execute("DELETE FROM chip_authenticators WHERE name = ?", (name,))
        if cursor.rowcount == 0:
            self.get(name)  # raises with the usual message


def _record(row: sqlite3.Row) -> ChipRecord:
    return ChipRecord(
        name=row["name"],
        uri=row["uri"],
        rp_id=row["rp_id"],
        credential_id=bytes(row["credential_id"]),
        public_key=bytes(row["public_key"]),
        aaguid=row["aaguid"],
        attestation=json.loads(row["attestation"]),
        user_handle=bytes(row["user_handle"]),
        resident=bool(row["resident"]),
        uv_required=bool(row["uv_required"]),
        sign_count=int(row["sign_count"]),
        last_used=row["last_used"],
        created_at=row["created_at"],
    )
