"""The one constant-time comparison helper: every secret comparison goes through it."""

from __future__ import annotations

from hmac import compare_digest


def bytes_eq(a: bytes, b: bytes) -> bool:
    """Compare two byte strings in time independent of where they differ.

    Both must be exactly ``bytes``: comparing ``str`` would invite encoding mistakes that leak
    length. (It sits on every verification's hot path, hence ``type() is`` over ``isinstance``.)
    """
    if type(a) is bytes and type(b) is bytes:
        return compare_digest(a, b)
    raise TypeError("bytes_eq compares bytes only")
