"""Secrets: canary seeds, keys, PINs and passwords never show in logs, exception messages,
reprs or CLI output (``--json`` or not)."""

from __future__ import annotations

import logging

import pytest

from security import leaks, leaks_server

pytestmark = pytest.mark.slow  # see `make check`

#: Leaks found and not fixed yet: the start of the finding, and what is wrong (strict xfail).
KNOWN_LEAKS: dict[str, str] = {}


@pytest.fixture(scope="module")
def report() -> leaks.LeakReport:
    return leaks.run()


def _known(finding: str) -> bool:
    return finding.startswith(tuple(KNOWN_LEAKS))


def test_no_canary_leaks_anywhere(report: leaks.LeakReport) -> None:
    assert report.scenarios == list(leaks.SCENARIOS)
    assert report.texts > 50
    unknown = [finding for finding in report.findings if not _known(finding)]
    assert not unknown, "\n".join(unknown)


def test_a_client_secret_given_to_the_control_api_is_not_echoed(report: leaks.LeakReport) -> None:
    assert "client secret" in report.canaries
    assert not [f for f in report.findings if f.startswith("client secret in server")]


def test_the_server_scenario_covers_pages_control_api_and_oidc(report: leaks.LeakReport) -> None:
    assert "server" in report.scenarios
    for canary in ("admin token", "client secret", "signing key d", "current code"):
        assert canary in report.canaries
    assert any(name.startswith("app device key (leak-app") for name in report.canaries)


def test_only_the_documented_responses_carry_a_secret_and_each_does(
    report: leaks.LeakReport,
) -> None:
    seen = {item.split(" in ", 1)[0].split(" (", 1)[0] for item in report.allowed}
    assert seen == {"current code", "made-up app PIN", "code-token seed"}, report.allowed
    assert all("server: " in item for item in report.allowed)


def test_a_secret_in_any_other_response_is_a_leak() -> None:
    canaries = [leaks.text_canary("current code", "493817")]
    texts = [
        ("server: GET /emulator/code-tokens/codeviser/leak-token/code response body", "493817"),
        ("server: GET /login/abc response body", "<p>493817</p>"),
    ]
    allowed: list[str] = []
    found = leaks.search(canaries, texts, leaks_server.by_design, allowed)
    assert found == ["current code in server: GET /login/abc response body"]
    assert len(allowed) == 1


def test_the_search_finds_a_canary_in_every_usual_encoding() -> None:
    canaries = leaks.Canaries()
    every = canaries.all()
    seed = canaries.seed
    import base64

    for text in (
        seed.hex(),
        base64.b32encode(seed).decode(),
        base64.b64encode(seed).decode(),
        f"pin {canaries.app_pin}.",
        f"x{canaries.chip_pin}y",
        canaries.password,
    ):
        assert leaks.search(every, [("here", f"before {text} after")]), text
    assert not leaks.search(every, [("here", f"1{canaries.app_pin}0 is a longer number")])


def test_a_logged_secret_is_caught() -> None:
    canaries = leaks.Canaries()
    with leaks.capture() as out:
        logging.getLogger("authenticators.test").debug("seed=%s", canaries.seed.hex())
    assert leaks.search(canaries.all(), out.texts)
