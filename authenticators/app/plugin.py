"""The MitID app as an authenticator plugin: push to every app the identity holds."""

from __future__ import annotations

from typing import Any

from authenticators.app.apps import KIND, AppRepository
from authenticators.app.device import Phone
from authenticators.app.inbox import StateExchange
from authenticators.app.policy import AppPolicy
from authenticators.app.verifier import AMR, AppVerifier, binding_required, pin_required
from authenticators.clock import Clock
from authenticators.protocol import (
    Challenge,
    Enrollment,
    ErrorCode,
    Level,
    ProtocolError,
    Verdict,
)
from authenticators.store import Store


class AppPlugin:
    """Enrolled with a device key and a PIN; logins are pushed and answered with a signature."""

    kind = KIND
    amr = AMR
    levels = frozenset({Level.LOW, Level.SUBSTANTIAL, Level.HIGH})
    needs_password = False
    pushes_to_all = True

    def __init__(self, policy: AppPolicy | None = None) -> None:
        self.policy = policy or AppPolicy()

    def __repr__(self) -> str:
        return f"AppPlugin(kind={self.kind!r})"

    def apps(self, store: Store) -> AppRepository:
        return AppRepository(store, self.policy)

    # -- the plugin protocol ---------------------------------------------------------------------

    def enroll(self, store: Store, clock: Clock, **options: Any) -> Enrollment:
        """A new app. Options: owner (required), pin (required), level, biometrics, app_id,
        pin_hash (the PIN's hash made ahead of a transaction); or ``public_key`` (DER) instead
        of the PIN for a phone that keeps its own key."""
        if options.get("public_key") is not None and options.get("owner"):
            record = self.apps(store).register(
                str(options["owner"]),
                bytes(options["public_key"]),
                clock.now(),
                level=options.get("level", Level.SUBSTANTIAL),
                biometrics=bool(options.get("biometrics", False)),
                app_id=options.get("app_id"),
            )
            return record.enrollment()
        if not options.get("owner") or options.get("pin") is None:
            raise ProtocolError(ErrorCode.INVALID_ARGUMENT, "an app needs an owner and a PIN")
        record = self.apps(store).enroll(
            str(options["owner"]),
            str(options["pin"]),
            clock.now(),
            level=options.get("level", Level.SUBSTANTIAL),
            biometrics=bool(options.get("biometrics", False)),
            app_id=options.get("app_id"),
            pin_hash=options.get("pin_hash"),
        )
        return record.enrollment()

    def load(self, store: Store, authenticator_id: str) -> Enrollment:
        return self.apps(store).get(authenticator_id).enrollment()

    def save_state(self, store: Store, enrollment: Enrollment, verdict: Verdict) -> None:
        state = verdict.state
        if state is None:
            return
        with store.transaction():
            self.apps(store).save_used(enrollment.authenticator_id, list(state["used"]))
            transaction_id = str(state.get("transaction_id") or "")
            if transaction_id:
                StateExchange(store).close(transaction_id, float(state.get("at", 0.0)))

    def authenticator(self, store: Store, authenticator_id: str, clock: Clock) -> Phone:
        return Phone(store, authenticator_id, clock, policy=self.policy)

    def verifier(self) -> AppVerifier:
        return AppVerifier(self.policy, amr=self.amr)

    # -- the push plugin protocol ----------------------------------------------------------------

    def on_begin(
        self,
        store: Store,
        challenge: Challenge,
        identity_uuid: str,
        authenticator_ids: list[str],
        now: float,
    ) -> None:
        """Push the login to the identity's apps; refuse it while another app login is open."""
        StateExchange(store).push(
            challenge,
            identity_uuid,
            authenticator_ids,
            now,
            binding_required=binding_required(challenge),
            pin_required=pin_required(challenge, self.policy),
        )

    def on_abandon(self, store: Store, transaction_id: str, now: float) -> None:
        StateExchange(store).close(transaction_id, now)


plugin = AppPlugin()
