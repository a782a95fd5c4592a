"""The one digit check: ASCII digits only, the count exact when given."""

from __future__ import annotations

import pytest

from authenticators.digits import is_digits
from tests.support import Emu, assert_user_error


@pytest.mark.parametrize(
    ("text", "count", "ok"),
    [
        ("123456", 6, True),
        ("123456", None, True),
        ("0", None, True),
        ("12345", 6, False),
        ("1234567", 6, False),
        ("１２３４５６", 6, False),  # full-width: isdigit() says yes, we say no
        ("١٢٣", None, False),  # Arabic-Indic digits
        ("12 34", None, False),
        ("", None, False),
        ("", 0, False),
        (123456, 6, False),
        (None, None, False),
    ],
)
def test_only_ascii_digits_are_digits(text: object, count: int | None, ok: bool) -> None:
    assert is_digits(text, count) is ok


def test_a_code_on_the_command_line_is_ascii_digits(emu: Emu) -> None:
    result = emu("login", "--user-id", "nobody", "--method", "codeviser", "--code", "１２３４５６")
    assert_user_error(result, "--code", "digits 0-9")
