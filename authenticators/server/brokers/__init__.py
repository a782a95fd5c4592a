"""Broker dialects: the login server speaks as Idura (Criipto), Signaturgruppen and Signicat do.

Each dialect is one module registered in the entry-point group ``authenticators.brokers`` (a
third party's dialect registers the same way) and gets an issuer of its own under
``/brokers/<name>``: discovery document, JWKS, signing key and clients. Logins go through the
one login core and its pages; a dialect only translates parameters, claims and errors.
"""

from __future__ import annotations

from functools import cache

from authenticators import registry
from authenticators.server.brokers.base import Dialect

PREFIX = "/brokers"


@cache
def dialects() -> dict[str, Dialect]:
    """Every installed dialect by its name, loaded once (through the one entry-point loader)."""
    found: dict[str, Dialect] = {}
    for name, dialect in registry.load_all(registry.BROKERS_GROUP).items():
        if not isinstance(dialect, Dialect):
            raise TypeError(f"entry point {name!r} is not a broker dialect")
        if dialect.name != name:
            raise TypeError(f"entry point {name!r} loads the dialect {dialect.name!r}")
        found[name] = dialect
    return found


def mounts() -> dict[str, Dialect]:
    """Every mount name (a dialect's name and its aliases, e.g. criipto) to its dialect."""
    return {mount: d for d in dialects().values() for mount in d.mounts}


def issuer_path(mount: str) -> str:
    """The issuer's path for a mount, e.g. ``/brokers/signaturgruppen/op``."""
    dialect = mounts()[mount]
    return f"{PREFIX}/{dialect.directory or mount}{dialect.base}"


def get(name: str) -> Dialect:
    try:
        return mounts()[name]
    except KeyError:
        known = ", ".join(dialects()) or "none installed"
        raise KeyError(f"unknown broker {name!r}; known brokers: {known}") from None
