"""The USB chip as an authenticator plugin: a FIDO security key plus the password, level high."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from authenticators.chip.device import ChipHolder
from authenticators.chip.enroll import ChipOptions, enroll
from authenticators.chip.records import ChipRepository
from authenticators.chip.webauthn import AMR, KIND, AssertionVerifier
from authenticators.clock import Clock
from authenticators.protocol import Enrollment, Level, Verdict, options_from_fields
from authenticators.store import Store


class ChipPlugin:
    """Enrolled with :class:`~authenticators.chip.enroll.ChipOptions` (the token's URI)."""

    kind = KIND
    amr = AMR
    levels = frozenset({Level.LOW, Level.SUBSTANTIAL, Level.HIGH})
    needs_password = True

    def __repr__(self) -> str:
        return "ChipPlugin()"

    def records(self, store: Store) -> ChipRepository:
        return ChipRepository(store)

    def enroll_options(self, fields: Mapping[str, Any]) -> ChipOptions:
        return options_from_fields(ChipOptions, self.kind, fields)

    def enroll(self, store: Store, clock: Clock, options: ChipOptions) -> Enrollment:
        record = enroll(
            store,
            clock,
            uri=options.uri,
            name=options.name,
            rp_id=options.rp_id,
            user_name=options.user_name,
            user_handle=options.user_handle,
            pin=options.pin,
            resident=options.resident,
            uv=options.uv,
            trust=options.trust,
            on_touch_needed=options.on_touch_needed,
            hid_backend=options.hid_backend,
        )
        return record.enrollment()

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
