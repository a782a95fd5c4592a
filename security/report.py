"""``python -m security.report`` (``make security``): every check in its quick form, one table.

Columns: target, measurements, result. The exit status is non-zero when any target fails.
Sections are registered in :data:`SECTIONS`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Row:
    target: str
    measurements: str
    result: str
    passed: bool


Section = Callable[[], Iterator[Row]]
SECTIONS: dict[str, Section] = {}

TIMING_PER_CLASS = 20_000
HTTP_BRUTE_HOURS = 2.0


def section(name: str) -> Callable[[Section], Section]:
    def register(function: Section) -> Section:
        SECTIONS[name] = function
        return function

    return register


@section("timing")
def timing_rows() -> Iterator[Row]:
    from security.timing.dudect import measure, measure_twice_if_needed
    from security.timing.targets import TARGETS, leaky_control

    for target in TARGETS.values():
        per_class = target.per_class(TIMING_PER_CLASS, quick=True)
        result = measure_twice_if_needed(target, per_class)
        yield Row(
            f"timing {target.name}",
            f"{per_class:,} per class",
            f"{result.summary()} {'pass' if result.passed else 'FAIL'}",
            result.passed,
        )
    control = measure(leaky_control(), 5_000)
    yield Row(
        "timing control.leaky",
        "5,000 per class",
        f"|t| = {control.t:.1f}: a leaky == is {'caught' if not control.passed else 'MISSED'}",
        not control.passed,
    )


@section("fuzz")
def fuzz_rows() -> Iterator[Row]:
    from security.fuzz import TARGETS
    from security.fuzz.__main__ import replay

    for target in TARGETS.values():
        count, failures = replay(target)
        result = "no failure" if not failures else f"{len(failures)} FAIL: {failures[0]}"
        yield Row(f"fuzz {target.name} (corpus replay)", f"{count} inputs", result, not failures)


@section("crash")
def crash_rows() -> Iterator[Row]:
    from security import crash

    with tempfile.TemporaryDirectory(prefix="crash-") as scratch:
        report = crash.run(Path(scratch), operations=500)
    kills = report.chip_kills + report.verifier_kills
    result = (
        f"{kills} SIGKILLs ({report.interrupted} mid-operation), counters strictly increasing, "
        f"{len(report.accepted_steps)} steps accepted once, {report.integrity_checks} integrity "
        "checks"
    )
    if not report.ok:
        result = "FAIL: " + "; ".join(report.problems[:3])
    yield Row("crash consistency", f"{report.operations} operations", result, report.ok)


@section("races")
def race_rows() -> Iterator[Row]:
    from security import races

    for result in races.run(processes=6, rounds=2):
        winners = [round_.count("ok") for round_ in result.outcomes]
        yield Row(
            f"race {result.scenario}",
            f"{result.rounds} x {result.processes} processes",
            f"winners per round {winners}" + ("" if result.ok else " FAIL"),
            result.ok,
        )


@section("brute_force")
def brute_force_rows() -> Iterator[Row]:
    from authenticators.store import Store
    from security import brute_force

    with tempfile.TemporaryDirectory(prefix="brute-") as scratch:
        store = Store(Path(scratch))
        report = brute_force.attack(store, hours=24)
        store.close()
    yield Row(
        "brute force code token (library)",
        f"{report.attempts} guesses in 24 h",
        f"{report.per_hour:.1f}/h, P(code guessed in a day) = {report.p_day():.2%}"
        + ("" if report.ok else " FAIL: above the policy"),
        report.ok,
    )
    from security import brute_force_http

    http = brute_force_http.http_attack(hours=HTTP_BRUTE_HOURS)
    same = abs(http.report.per_hour - report.per_hour) <= 1.0
    yield Row(
        "brute force code token (HTTP, login pages)",
        f"{http.report.attempts} guesses in {HTTP_BRUTE_HOURS:g} h, {http.requests} requests",
        f"{http.report.per_hour:.1f}/h, P(code guessed in a day) = {http.report.p_day():.2%}"
        + (" (library: the same)" if same else f" FAIL: library {report.per_hour:.1f}/h")
        + ("" if http.report.ok else " FAIL: above the policy"),
        http.report.ok and same,
    )


@section("secrets")
def secret_rows() -> Iterator[Row]:
    from security import leaks

    for label, scenarios in (
        ("secrets (canaries)", [name for name in leaks.SCENARIOS if name != "server"]),
        ("secrets over HTTP (login server)", ["server"]),
    ):
        report = leaks.run(scenarios)
        result = "no canary found" if report.ok else "FAIL: " + "; ".join(report.findings[:3])
        if report.allowed:
            result += (
                f"; {len(report.allowed)} by design ("
                + ", ".join(sorted({item.split(" in ", 1)[0] for item in report.allowed}))
                + ")"
            )
        yield Row(
            label,
            f"{len(report.canaries)} canaries x {report.texts} texts",
            result,
            report.ok,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m security.report", description=__doc__)
    parser.add_argument("sections", nargs="*", help=f"some of {', '.join(SECTIONS)}")
    args = parser.parse_args(argv)
    unknown = [name for name in args.sections if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}")
    rows: list[Row] = []
    for name in args.sections or list(SECTIONS):
        started = time.monotonic()
        print(f"running {name} …", file=sys.stderr, flush=True)
        try:
            rows.extend(SECTIONS[name]())
        except Exception as exc:
            rows.append(Row(name, "-", f"FAIL: {type(exc).__name__}: {exc}", False))
        print(f"  {name}: {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    widths = [
        max(len(header), *(len(getattr(row, field)) for row in rows))
        for header, field in (("target", "target"), ("measurements", "measurements"))
    ]
    print(f"{'target':{widths[0]}}  {'measurements':{widths[1]}}  result")
    print(f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * 6}")
    for row in rows:
        print(f"{row.target:{widths[0]}}  {row.measurements:{widths[1]}}  {row.result}")
    failed = [row.target for row in rows if not row.passed]
    print(
        f"\n{len(rows) - len(failed)} of {len(rows)} pass"
        + (f"; failing: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
