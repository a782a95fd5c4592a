"""Passports issued once per module: a good one and one of each kind that must be refused."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from authenticators.clock import FrozenClock
from authenticators.passport.sims import SimPassports
from authenticators.store import Store
from firmware_sim.passport import faces
from tests.support import T0

HOLDER = {
    "surname": "Hansen",
    "given_names": "Anne Marie",
    "birth": dt.date(1990, 1, 2),
    "nationality": "DNK",
    "sex": "F",
}


@pytest.fixture(scope="module")
def sims(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimPassports]:
    store = Store(Path(tmp_path_factory.mktemp("passports")))
    passports = SimPassports(store, FrozenClock(T0))
    photo = faces.face("anne")
    passports.new("anne", photo=photo, **HOLDER)  # type: ignore[arg-type]
    passports.new("clone", photo=photo, clone=True, **HOLDER)  # type: ignore[arg-type]
    passports.new("tampered", photo=photo, tampered=True, **HOLDER)  # type: ignore[arg-type]
    passports.new("old-signer", photo=photo, expired_signer=True, **HOLDER)  # type: ignore[arg-type]
    passports.new("expired", photo=photo, expired=True, **HOLDER)  # type: ignore[arg-type]
    yield passports
    store.close()


@pytest.fixture
def now() -> dt.datetime:
    return dt.datetime.fromtimestamp(T0, dt.UTC)
