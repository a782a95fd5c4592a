"""Identities: validation, passwords, authenticator links."""

from __future__ import annotations

import pytest

from authenticators.clock import FrozenClock
from authenticators.codeviser.plugin import CodeTokenOptions
from authenticators.codeviser.plugin import plugin as codeviser
from authenticators.core.errors import CoreError, CoreErrorCode
from authenticators.core.identities import IdentityRepository, parse_cpr
from authenticators.core.passwords import check_password, hash_password
from authenticators.protocol import ProtocolError
from authenticators.store import Store


def test_create_show_and_delete(store: Store, clock: FrozenClock) -> None:
    repo = IdentityRepository(store, clock)
    made = repo.create("alice", "Alice Test", cpr="010190-1234", password="correct horse")
    assert made.birthdate == "1990-01-01"
    assert made.has_password
    assert repo.get("ALICE").uuid == made.uuid  # user IDs are case-insensitive
    assert "0101901234" not in repr(made)
    with pytest.raises(CoreError, match="taken") as info:
        repo.create("Alice", "Other")
    assert info.value.code is CoreErrorCode.DUPLICATE_IDENTITY
    repo.delete("alice")
    with pytest.raises(CoreError, match="no identity"):
        repo.get("alice")


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"user_id": "a"}, "user ID"),
        ({"user_id": "bad id!"}, "user ID"),
        ({"name": " "}, "name"),
        ({"birthdate": "1990-13-01"}, "YYYY-MM-DD"),
        ({"cpr": "123"}, "DDMMYY-SSSS"),
        ({"cpr": "320190-1234"}, "no date"),
        ({"cpr": "010190-1234", "birthdate": "1991-01-01"}, "does not match"),
        ({"password": "short"}, "at least 8"),
    ],
)
def test_bad_identities_are_refused(
    store: Store, clock: FrozenClock, kwargs: dict[str, str], words: str
) -> None:
    args = {"user_id": "bob", "name": "Bob", **kwargs}
    with pytest.raises(CoreError, match=words):
        IdentityRepository(store, clock).create(**args)  # type: ignore[arg-type]
    assert IdentityRepository(store, clock).list() == []


@pytest.mark.parametrize(
    ("cpr", "born"),
    [("010190-1234", "1990-01-01"), ("0101104321", "2010-01-01"), ("290260-5123", "1860-02-29")],
)
def test_cpr_century_rules(cpr: str, born: str) -> None:
    assert parse_cpr(cpr)[1] == born


def test_passwords_hash_and_check() -> None:
    encoded = hash_password("correct horse")
    assert "correct horse" not in encoded
    assert check_password(encoded, "correct horse")
    assert not check_password(encoded, "correct horsf")
    assert not check_password("garbage", "correct horse")
    assert hash_password("correct horse") != encoded  # salted


def test_authenticator_links(store: Store, clock: FrozenClock) -> None:
    repo = IdentityRepository(store, clock)
    repo.create("alice", "Alice")
    repo.create("bob", "Bob")
    codeviser.enroll(store, clock, CodeTokenOptions(name="t1"))
    with pytest.raises(ProtocolError, match="no codeviser named 'nope'"):
        repo.add_authenticator("alice", "codeviser", "nope")
    repo.add_authenticator("alice", "codeviser", "t1")
    assert repo.get("alice").authenticators == (("codeviser", "t1"),)
    assert repo.owner("codeviser", "t1") == "alice"
    with pytest.raises(CoreError, match="already belongs") as info:
        repo.add_authenticator("bob", "codeviser", "t1")
    assert info.value.code is CoreErrorCode.ALREADY_LINKED
    repo.remove_authenticator("alice", "codeviser", "t1")
    with pytest.raises(CoreError, match="has no codeviser"):
        repo.remove_authenticator("alice", "codeviser", "t1")
