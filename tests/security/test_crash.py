"""Crash consistency: SIGKILL ``chip serve`` and a verifying process during 500 operations."""

from __future__ import annotations

from pathlib import Path

import pytest

from security import crash

pytestmark = pytest.mark.slow  # see `make check`


@pytest.mark.timeout(180)
def test_sigkill_loses_nothing_acknowledged(tmp_path: Path) -> None:
    report = crash.run(tmp_path / "state", operations=500)
    assert report.ok, "\n".join(report.problems)
    assert report.operations >= 500
    assert report.chip_kills >= 1
    assert report.verifier_kills >= 1
    assert report.counters == sorted(set(report.counters))
