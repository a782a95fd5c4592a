"""The code display (kodeviser) as an authenticator plugin; the audio code reader subclasses it."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from authenticators.clock import Clock
from authenticators.codeviser.device import CodeTokenHolder
from authenticators.codeviser.record import TokenState
from authenticators.codeviser.seeds import SeedImport, check_seed
from authenticators.codeviser.tokens import CodeTokenRecord, TokenRepository, new_serial
from authenticators.codeviser.verifier import CheckResult, CodeVerifier, VerifierPolicy
from authenticators.otp import OtpParams
from authenticators.protocol import Enrollment, Level, Verdict, options_from_fields
from authenticators.store import Store


@dataclass(frozen=True)
class CodeTokenOptions:
    """How to enrol a code token: its name; the rest defaults (a new random seed, a new serial)."""

    name: str
    params: OtpParams | None = None
    seed: bytes | None = field(default=None, repr=False)
    serial: str = ""
    drift_ppm: float = 0.0
    clock_offset: float = 0.0


class CodeTokenPlugin:
    """A time-based code token: enrolled with a seed, checked in a window, used with a password."""

    levels = frozenset({Level.LOW, Level.SUBSTANTIAL})
    needs_password = True

    def __init__(
        self,
        kind: str = "codeviser",
        amr: str = "code_token",
        serial_prefix: str = "CV",
        policy: VerifierPolicy | None = None,
    ) -> None:
        self.kind = kind
        self.amr = amr
        self.serial_prefix = serial_prefix
        self.policy = policy or VerifierPolicy()

    def __repr__(self) -> str:
        return f"CodeTokenPlugin(kind={self.kind!r}, amr={self.amr!r})"

    def tokens(self, store: Store) -> TokenRepository:
        return TokenRepository(store, self.kind)

    # -- the plugin protocol --------------------------------------------------------------------

    def enroll_options(self, fields: Mapping[str, Any]) -> CodeTokenOptions:
        return options_from_fields(CodeTokenOptions, self.kind, fields)

    def enroll(self, store: Store, clock: Clock, options: CodeTokenOptions) -> Enrollment:
        """Make a new token."""
        params = options.params or OtpParams()
        seed = options.seed or secrets.token_bytes(params.algorithm.seed_size)
        record = self.create(
            store,
            clock,
            name=options.name,
            source=SeedImport(seed, params, serial=options.serial),
            drift_ppm=float(options.drift_ppm),
            clock_offset=float(options.clock_offset),
        )
        return record.enrollment()

    def load(self, store: Store, authenticator_id: str) -> Enrollment:
        return self.tokens(store).get(authenticator_id).enrollment()

    def save_state(self, store: Store, enrollment: Enrollment, verdict: Verdict) -> None:
        if verdict.state is not None:
            state = TokenState.from_dict(verdict.state)
            self.tokens(store).save_state(enrollment.authenticator_id, state)

    def authenticator(self, store: Store, authenticator_id: str, clock: Clock) -> CodeTokenHolder:
        self.tokens(store).get(authenticator_id)
        return CodeTokenHolder(self.tokens(store), authenticator_id, clock)

    def verifier(self) -> CodeVerifier:
        return CodeVerifier(self.policy, amr=self.amr)

    # -- code-token operations ------------------------------------------------------------------

    def create(
        self,
        store: Store,
        clock: Clock,
        *,
        name: str,
        source: SeedImport,
        drift_ppm: float = 0.0,
        clock_offset: float = 0.0,
    ) -> CodeTokenRecord:
        check_seed(source.seed)
        now = clock.now()
        hardware = {"drift_ppm": drift_ppm, "clock_offset": clock_offset, "synced_at": now}
        serial = source.serial or new_serial(self.serial_prefix)
        return self.tokens(store).create(name, source.seed, source.params, serial, hardware, now)

    def verify_code(self, store: Store, name: str, code: str, now: float) -> CheckResult:
        """A plain-code check, its replay and lockout state committed atomically."""
        tokens = self.tokens(store)
        with store.transaction():
            record = tokens.get(name)
            result = self.verifier().check_code(record.key(), record.state, code, now)
            if result.state != record.state:
                tokens.save_state(name, result.state)
        return result

    def resync(self, store: Store, name: str, code1: str, code2: str, now: float) -> CheckResult:
        tokens = self.tokens(store)
        with store.transaction():
            record = tokens.get(name)
            result = self.verifier().resync(record.key(), record.state, code1, code2, now)
            if result.state != record.state:
                tokens.save_state(name, result.state)
        return result


plugin = CodeTokenPlugin()
