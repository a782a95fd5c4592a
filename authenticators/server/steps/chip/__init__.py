"""The chip step: the password, then the chip signs the login's challenge through WebAuthn.

The page runs ``navigator.credentials.get`` (a script served here, so ``script-src 'self'``
allows it) with the RP ID and the credential of the enrollment and a WebAuthn challenge derived
from the whole login challenge (:func:`~authenticators.chip.webauthn.client_challenge`), so the
assertion answers this one transaction. The form carries the assertion and the password back;
the core checks both (the chip plugin's verifier, then the password).

The control API enrolls a simulated chip (``sim:NAME``, registered through the HAL as
``mitid-emu chip register`` does) or a credential made elsewhere (its COSE public key, for a
browser's virtual authenticator), and lets the test browser have a simulated chip sign, as a
platform (the browser and the operating system) would.
"""

from __future__ import annotations

from authenticators.server.steps.chip.login_step import ChipStep, step

__all__ = ["ChipStep", "step"]
