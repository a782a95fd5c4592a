"""``otpauth://`` seed URIs, as `mitid-emu codeviser import` reads them.

Rules: a URI is either read or refused with a ``SeedError`` (a message, never a traceback); what
is read writes back to a URI that reads the same seed and parameters.
"""

from __future__ import annotations

from authenticators.codeviser.seeds import SeedError, parse_otpauth, to_otpauth
from security.fuzz import FuzzFailure


def one_input(data: bytes) -> None:
    text = data.decode("utf-8", "surrogateescape")
    try:
        read = parse_otpauth(text)
    except SeedError:
        return
    again = parse_otpauth(to_otpauth(read.seed, read.params, read.label, read.issuer, read.serial))
    if (again.seed, again.params, again.serial) != (read.seed, read.params, read.serial):
        raise FuzzFailure("the URI written back reads differently")
