"""Processes racing to verify the same code: exactly one wins, every time."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path
from typing import Any

import pytest

from authenticators.clock import FrozenClock
from authenticators.codeviser.plugin import CodeTokenPlugin
from authenticators.codeviser.seeds import SeedImport
from authenticators.otp import OtpKey, OtpParams
from authenticators.protocol import Reason
from authenticators.store import Store
from tests.support import T0

SEED = bytes(range(20))
ROUNDS = 4
RACERS = 6


def racer(args: tuple[str, str, float, Any]) -> str:
    state_dir, code, now, barrier = args
    store = Store(state_dir)
    barrier.wait()  # all start together
    return CodeTokenPlugin().verify_code(store, "shared", code, now).reason.value


@pytest.mark.slow
def test_exactly_one_of_many_processes_accepts_a_code(tmp_path: Path) -> None:
    store = Store(tmp_path)
    CodeTokenPlugin().create(
        store, FrozenClock(T0), name="shared", source=SeedImport(SEED, OtpParams())
    )
    key = OtpKey(SEED, OtpParams())
    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager, ctx.Pool(RACERS) as pool:
        for round_ in range(ROUNDS):
            now = T0 + 30 * (round_ + 1)
            code = key.code(OtpParams().step(now))
            barrier = manager.Barrier(RACERS)
            results = pool.map(racer, [(str(tmp_path), code, now, barrier)] * RACERS)
            assert results.count(Reason.OK.value) == 1, results
            assert results.count(Reason.REPLAYED.value) == RACERS - 1, results
