"""Fixtures for the audio code reader: one enrolled reader in a fresh state directory."""

from __future__ import annotations

import json
from typing import Any

import pytest

from authenticators.codeviser.tokens import TokenRepository
from authenticators.store import Store
from tests.support import Emu, Result

NAME = "ko"


@pytest.fixture
def reader(emu: Emu) -> str:
    result = emu("kodeoplaeser", "new", "--name", NAME)
    assert result.exit_code == 0, result.output
    return NAME


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def hardware(store: Store, name: str = NAME) -> dict[str, Any]:
    """The reader's stored hardware (battery, last code, voice settings)."""
    return TokenRepository(store, "kodeoplaeser").get(name).hardware
