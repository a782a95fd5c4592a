"""HOTP and TOTP (RFC 4226, RFC 6238): the core both code tokens share.

The verifier's hot path lives here: it computes codes with one-shot ``hmac.digest`` and compares
every slot of a window in constant time, never stopping at the first match.
"""

from __future__ import annotations

import enum
import hmac
import math
from dataclasses import dataclass

from authenticators.ct import bytes_eq


class Algorithm(enum.Enum):
    SHA1 = "SHA1"
    SHA256 = "SHA256"
    SHA512 = "SHA512"

    @property
    def digest_name(self) -> str:
        return self.value.lower()

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
    return isinstance(code, str) and len(code) == digits and code.isascii() and code.isdigit()


def matching_steps(key: bytes, code: str, first: int, last: int, params: OtpParams) -> list[int]:
    """Every step in ``first..last`` whose code equals ``code``, checking all of them."""
    given = code.encode("ascii")
    digest = params.algorithm.digest_name
    modulus = 10**params.digits
    digits = params.digits
    found: list[int] = []
    for step in range(first, last + 1):
        mac = hmac.digest(key, step.to_bytes(8, "big"), digest)
        offset = mac[-1] & 0x0F
        value = (int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF) % modulus
        if bytes_eq(str(value).zfill(digits).encode("ascii"), given):
            found.append(step)
    return found
