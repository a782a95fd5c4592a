"""The identification fixtures answer to their short names too."""

from __future__ import annotations

from typing import Any

from authenticators.pytest_plugin import RegisteredIdentity


def test_the_short_names_give_the_same_passport_and_person(
    passport: dict[str, Any],
    mitid_passport: dict[str, Any],
    registered_identity: RegisteredIdentity,
) -> None:
    assert passport is mitid_passport
    assert registered_identity.passport == passport["name"]
    assert registered_identity.authenticators["app"]
