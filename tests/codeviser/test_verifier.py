"""The code verifier: window, replay, lockout, drift learning, resync, transaction-bound proofs."""

from __future__ import annotations

import secrets

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from authenticators.clock import FrozenClock
from authenticators.codeviser.device import response_for_code
from authenticators.codeviser.record import TokenState, params_to_dict
from authenticators.codeviser.verifier import CodeVerifier, VerifierPolicy
from authenticators.otp import Algorithm, OtpKey, OtpParams
from authenticators.protocol import (
    Action,
    Challenge,
    Enrollment,
    Reason,
    ReferenceText,
    Response,
)
from firmware_sim.otp_token import OtpToken
from tests.support import T0

SEED = bytes(range(20))
PARAMS = OtpParams()
KEY = OtpKey(SEED, PARAMS)
STEP = PARAMS.step(T0)


def verifier(**policy: float) -> CodeVerifier:
    return CodeVerifier(VerifierPolicy(**policy))  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(offset=st.integers(min_value=-6, max_value=6), seconds=st.floats(0, 29.999))
def test_a_code_verifies_inside_the_window_and_nowhere_else(offset: int, seconds: float) -> None:
    now = PARAMS.step_start(STEP) + seconds
    code = KEY.code(STEP + offset)
    window_codes = {KEY.code(STEP + d) for d in (-1, 0, 1)}
    result = verifier().check_code(KEY, TokenState(), code, now)
    if abs(offset) <= 1:
        assert result.reason is Reason.OK
        assert result.step == STEP + offset
    else:
        assume(code not in window_codes)  # a 1-in-a-million collision is not a bug
        assert result.reason is Reason.WRONG_CODE


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=12))
def test_any_other_string_is_refused_and_never_raises(text: str) -> None:
    result = verifier().check_code(KEY, TokenState(), text, T0)
    window_codes = {KEY.code(STEP + d) for d in (-1, 0, 1)}
    if text in window_codes:
        assert result.reason is Reason.OK
    elif len(text) == 6 and text.isascii() and text.isdigit():
        assert result.reason is Reason.WRONG_CODE
    else:
        assert result.reason is Reason.MALFORMED
        assert result.state == TokenState()  # malformed input does not count as a guess


FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize("table", [FULLWIDTH, ARABIC_INDIC], ids=["fullwidth", "arabic-indic"])
def test_unicode_digits_are_malformed(table: dict[int, str]) -> None:
    other = KEY.code(STEP).translate(table)
    assert other.isdigit()  # Python calls them digits; the verifier must not
    assert verifier().check_code(KEY, TokenState(), other, T0).reason is Reason.MALFORMED


def wrong_code(near: int = STEP) -> str:
    """A well-formed code that matches no step within ±2 of ``near``."""
    taken = {KEY.code(near + d) for d in range(-2, 3)}
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in taken)


@pytest.mark.parametrize("junk", [None, 123456, b"123456", ["123456"], 1.5])
def test_non_strings_are_malformed(junk: object) -> None:
    assert verifier().check_code(KEY, TokenState(), junk, T0).reason is Reason.MALFORMED


def test_a_used_step_and_any_earlier_one_are_replays() -> None:
    v = verifier()
    first = v.check_code(KEY, TokenState(), KEY.code(STEP), T0)
    assert first.reason is Reason.OK
    again = v.check_code(KEY, first.state, KEY.code(STEP), T0)
    assert again.reason is Reason.REPLAYED
    earlier = v.check_code(KEY, first.state, KEY.code(STEP - 1), T0)
    assert earlier.reason is Reason.REPLAYED
    later = v.check_code(KEY, first.state, KEY.code(STEP + 1), T0)
    assert later.reason is Reason.OK
    assert again.state == first.state  # a replay is not a guess either


def test_three_wrong_codes_block_the_token_for_a_while() -> None:
    v = verifier(block_seconds=300)
    wrong = wrong_code()
    state = TokenState()
    for attempt in range(3):
        result = v.check_code(KEY, state, wrong, T0 + attempt)
        assert result.reason is Reason.WRONG_CODE
        state = result.state
    assert state.locked(T0 + 2)
    assert "blocked" in result.detail
    # While blocked even the right code is refused, without being checked or counted.
    blocked = v.check_code(KEY, state, KEY.code(STEP), T0 + 10)
    assert blocked.reason is Reason.LOCKED
    assert blocked.state == state
    # After the block the right code works again.
    later = T0 + 2 + 300
    ok = v.check_code(KEY, state, KEY.code(PARAMS.step(later)), later)
    assert ok.reason is Reason.OK
    assert ok.state.failures == 0


