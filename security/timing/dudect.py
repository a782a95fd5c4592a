"""A dudect-style constant-time test (Reparaz, Balasch and Verbauwhede, "Dude, is my code
constant time?", DATE 2017), for Python code.

For one target: make inputs of two classes, interleave them in a random order, time each call on
its own with ``perf_counter_ns``, then compare the two timing distributions with Welch's t-test —
over all measurements, over the measurements below each of 100 percentile thresholds (cropping
the long upper tail that scheduling noise and interrupts add, as dudect does), and a second-order
test on the centred squares. The statistic is the largest |t| among the tests with enough
measurements; below :data:`THRESHOLD` (4.5, as in TVLA) nothing distinguishes the two classes.

What keeps it robust in a shared, noisy process: both classes go through the same loop in a
random order (slow periods weigh on both alike), every input is a fresh object made before its
batch (so neither class stays hotter in the caches), garbage collection is off during a batch,
the first batch only warms up and sets the cropping thresholds, and the first calls of every
batch are not recorded.
"""

from __future__ import annotations

import bisect
import gc
import itertools
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

THRESHOLD = 4.5
NUMBER_PERCENTILES = 100
#: dudect's minimum number of measurements (both classes) before a test counts.
ENOUGH_MEASUREMENTS = 10_000
BATCH = 5_000
#: Calls at the start of every batch that are made but not recorded (dudect drops 10).
DISCARD = 10

_rng = random.SystemRandom()


@dataclass
class Case:
    """One target made ready: the call measured and a maker of fresh inputs of a class.

    ``measure`` is called with one input and is the only thing timed. ``make_input(c)`` returns
    a fresh input of class ``c`` (0 or 1); it runs before the batch, never while timing.
    ``before``, when given, runs before each call outside the timed interval (to reset state
    that a call changes, such as a retry counter).
    """

    measure: Callable[[Any], object]
    make_input: Callable[[int], Any]
    before: Callable[[], None] | None = None


@dataclass(frozen=True)
class TimingTarget:
    """A secret comparison to test: what the two classes are and how to set it up."""

    name: str
    description: str
    classes: tuple[str, str]
    setup: Callable[[], Case]
    #: Slow targets are capped to this many measurements per class, whatever is asked.
    max_per_class: int | None = None
    #: The per-class count used by the quick form (``make test``) when it is smaller.
    quick_per_class: int | None = None

    def per_class(self, requested: int, *, quick: bool = False) -> int:
        count = requested
        if quick and self.quick_per_class is not None:
            count = min(count, self.quick_per_class)
        if self.max_per_class is not None:
            count = min(count, self.max_per_class)
        return count


@dataclass(frozen=True)
class TTest:
    name: str
    n: tuple[int, int]
    t: float


@dataclass(frozen=True)
class TimingResult:
    target: str
    per_class: int
    t: float
    worst: str
    t_all: float
    mean_ns: tuple[float, float]
    seconds: float
    threshold: float = THRESHOLD
    tests: tuple[TTest, ...] = field(default=(), repr=False)
    earlier: TimingResult | None = field(default=None, repr=False)

    @property
    def passed(self) -> bool:
        return self.t < self.threshold

    def summary(self) -> str:
        text = f"|t| = {self.t:.2f} ({self.worst})"
        if self.earlier is not None:
            text = f"|t| = {self.earlier.t:.2f}, re-measured {self.t:.2f} ({self.worst})"
        return text


# -- statistics -------------------------------------------------------------------------------


def welch_t(n0: int, s0: float, q0: float, n1: int, s1: float, q1: float) -> float:
    """Welch's t from counts, sums and sums of squares of the two samples."""
    if n0 < 2 or n1 < 2:
        return 0.0
    m0, m1 = s0 / n0, s1 / n1
    v0 = max((q0 - s0 * m0) / (n0 - 1), 0.0)
    v1 = max((q1 - s1 * m1) / (n1 - 1), 0.0)
    denominator = math.sqrt(v0 / n0 + v1 / n1)
    if denominator == 0.0:
        return 0.0 if m0 == m1 else math.inf
    return (m0 - m1) / denominator


class _Sorted:
    """One class's times, sorted, with exact integer prefix sums for cropped tests."""

    def __init__(self, times: Sequence[int]) -> None:
        self.values = sorted(times)
        self.sums = [0, *itertools.accumulate(self.values)]
        self.squares = [0, *itertools.accumulate(v * v for v in self.values)]

    def below(self, limit: float) -> tuple[int, int, int]:
        k = bisect.bisect_left(self.values, limit)
        return k, self.sums[k], self.squares[k]


