"""The app PIN at rest: six ASCII digits, a slow salted hash, a constant-time check."""

from __future__ import annotations

import pytest

from authenticators.app.pin import check_pin, hash_pin, pin_problem


def test_a_pin_hash_checks_the_pin_and_hides_it() -> None:
    encoded = hash_pin("482915")
    assert encoded.startswith("scrypt$")
    assert "482915" not in encoded
    assert check_pin(encoded, "482915")
    assert not check_pin(encoded, "482914")
    assert hash_pin("482915") != encoded  # salted


@pytest.mark.parametrize("pin", ["12345", "1234567", "12345a", "１２３４５６", " 12345", ""])
def test_only_six_ascii_digits_make_a_pin(pin: str) -> None:
    problem = pin_problem(pin)
    assert problem is not None
    assert "6 digits" in problem
    assert pin not in problem or not pin
    with pytest.raises(ValueError, match="6 digits"):
        hash_pin(pin)


def test_a_malformed_pin_or_hash_never_matches_and_never_raises() -> None:
    encoded = hash_pin("000000")
    assert not check_pin(encoded, "１２３４５６")
    for damaged in ("", "scrypt$1$2", "md5$1$1$1$AA==$AA==", encoded.replace("$", "!")):
        assert not check_pin(damaged, "000000")
    assert not check_pin(encoded[:-4] + "@@@=", "000000")
