"""The USB chip, host side: python-fido2 over the HAL, the WebAuthn verifier and the QA battery.

``plugin`` (in :mod:`authenticators.chip.plugin`) is the ``chip`` kind: amr ``u2f_token``, used
with the password it reaches level high. :mod:`~authenticators.chip.enroll` registers a
credential on any device URI, :mod:`~authenticators.chip.webauthn` verifies assertions,
:mod:`~authenticators.chip.attestation` judges attestation by configured roots, and
:mod:`~authenticators.chip.selftest` is the battery ``mitid-emu chip selftest`` runs.
"""