def _exact_t(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """Welch's t with the variances computed from exact integer sums (no cancellation)."""
    (n0, s0, q0), (n1, s1, q1) = a, b
    if n0 < 2 or n1 < 2:
        return 0.0
    v0 = (n0 * q0 - s0 * s0) / (n0 * n0 * (n0 - 1))
    v1 = (n1 * q1 - s1 * s1) / (n1 * n1 * (n1 - 1))
    denominator = math.sqrt(v0 + v1)
    m0, m1 = s0 / n0, s1 / n1
    if denominator == 0.0:
        return 0.0 if m0 == m1 else math.inf
    return (m0 - m1) / denominator


def percentile_thresholds(times: Sequence[int]) -> list[float]:
    """dudect's cropping points: 1 - 0.5^(10 (i+1) / 100), from about 7 % to 99.9 %."""
    ordered = sorted(times)
    last = len(ordered) - 1
    thresholds = []
    for i in range(NUMBER_PERCENTILES):
        p = 1 - 0.5 ** (10 * (i + 1) / NUMBER_PERCENTILES)
        thresholds.append(float(ordered[min(last, int(p * len(ordered)))]))
    return thresholds


def analyse(times: tuple[Sequence[int], Sequence[int]], thresholds: Sequence[float]) -> list[TTest]:
    """Every test: uncropped, cropped at each threshold, and second order."""
    a, b = _Sorted(times[0]), _Sorted(times[1])
    inf = math.inf
    tests = [TTest("all", (len(a.values), len(b.values)), _exact_t(a.below(inf), b.below(inf)))]
    for index, limit in enumerate(thresholds):
        ca, cb = a.below(limit), b.below(limit)
        tests.append(TTest(f"crop {index + 1}", (ca[0], cb[0]), _exact_t(ca, cb)))
    # Second order: do the spreads differ? (centred squares, over all measurements)
    means = [sum(t) / len(t) if t else 0.0 for t in times]
    squares = [[(x - means[c]) ** 2 for x in times[c]] for c in (0, 1)]
    s = [math.fsum(sq) for sq in squares]
    q = [math.fsum(v * v for v in sq) for sq in squares]
    second = welch_t(len(squares[0]), s[0], q[0], len(squares[1]), s[1], q[1])
    tests.append(TTest("second order", (len(squares[0]), len(squares[1])), second))
    return tests


# -- measuring --------------------------------------------------------------------------------


def _classes(count: int) -> list[int]:
    """A balanced random order of ``count`` class labels (half of each)."""
    labels = [0] * (count // 2) + [1] * (count - count // 2)
    _rng.shuffle(labels)
    return labels


def _batch(case: Case, labels: Sequence[int]) -> list[int]:
    """Time one call per label; returns nanoseconds, the first DISCARD calls left out."""
    warm = [_rng.getrandbits(1) for _ in range(DISCARD)]
    inputs = [case.make_input(c) for c in itertools.chain(warm, labels)]
    measure, before = case.measure, case.before
    clock = time.perf_counter_ns
    out = [0] * len(inputs)
    enabled = gc.isenabled()
    gc.disable()
    try:
        if before is None:
            for i, value in enumerate(inputs):
                start = clock()
                measure(value)
                out[i] = clock() - start
        else:
            for i, value in enumerate(inputs):
                before()
                start = clock()
                measure(value)
                out[i] = clock() - start
    finally:
        if enabled:
            gc.enable()
    del inputs
    gc.collect()
    return out[DISCARD:]


def measure(
    target: TimingTarget,
    per_class: int,
    *,
    batch: int = BATCH,
    progress: Callable[[str], None] | None = None,
) -> TimingResult:
    """Measure ``target`` with ``per_class`` measurements of each class."""
    if per_class < 2:
        raise ValueError("at least two measurements per class")
    started = time.perf_counter()
    case = target.setup()
    batch = max(2, min(batch, 2 * per_class))
    # Warm-up and calibration: one batch, used only for the cropping thresholds.
    thresholds = percentile_thresholds(_batch(case, _classes(min(batch, 2 * per_class))))
    times: tuple[list[int], list[int]] = ([], [])
    remaining = 2 * per_class
    order = _classes(remaining)
    for offset in range(0, remaining, batch):
        labels = order[offset : offset + batch]
        for label, ns in zip(labels, _batch(case, labels), strict=True):
            times[label].append(ns)
        if progress is not None:
            progress(f"{target.name}: {offset + len(labels):,}/{remaining:,}")
    tests = analyse(times, thresholds)
    total = len(times[0]) + len(times[1])
    enough = min(ENOUGH_MEASUREMENTS, max(4, total // 10))
    counted = [t for t in tests if min(t.n) >= 2 and sum(t.n) >= enough]
    worst = max(counted, key=lambda t: abs(t.t))
    return TimingResult(
        target=target.name,
        per_class=per_class,
        t=abs(worst.t),
        worst=worst.name,
        t_all=abs(tests[0].t),
        mean_ns=(sum(times[0]) / len(times[0]), sum(times[1]) / len(times[1])),
        seconds=time.perf_counter() - started,
        tests=tuple(tests),
    )


def measure_twice_if_needed(target: TimingTarget, per_class: int, **options: Any) -> TimingResult:
    """Measure; when |t| is over the threshold, measure once more and keep both values.

    A real leak shows again; a burst of noise on a shared machine seldom does twice.
    """
    first = measure(target, per_class, **options)
    if first.passed:
        return first
    second = measure(target, per_class, **options)
    return TimingResult(
        target=second.target,
        per_class=second.per_class,
        t=second.t,
        worst=second.worst,
        t_all=second.t_all,
        mean_ns=second.mean_ns,
        seconds=first.seconds + second.seconds,
        threshold=second.threshold,
        tests=second.tests,
        earlier=first,
    )
