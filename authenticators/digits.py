"""The one check for codes, PINs and numbers a person types: ASCII digits 0-9 and nothing else.

``str.isdigit`` alone accepts full-width and other Unicode digits ("１２３"), which are not codes.
"""

from __future__ import annotations


def is_digits(text: object, count: int | None = None) -> bool:
    """Whether ``text`` is one or more ASCII digits 0-9 (exactly ``count`` when given)."""
    return (
        isinstance(text, str)
        and (count is None or len(text) == count)
        and text.isascii()
        and text.isdigit()
    )
