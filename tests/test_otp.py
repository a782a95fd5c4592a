"""HOTP/TOTP against the published vectors of RFC 4226 and RFC 6238."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authenticators.otp import (
    MAX_SLOTS,
    Algorithm,
    OtpKey,
    OtpParams,
    hotp,
    is_well_formed,
    totp,
)
from firmware_sim.otp_token import OtpToken
from tests.support import load_vectors

RFC4226 = load_vectors("rfc-4226.txt")
RFC6238 = load_vectors("rfc-6238.txt")
SEEDS = {
    Algorithm.SHA1: b"12345678901234567890",
    Algorithm.SHA256: b"12345678901234567890123456789012",
    Algorithm.SHA512: b"1234567890123456789012345678901234567890123456789012345678901234",
}


def test_vector_files_are_complete() -> None:
    assert len(RFC4226) == 10
    assert len(RFC6238) == 18


@pytest.mark.parametrize("vector", RFC4226, ids=lambda v: f"count{v['COUNT']}")
def test_rfc4226_hotp(vector: dict[str, str]) -> None:
    secret = bytes.fromhex(vector["SECRET"])
    counter = int(vector["COUNT"])
    assert hotp(secret, counter) == vector["HOTP"]
    assert OtpKey(secret, OtpParams()).code(counter) == vector["HOTP"]
    assert OtpKey(secret, OtpParams()).matching_steps(vector["HOTP"], 0, 9) == [counter]


@pytest.mark.parametrize("vector", RFC6238, ids=lambda v: f"{v['MODE']}-{v['TIME']}")
def test_rfc6238_totp(vector: dict[str, str]) -> None:
    algorithm = Algorithm.parse(vector["MODE"])
    params = OtpParams(algorithm=algorithm, digits=8)
    t = int(vector["TIME"])
    seed = SEEDS[algorithm]
    assert totp(seed, t, params) == vector["TOTP"]
    # The verifier's hot path and the simulated hardware (pyotp) agree with the RFC too.
    step = params.step(t)
    assert OtpKey(seed, params).matching_steps(vector["TOTP"], step - 1, step + 1) == [step]
    assert OtpToken(seed=seed, params=params).code_at(t) == vector["TOTP"]


def test_every_slot_is_checked_and_all_matches_reported() -> None:
    seed = SEEDS[Algorithm.SHA1]
    key = OtpKey(seed, OtpParams())
    codes = {step: key.code(step) for step in range(0, 20000)}
    # Find two steps that share a code (6 digits, 20,000 steps: about 200 collisions).
    seen: dict[str, int] = {}
    pair = None
    for step, code in codes.items():
        if code in seen:
            pair = (seen[code], step)
            break
        seen[code] = step
    assert pair is not None
    first, second = pair
    assert key.matching_steps(codes[first], first, second) == [first, second]


@given(
    count=st.integers(1, MAX_SLOTS),
    chosen=st.sets(st.integers(0, MAX_SLOTS - 1)),
    repeats=st.integers(1, 4),
)
def test_find_takes_the_latest_matching_slot_wherever_the_search_starts(
    count: int, chosen: set[int], repeats: int
) -> None:
    key = OtpKey(SEEDS[Algorithm.SHA1], OtpParams())
    first = 1000
    hits = {key.code(first + index) for index in chosen if index < count}

    def derive(value: bytes) -> bytes:  # makes exactly the chosen slots match
        return b"hit" if key.code_of(value) in hits else b"miss"

    steps = [first + index for index in range(count) if key.code(first + index) in hits]
    expected = max(steps) if steps else None
    for _ in range(repeats):  # each search starts where the previous one left a byte
        assert key.find(b"hit", first, count, derive) == expected
    for step in range(first, first + count):
        assert key.find(key.given(key.code(step)), first, count) is not None


def test_find_refuses_a_window_it_cannot_search() -> None:
    key = OtpKey(SEEDS[Algorithm.SHA1], OtpParams())
    for count in (0, -1, MAX_SLOTS + 1):
        with pytest.raises(ValueError, match="slots"):
            key.find(key.given("123456"), 0, count)


@pytest.mark.parametrize(
    "code",
    ["123456", "000000"],
)
def test_well_formed_codes(code: str) -> None:
    assert is_well_formed(code, 6)


@pytest.mark.parametrize(
    "code",
    ["12345", "1234567", "12345a", "１２３４５６", "١٢٣٤٥٦", " 12345", "12 456", "", "+12345"],
)
def test_malformed_codes(code: str) -> None:
    assert not is_well_formed(code, 6)


def test_params_are_checked() -> None:
    with pytest.raises(ValueError, match="digits"):
        OtpParams(digits=7)
    with pytest.raises(ValueError, match="period"):
        OtpParams(period=45)
    with pytest.raises(ValueError, match="algorithm"):
        Algorithm.parse("MD5")
    assert Algorithm.parse("sha-256") is Algorithm.SHA256


def test_otp_key_repr_hides_the_seed() -> None:
    key = OtpKey(b"\x01" * 20, OtpParams())
    assert "\\x01" not in repr(key)
    assert "0101" not in repr(key)
