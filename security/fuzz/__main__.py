"""``python -m security.fuzz TARGET|all [--seconds N]``: fuzz with atheris (libFuzzer).

``--seconds`` is per target. New interesting inputs go to a work directory outside the
repository (``--work``; by default ``$TMPDIR/mitid-emulator-fuzz/<target>``, kept between runs
so fuzzing picks up where it stopped), so the corpus in the repository stays small; an input
that makes a harness fail is written to ``security/fuzz/findings/<target>-crash-…``, where
``make test`` replays it from then on.
``--replay`` runs the stored inputs through the harnesses without fuzzing.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

from security.fuzz import FINDINGS, TARGETS, FuzzTarget

PER_INPUT_TIMEOUT = 10  # seconds: an input taking longer is a hang
RSS_LIMIT_MB = 2048


def replay(target: FuzzTarget) -> tuple[int, list[str]]:
    """Run every stored input of ``target`` through its harness: (inputs, failures)."""
    one_input = target.one_input()
    failures = []
    count = 0
    for path in target.inputs():
        count += 1
        try:
            one_input(path.read_bytes())
        except Exception as exc:
            failures.append(f"{path}: {type(exc).__name__}: {exc}")
    return count, failures


def fuzz_one(target: FuzzTarget, seconds: int, work: Path, runs: int | None) -> None:
    """Fuzz in this process (atheris takes it over and exits when done)."""
    import atheris

    work.mkdir(parents=True, exist_ok=True)
    FINDINGS.mkdir(parents=True, exist_ok=True)
    with atheris.instrument_imports():
        one_input = target.one_input()
    args = [
        sys.argv[0],
        str(work),
        str(target.corpus),
        f"-max_total_time={seconds}",
        f"-timeout={PER_INPUT_TIMEOUT}",
        f"-rss_limit_mb={RSS_LIMIT_MB}",
        f"-artifact_prefix={target.findings_prefix}",
        "-print_final_stats=1",
    ]
    if runs is not None:
        args.append(f"-runs={runs}")
    atheris.Setup(args, one_input)
    atheris.Fuzz()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m security.fuzz", description=__doc__)
    parser.add_argument("target", help=f"one of {', '.join(TARGETS)}, or all")
    parser.add_argument("--seconds", type=int, default=60, help="fuzzing time per target")
    parser.add_argument("--runs", type=int, default=None, help="stop after this many inputs")
    parser.add_argument("--work", type=Path, default=None, help="scratch corpus directory")
    parser.add_argument("--replay", action="store_true", help="replay stored inputs only")
    args = parser.parse_args(argv)
    if args.target != "all" and args.target not in TARGETS:
        parser.error(f"unknown target {args.target!r}; choose from {', '.join(TARGETS)}, all")
    names = list(TARGETS) if args.target == "all" else [args.target]

    if args.replay:
        failed = 0
        for name in names:
            count, failures = replay(TARGETS[name])
            failed += len(failures)
            print(f"{name:10} {count:5} inputs  {'ok' if not failures else 'FAIL'}")
            for failure in failures:
                print(f"    {failure}")
        return 1 if failed else 0

    if len(names) == 1:
        work = args.work or Path(tempfile.gettempdir()) / "mitid-emulator-fuzz" / names[0]
        try:
            fuzz_one(TARGETS[names[0]], args.seconds, work, args.runs)
        except Exception:
            traceback.print_exc()
            return 1
        return 0

    results = []
    for name in names:
        print(f"== fuzz {name}: {args.seconds} s", flush=True)
        started = time.monotonic()
        command = [sys.executable, "-m", "security.fuzz", name, "--seconds", str(args.seconds)]
        if args.runs is not None:
            command += ["--runs", str(args.runs)]
        code = subprocess.call(command)
        results.append((name, code, time.monotonic() - started))
    print(f"\n{'target':10} {'seconds':>8}  result")
    for name, code, elapsed in results:
        print(f"{name:10} {elapsed:8.0f}  {'ok' if code == 0 else f'FAIL (exit {code})'}")
    return 1 if any(code for _, code, _ in results) else 0


if __name__ == "__main__":
    sys.exit(main())
