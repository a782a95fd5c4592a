"""The code-token verifier: drift window, replay refusal, 3-strike lockout, resync.

It is pure: state comes in, a verdict and the new state go out; the caller persists them inside
one store transaction. Every slot of a window is computed and compared, match or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from authenticators.codeviser.record import TokenState, VerifierRecord
from authenticators.otp import MAX_SLOTS, OtpKey, OtpParams, is_well_formed
from authenticators.protocol import (
    Challenge,
    Enrollment,
    Level,
    Reason,
    Response,
    Verdict,
    code_proof,
)

MAX_WINDOW = (MAX_SLOTS - 1) // 2


@dataclass(frozen=True)
class VerifierPolicy:
    window: int = 1  # steps either side; at most 3, since each slot is one more chance to guess
    max_failures: int = 3
    block_seconds: float = 300.0
    resync_window: int = 50
    max_drift: int = 120  # an hour at 30 s: about three years of a 20 ppm crystal

    def __post_init__(self) -> None:
        if not 0 <= self.window <= MAX_WINDOW:
            raise ValueError(
                f"window must be between 0 and {MAX_WINDOW} steps; drift beyond it is learned "
                "from accepted codes or found again with resync"
            )
        if self.max_failures < 1 or self.block_seconds < 0 or self.resync_window < 1:
            raise ValueError("max_failures and resync_window must be positive, block_seconds >= 0")


_new = tuple.__new__
_OK = Reason.OK


class CheckResult(NamedTuple):
    reason: Reason
    state: TokenState
    step: int | None = None
    detail: str = ""


class CodeVerifier:
    """Checks codes (plain or bound to a transaction) against a seed and its token state."""

    def __init__(self, policy: VerifierPolicy | None = None, *, amr: str = "code_token") -> None:
        self.policy = policy or VerifierPolicy()
        self.amr = amr
        self._window_steps = self.policy.window
        self._max_drift = self.policy.max_drift

    # -- the protocol entry point ---------------------------------------------------------------

    def verify(
        self, enrollment: Enrollment, challenge: Challenge, response: Response, now: float
    ) -> Verdict:
        try:
            key, state = _unpack(enrollment)
        except (KeyError, TypeError, ValueError):
            return Verdict(Reason.MALFORMED, kind=enrollment.kind, detail="unreadable enrollment")
        if (
            response.transaction_id != challenge.transaction_id
            or response.kind != challenge.kind
            or response.authenticator_id != enrollment.authenticator_id
        ):
            return Verdict(
                Reason.MALFORMED, kind=enrollment.kind, detail="response for another transaction"
            )
        if challenge.expired(now):
            return Verdict(Reason.EXPIRED, kind=enrollment.kind, detail="the challenge has expired")
        payload = response.payload
        if isinstance(payload.get("proof"), str):
            result = self.check_proof(key, state, payload["proof"], challenge, now)
        elif isinstance(payload.get("code"), str):
            result = self.check_code(key, state, payload["code"], now)
        else:
            return Verdict(Reason.MALFORMED, kind=enrollment.kind, detail="no code or proof given")
        return Verdict(
            result.reason,
            kind=enrollment.kind,
            amr=self.amr if result.reason is Reason.OK else None,
            level=Level.SUBSTANTIAL if result.reason is Reason.OK else None,
            state=result.state.to_dict(),
            detail=result.detail,
        )

    # -- checks ---------------------------------------------------------------------------------

    def check_code(self, key: OtpKey, state: TokenState, code: object, now: float) -> CheckResult:
        params = key.params
        # is_well_formed, inline: this is the hot path of every verification.
        if not (
            type(code) is str and len(code) == params.digits and code.isascii() and code.isdigit()
        ):
            return CheckResult(
                Reason.MALFORMED, state, detail=f"a code is exactly {params.digits} digits 0-9"
            )
        last, anchor, _, locked_until = state
        if now < locked_until:
            return self._locked(state, now)
        center = int((now - params.t0) // params.period)
        expected = center if last is None or anchor is None else center + last - anchor
        window = self._window_steps
        first = expected - window if expected >= window else 0
        step = key.find(key.given(code), first, expected + window - first + 1)
        if step is not None and (last is None or step > last):
            return self._accepted(step, center)
        return self._refused(step is not None, state, now, params)

    def check_proof(
        self,
        key: OtpKey,
        state: TokenState,
        proof_hex: str,
        challenge: Challenge,
        now: float,
    ) -> CheckResult:
        try:
            proof = bytes.fromhex(proof_hex)
        except ValueError:
            return CheckResult(Reason.MALFORMED, state, detail="the proof is not hex")
        if len(proof) != 32:
            return CheckResult(Reason.MALFORMED, state, detail="the proof is not 32 bytes")
        if state.locked(now):
            return self._locked(state, now)
        center = key.params.step(now)
        first, count = self._window(center, state)
        message = challenge.canonical_bytes()

        def prove(value: bytes) -> bytes:
            return code_proof(key.code_of(value), challenge, message)

        step = key.find(proof, first, count, prove)
        if step is not None and (state.last_step is None or step > state.last_step):
            return self._accepted(step, center)
        return self._refused(step is not None, state, now, key.params)

    def resync(
        self, key: OtpKey, state: TokenState, code1: str, code2: str, now: float
    ) -> CheckResult:
        """Find the token again from two consecutive codes anywhere in the wide window."""
        for code in (code1, code2):
            if not isinstance(code, str) or not is_well_formed(code, key.params.digits):
                return CheckResult(
                    Reason.MALFORMED,
                    state,
                    detail=f"a code is exactly {key.params.digits} digits 0-9",
                )
        if state.locked(now):
            return self._locked(state, now)
        center = key.params.step(now)
        first = max(0, center - self.policy.resync_window)
        last = center + self.policy.resync_window
        firsts = set(key.matching_steps(code1, first, last))
        seconds = key.matching_steps(code2, first + 1, last + 1)
        pairs = [step for step in seconds if step - 1 in firsts]
        fresh = [s for s in pairs if state.last_step is None or s > state.last_step]
        if pairs and not fresh:
            return CheckResult(Reason.REPLAYED, state, detail="these codes were already used")
        if not fresh:
            return self._fail(Reason.WRONG_CODE, state, now)
        step = min(fresh)
        new = TokenState(last_step=step, anchor=center, failures=0, locked_until=0.0)
        return CheckResult(
            Reason.OK, new, step, detail=f"resynchronised, drift {step - center:+d} steps"
        )

    # -- internals ------------------------------------------------------------------------------

    def _window(self, center: int, state: TokenState) -> tuple[int, int]:
        """The first step of the window around where the token should be, and its width."""
        last, anchor = state.last_step, state.anchor
        expected = center if last is None or anchor is None else center + last - anchor
        first = max(0, expected - self._window_steps)
        return first, max(0, expected + self._window_steps) - first + 1

    def _accepted(self, accepted: int, center: int) -> CheckResult:
        """Accept the step; record the drift as an anchor step, kept within the limit."""
        limit = self._max_drift
        anchor = center if center >= accepted - limit else accepted - limit
        anchor = anchor if anchor <= accepted + limit else accepted + limit
        # NamedTuple's constructors without their argument handling: the hot path.
        state = _new(TokenState, (accepted, anchor, 0, 0.0))
        return _new(CheckResult, (_OK, state, accepted, ""))

    def _refused(self, seen: bool, state: TokenState, now: float, params: OtpParams) -> CheckResult:
        """Refuse: a replay when the code matched a used step (saying when the token shows its
        next code), otherwise a wrong code."""
        if seen:
            return CheckResult(
                Reason.REPLAYED,
                state,
                detail=f"this code was already used; the next code comes in "
                f"{_next_code_in(state, now, params):.0f} s",
            )
        return self._fail(Reason.WRONG_CODE, state, now)

    def _fail(self, reason: Reason, state: TokenState, now: float) -> CheckResult:
        failures = state.failures + 1
        if failures >= self.policy.max_failures:
            blocked = state._replace(failures=0, locked_until=now + self.policy.block_seconds)
            return CheckResult(
                reason,
                blocked,
                detail=f"{failures} wrong codes in a row: token blocked for "
                f"{self.policy.block_seconds:.0f} s",
            )
        left = self.policy.max_failures - failures
        return CheckResult(
            reason,
            state._replace(failures=failures),
            detail=f"{left} attempt(s) left before a block",
        )

    def _locked(self, state: TokenState, now: float) -> CheckResult:
        return CheckResult(
            Reason.LOCKED,
            state,
            detail=f"token blocked after too many wrong codes; try again in "
            f"{state.locked_until - now:.0f} s",
        )


def _unpack(enrollment: Enrollment) -> tuple[OtpKey, TokenState]:
    record = VerifierRecord.from_enrollment(enrollment)
    return OtpKey(record.seed, record.params), record.state


def _next_code_in(state: TokenState, now: float, params: OtpParams) -> float:
    """Seconds until the token shows a code after the last one accepted (at least 1)."""
    last, anchor = state.last_step, state.anchor
    if last is None:
        return 1.0
    # the token was ``last - anchor`` steps ahead: it shows step last + 1 at our step anchor + 1
    ours = (anchor if anchor is not None else last) + 1
    return max(1.0, params.step_start(ours) - now)
