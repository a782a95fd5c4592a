"""The person holding a code token: presses its button, reads the display, types the code.

A code token has no data link to the host; what crosses is what a person reads off the display.
This module is that person, with the simulated hardware of :mod:`firmware_sim.otp_token` in hand.
"""

from __future__ import annotations

from authenticators.clock import Clock
from authenticators.codeviser.tokens import TokenRepository
from authenticators.protocol import (
    Challenge,
    ErrorCode,
    ProtocolError,
    Response,
    UserAction,
    code_proof,
)
from firmware_sim.otp_token import Display, OtpToken, TokenHardwareError


def response_for_code(challenge: Challenge, authenticator_id: str, code: str) -> Response:
    """What a login page sends after the user typed ``code``: the proof, never the code."""
    if not code.isascii():
        # The proof needs ASCII; anything else is sent as-is so the verifier can say MALFORMED.
        return Response(challenge.transaction_id, challenge.kind, authenticator_id, {"code": code})
    proof = code_proof(code, challenge).hex()
    return Response(challenge.transaction_id, challenge.kind, authenticator_id, {"proof": proof})


class CodeTokenHolder:
    """Device side of the protocol for a code display or audio code reader."""

    def __init__(self, tokens: TokenRepository, name: str, clock: Clock) -> None:
        self.tokens = tokens
        self.name = name
        self.clock = clock

    def _hardware(self) -> OtpToken:
        record = self.tokens.get(self.name)
        return OtpToken.from_state(record.seed, record.params, record.serial, record.hardware)

    def press(self) -> Display:
        """Press the button (one press of battery) and read the display."""
        with self.tokens.store.transaction():
            token = self._hardware()
            try:
                display = token.press(self.clock.now())
            except TokenHardwareError as exc:
                raise ProtocolError(ErrorCode.DEVICE_ERROR, exc.message) from None
            self.tokens.save_hardware(self.name, token.hardware_state())
        return display

    def look(self) -> Display:
        """Read the display without pressing: blank once it has timed out."""
        return self._hardware().display(self.clock.now())

    def stale(self) -> bool:
        """True once the code last shown is no longer the token's current code."""
        token = self._hardware()
        return token.last_code != token.code_at(self.clock.now())

    def last_code(self) -> str | None:
        """The code last shown, whether or not the display is still lit (for repeat)."""
        return self._hardware().last_code

    def respond(self, challenge: Challenge, action: UserAction) -> Response:
        if action is not UserAction.PRESS_BUTTON:
            raise ProtocolError(
                ErrorCode.UNSUPPORTED_ACTION, f"a {self.tokens.kind} only knows press_button"
            )
        display = self.press()
        assert display.code is not None
        return response_for_code(challenge, self.name, display.code)
