"""Finds authenticator kinds, and everything else that plugs in, through entry points.

A kind is one registration: its distribution names it in each facet's entry-point group, and the
CLI, the server, the pages, the control API, the test client and the pytest plugin find it there.
Our own kinds register themselves exactly as a third party's would, so there is one way in.

=============================  ==============================================================
group                          each entry point (named after the kind) loads
=============================  ==============================================================
``authenticators.plugins``     the :class:`~authenticators.protocol.AuthenticatorPlugin`
``authenticators.cli``         its ``click`` command group (``mitid-emu KIND ...``)
``authenticators.cli_login``   its part of ``mitid-emu login``: ``step(LoginStep) -> Response``
``authenticators.server``      its login step object (``server.steps.base.LoginStep``)
``authenticators.pages``       its page strings: ``{key: {"da": ..., "en": ...}}``; the key
                               ``kind_<kind>`` is its name on the method choice
``authenticators.testing``     its browser driver for ``server.testing.BrowserLogin``
=============================  ==============================================================

Only ``authenticators.plugins`` is required; a kind without a facet simply lacks that front end.

Any other pluggable thing uses the same loader under a group of its own (broker dialects:
``authenticators.brokers``)::

    registry.names("authenticators.brokers")           # the names, nothing imported
    registry.load("authenticators.brokers", "idura")   # one object, or None when absent
    registry.load_all("authenticators.brokers")        # {name: object}, sorted by name

Loading is cached per process. An entry point whose module is not installed (a stale install) is
skipped as absent; any other import error is raised.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from importlib.metadata import EntryPoint, entry_points

from authenticators.protocol import AuthenticatorPlugin, ErrorCode, ProtocolError

GROUP = "authenticators.plugins"
CLI_GROUP = "authenticators.cli"
CLI_LOGIN_GROUP = "authenticators.cli_login"
SERVER_GROUP = "authenticators.server"
PAGES_GROUP = "authenticators.pages"
TESTING_GROUP = "authenticators.testing"
BROKERS_GROUP = "authenticators.brokers"


@cache
def _entry_points(group: str) -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in sorted(entry_points(group=group), key=lambda e: e.name)}


def names(group: str) -> list[str]:
    """The names registered in ``group``, sorted, without importing anything."""
    return list(_entry_points(group))


_ABSENT = object()


@cache
def _load(group: str, name: str) -> object:
    ep = _entry_points(group).get(name)
    if ep is None:
        return _ABSENT
    module_name = ep.module
    try:
        import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not (module_name + ".").startswith(exc.name + "."):
            raise
        return _ABSENT  # the entry point names a module this installation does not have
    return ep.load()


def load(group: str, name: str) -> object | None:
    """The object ``name`` registers in ``group``, or None when it registers none."""
    found = _load(group, name)
    return None if found is _ABSENT else found


def load_all(group: str) -> dict[str, object]:
    """Every object registered in ``group``, by name, sorted by name."""
    found: dict[str, object] = {}
    for name in names(group):
        obj = load(group, name)
        if obj is not None:
            found[name] = obj
    return found


@cache
def plugins() -> dict[str, AuthenticatorPlugin]:
    """All installed kinds by name, loaded once."""
    found: dict[str, AuthenticatorPlugin] = {}
    for name, plugin in load_all(GROUP).items():
        ep = _entry_points(GROUP)[name]
        if not isinstance(plugin, AuthenticatorPlugin):
            raise TypeError(f"entry point {name!r} ({ep.value}) is not an authenticator plugin")
        if plugin.kind != name:
            raise TypeError(f"entry point {name!r} loads a plugin of kind {plugin.kind!r}")
        found[name] = plugin
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


def facet(group: str, kind: str) -> object | None:
    """A kind's object in a facet group; None when the kind is not installed or lacks it."""
    if kind not in plugins():
        return None
    return load(group, kind)


def facets(group: str) -> dict[str, object]:
    """The installed kinds' objects in a facet group, by kind."""
    installed = plugins()
    return {kind: obj for kind, obj in load_all(group).items() if kind in installed}
