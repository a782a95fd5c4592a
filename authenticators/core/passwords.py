"""Passwords at rest: scrypt from ``cryptography``, compared through the constant-time helper."""

from __future__ import annotations

import base64
import secrets

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from authenticators.ct import bytes_eq

# scrypt cost: about 50 ms and 16 MiB per hash on a laptop core (RFC 7914 interactive logins).
_N, _R, _P = 2**14, 8, 1
_SCHEME = "scrypt"
MIN_LENGTH = 8
MAX_LENGTH = 256


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(password.encode("utf-8"))


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _derive(password, salt, _N, _R, _P)
    b64 = base64.b64encode
    return f"{_SCHEME}${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def check_password(encoded: str, password: str) -> bool:
    """True when ``password`` matches; a damaged hash never matches and never raises."""
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != _SCHEME:
            return False
        expected = base64.b64decode(digest)
        given = _derive(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return bytes_eq(given, expected)


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password has at most {MAX_LENGTH} characters"
    return None
