"""The phone: what it shows, scanning, approving with the PIN, the PIN block, rejecting."""

from __future__ import annotations

import pytest

from authenticators.app.apps import AppRepository, AppStatus
from authenticators.app.channel import frames_for, new_binding_value
from authenticators.app.device import render_phone
from authenticators.app.errors import AppRefusal
from authenticators.app.plugin import plugin
from authenticators.clock import FrozenClock
from authenticators.core.login import LoginService
from authenticators.protocol import (
    Action,
    ErrorCode,
    Level,
    ProtocolError,
    Reason,
    ReferenceText,
    UserAction,
)
from tests.app.helpers import PIN, SP, approve_login, begin, enroll, open_screen, phone


def test_the_phone_shows_service_provider_header_and_body(
    service: LoginService, app_id: str
) -> None:
    body = "Approve payment of 1.234,50 kr to Demo Shop ApS, invoice 2024-0042, " * 2
    ref = ReferenceText(Action.APPROVE, body[:130])
    challenge = begin(service, reference=ref)
    held = phone(service, app_id)
    view = held.view()
    assert (view.service_provider, view.header, view.body) == (SP, "APPROVE", body[:130])
    assert view.binding == "waiting"
    open_screen(service, challenge)
    assert held.view().binding == "scan"
    drawn = render_phone(held.view())
    lines = drawn.splitlines()
    assert lines[0].startswith("┌")
    assert lines[-1].startswith("└")
    assert len({len(line) for line in lines}) == 1  # a closed box
    assert SP in drawn
    assert "APPROVE" in drawn
    flat = " ".join(line.strip("│ ") for line in lines)
    assert " ".join(body[:130].split()) in " ".join(flat.split())


def test_approving_needs_the_login_screen_and_the_scan(service: LoginService, app_id: str) -> None:
    challenge = begin(service)
    held = phone(service, app_id)
    with pytest.raises(ProtocolError, match="not showing this login yet"):
        held.approve()
    screen = open_screen(service, challenge)
    with pytest.raises(ProtocolError, match="scan the QR code"):
        held.approve()
    assert held.inbox()  # nothing was answered
    one, two = screen.session().screen.updates[-1].frames()
    first = held.scan_payloads([one.payload()])
    assert (first.complete, first.frames) == (False, (1,))
    assert screen.scanned() is None
    second = held.scan_payloads([two.payload()])
    assert second.complete
    assert screen.scanned() == 0
    assert held.view().binding == "scanned"
    held.approve()
    response = screen.poll()
    assert response is not None
    assert service.complete(challenge.transaction_id, response).ok


def test_the_code_from_the_screen_stands_in_for_the_scan(
    service: LoginService, app_id: str
) -> None:
    challenge = begin(service)
    screen = open_screen(service, challenge)
    assert screen.current is not None
    phone(service, app_id).approve(code=screen.current.code)
    response = screen.poll()
    assert response is not None
    assert service.complete(challenge.transaction_id, response).ok


def test_a_wrong_code_is_refused_at_once_and_the_login_waits_for_the_right_one(
    service: LoginService, app_id: str
) -> None:
    challenge = begin(service)
    screen = open_screen(service, challenge)
    assert screen.current is not None
    wrong = f"{(int(screen.current.code) + 1) % 10000:04d}"
    with pytest.raises(AppRefusal) as refused:
        phone(service, app_id).approve(code=wrong)
    assert refused.value.reason is Reason.BAD_BINDING
    assert screen.poll() is None  # nothing was handed in: the login is still open
    phone(service, app_id).approve(code=screen.current.code)
    response = screen.poll()
    assert response is not None
    assert service.complete(challenge.transaction_id, response).verdict.reason is Reason.OK


def test_frames_of_another_screen_are_bad_binding(service: LoginService, app_id: str) -> None:
    challenge = begin(service)
    screen = open_screen(service, challenge)
    phishing = frames_for(new_binding_value(), 0)
    phone(service, app_id).scan_payloads([f.payload() for f in phishing])
    with pytest.raises(AppRefusal) as refused:
        phone(service, app_id).approve()
    assert refused.value.reason is Reason.BAD_BINDING
    assert screen.poll() is None


