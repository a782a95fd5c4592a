"""PSKC (RFC 6030) seed files, as `mitid-emu codeviser import` reads them.

Rules: a file is either read or refused with a ``SeedError``; what is read has seeds of at least
the minimum size and writes back to a file that reads the same.
"""

from __future__ import annotations

from authenticators.codeviser.seeds import MIN_SEED_BYTES, SeedError, read_pskc, write_pskc
from security.fuzz import FuzzFailure


def one_input(data: bytes) -> None:
    try:
        read = read_pskc(data)
    except SeedError:
        return
    for token in read:
        if len(token.seed) < MIN_SEED_BYTES:
            raise FuzzFailure("a seed below the minimum size was accepted")
    again = read_pskc(write_pskc(read))
    if [(t.seed, t.params, t.serial) for t in again] != [
        (t.seed, t.params, t.serial) for t in read
    ]:
        raise FuzzFailure("the PSKC file written back reads differently")
