"""Every stored fuzz input — the seed corpus and every finding — replayed through its harness:
a finding is a regression test from the moment it is found."""

from __future__ import annotations

from pathlib import Path

import pytest

from security.fuzz import TARGETS

#: Findings not fixed yet, by file name, with what is wrong (their xfail is strict).
KNOWN_FINDINGS: dict[str, str] = {}


def _cases() -> list[object]:
    cases: list[object] = []
    for target in TARGETS.values():
        for path in target.inputs():
            marks = []
            if path.name in KNOWN_FINDINGS:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_FINDINGS[path.name]))
            cases.append(
                pytest.param(target.name, path, id=f"{target.name}/{path.name}", marks=marks)
            )
    return cases


@pytest.mark.parametrize(("name", "path"), _cases())
def test_stored_input(name: str, path: Path) -> None:
    TARGETS[name].one_input()(path.read_bytes())


def test_every_target_has_a_seed_corpus() -> None:
    for target in TARGETS.values():
        assert any(target.corpus.iterdir()), target.name


def test_a_harness_flags_an_answer_outside_the_protocol(monkeypatch: pytest.MonkeyPatch) -> None:
    from security.fuzz import FuzzFailure
    from security.fuzz import ctap2 as harness

    harness.one_input(b"\x04")  # getInfo: fine
    real = harness.fixed_device

    def broken() -> object:
        device = real()
        monkeypatch.setattr(device.ctap2, "handle", lambda data, activity: b"\x99")
        return device

    monkeypatch.setattr(harness, "fixed_device", broken)
    with pytest.raises(FuzzFailure):
        harness.one_input(b"\x04")