def test_a_right_code_resets_the_wrong_count() -> None:
    v = verifier()
    wrong = wrong_code()
    state = v.check_code(KEY, TokenState(), wrong, T0).state
    state = v.check_code(KEY, state, wrong, T0).state
    assert state.failures == 2
    state = v.check_code(KEY, state, KEY.code(STEP), T0).state
    assert state.failures == 0
    state = v.check_code(KEY, state, wrong, T0).state
    assert not state.locked(T0)


@pytest.mark.parametrize("ppm", [-40.0, 25.0, 60.0])
def test_the_verifier_learns_a_drifting_token(ppm: float) -> None:
    """Logins every four days for a year: the token's clock wanders off by up to half an hour."""
    clock = FrozenClock(T0)
    token = OtpToken(seed=SEED, params=PARAMS, drift_ppm=ppm, synced_at=T0)
    v = verifier()
    state = TokenState()
    for day in range(0, 365, 4):
        clock.advance(4 * 86400)
        result = v.check_code(KEY, state, token.press(clock.now()).code, clock.now())
        assert result.reason is Reason.OK, (day, result)
        state = result.state
    drift_seconds = 365 * 86400 * ppm / 1e6
    assert abs(state.drift * 30 - drift_seconds) <= 60
    # Without what it learned, the same token is no longer recognised.
    fresh = v.check_code(KEY, TokenState(), token.press(clock.now()).code, clock.now())
    assert fresh.reason is Reason.WRONG_CODE


def test_resync_from_two_consecutive_codes() -> None:
    v = verifier()
    drifted = STEP + 20
    code1, code2 = KEY.code(drifted), KEY.code(drifted + 1)
    assert v.check_code(KEY, TokenState(), code1, T0).reason is Reason.WRONG_CODE
    result = v.resync(KEY, TokenState(), code1, code2, T0)
    assert result.reason is Reason.OK
    assert result.state.drift == 21
    assert result.state.last_step == drifted + 1
    # The next code of the drifted token now verifies normally.
    nxt = v.check_code(KEY, result.state, KEY.code(drifted + 2), T0 + 30)
    assert nxt.reason is Reason.OK
    # The pair cannot be used again.
    assert v.resync(KEY, nxt.state, code1, code2, T0).reason is Reason.REPLAYED


def test_resync_refuses_codes_that_are_not_consecutive_or_too_far() -> None:
    v = verifier()
    state = TokenState()
    swapped = v.resync(KEY, state, KEY.code(STEP + 1), KEY.code(STEP), T0)
    assert swapped.reason is Reason.WRONG_CODE
    far = v.resync(KEY, state, KEY.code(STEP + 80), KEY.code(STEP + 81), T0)
    assert far.reason is Reason.WRONG_CODE
    assert v.resync(KEY, state, "12", "34", T0).reason is Reason.MALFORMED


@pytest.mark.parametrize("algorithm", list(Algorithm))
@pytest.mark.parametrize("digits", [6, 8])
def test_other_parameters(algorithm: Algorithm, digits: int) -> None:
    params = OtpParams(algorithm=algorithm, digits=digits, period=60)
    seed = secrets.token_bytes(algorithm.seed_size)
    key = OtpKey(seed, params)
    token = OtpToken(seed=seed, params=params)
    code = token.code_at(T0)
    assert len(code) == digits
    assert verifier().check_code(key, TokenState(), code, T0).reason is Reason.OK
    assert verifier().check_code(key, TokenState(), code[:6], T0).reason is (
        Reason.OK if digits == 6 else Reason.MALFORMED
    )


# -- the transaction-bound proof -----------------------------------------------------------------


