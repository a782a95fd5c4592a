"""Per-kind login steps: the part of a login page that is one authenticator kind's.

Each kind's step is a module of its own, listed here by import path and loaded when present, so
adding a kind is adding its module: the pages, the OIDC side and the control API stay untouched.
"""

from __future__ import annotations

import importlib

from authenticators import registry
from authenticators.server.steps.base import LoginStep

STEP_MODULES: dict[str, str] = {
    "codeviser": "authenticators.server.steps.code_token:step",
    "kodeoplaeser": "authenticators.server.steps.code_token:step",
    "app": "authenticators.server.steps.app:step",
    "chip": "authenticators.server.steps.chip:step",
}


def load_steps() -> dict[str, LoginStep]:
    """The steps of the kinds that are installed and have a step module, by kind."""
    installed = registry.plugins()
    found: dict[str, LoginStep] = {}
    for kind, target in STEP_MODULES.items():
        if kind not in installed:
            continue
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        step = getattr(module, attr)
        assert isinstance(step, LoginStep)
        found[kind] = step
    return found
