"""The core's organisation model (MitID Erhverv), without the server."""

from __future__ import annotations

import pytest

from authenticators.clock import FrozenClock
from authenticators.core.errors import CoreError, CoreErrorCode
from authenticators.core.identities import IdentityRepository
from authenticators.core.organisations import OrganisationRepository, check_cvr
from authenticators.store import Store


def test_memberships_roles_and_cascade(store: Store, clock: FrozenClock) -> None:
    people = IdentityRepository(store, clock)
    orgs = OrganisationRepository(store, clock)
    alice = people.create("alice", "Alice")
    orgs.create("DK12345678", "Alfa ApS")
    orgs.create("87654321", "Beta A/S")
    orgs.add_member("alice", "12345678", ["admin", "admin", "reader"])
    orgs.add_member("alice", "87654321")
    assert [(m.cvr, m.org_name, m.roles) for m in orgs.memberships(alice.uuid)] == [
        ("12345678", "Alfa ApS", ("admin", "reader")),
        ("87654321", "Beta A/S", ()),
    ]
    orgs.add_member("alice", "87654321", ["signer"])  # replaces the roles
    assert orgs.memberships(alice.uuid)[1].roles == ("signer",)
    orgs.delete("87654321")
    assert len(orgs.memberships(alice.uuid)) == 1
    people.delete("alice")
    assert orgs.memberships(alice.uuid) == []


@pytest.mark.parametrize("bad", ["1234567", "012345678", "01234567", "DK1234567x", ""])
def test_cvr_numbers_are_checked(bad: str) -> None:
    with pytest.raises(CoreError) as error:
        check_cvr(bad)
    assert error.value.code is CoreErrorCode.INVALID_IDENTITY


def test_refusals(store: Store, clock: FrozenClock) -> None:
    people = IdentityRepository(store, clock)
    orgs = OrganisationRepository(store, clock)
    people.create("bob", "Bob")
    orgs.create("11111111", "One")
    with pytest.raises(CoreError) as dup:
        orgs.create("11111111", "Again")
    assert dup.value.code is CoreErrorCode.DUPLICATE_ORGANISATION
    with pytest.raises(CoreError) as unknown:
        orgs.add_member("bob", "22222222")
    assert unknown.value.code is CoreErrorCode.UNKNOWN_ORGANISATION
    with pytest.raises(CoreError):
        orgs.add_member("bob", "11111111", ["bad role!"])
    with pytest.raises(CoreError) as not_linked:
        orgs.remove_member("bob", "11111111")
    assert not_linked.value.code is CoreErrorCode.NOT_LINKED
