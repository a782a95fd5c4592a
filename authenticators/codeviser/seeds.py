"""Seeds in and out as hardware vendors ship them: `otpauth://` URIs and PSKC (RFC 6030) files."""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import pskc
import pskc.exceptions

from authenticators.digits import is_digits
from authenticators.otp import Algorithm, OtpParams
from authenticators.protocol import ErrorCode, ProtocolError

TOTP_ALGORITHM_URN = "urn:ietf:params:xml:ns:keyprov:pskc:totp"
#: RFC 4226 section 4 requires at least 128 bits; 80 is the floor real otpauth URIs ship (and
#: pyotp and oathtool accept), so shorter seeds down to it are taken with a warning.
MIN_SEED_BYTES = 10
RFC_SEED_BYTES = 16


class SeedError(ProtocolError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.INVALID_SEED, message)


@dataclass(frozen=True)
class SeedImport:
    """One token's seed and parameters, read from a URI or a PSKC key package."""

    seed: bytes = field(repr=False)
    params: OtpParams
    serial: str = ""
    label: str = ""
    issuer: str = ""


def decode_base32(text: str) -> bytes:
    cleaned = text.strip().replace(" ", "").upper()
    cleaned += "=" * (-len(cleaned) % 8)
    try:
        seed = base64.b32decode(cleaned, casefold=False)
    except (binascii.Error, ValueError):
        raise SeedError("the secret is not valid base32 (letters A-Z and digits 2-7)") from None
    check_seed(seed)
    return seed


def check_seed(seed: bytes) -> None:
    """The one seed-length rule of every entry (import, new, control API, PSKC)."""
    if len(seed) < MIN_SEED_BYTES:
        raise SeedError(
            f"the secret is {len(seed) * 8} bits; a seed must be at least "
            f"{MIN_SEED_BYTES * 8} bits ({MIN_SEED_BYTES} bytes)"
        )


def seed_warning(seed: bytes) -> str | None:
    """A one-line warning for a seed that is accepted but shorter than RFC 4226 requires."""
    if len(seed) >= RFC_SEED_BYTES:
        return None
    return (
        f"warning: the secret is {len(seed) * 8} bits; RFC 4226 requires at least "
        f"{RFC_SEED_BYTES * 8} bits (accepted, as authenticator apps do)"
    )


def parse_otpauth(uri: str) -> SeedImport:
    """Read ``otpauth://totp/LABEL?secret=…&algorithm=…&digits=…&period=…``."""
    _check_text("URI", uri, limit=4096)
    parts = urlsplit(uri.strip())
    if parts.scheme != "otpauth":
        raise SeedError("not an otpauth:// URI; give otpauth://totp/LABEL?secret=BASE32")
    if parts.netloc != "totp":
        raise SeedError(
            f"otpauth type {parts.netloc!r} is not supported; code tokens are time-based (totp)"
        )
    query = parse_qs(parts.query, keep_blank_values=True)
    for key, values in query.items():
        if len(values) > 1:
            raise SeedError(f"the URI gives {key!r} more than once")
    get = {k: v[0] for k, v in query.items()}
    if not get.get("secret"):
        raise SeedError("the URI has no secret= parameter")
    seed = decode_base32(get["secret"])
    try:
        params = OtpParams(
            algorithm=Algorithm.parse(get.get("algorithm", "SHA1")),
            digits=_int_param(get, "digits", 6),
            period=_int_param(get, "period", 30),
        )
    except ValueError as exc:
        raise SeedError(f"bad URI parameter: {exc}") from None
    label = unquote(parts.path.lstrip("/"))
    issuer = get.get("issuer", "")
    if ":" in label:
        prefix, label = label.split(":", 1)
        issuer = issuer or prefix
    serial = get.get("serial", "")
    for name, text in (("serial", serial), ("label", label), ("issuer", issuer)):
        _check_text(name, text)
    return SeedImport(seed, params, serial=serial, label=label.strip(), issuer=issuer)


