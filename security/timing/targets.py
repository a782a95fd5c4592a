"""The secret comparisons we own, as timing targets: a setup, two input classes, one call timed.

Each target times only the path that touches the secret, with everything else fixed (the same
token state, challenge and time for every call), so the only thing that differs between the
classes is the secret-dependent input. Classes are two kinds of *wrong* input (a near miss
sharing a long prefix with the right value, against a random one) or two kinds of right input
(the match in the first slot of the window, against the last): a timing difference between them
would tell an attacker how close a guess was, or where the token's clock is.

More targets register with :func:`register`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import secrets
from collections.abc import Callable
from typing import NamedTuple

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from authenticators.app.answer import BindMethod, Decision, UserVerification
from authenticators.app.channel import BINDING_SIZE, binding_code
from authenticators.app.pin import check_pin
from authenticators.app.verifier import AppVerifier, _Payload
from authenticators.clock import FrozenClock
from authenticators.codeviser.record import TokenState
from authenticators.codeviser.verifier import CodeVerifier
from authenticators.ct import bytes_eq
from authenticators.otp import OtpKey, OtpParams
from authenticators.protocol import Action, Challenge, ReferenceText, code_proof
from firmware_sim.chip import ChipDevice, ChipError
from firmware_sim.chip.pin import PERM_GA, PinProtocol, PinToken
from firmware_sim.chip.state import PIN_RETRIES_MAX
from security.timing.dudect import Case, TimingTarget

T0 = 1_700_000_000.0

TARGETS: dict[str, TimingTarget] = {}


def register(target: TimingTarget) -> TimingTarget:
    if target.name in TARGETS:
        raise ValueError(f"timing target {target.name!r} is registered twice")
    TARGETS[target.name] = target
    return target


def timing_target(
    name: str,
    description: str,
    classes: tuple[str, str],
    *,
    max_per_class: int | None = None,
    quick_per_class: int | None = None,
) -> Callable[[Callable[[], Case]], Callable[[], Case]]:
    def decorate(setup: Callable[[], Case]) -> Callable[[], Case]:
        register(
            TimingTarget(
                name, description, classes, setup, max_per_class, quick_per_class=quick_per_class
            )
        )
        return setup

    return decorate


# -- fresh objects: every measurement gets its own input object, in both classes --------------


def fresh_str(text: str) -> str:
    return "".join(list(text)) if len(text) > 1 else text


def fresh_bytes(data: bytes) -> bytes:
    return bytes(bytearray(data))


def random_digits(count: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(count))


def near_digits(right: str) -> str:
    """``right`` with its last digit changed: a guess that shares all but one digit."""
    last = secrets.choice([d for d in "0123456789" if d != right[-1]])
    return right[:-1] + last


def near_bytes(right: bytes) -> bytes:
    """``right`` with its last byte changed."""
    return right[:-1] + bytes([right[-1] ^ (1 + secrets.randbelow(255))])


# -- the code token ---------------------------------------------------------------------------


POOL = 2048


class _Window(NamedTuple):
    """One secret of the pool: a time and the codes of the three slots of its window."""

    now: float
    codes: tuple[str, str, str]


def _code_token() -> tuple[OtpKey, TokenState, list[_Window]]:
    """A token and a pool of times whose three window slots show three different codes.

    Each measurement draws its time from the pool, so the right code changes from call to call
    and the guesses of both classes are uniformly distributed: only how a guess relates to the
    right code differs between the classes, not what the guess looks like (parsing ``"012345"``
    and ``"987654"`` may differ by a nanosecond, which the test would otherwise see).
    """
    params = OtpParams()
    key = OtpKey(secrets.token_bytes(20), params)
    first = params.step(T0)
    pool = []
    for step in range(first, first + POOL):
        codes = (key.code(step - 1), key.code(step), key.code(step + 1))
        if len(set(codes)) == 3:
            pool.append(_Window(params.step_start(step) + 1.0, codes))
    return key, TokenState(), pool


def _wrong(window: _Window, make: Callable[[], str]) -> str:
    while (code := make()) in window.codes:
        pass
    return code


@timing_target(
    "codeviser.code.near",
    "CodeVerifier.check_code: a wrong code sharing 5 digits with the right one vs a random one",
    ("5 digits right", "random"),
)
def _code_near() -> Case:
    key, state, pool = _code_token()
    verifier = CodeVerifier()

    def make(label: int) -> tuple[float, str]:
        window = secrets.choice(pool)
        if label == 0:
            return window.now, _wrong(window, lambda: near_digits(window.codes[1]))
        return window.now, _wrong(window, lambda: random_digits(6))

    return Case(lambda guess: verifier.check_code(key, state, guess[1], guess[0]), make)


@timing_target(
    "codeviser.code.slot",
    "CodeVerifier.check_code: the right code in the first slot of the window vs the last",
    ("first slot", "last slot"),
)
def _code_slot() -> Case:
    key, state, pool = _code_token()
    verifier = CodeVerifier()

    def make(label: int) -> tuple[float, str]:
        window = secrets.choice(pool)
        return window.now, fresh_str(window.codes[0] if label == 0 else window.codes[2])

    return Case(lambda guess: verifier.check_code(key, state, guess[1], guess[0]), make)


def _challenge(kind: str = "codeviser") -> Challenge:
    return Challenge(
        transaction_id=secrets.token_urlsafe(18),
        nonce=secrets.token_bytes(32),
        kind=kind,
        service_provider="Timing Bank",
        reference_text=ReferenceText(Action.LOG_ON, "Log on to Timing Bank"),
        issued_at=T0 - 10,
        expires_at=T0 + 170,
    )


def _proof_pool() -> tuple[OtpKey, TokenState, Challenge, list[tuple[float, list[bytes]]]]:
    """The code-token pool with the proofs of each window's three slots for one challenge."""
    key, state, pool = _code_token()
    challenge = _challenge()
    proofs = [
        (window.now, [code_proof(code, challenge) for code in window.codes])
        for window in pool[: POOL // 4]
    ]
    return key, state, challenge, proofs


@timing_target(
    "codeviser.proof.near",
    "CodeVerifier.check_proof: a wrong proof sharing 31 bytes with the right one vs a random one",
    ("31 bytes right", "random"),
)
def _proof_near() -> Case:
    key, state, challenge, pool = _proof_pool()
    verifier = CodeVerifier()

    def make(label: int) -> tuple[float, str]:
        now, proofs = secrets.choice(pool)
        while (guess := near_bytes(proofs[1]) if label == 0 else secrets.token_bytes(32)) in proofs:
            pass
        return now, guess.hex()

    return Case(lambda guess: verifier.check_proof(key, state, guess[1], challenge, guess[0]), make)


@timing_target(
    "codeviser.proof.slot",
    "CodeVerifier.check_proof: the right proof for the first slot of the window vs the last",
    ("first slot", "last slot"),
)
def _proof_slot() -> Case:
    key, state, challenge, pool = _proof_pool()
    verifier = CodeVerifier()

    def make(label: int) -> tuple[float, str]:
        now, proofs = secrets.choice(pool)
        return now, (proofs[0] if label == 0 else proofs[2]).hex()

    return Case(lambda guess: verifier.check_proof(key, state, guess[1], challenge, guess[0]), make)


# -- the app: channel binding and PIN ---------------------------------------------------------


def _binding_case(method: str) -> Case:
    """Each call draws the screen's binding value from a pool (see :func:`_code_token`)."""
    pool = [secrets.token_bytes(BINDING_SIZE) for _ in range(256)]
    codes = {value: binding_code(value) for value in pool}
    challenge = _challenge("app")
    problem = AppVerifier._binding_problem
    bind_method = BindMethod.QR if method == "qr" else BindMethod.CODE

    def payload(bind: bytes, expected: bytes) -> _Payload:
        return _Payload(
            Decision.APPROVE,
            bind_method,
            bind,
            1,
            UserVerification.NONE,
            int(T0 * 1000),
            b"\x30" * 70,
            fresh_bytes(expected),
        )

    def make(label: int) -> _Payload:
        expected = secrets.choice(pool)
        if method == "qr":
            return payload(
                near_bytes(expected) if label == 0 else secrets.token_bytes(32), expected
            )
        right = codes[expected]
        while (code := near_digits(right) if label == 0 else random_digits(4)) == right:
            pass
        return payload(code.encode("ascii"), expected)

    return Case(lambda answer: problem(challenge, answer), make)


@timing_target(
    "app.binding.qr",
    "AppVerifier binding check: a QR value sharing 31 bytes with the screen's vs a random one",
    ("31 bytes right", "random"),
)
def _binding_qr() -> Case:
    return _binding_case("qr")


@timing_target(
    "app.binding.code",
    "AppVerifier binding check: a typed code sharing 3 digits with the screen's vs a random one",
    ("3 digits right", "random"),
)
def _binding_code() -> Case:
    return _binding_case("code")


def _pin_hash(pin: str, n: int, r: int, p: int) -> str:
    """A stored PIN hash in the app's format, at the scrypt cost given."""
    salt = secrets.token_bytes(16)
    digest = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(pin.encode("ascii"))
    b64 = base64.b64encode
    return f"scrypt${n}${r}${p}${b64(salt).decode()}${b64(digest).decode()}"


def _pin_case(n: int, r: int, p: int, pool_size: int) -> Case:
    """Each call draws the stored PIN from a pool (see :func:`_code_token`)."""
    pool = []
    for _ in range(pool_size):
        right = random_digits(6)
        pool.append((right, _pin_hash(right, n, r, p)))

    def make(label: int) -> tuple[str, str]:
        right, encoded = secrets.choice(pool)
        while (pin := near_digits(right) if label == 0 else random_digits(6)) == right:
            pass
        return encoded, pin

    return Case(lambda guess: check_pin(guess[0], guess[1]), make)


@timing_target(
    "app.pin",
    "app.pin.check_pin (hash stored at scrypt n=2, so the comparison path dominates): "
    "a PIN sharing 5 digits vs a random one",
    ("5 digits right", "random"),
)
def _app_pin() -> Case:
    return _pin_case(2, 1, 1, 256)


@timing_target(
    "app.pin.scrypt",
    "app.pin.check_pin at the real scrypt cost (n=2^14, ~50 ms a call, hence few measurements): "
    "a PIN sharing 5 digits vs a random one",
    ("5 digits right", "random"),
    max_per_class=200,
    quick_per_class=20,
)
def _app_pin_scrypt() -> Case:
    return _pin_case(2**14, 8, 1, 8)


# -- the chip simulator -----------------------------------------------------------------------


def _chip() -> tuple[ChipDevice, PinProtocol, bytes]:
    """A simulated chip with a PIN set, its clientPIN object, and one shared secret."""
    device = ChipDevice(clock=FrozenClock(T0))
    pin = random_digits(8).encode("ascii")
    device.state.set_pin(hashlib.sha256(pin).digest()[:16], len(pin))
    client_pin = device.client_pin
    protocol = client_pin.protocols[2]
    shared = protocol.kdf(secrets.token_bytes(32))
    return device, protocol, shared


@timing_target(
    "chip.pin",
    "chip simulator clientPIN PIN check: an encrypted pinHash sharing 15 bytes with the stored "
    "one vs a random one",
    ("15 bytes right", "random"),
)
def _chip_pin() -> Case:
    device, protocol, shared = _chip()
    client_pin = device.client_pin
    state = device.state
    stored = state.pin_hash
    assert stored is not None, "the chip has a PIN set by _chip()"

    def make(label: int) -> bytes:
        guess = near_bytes(stored) if label == 0 else secrets.token_bytes(16)
        return protocol.encrypt(shared, guess)

    def before() -> None:
        client_pin.mismatches = 0
        if state.pin_retries != PIN_RETRIES_MAX:
            state.set_pin_retries(PIN_RETRIES_MAX)

    def check(encrypted: bytes) -> None:
        with contextlib.suppress(ChipError):
            client_pin._check_pin(protocol, shared, encrypted)

    return Case(check, make, before)


@timing_target(
    "chip.pin_auth",
    "chip simulator pinUvAuthParam check: a parameter sharing 31 bytes with the right HMAC vs "
    "a random one",
    ("31 bytes right", "random"),
)
def _chip_pin_auth() -> Case:
    device, protocol, _shared = _chip()
    client_pin = device.client_pin
    token = PinToken(secrets.token_bytes(32), 2, PERM_GA, "example.com", 0.0)
    client_pin.token = token
    message = secrets.token_bytes(32)
    right = protocol.authenticate(token.value, message)

    def make(label: int) -> bytes:
        return near_bytes(right) if label == 0 else secrets.token_bytes(len(right))

    def check(param: bytes) -> None:
        with contextlib.suppress(ChipError):
            client_pin.verify_param(2, message, param, PERM_GA, "example.com")

    return Case(check, make)


# -- the login server: PKCE --------------------------------------------------------------------


def _near_text(right: str, alphabet: str) -> str:
    """``right`` with its last character changed to another one of ``alphabet``."""
    return right[:-1] + secrets.choice([c for c in alphabet if c != right[-1]])


_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@timing_target(
    "server.pkce",
    "login server PKCE check (S256 of the code_verifier against the stored code_challenge): "
    "a verifier whose S256 shares 42 of 43 characters with the stored one vs a random one",
    ("42 chars right", "random"),
)
def _server_pkce() -> Case:
    from authenticators.server.oidc.server import S256Challenge

    check = S256Challenge.CODE_CHALLENGE_METHODS["S256"]
    # Each call draws a verifier from a pool and a stored challenge made against it (no one can
    # choose a verifier for a given hash prefix, but what is compared is the same either way):
    # one character off the verifier's own S256, or one off another verifier's. Both classes
    # hash a verifier of the same length and compare 43 characters.
    pool = []
    for _ in range(POOL):
        verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        pool.append((verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")))

    def make(label: int) -> tuple[str, str]:
        # Both classes build the stored value the same way, from the right one's or another's.
        verifier, right = secrets.choice(pool)
        other = right if label == 0 else secrets.choice(pool)[1]
        while (stored := _near_text(other, _B64URL)) == right:
            pass
        return fresh_str(verifier), stored

    def compare(pair: tuple[str, str]) -> bool:
        return bool(check(pair[0], pair[1]))

    return Case(compare, make)


# -- controls: the engine itself --------------------------------------------------------------


def leaky_control() -> TimingTarget:
    """A comparison known to leak (``==`` on 64 KiB, differing at the first byte vs the last):
    the harness must flag it, or it could not be trusted to flag anything."""

    def setup() -> Case:
        right = secrets.token_bytes(65536)
        early = bytes([right[0] ^ 1]) + right[1:]
        late = right[:-1] + bytes([right[-1] ^ 1])

        def make(label: int) -> bytes:
            return fresh_bytes(early if label == 0 else late)

        return Case(lambda guess: guess == right, make)

    return TimingTarget(
        "control.leaky",
        "== on 64 KiB: first byte wrong vs last byte wrong",
        ("early", "late"),
        setup,
    )


def null_control() -> TimingTarget:
    """Both classes the same distribution: the harness must not flag it."""

    def setup() -> Case:
        right = secrets.token_bytes(32)

        def make(label: int) -> bytes:
            return secrets.token_bytes(32)

        return Case(lambda guess: bytes_eq(guess, right), make)

    return TimingTarget("control.null", "bytes_eq, random vs random", ("random", "random"), setup)