def test_three_wrong_pins_block_the_app_until_activated(
    service: LoginService, clock: FrozenClock
) -> None:
    app_id = enroll(service, level=Level.HIGH)
    apps = AppRepository(service.store)
    challenge = begin(service, level=Level.HIGH, extra={"mobile": True})
    screen = open_screen(service, challenge, Level.HIGH)
    held = phone(service, app_id)
    with pytest.raises(ProtocolError, match="needs the app's PIN"):
        held.approve()
    with pytest.raises(ProtocolError, match="6 digits"):
        held.approve(pin="12")
    assert apps.phone(app_id).pin_failures == 0  # a malformed PIN is not a try
    for left in (2, 1):
        with pytest.raises(AppRefusal, match=f"{left} tr") as info:
            held.approve(pin="000000")
        assert info.value.reason is Reason.WRONG_PIN
        assert "000000" not in info.value.message
    assert apps.phone(app_id).pin_failures == 2
    with pytest.raises(AppRefusal, match="blocked now") as info:
        held.approve(pin="000000")
    assert info.value.reason is Reason.LOCKED
    assert apps.get(app_id).status is AppStatus.BLOCKED
    with pytest.raises(AppRefusal, match="activate it again") as info:
        held.approve(pin=PIN)  # even the right PIN
    assert info.value.reason is Reason.LOCKED
    response = screen.wait()  # every app of the login is blocked: it ends at once
    assert service.complete(challenge.transaction_id, response).verdict.reason is Reason.LOCKED
    apps.activate(app_id, clock.now())
    assert apps.phone(app_id).pin_failures == 0
    result = approve_login(service, app_id, level=Level.HIGH, pin=PIN)
    assert result.ok, result.verdict
    assert result.level is Level.HIGH


def test_a_right_pin_resets_the_count(service: LoginService, app_id: str) -> None:
    apps = AppRepository(service.store)
    challenge = begin(service, extra={"mobile": True})
    open_screen(service, challenge)
    with pytest.raises(AppRefusal):
        phone(service, app_id).approve(pin="999999")
    assert apps.phone(app_id).pin_failures == 1
    phone(service, app_id).approve(pin=PIN)
    assert apps.phone(app_id).pin_failures == 0


def test_biometrics_only_when_enrolled(service: LoginService, app_id: str) -> None:
    challenge = begin(service, extra={"mobile": True})
    open_screen(service, challenge)
    with pytest.raises(ProtocolError, match="no biometrics"):
        phone(service, app_id).approve(biometrics=True)
    with pytest.raises(ProtocolError, match="not both"):
        phone(service, app_id).approve(biometrics=True, pin=PIN)
    with pytest.raises(ProtocolError, match="no code to type"):
        phone(service, app_id).approve(code="1234")
    assert phone(service, app_id).inbox()  # still waiting for an answer


def test_biometrics_reach_high_on_an_app_enrolled_at_high(service: LoginService) -> None:
    app_id = enroll(service, level=Level.HIGH, biometrics=True)
    challenge = begin(service, level=Level.HIGH, extra={"mobile": True})
    screen = open_screen(service, challenge, Level.HIGH)
    phone(service, app_id).approve(biometrics=True)
    response = screen.poll()
    assert response is not None
    result = service.complete(challenge.transaction_id, response)
    assert result.ok
    assert result.level is Level.HIGH


def test_a_request_is_answered_once(service: LoginService, app_id: str) -> None:
    challenge = begin(service, extra={"mobile": True})
    open_screen(service, challenge)
    held = phone(service, app_id)
    held.reject(challenge.transaction_id)
    with pytest.raises(AppRefusal) as info:
        held.approve(transaction_id=challenge.transaction_id)
    assert info.value.reason is Reason.REPLAYED
    with pytest.raises(ProtocolError, match="no pending request"):
        held.approve()


def test_respond_speaks_the_common_protocol(service: LoginService, app_id: str) -> None:
    challenge = begin(service, extra={"mobile": True})
    screen = open_screen(service, challenge)
    device = plugin.authenticator(service.store, app_id, service.clock)
    with pytest.raises(ProtocolError) as info:
        device.respond(challenge, UserAction.PRESS_BUTTON)
    assert info.value.code is ErrorCode.UNSUPPORTED_ACTION
    sent = device.respond(challenge, UserAction.APPROVE)
    assert sent.payload["decision"] == "approve"
    response = screen.poll()
    assert response is not None
    assert service.complete(challenge.transaction_id, response).ok


def test_an_unknown_app_is_refused_up_front(service: LoginService) -> None:
    with pytest.raises(ProtocolError, match="no app with id 'ghost'"):
        phone(service, "ghost")


def test_nothing_secret_in_reprs(service: LoginService, app_id: str) -> None:
    challenge = begin(service, extra={"mobile": True})
    open_screen(service, challenge)
    answer = phone(service, app_id).approve(pin=PIN)
    assert answer.signature.hex() not in repr(answer)
    secrets_ = AppRepository(service.store).phone(app_id)
    assert secrets_.private_key.hex()[:16] not in repr(secrets_)
    assert secrets_.pin_hash not in repr(secrets_)