def _check_text(name: str, text: str, limit: int = 200) -> None:
    """Serials and labels end up in the state and on screens: printable text only."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise SeedError(f"the {name} is not valid text (bytes that are not UTF-8)") from None
    if len(text) > limit or not text.isprintable():
        raise SeedError(f"the {name} must be printable text of at most {limit} characters")


def _int_param(values: dict[str, str], name: str, default: int) -> int:
    raw = values.get(name)
    if raw is None:
        return default
    if not is_digits(raw):
        raise ValueError(f"{name} must be a number, not {raw!r}")
    return int(raw)


def to_otpauth(seed: bytes, params: OtpParams, label: str, issuer: str, serial: str = "") -> str:
    query = {
        "secret": base64.b32encode(seed).decode("ascii").rstrip("="),
        "issuer": issuer,
        "algorithm": params.algorithm.value,
        "digits": str(params.digits),
        "period": str(params.period),
    }
    if serial:
        query["serial"] = serial
    return f"otpauth://totp/{quote(f'{issuer}:{label}')}?{urlencode(query, quote_via=quote)}"


def read_pskc(source: Path | bytes, password: str | None = None) -> list[SeedImport]:
    """Read every TOTP key of a PSKC container; ``password`` unlocks a PBKDF2-protected one."""
    try:
        container = pskc.PSKC(io.BytesIO(source) if isinstance(source, bytes) else str(source))
    except OSError as exc:
        raise SeedError(f"cannot read PSKC file: {exc.strerror or exc}") from None
    except (pskc.exceptions.PSKCError, ValueError, TypeError) as exc:
        raise SeedError(f"not a valid PSKC file: {exc}") from None
    if container.encryption.is_encrypted:
        if password is None:
            raise SeedError("the PSKC file is password-protected; give its --password")
        try:
            container.encryption.derive_key(password)
        except (pskc.exceptions.PSKCError, ValueError, TypeError) as exc:
            raise SeedError(f"cannot unlock the PSKC file: {exc}") from None
    imports = []
    for index, key in enumerate(container.keys, start=1):
        try:
            imports.append(_key_import(key))
        except pskc.exceptions.DecryptionError:
            raise SeedError(
                "cannot decrypt the PSKC secrets: wrong --password, or the file is damaged"
            ) from None
        except (pskc.exceptions.PSKCError, ValueError, TypeError) as exc:
            raise SeedError(f"PSKC key {index}: {exc}") from None
    if not imports:
        raise SeedError("the PSKC file holds no keys")
    return imports


def _key_import(key: pskc.key.Key) -> SeedImport:
    if key.algorithm and key.algorithm != TOTP_ALGORITHM_URN:
        raise ValueError(f"algorithm {key.algorithm} is not TOTP")
    secret = key.secret
    if not isinstance(secret, bytes):
        raise ValueError("no secret in the key package")
    check_seed(secret)
    suite = (key.algorithm_suite or "HMAC-SHA1").upper().removeprefix("HMAC-")
    params = OtpParams(
        algorithm=Algorithm.parse(suite),
        digits=int(key.response_length or 6),
        period=int(key.time_interval or 30),
    )
    serial, label = str(key.serial or ""), str(key.friendly_name or "")
    _check_text("serial", serial)
    _check_text("label", label)
    return SeedImport(secret, params, serial=serial, label=label)


def write_pskc(tokens: Iterable[SeedImport], password: str | None = None) -> bytes:
    """A PSKC container of TOTP keys; with ``password`` the secrets are PBKDF2 + AES encrypted."""
    container = pskc.PSKC()
    for token in tokens:
        key = container.add_key(
            secret=token.seed,
            algorithm=TOTP_ALGORITHM_URN,
            response_length=token.params.digits,
            time_interval=token.params.period,
            serial=token.serial or None,
            manufacturer="mitid-emulator",
        )
        key.algorithm_suite = f"HMAC-{token.params.algorithm.value}"
        if token.label:
            key.friendly_name = token.label
    if password is not None:
        container.encryption.setup_pbkdf2(password, iterations=100_000)
    out = io.BytesIO()
    container.write(out)
    return out.getvalue()
