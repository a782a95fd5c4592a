"""HOTP and TOTP (RFC 4226, RFC 6238): the core both code tokens share.

The verifier's hot path lives here: a seed is keyed into an HMAC once (``cryptography``), each
slot of a window costs one copy of it, and every slot is compared in constant time, never stopping
at the first match. :func:`hotp` is the plain reference form of the same computation.
"""

from __future__ import annotations

import enum
import hmac
import math
import struct
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac

from authenticators.ct import bytes_eq
from authenticators.digits import is_digits


class Algorithm(enum.Enum):
    SHA1 = "SHA1"
    SHA256 = "SHA256"
    SHA512 = "SHA512"

    @property
    def digest_name(self) -> str:
        return _DIGEST_NAMES[self]

    @property
    def seed_size(self) -> int:
        """The RFC 6238 reference seed length: one hash output."""
        return {"SHA1": 20, "SHA256": 32, "SHA512": 64}[self.value]

    @classmethod
    def parse(cls, name: str) -> Algorithm:
        key = name.upper().replace("-", "")
        for algorithm in cls:
            if algorithm.value == key:
                return algorithm
        raise ValueError(f"unknown algorithm {name!r}; use SHA1, SHA256 or SHA512")


_DIGEST_NAMES = {algorithm: algorithm.value.lower() for algorithm in Algorithm}

_HASHES: dict[Algorithm, type[hashes.HashAlgorithm]] = {
    Algorithm.SHA1: hashes.SHA1,
    Algorithm.SHA256: hashes.SHA256,
    Algorithm.SHA512: hashes.SHA512,
}

_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")

DIGITS_ALLOWED = (6, 8)
PERIODS_ALLOWED = (30, 60)


@dataclass(frozen=True)
class OtpParams:
    """How a token turns time into codes; the defaults are RFC 6238's."""

    algorithm: Algorithm = Algorithm.SHA1
    digits: int = 6
    period: int = 30
    t0: int = 0

    def __post_init__(self) -> None:
        if self.digits not in DIGITS_ALLOWED:
            raise ValueError(f"digits must be 6 or 8, not {self.digits}")
        if self.period not in PERIODS_ALLOWED:
            raise ValueError(f"period must be 30 or 60 seconds, not {self.period}")

    def step(self, t: float) -> int:
        return math.floor((t - self.t0) / self.period)

    def step_start(self, step: int) -> float:
        return float(self.t0 + step * self.period)


def hotp(key: bytes, counter: int, digits: int = 6, algorithm: Algorithm = Algorithm.SHA1) -> str:
    """RFC 4226 section 5.3: dynamic truncation of HMAC(key, counter)."""
    mac = hmac.digest(key, counter.to_bytes(8, "big"), algorithm.digest_name)
    offset = mac[-1] & 0x0F
    binary = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    return str(binary % 10**digits).zfill(digits)


def totp(key: bytes, t: float, params: OtpParams = OtpParams()) -> str:
    return hotp(key, params.step(t), params.digits, params.algorithm)


def is_well_formed(code: str, digits: int) -> bool:
    """Exactly ``digits`` ASCII digits: full-width or other Unicode digits are not codes."""
    return is_digits(code, digits)


class OtpKey:
    """A seed made ready for HMAC once, so every slot of a window costs one copy of it."""

    __slots__ = ("_keyed", "_modulus", "params")

    def __init__(self, seed: bytes, params: OtpParams) -> None:
        self.params = params
        self._keyed = crypto_hmac.HMAC(seed, _HASHES[params.algorithm]())
        self._modulus = 10**params.digits

    def __repr__(self) -> str:
        return f"OtpKey(params={self.params!r})"

    def value(self, step: int) -> int:
        """The code for ``step`` as a number (RFC 4226 dynamic truncation)."""
        mac = self._keyed.copy()
        mac.update(step.to_bytes(8, "big"))
        digest = mac.finalize()
        offset = digest[-1] & 0x0F
        binary = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
        return int(binary % self._modulus)

    def code(self, step: int) -> str:
        return str(self.value(step)).zfill(self.params.digits)

    def given(self, code: str) -> bytes:
        """A well-formed code (see :func:`is_well_formed`) in the form :meth:`find` compares.

        Comparing the numbers as fixed-width bytes is the same as comparing the digit strings.
        """
        return _U32.pack(int(code))

    def code_of(self, slot: bytes) -> str:
        """The digits of one slot value, as :meth:`find` hands it to ``derive``."""
        return str(_U32.unpack(slot)[0]).zfill(self.params.digits)

    def find(
        self,
        given: bytes,
        first: int,
        count: int,
        derive: Callable[[bytes], bytes] | None = None,
    ) -> int | None:
        """The latest step of ``first .. first + count - 1`` whose slot value (passed through
        ``derive`` when given) equals ``given``, or None.

        Every slot is computed and compared. The slots are taken in an order that starts at a
        secret place (a byte of the previous search's last HMAC output), and the match is kept
        with float arithmetic, which touches the same objects whatever the values: the time
        taken does not tell which slot matched (``make timing`` measures it). When a code shows
        in two slots (about one window in a million), the later step is the one to take: it
        leaves fewer steps open to a replay.
        """
        if not 0 < count <= MAX_SLOTS:
            raise ValueError(f"a window has 1 to {MAX_SLOTS} slots, not {count}")
        # The hot path of every verification: kept to local names on purpose.
        pack32 = _U32.pack
        unpack32 = _U32.unpack_from
        pack64 = _U64.pack
        keyed = self._keyed
        modulus = self._modulus
        best = _NO_SLOT
        digest = b""
        for index in _ROTATIONS[count][_start[0] % count]:
            mac = keyed.copy()
            mac.update(pack64(first + index))
            digest = mac.finalize()
            value = pack32((unpack32(digest, digest[-1] & 0x0F)[0] & 0x7FFFFFFF) % modulus)
            if derive is not None:
                value = derive(value)
            candidate = _NO_SLOT + (index - _NO_SLOT) * bytes_eq(value, given)
            best = candidate if candidate > best else best
        _start[0] = digest[0]
        return None if best < 0.0 else int(first + best)

    def matching_steps(self, code: str, first: int, last: int) -> list[int]:
        """Every step in ``first..last`` whose code equals ``code``, checking all of them."""
        given = self.given(code)
        steps = range(max(first, 0), last + 1)
        return [step for step in steps if bytes_eq(_U32.pack(self.value(step)), given)]


MAX_SLOTS = 7  # a window of at most ±3 steps
_NO_SLOT = -1.0


def _rotations(count: int) -> tuple[tuple[int, ...], ...]:
    """For each place to start, the slot indexes in the order they are taken."""
    return tuple(
        tuple((start + offset) % count for offset in range(count)) for start in range(count)
    )


_ROTATIONS = tuple(_rotations(count) for count in range(MAX_SLOTS + 1))
#: Where the next search starts: any process-wide secret byte will do, and each search leaves
#: one of its HMAC outputs here. (A list item, so that writing it is one atomic step.)
_start = [0]


def matching_steps(key: bytes, code: str, first: int, last: int, params: OtpParams) -> list[int]:
    """Every step in ``first..last`` whose code equals ``code``: :meth:`OtpKey.matching_steps`."""
    return OtpKey(key, params).matching_steps(code, first, last)
