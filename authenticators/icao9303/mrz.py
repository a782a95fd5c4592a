"""The machine readable zone: check digits and the MRZ information BAC and PACE derive keys from
(ICAO 9303-3 §4.9, 9303-11 §4.3.2)."""

from __future__ import annotations

import re

_WEIGHTS = (7, 3, 1)
_FIELD = re.compile(r"[0-9A-Z<]*")


def _value(char: str) -> int:
    if char.isdigit():
        return int(char)
    if char == "<":
        return 0
    return ord(char) - ord("A") + 10


def check_digit(text: str) -> str:
    if not _FIELD.fullmatch(text):
        raise ValueError(f"not MRZ characters: {text!r}")
    total = sum(_value(c) * _WEIGHTS[i % 3] for i, c in enumerate(text))
    return str(total % 10)


def mrz_information(document_number: str, birth: str, expiry: str) -> str:
    """Document number, birth date (YYMMDD) and expiry date (YYMMDD), each with its check digit.

    A document number shorter than nine characters is filled with ``<``; a longer one (TD1/TD2
    long numbers) is used whole.
    """
    number = document_number.upper().ljust(9, "<")
    for name, value in (("birth", birth), ("expiry", expiry)):
        if not re.fullmatch(r"\d{6}", value):
            raise ValueError(f"the {name} date is YYMMDD, not {value!r}")
    return number + check_digit(number) + birth + check_digit(birth) + expiry + check_digit(expiry)
