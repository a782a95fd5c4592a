"""The USB chip as an authenticator plugin: a FIDO security key plus the password, level high."""

from __future__ import annotations

from typing import Any

from authenticators.chip.device import ChipHolder
from authenticators.chip.enroll import enroll
from authenticators.chip.records import ChipRepository
from authenticators.chip.webauthn import AMR, KIND, AssertionVerifier
from authenticators.clock import Clock
from authenticators.protocol import Enrollment, Level, Verdict
from authenticators.store import Store


class ChipPlugin:
    """Enroll with ``uri=`` (and ``name=``, ``rp_id=``, ``pin=``, ``resident=``, ``uv=``)."""

    kind = KIND
    amr = AMR
    levels = frozenset({Level.LOW, Level.SUBSTANTIAL, Level.HIGH})
    needs_password = True

    def __repr__(self) -> str:
        return "ChipPlugin()"

    def records(self, store: Store) -> ChipRepository:
        return ChipRepository(store)

    def enroll(self, store: Store, clock: Clock, **options: Any) -> Enrollment:
        return enroll(store, clock, **options).enrollment()

    def load(self, store: Store, authenticator_id: str) -> Enrollment:
        return self.records(store).get(authenticator_id).enrollment()

    def save_state(self, store: Store, enrollment: Enrollment, verdict: Verdict) -> None:
        if verdict.ok and verdict.state is not None:
            self.records(store).save_counter(
                enrollment.authenticator_id,
                int(verdict.state["sign_count"]),
                float(verdict.state["last_used"]),
            )

    def authenticator(
        self, store: Store, authenticator_id: str, clock: Clock, **options: Any
    ) -> ChipHolder:
        return ChipHolder(store, self.records(store).get(authenticator_id), clock, **options)

    def verifier(self) -> AssertionVerifier:
        return AssertionVerifier()


plugin = ChipPlugin()
