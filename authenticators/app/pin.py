"""The app's 6-digit PIN at rest: scrypt from ``cryptography``, compared in constant time."""

from __future__ import annotations

import base64
import secrets

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from authenticators.ct import bytes_eq
from authenticators.digits import is_digits

PIN_DIGITS = 6
# scrypt cost: about 50 ms and 16 MiB per hash on a laptop core (RFC 7914 interactive logins).
_N, _R, _P = 2**14, 8, 1
_SCHEME = "scrypt"


def pin_problem(pin: str) -> str | None:
    """Why ``pin`` is not a well-formed PIN, or None. The message never repeats the PIN."""
    if not is_digits(pin, PIN_DIGITS):
        return f"a PIN is exactly {PIN_DIGITS} digits 0-9"
    return None


def _derive(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(pin.encode("ascii"))


def hash_pin(pin: str) -> str:
    """A slow salted hash of a well-formed PIN (raises ValueError for any other string)."""
    problem = pin_problem(pin)
    if problem:
        raise ValueError(problem)
    salt = secrets.token_bytes(16)
    digest = _derive(pin, salt, _N, _R, _P)
    b64 = base64.b64encode
    return f"{_SCHEME}${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def check_pin(encoded: str, pin: str) -> bool:
    """True when ``pin`` matches; a malformed PIN or a damaged hash never matches, never raises."""
    if pin_problem(pin):
        return False
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != _SCHEME:
            return False
        expected = base64.b64decode(digest, validate=True)
        given = _derive(pin, base64.b64decode(salt, validate=True), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return bytes_eq(given, expected)
