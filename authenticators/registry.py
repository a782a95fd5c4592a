"""Finds authenticator kinds through the ``authenticators.plugins`` entry-point group.

Our own kinds register themselves exactly as a third party's would, so there is one way in.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from authenticators.protocol import AuthenticatorPlugin, ErrorCode, ProtocolError

GROUP = "authenticators.plugins"


@cache
def plugins() -> dict[str, AuthenticatorPlugin]:
    """All installed kinds by name, loaded once."""
    found: dict[str, AuthenticatorPlugin] = {}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        plugin = ep.load()
        if not isinstance(plugin, AuthenticatorPlugin):
            raise TypeError(f"entry point {ep.name!r} ({ep.value}) is not an authenticator plugin")
        if plugin.kind != ep.name:
            raise TypeError(f"entry point {ep.name!r} loads a plugin of kind {plugin.kind!r}")
        found[ep.name] = plugin
    return found


def get(kind: str) -> AuthenticatorPlugin:
    try:
        return plugins()[kind]
    except KeyError:
        known = ", ".join(plugins()) or "none installed"
        raise ProtocolError(
            ErrorCode.UNKNOWN_KIND, f"unknown authenticator kind {kind!r}; known kinds: {known}"
        ) from None


def kinds() -> list[str]:
    return list(plugins())
