"""The chip QA battery: CTAPHID, U2F, CTAP2, PIN, credential management, extensions and reset.

``run_selftest(device, allow_reset=...)`` runs every check in a fixed order against one opened
token — a simulator or a real key through the same code — and returns a :class:`Report`;
:mod:`~authenticators.chip.selftest.junit` writes it as JUnit XML for CI dashboards.
"""

from __future__ import annotations

from collections.abc import Callable

from authenticators.chip.selftest import credman, ctap2, ctaphid, extensions, pin, reset, u2f
from authenticators.chip.selftest.runner import Check, CheckResult, Outcome, Report, run
from authenticators.hal import HalDevice

AREAS = ("ctaphid", "u2f", "ctap2", "reset", "pin", "credman", "extensions")

#: Destructive checks come after the first reset and end with a cleaning reset.
CHECKS: tuple[Check, ...] = (
    *ctaphid.area.checks,
    *u2f.area.checks,
    *ctap2.area.checks,
    *reset.area.checks,
    *pin.area.checks,
    *credman.area.checks,
    *extensions.area.checks,
    *reset.final.checks,
)


def select(areas: tuple[str, ...] = ()) -> list[Check]:
    unknown = set(areas) - set(AREAS)
    if unknown:
        raise ValueError(f"unknown area {sorted(unknown)[0]!r}; areas: {', '.join(AREAS)}")
    return [c for c in CHECKS if not areas or c.area in areas]


def run_selftest(
    device: HalDevice,
    *,
    allow_reset: bool = False,
    areas: tuple[str, ...] = (),
    on_result: Callable[[CheckResult], None] | None = None,
    on_touch_needed: Callable[[], None] | None = None,
) -> Report:
    return run(
        select(areas),
        device,
        allow_reset=allow_reset,
        on_result=on_result,
        on_touch_needed=on_touch_needed,
    )


__all__ = ["AREAS", "CHECKS", "Check", "CheckResult", "Outcome", "Report", "run_selftest", "select"]
