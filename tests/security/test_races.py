"""Races: many processes verifying the same code or approving the same app request at once."""

from __future__ import annotations

import pytest

from security import races

pytestmark = pytest.mark.slow  # see `make check`


@pytest.mark.timeout(180)
def test_exactly_one_process_wins_every_race() -> None:
    results = races.run(processes=6, rounds=2)
    assert {r.scenario for r in results} == {
        "code.verify",
        "code.logins",
        "code.same_login",
        "app.approve",
        "app.same_login",
    }
    for result in results:
        assert result.ok, (result.summary(), result.outcomes)
        for round_ in result.outcomes:
            losers = [outcome for outcome in round_ if outcome != "ok"]
            assert set(losers) <= {"replayed"}, (result.scenario, round_)
