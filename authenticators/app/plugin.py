"""The MitID app as an authenticator plugin: push to every app the identity holds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
    options_from_fields,
)
from authenticators.store import Store


@dataclass(frozen=True)
class AppOptions:
    """How to enrol an app: its owner (an identity's uuid) and a PIN, or instead of the PIN the
    ``public_key`` (DER) of a phone that keeps its own key; ``pin_hash`` is the PIN's hash made
    ahead of a transaction."""

    owner: str = ""
    pin: str | None = field(default=None, repr=False)
    level: Level | str = Level.SUBSTANTIAL
    biometrics: bool = False
    app_id: str | None = None
    pin_hash: str | None = field(default=None, repr=False)
    public_key: bytes | None = field(default=None, repr=False)


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

    def enroll_options(self, fields: Mapping[str, Any]) -> AppOptions:
        return options_from_fields(AppOptions, self.kind, fields)

    def enroll(self, store: Store, clock: Clock, options: AppOptions) -> Enrollment:
        """A new app with a PIN, or with the key its phone keeps."""
        if options.public_key is not None and options.owner:
            record = self.apps(store).register(
                options.owner,
                bytes(options.public_key),
                clock.now(),
                level=options.level,
                biometrics=bool(options.biometrics),
                app_id=options.app_id,
            )
            return record.enrollment()
        if not options.owner or options.pin is None:
            raise ProtocolError(ErrorCode.INVALID_ARGUMENT, "an app needs an owner and a PIN")
        record = self.apps(store).enroll(
            options.owner,
            str(options.pin),
            clock.now(),
            level=options.level,
            biometrics=bool(options.biometrics),
            app_id=options.app_id,
            pin_hash=options.pin_hash,
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
