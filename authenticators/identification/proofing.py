"""Identity proofing with a passport, then registration or enrolment (the identification app, and
the RA app at a citizen service desk).

Proofing: the MRZ (as scanned from the data page, check digits and all), the chip (PACE or BAC
with it, Chip Authentication, the data groups, Passive Authentication against the country's CSCA,
Active Authentication), the document (DG1 equals the printed MRZ, not expired, a passport the
service accepts) and the face (against DG2). Any failure refuses with its reason and creates
nothing; every step, passed or failed, goes to the audit trail (never the MRZ or a key).
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from authenticators import registry
from authenticators.clock import Clock
from authenticators.core.audit import AuditEvent, AuditLog
from authenticators.core.identities import Identity, IdentityRepository
from authenticators.identification.face import FaceImageError, FaceOutcome, FaceVerifier
from authenticators.passport.check import CheckedPassport, read_passport
from authenticators.passport.errors import PassportError, PassportErrorCode
from authenticators.passport.lds import Mrz, parse_mrz
from authenticators.passport.transport import ApduTransport
from authenticators.protocol import Level
from authenticators.store import Schema, Store

SCHEMA = Schema(
    "identification",
    [
        """
        CREATE TABLE identification_proofs (
            proofing_id TEXT PRIMARY KEY,
            identity_uuid TEXT NOT NULL,
            purpose TEXT NOT NULL,
            channel TEXT NOT NULL,
            operator TEXT,
            document_ref TEXT NOT NULL,
            issuing_state TEXT NOT NULL,
            ial TEXT NOT NULL,
            at REAL NOT NULL
        )
        """
    ],
)

#: Passports the app accepts without more: Danish (Greenlandic and Faroese ones are Danish too).
ACCEPTED_STATES = frozenset({"DNK"})
IAL = "high"
ACTIVATION_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class ProofingReason(enum.Enum):
    INVALID_MRZ = "invalid_mrz"
    ACCESS_CONTROL_FAILED = "access_control_failed"
    READ_FAILED = "chip_read_failed"
    CHIP_AUTHENTICATION_FAILED = "chip_authentication_failed"
    PASSIVE_AUTHENTICATION_FAILED = "passive_authentication_failed"
    ACTIVE_AUTHENTICATION_FAILED = "active_authentication_failed"
    MRZ_MISMATCH = "mrz_mismatch"
    DOCUMENT_EXPIRED = "document_expired"
    DOCUMENT_NOT_ACCEPTED = "document_not_accepted"
    FACE_MISMATCH = "face_mismatch"
    NO_LIVENESS = "no_liveness"
    PRESENTATION_ATTACK = "presentation_attack"
    IDENTITY_MISMATCH = "identity_mismatch"
    INVALID_IMAGE = "invalid_image"


_CHIP_REASONS = {
    PassportErrorCode.BAC_FAILED: ProofingReason.ACCESS_CONTROL_FAILED,
    PassportErrorCode.PACE_FAILED: ProofingReason.ACCESS_CONTROL_FAILED,
    PassportErrorCode.CHIP_AUTHENTICATION: ProofingReason.CHIP_AUTHENTICATION_FAILED,
    PassportErrorCode.PASSIVE_AUTHENTICATION: ProofingReason.PASSIVE_AUTHENTICATION_FAILED,
    PassportErrorCode.ACTIVE_AUTHENTICATION: ProofingReason.ACTIVE_AUTHENTICATION_FAILED,
}
_FACE_REASONS = {
    FaceOutcome.NO_MATCH: ProofingReason.FACE_MISMATCH,
    FaceOutcome.NO_LIVENESS: ProofingReason.NO_LIVENESS,
    FaceOutcome.PRESENTATION_ATTACK: ProofingReason.PRESENTATION_ATTACK,
}

_FACE_MESSAGES = {
    FaceOutcome.NO_MATCH: "the face does not match the passport photo",
    FaceOutcome.NO_LIVENESS: "no live person in front of the camera",
    FaceOutcome.PRESENTATION_ATTACK: "a presentation attack (a photo, a screen or a mask)",
}


class ProofingRefused(Exception):
    """Proofing failed: ``reason`` for machines, ``message`` for the person."""

    def __init__(self, reason: ProofingReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Proof:
    """What proofing established about the person in front of the camera (or the desk)."""

    proofing_id: str
    channel: str  # "app" or "ra"
    operator: str | None
    surname: str
    given_names: str
    birthdate: str  # ISO date
    issuing_state: str
    nationality: str
    document_ref: str  # a digest of issuing state and document number, not the number
    expiry: str
    access: str
    face_distance: int | None

    def face_distance_text(self) -> str:
        if self.face_distance is None:
            return "scripted"
        return f"perceptual hash distance {self.face_distance}"

    @property
    def name(self) -> str:
        return " ".join(part.capitalize() for part in f"{self.given_names} {self.surname}".split())


@dataclass(frozen=True)
class Registration:
    identity: Identity
    app_id: str
    activation_code: str
    proof: Proof


def _document_ref(mrz: Mrz) -> str:
    return hashlib.sha256(f"{mrz.issuing_state}|{mrz.document_number}".encode()).hexdigest()[:16]


class IdentificationService:
    """The identification app (``channel="app"``) or the RA app (``channel="ra"`` with the
    employee as ``operator``)."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        open_passport: Callable[[str], ApduTransport],
        trusted_cscas: Callable[[], Sequence[bytes]],
        face: FaceVerifier | None = None,
        channel: str = "app",
        operator: str | None = None,
    ) -> None:
        store.ensure(SCHEMA)
        self.store = store
        self.clock = clock
        self.audit = AuditLog(store)
        self.identities = IdentityRepository(store, clock)
        self._open = open_passport
        self._cscas = trusted_cscas
        self.face = face or FaceVerifier()
        if channel not in ("app", "ra") or (channel == "ra" and not operator):
            raise ValueError("the RA app needs the employee (operator)")
        self.channel = channel
        self.operator = operator

    # -- the audit trail -----------------------------------------------------------------

    def _record(
        self,
        proofing_id: str,
        event: str,
        reason: str,
        detail: str,
        *,
        user_id: str | None = None,
        authenticator_id: str | None = None,
        level: str | None = None,
    ) -> None:
        who = f"{self.channel}" + (f" operator {self.operator}" if self.operator else "")
        self.audit.record(
            AuditEvent(
                at=self.clock.now(),
                event=event,
                user_id=user_id,
                kind="passport",
                authenticator_id=authenticator_id,
                transaction_id=proofing_id,
                reason=reason,
                level=level,
                detail=f"{who}: {detail}",
            )
        )

    # -- proofing ------------------------------------------------------------------------

    def prove(
        self,
        passport_uri: str,
        mrz_text: str,
        live_image: bytes,
        *,
        cpr: str | None = None,
        purpose: str = "register",
        user_id: str | None = None,
    ) -> Proof:
        """Run every check; raise ProofingRefused at the first that fails."""
        proofing_id = str(uuid.uuid4())
        self._record(
            proofing_id,
            "proofing.started",
            "ok",
            f"{purpose} with passport {passport_uri}",
            user_id=user_id,
        )

        def refuse(step: str, reason: ProofingReason, message: str) -> ProofingRefused:
            self._record(proofing_id, f"proofing.{step}", reason.value, message, user_id=user_id)
            self._record(
                proofing_id, "proofing.refused", reason.value, f"at {step}", user_id=user_id
            )
            return ProofingRefused(reason, message)

        try:
            printed = parse_mrz(mrz_text)
        except PassportError as exc:
            raise refuse("mrz", ProofingReason.INVALID_MRZ, exc.message) from None
        self._record(proofing_id, "proofing.mrz", "ok", "check digits hold", user_id=user_id)
        now = dt.datetime.fromtimestamp(self.clock.now(), dt.UTC)
        failed_step: list[str] = []

        def on_step(step: str, ok: bool, detail: str) -> None:
            if ok:
                self._record(proofing_id, f"proofing.{step}", "ok", detail, user_id=user_id)
            else:
                failed_step.append(step)

        try:
            transport = self._open(passport_uri)
            try:
                checked: CheckedPassport = read_passport(
                    transport,
                    printed.information,
                    cscas=self._cscas(),
                    now=now,
                    on_step=on_step,
                )
            finally:
                transport.close()
        except PassportError as exc:
            reason = _CHIP_REASONS.get(exc.code, ProofingReason.READ_FAILED)
            step = failed_step[0] if failed_step else "chip"
            raise refuse(step, reason, exc.message) from None
        chip = checked.mrz
        if chip.lines != printed.lines:
            raise refuse(
                "document",
                ProofingReason.MRZ_MISMATCH,
                "the chip's DG1 does not match the printed MRZ",
            )
        if chip.expiry_date() < now.date():
            raise refuse(
                "document",
                ProofingReason.DOCUMENT_EXPIRED,
                f"the passport expired on {chip.expiry_date().isoformat()}",
            )
        if chip.issuing_state not in ACCEPTED_STATES and not cpr and purpose == "register":
            raise refuse(
                "document",
                ProofingReason.DOCUMENT_NOT_ACCEPTED,
                f"a passport from {chip.issuing_state} needs a CPR number",
            )
        self._record(
            proofing_id,
            "proofing.document",
            "ok",
            f"{chip.issuing_state} passport valid until {chip.expiry_date().isoformat()}",
            user_id=user_id,
        )
        try:
            face = self.face.compare(checked.face_image, live_image)
        except FaceImageError as exc:
            raise refuse("face", ProofingReason.INVALID_IMAGE, f"the face image: {exc}") from None
        if face.outcome is not FaceOutcome.MATCH:
            reason = _FACE_REASONS[face.outcome]
            raise refuse("face", reason, f"{_FACE_MESSAGES[face.outcome]} ({face.detail})")
        self._record(proofing_id, "proofing.face", "ok", face.detail, user_id=user_id)
        self._record(
            proofing_id,
            "proofing.completed",
            "ok",
            f"identity proofed at IAL {IAL}",
            user_id=user_id,
            level=IAL,
        )
        return Proof(
            proofing_id=proofing_id,
            channel=self.channel,
            operator=self.operator,
            surname=chip.surname,
            given_names=chip.given_names,
            birthdate=chip.birth_date(now.date()).isoformat(),
            issuing_state=chip.issuing_state,
            nationality=chip.nationality,
            document_ref=_document_ref(chip),
            expiry=chip.expiry_date().isoformat(),
            access=checked.access,
            face_distance=face.distance,
        )

    def _save_proof(self, proof: Proof, identity_uuid: str, purpose: str) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO identification_proofs (proofing_id, identity_uuid, purpose, channel, "
                "operator, document_ref, issuing_state, ial, at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    proof.proofing_id,
                    identity_uuid,
                    purpose,
                    proof.channel,
                    proof.operator,
                    proof.document_ref,
                    proof.issuing_state,
                    IAL,
                    self.clock.now(),
                ),
            )

    def proofs(self, identity_uuid: str) -> list[dict[str, Any]]:
        with self.store.read() as conn:
            rows = conn.execute(
                "SELECT * FROM identification_proofs WHERE identity_uuid = ? ORDER BY at",
                (identity_uuid,),
            ).fetchall()
        return [dict(row) for row in rows]

    # -- registration and enrolment ------------------------------------------------------

    def check_user_id_free(self, user_id: str) -> None:
        from authenticators.core.errors import CoreError, CoreErrorCode
        from authenticators.core.identities import check_user_id

        check_user_id(user_id)
        try:
            self.identities.get(user_id)
        except CoreError as exc:
            if exc.code is CoreErrorCode.UNKNOWN_IDENTITY:
                return
            raise
        raise CoreError(
            CoreErrorCode.DUPLICATE_IDENTITY, f"user ID {user_id!r} is taken; choose another"
        )

    def register(
        self, proof: Proof, user_id: str, pin: str, *, cpr: str | None = None
    ) -> Registration:
        """A new identity at IAL high with a MitID app enrolled at high, activated."""
        from authenticators.app.pin import hash_pin, pin_problem
        from authenticators.protocol import ErrorCode, ProtocolError

        problem = pin_problem(pin)
        if problem:
            raise ProtocolError(ErrorCode.INVALID_ARGUMENT, problem)
        self.check_user_id_free(user_id)
        pin_hash = hash_pin(pin)
        plugin = registry.get("app")
        activation = "".join(secrets.choice(ACTIVATION_ALPHABET) for _ in range(8))
        with self.store.transaction():
            identity = self.identities.create(
                user_id, proof.name, birthdate=proof.birthdate, cpr=cpr
            )
            wanted = plugin.enroll_options(
                {"owner": identity.uuid, "pin": pin, "pin_hash": pin_hash, "level": Level.HIGH}
            )
            enrollment = plugin.enroll(self.store, self.clock, wanted)
            self.identities.add_authenticator(user_id, "app", enrollment.authenticator_id)
            self._save_proof(proof, identity.uuid, "register")
        self._record(
            proof.proofing_id,
            "identification.registered",
            "ok",
            f"identity created at IAL {IAL}; app {enrollment.authenticator_id} activated "
            "with the activation code sent by SMS",
            user_id=user_id,
            authenticator_id=enrollment.authenticator_id,
            level=IAL,
        )
        return Registration(
            self.identities.get(user_id),
            enrollment.authenticator_id,
            f"{activation[:4]}-{activation[4:]}",
            proof,
        )

    def check_same_person(self, proof: Proof, user_id: str) -> Identity:
        identity = self.identities.get(user_id)
        same_name = identity.name.upper().split() == proof.name.upper().split()
        if not same_name or identity.birthdate != proof.birthdate:
            self._record(
                proof.proofing_id,
                "identification.refused",
                ProofingReason.IDENTITY_MISMATCH.value,
                "the passport is not this identity's",
                user_id=user_id,
            )
            raise ProofingRefused(
                ProofingReason.IDENTITY_MISMATCH,
                f"the passport's holder is not {user_id} (name or birth date differ)",
            )
        return identity

    def enroll(self, proof: Proof, user_id: str, kind: str, fields: Mapping[str, Any]) -> str:
        """Another identifier for the proofed person: a codeviser, kodeoplaeser, chip or app;
        ``fields`` are that kind's enrol options by name."""
        identity = self.check_same_person(proof, user_id)
        plugin = registry.get(kind)
        if kind == "app":
            fields = {"owner": identity.uuid, "level": Level.HIGH, **fields}
        options = plugin.enroll_options(fields)
        if kind == "chip":  # it talks to the token: not while holding the write lock
            enrollment = plugin.enroll(self.store, self.clock, options)
        with self.store.transaction():
            if kind != "chip":
                enrollment = plugin.enroll(self.store, self.clock, options)
            self.identities.add_authenticator(user_id, kind, enrollment.authenticator_id)
            self._save_proof(proof, identity.uuid, f"enroll {kind}")
        self._record(
            proof.proofing_id,
            "identification.enrolled",
            "ok",
            f"{kind} {enrollment.authenticator_id} added after proofing at IAL {IAL}",
            user_id=user_id,
            authenticator_id=enrollment.authenticator_id,
            level=IAL,
        )
        return enrollment.authenticator_id
