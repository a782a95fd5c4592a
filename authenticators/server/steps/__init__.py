"""Per-kind login steps: the part of a login page that is one authenticator kind's.

Each kind registers its step object in the "authenticators.server" entry-point group (see
:mod:`authenticators.registry`), so adding a kind is adding its registration: the pages, the OIDC
side and the control API stay untouched.
"""

from __future__ import annotations

from authenticators import registry
from authenticators.server.steps.base import LoginStep


def load_steps() -> dict[str, LoginStep]:
    """The steps of the kinds that are installed and register one, by kind."""
    found: dict[str, LoginStep] = {}
    for kind, step in registry.facets(registry.SERVER_GROUP).items():
        if not isinstance(step, LoginStep):
            raise TypeError(f"the server step of {kind!r} is not a login step")
        found[kind] = step
    return found
