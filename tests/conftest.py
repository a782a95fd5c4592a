"""Shared fixtures: a fresh state directory, a frozen clock, the CLI run as a user would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from authenticators.clock import FrozenClock
from authenticators.store import Store
from tests.support import T0, Emu


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def store(state_dir: Path) -> Iterator[Store]:
    s = Store(state_dir)
    yield s
    s.close()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def emu(state_dir: Path) -> Emu:
    return Emu(state_dir)
