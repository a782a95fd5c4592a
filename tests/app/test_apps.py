"""App instances: enrollment, the limit of 3 active apps, deactivation and activation."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from authenticators.app.apps import AppRepository, AppStatus, parse_level
from authenticators.app.pin import check_pin
from authenticators.clock import FrozenClock
from authenticators.core.login import LoginService
from authenticators.protocol import ErrorCode, Level, ProtocolError
from authenticators.store import Store
from tests.app.helpers import PIN, USER, enroll


def test_an_app_is_a_p256_key_pair_split_between_phone_and_verifier(
    service: LoginService, app_id: str
) -> None:
    apps = AppRepository(service.store)
    record = apps.get(app_id)
    assert record.status is AppStatus.ACTIVE
    assert record.level is Level.SUBSTANTIAL
    assert record.owner == service.identities.get(USER).uuid
    public = serialization.load_der_public_key(record.public_key)
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert isinstance(public.curve, ec.SECP256R1)
    phone = apps.phone(app_id)
    assert phone.signing_key().public_key().public_numbers() == public.public_numbers()
    # What the verifier loads holds no private key and no PIN.
    enrollment = record.enrollment()
    assert set(enrollment.record) == {
        "public_key",
        "level",
        "biometrics",
        "status",
        "used",
        "owner",
    }
    assert phone.pin_hash not in repr(phone)
    assert "private" not in repr(phone).replace("private_key", "")
    assert PIN not in phone.pin_hash
    assert service.identities.get(USER).authenticators == (("app", app_id),)


def test_an_app_is_enrolled_at_substantial_or_high(service: LoginService) -> None:
    high = enroll(service, level=Level.HIGH, biometrics=True)
    record = AppRepository(service.store).get(high)
    assert record.level is Level.HIGH
    assert record.biometrics
    assert parse_level("HIGH") is Level.HIGH
    for bad in ("low", "business", "medium"):
        with pytest.raises(ProtocolError, match="substantial or high"):
            parse_level(bad)


def test_the_fourth_active_app_is_refused(service: LoginService, store: Store) -> None:
    ids = [enroll(service) for _ in range(3)]
    with pytest.raises(ProtocolError, match="3 active apps") as info:
        enroll(service)
    assert info.value.code is ErrorCode.CONFLICT
    assert sorted(a for _, a in service.identities.get(USER).authenticators) == sorted(ids)
    assert len(AppRepository(store).list()) == 3
    assert enroll(service, user="bob")  # the limit is per identity


def test_deactivating_one_makes_room_and_it_may_come_back_only_with_room(
    service: LoginService, store: Store, clock: FrozenClock
) -> None:
    apps = AppRepository(store)
    first, *_ = [enroll(service) for _ in range(3)]
    apps.deactivate(first, clock.now())
    assert apps.get(first).status is AppStatus.DEACTIVATED
    fourth = enroll(service)
    with pytest.raises(ProtocolError, match="3 active apps"):
        apps.activate(first, clock.now())
    assert apps.get(first).status is AppStatus.DEACTIVATED
    apps.deactivate(fourth, clock.now())
    assert apps.activate(first, clock.now()).status is AppStatus.ACTIVE
    with pytest.raises(ProtocolError, match="deactivated already"):
        apps.deactivate(fourth, clock.now())
    with pytest.raises(ProtocolError, match="active already"):
        apps.activate(first, clock.now())


def test_blocked_apps_still_count_towards_the_limit(
    service: LoginService, store: Store, clock: FrozenClock
) -> None:
    apps = AppRepository(store)
    ids = [enroll(service) for _ in range(3)]
    for _ in range(3):
        apps.pin_failed(ids[0], clock.now())
    assert apps.get(ids[0]).status is AppStatus.BLOCKED
    with pytest.raises(ProtocolError, match="3 active apps"):
        enroll(service)


@pytest.mark.parametrize("pin", ["12345", "abcdef", "１２３４５６"])
def test_a_wrong_format_pin_changes_nothing(service: LoginService, store: Store, pin: str) -> None:
    with pytest.raises(ProtocolError, match="6 digits"):
        enroll(service, pin=pin)
    assert AppRepository(store).list() == []
    assert service.identities.get(USER).authenticators == ()


def test_an_unknown_app_is_named_in_the_error(store: Store) -> None:
    with pytest.raises(ProtocolError, match="no app with id 'app-nope'") as info:
        AppRepository(store).get("app-nope")
    assert info.value.code is ErrorCode.UNKNOWN_AUTHENTICATOR


def test_activate_may_set_a_new_pin(
    service: LoginService, store: Store, clock: FrozenClock
) -> None:
    app_id = enroll(service)
    apps = AppRepository(store)
    apps.activate(app_id, clock.now(), pin="654321")
    assert check_pin(apps.phone(app_id).pin_hash, "654321")
    with pytest.raises(ProtocolError, match="6 digits"):
        apps.activate(app_id, clock.now(), pin="1")
