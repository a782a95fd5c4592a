"""``python -m security.timing [TARGET ...] [--measurements N]``: |t| for every timing target.

Exit status 0 when every target stays below the threshold, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys

from security.timing.dudect import THRESHOLD, measure_twice_if_needed
from security.timing.targets import TARGETS

FULL = 200_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m security.timing", description=__doc__)
    parser.add_argument("targets", nargs="*", help="targets to measure (default: all)")
    parser.add_argument(
        "--measurements",
        type=int,
        default=FULL,
        help=f"measurements per class (default {FULL:,}; slow targets are capped)",
    )
    parser.add_argument("--quick", action="store_true", help="use the quick caps of slow targets")
    parser.add_argument("--list", action="store_true", help="list the targets and exit")
    args = parser.parse_args(argv)
    if args.list:
        for target in TARGETS.values():
            print(f"{target.name:22} {target.description}")
        return 0
    unknown = [name for name in args.targets if name not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; see --list")
    chosen = [TARGETS[name] for name in args.targets] if args.targets else list(TARGETS.values())
    print(f"dudect timing: |t| below {THRESHOLD} passes; classes interleaved at random")
    print(f"{'target':22} {'per class':>10} {'|t|':>8}  {'result':6} {'mean ns (class 0/1)':>22}")
    failed = 0
    for target in chosen:
        per_class = target.per_class(args.measurements, quick=args.quick)
        result = measure_twice_if_needed(target, per_class)
        failed += not result.passed
        t_text = f"{result.t:.2f}"
        if result.earlier is not None:
            t_text = f"{result.earlier.t:.2f}→{result.t:.2f}"
        means = f"{result.mean_ns[0]:,.0f} / {result.mean_ns[1]:,.0f}"
        print(
            f"{target.name:22} {per_class:>10,} {t_text:>8}  "
            f"{'pass' if result.passed else 'FAIL':6} {means:>22}  ({result.worst}, "
            f"{result.seconds:.0f} s)",
            flush=True,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