def challenge(**changes: object) -> Challenge:
    base = Challenge(
        transaction_id="tx-1",
        nonce=b"\x07" * 32,
        kind="codeviser",
        service_provider="Demo Bank",
        reference_text=ReferenceText(Action.LOG_ON, "Log on to Demo Bank"),
        issued_at=T0,
        expires_at=T0 + 180,
    )
    return Challenge(**{**base.__dict__, **changes})  # type: ignore[arg-type]


def enrollment(state: TokenState | None = None) -> Enrollment:
    record = {
        "seed": SEED,
        "params": params_to_dict(PARAMS),
        "state": (state or TokenState())._asdict(),
    }
    return Enrollment("codeviser", "t1", record)


def test_a_proof_binds_the_code_to_its_transaction() -> None:
    c = challenge()
    response = response_for_code(c, "t1", KEY.code(STEP))
    assert "code" not in response.payload  # the code never travels in clear
    verdict = verifier().verify(enrollment(), c, response, T0)
    assert verdict.ok
    assert verdict.amr == "code_token"
    assert verdict.state is not None


@pytest.mark.parametrize(
    "changes",
    [
        {"service_provider": "Evil Bank"},
        {"reference_text": ReferenceText(Action.SIGN, "Log on to Demo Bank")},
        {"reference_text": ReferenceText(Action.LOG_ON, "Log on to Demo Bank!")},
        {"nonce": b"\x08" * 32},
    ],
)
def test_a_proof_does_not_verify_for_another_transaction(changes: dict[str, object]) -> None:
    response = response_for_code(challenge(), "t1", KEY.code(STEP))
    other = challenge(**changes)
    verdict = verifier().verify(enrollment(), other, response, T0)
    assert verdict.reason is Reason.WRONG_CODE


def test_a_response_for_another_transaction_id_is_malformed() -> None:
    response = response_for_code(challenge(transaction_id="tx-2"), "t1", KEY.code(STEP))
    assert verifier().verify(enrollment(), challenge(), response, T0).reason is Reason.MALFORMED


def test_an_expired_challenge_is_refused() -> None:
    c = challenge()
    response = response_for_code(c, "t1", KEY.code(PARAMS.step(T0 + 200)))
    assert verifier().verify(enrollment(), c, response, T0 + 200).reason is Reason.EXPIRED


def test_plain_code_check_through_the_protocol() -> None:
    c = challenge()
    response = Response("tx-1", "codeviser", "t1", {"code": KEY.code(STEP)})
    assert verifier().verify(enrollment(), c, response, T0).ok


@settings(max_examples=300, deadline=None)
@given(
    payload=st.dictionaries(
        st.sampled_from(["proof", "code", "x"]),
        st.one_of(st.none(), st.integers(), st.text(max_size=70), st.binary(max_size=40)),
    )
)
def test_the_verifier_never_raises_on_junk(payload: dict[str, object]) -> None:
    response = Response("tx-1", "codeviser", "t1", payload)
    verdict = verifier().verify(enrollment(), challenge(), response, T0)
    assert verdict.reason in {Reason.MALFORMED, Reason.WRONG_CODE, Reason.OK}


def test_a_damaged_enrollment_is_malformed_not_a_crash() -> None:
    broken = Enrollment("codeviser", "t1", {"seed": "not bytes", "params": {}})
    response = response_for_code(challenge(), "t1", "123456")
    assert verifier().verify(broken, challenge(), response, T0).reason is Reason.MALFORMED


@pytest.mark.parametrize("window", [-1, 4, 10])
def test_a_window_wider_than_three_steps_is_refused(window: int) -> None:
    with pytest.raises(ValueError, match="window must be between 0 and 3 steps"):
        VerifierPolicy(window=window)


@pytest.mark.parametrize("window", [0, 2, 3])
def test_every_slot_of_a_wider_window_verifies_once(window: int) -> None:
    verifier = CodeVerifier(VerifierPolicy(window=window))
    for offset in range(-window - 1, window + 2):
        result = verifier.check_code(KEY, TokenState(), KEY.code(STEP + offset), T0)
        inside = abs(offset) <= window
        assert (result.reason is Reason.OK) is inside, offset
        if inside:
            assert result.step == STEP + offset
            again = verifier.check_code(KEY, result.state, KEY.code(STEP + offset), T0)
            assert again.reason is Reason.REPLAYED
