"""Secrets: canary seeds, keys, PINs and passwords never show in logs, exception messages,
reprs or CLI output (``--json`` or not)."""

from __future__ import annotations

import logging

from security import leaks


def test_no_canary_leaks_anywhere() -> None:
    report = leaks.run()
    assert report.scenarios == list(leaks.SCENARIOS)
    assert report.texts > 50
    assert report.ok, "\n".join(report.findings)


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
