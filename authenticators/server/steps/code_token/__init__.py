"""The code display (codeviser) and audio code reader (kodeoplaeser) step: code, then password.

The page takes the code the person reads off the token (or hears) and their password; the
browser never sends the code itself to the core: the server turns it into the transaction-bound
proof a MitID client would send (:func:`~authenticators.codeviser.device.response_for_code`).
The control API can press a token's button and read its code, so tests pass the step without a
person.
"""

from __future__ import annotations

from authenticators.server.steps.code_token.login_step import CodeTokenStep, step

__all__ = ["CodeTokenStep", "step"]
