"""App logins through the core: push to every app, one at a time, every way a login ends."""

from __future__ import annotations

import pytest

from authenticators import registry
from authenticators.app.apps import AppRepository
from authenticators.app.errors import AppRefusal
from authenticators.app.inbox import SessionStatus, StateExchange
from authenticators.app.plugin import AppOptions, AppPlugin
from authenticators.clock import FrozenClock
from authenticators.core.errors import CoreError, CoreErrorCode
from authenticators.core.login import LoginService
from authenticators.protocol import (
    AuthenticatorPlugin,
    ErrorCode,
    Level,
    ProtocolError,
    PushPlugin,
    Reason,
    Response,
)
from tests.app.helpers import PIN, SP, USER, approve_login, begin, enroll, open_screen, phone


def test_the_plugin_is_registered_as_a_push_kind() -> None:
    plugin = registry.get("app")
    assert isinstance(plugin, AppPlugin)
    assert isinstance(plugin, AuthenticatorPlugin)
    assert isinstance(plugin, PushPlugin)
    assert plugin.pushes_to_all
    assert plugin.amr == "code_app"
    assert plugin.levels == frozenset({Level.LOW, Level.SUBSTANTIAL, Level.HIGH})
    assert not plugin.needs_password


def test_an_approved_desktop_login(service: LoginService, app_id: str) -> None:
    result = approve_login(service, app_id)
    assert result.ok, result.verdict
    assert result.amr == ("code_app",)
    assert result.level is Level.SUBSTANTIAL
    assert AppRepository(service.store).get(app_id).used == (result.transaction_id,)
    assert StateExchange(service.store).session(result.transaction_id).status is (
        SessionStatus.CLOSED
    )


def test_a_mobile_login_needs_no_scan(service: LoginService, app_id: str) -> None:
    result = approve_login(service, app_id, extra={"mobile": True})
    assert result.ok, result.verdict


def test_level_high_with_an_app_enrolled_at_high_and_the_pin(service: LoginService) -> None:
    high = enroll(service, level=Level.HIGH)
    result = approve_login(service, high, level=Level.HIGH, pin=PIN)
    assert result.ok, result.verdict
    assert result.level is Level.HIGH


def test_level_high_with_an_app_enrolled_at_substantial_is_insufficient(
    service: LoginService, app_id: str
) -> None:
    with pytest.raises(CoreError) as refused:  # refused up front: nothing is pushed
        begin(service, level=Level.HIGH)
    assert refused.value.code is CoreErrorCode.INSUFFICIENT_LEVEL
    assert phone(service, app_id).inbox() == []


def test_the_login_is_pushed_to_every_app_and_one_answer_ends_it(service: LoginService) -> None:
    first, second = enroll(service), enroll(service)
    challenge = begin(service)
    screen = open_screen(service, challenge)
    assert [r.transaction_id for r in phone(service, first).inbox()] == [challenge.transaction_id]
    assert [r.transaction_id for r in phone(service, second).inbox()] == [challenge.transaction_id]
    phone(service, second).reject(challenge.transaction_id)
    assert phone(service, first).inbox() == []
    response = screen.poll()
    assert response is not None
    assert response.authenticator_id == second
    assert service.complete(challenge.transaction_id, response).verdict.reason is (
        Reason.REJECTED_BY_USER
    )


def test_a_parallel_login_is_refused_while_the_first_is_pending(
    service: LoginService, app_id: str, clock: FrozenClock
) -> None:
    first = begin(service)
    before = service.audit.recent()
    with pytest.raises(ProtocolError) as info:
        begin(service)
    assert info.value.code is ErrorCode.PARALLEL_SESSION
    assert "one at a time" in info.value.message
    assert service.audit.recent() == before  # the refused login left nothing behind
    assert len(phone(service, app_id).inbox()) == 1
    enroll(service, user="bob")
    assert begin(service, user="bob")  # another identity is not affected
    clock.advance(first.expires_at - clock.now())
    assert begin(service)  # the first has expired


