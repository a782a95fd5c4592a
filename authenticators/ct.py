"""The one constant-time comparison helper: every secret comparison goes through it."""

from __future__ import annotations

import hmac


def bytes_eq(a: bytes, b: bytes) -> bool:
    """Compare two byte strings in time independent of where they differ.

    Both must be ``bytes``: comparing ``str`` would invite encoding mistakes that leak length.
    """
    if not isinstance(a, bytes) or not isinstance(b, bytes):
        raise TypeError("bytes_eq compares bytes only")
    return hmac.compare_digest(a, b)
