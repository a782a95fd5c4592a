"""The QA battery: in full against the simulator, over UDP and the fake hid device, its JUnit XML,
and what it does with tokens that misbehave."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from authenticators.chip.selftest import AREAS, CHECKS, Outcome, run_selftest, select
from authenticators.chip.selftest import junit as junit_xml
from authenticators.hal import open_device
from authenticators.store import Store
from tests.hal.fakehid import FakeHidApi
from tests.hal.fixtures import HID_PATH


def test_at_least_forty_checks_across_every_area() -> None:
    assert len(CHECKS) >= 40
    per_area = Counter(c.area for c in CHECKS)
    assert set(per_area) == set(AREAS)
    assert len({c.id for c in CHECKS}) == len(CHECKS)
    with pytest.raises(ValueError, match="unknown area"):
        select(("bluetooth",))


def test_passes_in_full_against_the_simulator(store: Store, tmp_path: Path) -> None:
    with open_device("sim:qa", store=store) as device:
        report = run_selftest(device, allow_reset=True)
    failed = [(r.id, r.message) for r in report.results if r.outcome is not Outcome.PASSED]
    assert failed == []
    assert report.ok
    path = tmp_path / "selftest.xml"
    junit_xml.write(report, path)
    root = ET.parse(path).getroot()  # noqa: S314 - our own file
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("tests") == str(len(CHECKS))
    assert suite.get("failures") == "0"
    cases = suite.findall("testcase")
    assert len(cases) == len(CHECKS)
    assert {c.get("classname") for c in cases} == {f"chip.selftest.{a}" for a in AREAS}


def test_without_reset_the_destructive_checks_are_skipped(store: Store) -> None:
    with open_device("sim:qa", store=store) as device:
        report = run_selftest(device, allow_reset=False)
    destructive = {c.id for c in CHECKS if c.destructive}
    for result in report.results:
        if result.id in destructive:
            assert result.outcome is Outcome.SKIPPED
            assert "--allow-reset" in result.message
        else:
            assert result.outcome is Outcome.PASSED, (result.id, result.message)


def test_over_udp_in_full(udp_uri: str) -> None:
    with open_device(udp_uri) as device:
        report = run_selftest(device, allow_reset=True)
    assert report.ok, [(r.id, r.message) for r in report.results if r.outcome is Outcome.FAILED]
    assert report.count(Outcome.SKIPPED) == 0


def test_over_the_fake_hid_device_reset_is_skipped_with_its_reason(
    fake_hid: FakeHidApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real key allows a reset only just after being plugged in; pretend it was long ago.
    chip = fake_hid.entries[HID_PATH.encode()].chip
    assert chip is not None
    chip.ctap2.booted_at -= 60.0
    with open_device(f"hid:{HID_PATH}", hid_backend=fake_hid) as device:
        report = run_selftest(device, allow_reset=True, areas=("ctap2", "reset"))
    by_id = {r.id: r for r in report.results}
    assert by_id["reset.wipes"].outcome is Outcome.SKIPPED
    assert "replug" in by_id["reset.wipes"].message
    assert by_id["ctap2.get_assertion"].outcome is Outcome.PASSED


def test_a_token_that_breaks_a_rule_fails_that_check(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from firmware_sim.chip import ctaphid

    monkeypatch.setattr(ctaphid, "PROTOCOL_VERSION", 1)
    with open_device("sim:qa", store=store) as device:
        report = run_selftest(device, areas=("ctaphid",))
    by_id = {r.id: r for r in report.results}
    assert by_id["ctaphid.init_protocol_version"].outcome is Outcome.FAILED
    assert "protocol version 1" in by_id["ctaphid.init_protocol_version"].message
    assert not report.ok


def test_an_unplugged_token_fails_once_and_skips_the_rest(fake_hid: FakeHidApi) -> None:
    seen: list[str] = []

    def on_result(result: object) -> None:
        seen.append(result.id)  # type: ignore[attr-defined]
        if len(seen) == 3:
            fake_hid.unplug(HID_PATH)

    with open_device(f"hid:{HID_PATH}", hid_backend=fake_hid) as device:
        report = run_selftest(device, areas=("ctaphid",), on_result=on_result)
    outcomes = [r.outcome for r in report.results]
    assert outcomes[:3] == [Outcome.PASSED] * 3
    assert outcomes[3] is Outcome.FAILED
    assert "device lost" in report.results[3].message
    assert set(outcomes[4:]) == {Outcome.SKIPPED}