def test_an_abandoned_login_frees_the_app_and_cannot_be_completed(
    service: LoginService, app_id: str
) -> None:
    first = begin(service)
    service.abandon(first.transaction_id)
    assert phone(service, app_id).inbox() == []  # the push was taken back
    second = begin(service)  # no longer a parallel login
    assert second.transaction_id != first.transaction_id
    events = [e["event"] for e in service.audit.recent()]
    assert "login_abandoned" in events
    stale = Response(first.transaction_id, "app", app_id, {})
    assert service.complete(first.transaction_id, stale).verdict.reason is Reason.REPLAYED


def test_a_new_login_may_start_once_the_first_is_answered(
    service: LoginService, app_id: str
) -> None:
    assert approve_login(service, app_id).ok
    assert approve_login(service, app_id).ok


def test_no_answer_before_expiry_is_expired(
    service: LoginService, app_id: str, clock: FrozenClock
) -> None:
    challenge = begin(service)
    screen = open_screen(service, challenge)
    response = screen.wait(poll_interval=10.0)  # the frozen clock runs through the 3 minutes
    assert clock.now() >= challenge.expires_at
    result = service.complete(challenge.transaction_id, response)
    assert result.verdict.reason is Reason.EXPIRED
    assert phone(service, app_id).inbox() == []


def test_an_answer_after_expiry_is_refused_by_the_phone(
    service: LoginService, app_id: str, clock: FrozenClock
) -> None:
    challenge = begin(service, extra={"mobile": True})
    open_screen(service, challenge)
    clock.advance(181)
    with pytest.raises(AppRefusal) as info:
        phone(service, app_id).approve(transaction_id=challenge.transaction_id)
    assert info.value.reason is Reason.EXPIRED


def test_a_second_submission_of_the_same_answer_is_replayed(
    service: LoginService, app_id: str
) -> None:
    challenge = begin(service)
    screen = open_screen(service, challenge)
    held = phone(service, app_id)
    held.look_at_screen(screen.session().screen, challenge.transaction_id)
    held.approve(transaction_id=challenge.transaction_id)
    response = screen.poll()
    assert response is not None
    assert service.complete(challenge.transaction_id, response).ok
    assert service.complete(challenge.transaction_id, response).verdict.reason is Reason.REPLAYED
    assert screen.poll() is None  # the answer is taken once


def test_a_login_to_blocked_apps_only_is_locked(
    service: LoginService, app_id: str, clock: FrozenClock
) -> None:
    apps = AppRepository(service.store)
    for _ in range(3):
        apps.pin_failed(app_id, clock.now())
    challenge = begin(service)
    screen = open_screen(service, challenge)
    response = screen.wait()
    assert clock.now() < challenge.expires_at
    assert service.complete(challenge.transaction_id, response).verdict.reason is Reason.LOCKED


def test_an_answer_from_a_deactivated_app_is_unknown(
    service: LoginService, app_id: str, clock: FrozenClock
) -> None:
    challenge = begin(service, extra={"mobile": True})
    screen = open_screen(service, challenge)
    phone(service, app_id).approve(transaction_id=challenge.transaction_id)
    AppRepository(service.store).deactivate(app_id, clock.now())
    response = screen.poll()
    assert response is not None
    result = service.complete(challenge.transaction_id, response)
    assert result.verdict.reason is Reason.UNKNOWN_AUTHENTICATOR


def test_what_the_app_gets_is_what_the_core_issued(service: LoginService, app_id: str) -> None:
    challenge = begin(service)
    request = phone(service, app_id).request()
    assert request.challenge == challenge
    assert request.challenge.service_provider == SP
    assert request.binding_required
    assert not request.pin_required
    assert service.identities.get(USER).authenticators == (("app", app_id),)


def test_an_app_needs_owner_and_pin(service: LoginService) -> None:
    plugin = registry.get("app")
    with pytest.raises(ProtocolError, match="owner and a PIN"):
        plugin.enroll(service.store, service.clock, AppOptions(pin=PIN))
    assert AppRepository(service.store).list() == []
