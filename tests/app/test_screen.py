"""The login screen: frames alternating, fresh binding values, PNGs, the grace for late answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from authenticators.app.channel import scan_frame_png
from authenticators.app.inbox import SessionStatus, StateExchange
from authenticators.app.policy import AppPolicy
from authenticators.app.screen import LoginScreen
from authenticators.clock import FrozenClock
from authenticators.core.login import LoginService
from authenticators.protocol import ProtocolError, Reason
from tests.app.helpers import begin, enroll, phone


def make_screen(service: LoginService, qr_dir: Path | None = None, **policy: float) -> LoginScreen:
    challenge = begin(service)
    screen = LoginScreen(
        service.store, service.clock, challenge, policy=AppPolicy(**policy), qr_dir=qr_dir
    )
    screen.open()
    return screen


def test_the_two_frames_alternate_every_half_second(
    service: LoginService, app_id: str, clock: FrozenClock
) -> None:
    screen = make_screen(service)
    shown = []
    for _ in range(4):
        frame = screen.frame()
        assert frame is not None
        shown.append(frame.part)
        clock.advance(0.5)
    assert shown == [1, 2, 1, 2]


def test_a_fresh_binding_value_every_few_seconds_until_scanned(
    service: LoginService, app_id: str, clock: FrozenClock
) -> None:
    screen = make_screen(service, rotate_every=3.0)
    first = screen.current
    assert first is not None
    assert first.update == 0
    clock.advance(2.9)
    assert screen.refresh() == first
    clock.advance(0.1)
    second = screen.refresh()
    assert second is not None
    assert second.update == 1
    assert second.value != first.value
    held = phone(service, app_id)
    held.look_at_screen(screen.session().screen, screen.transaction_id)
    assert screen.scanned() == 1
    clock.advance(30)
    assert screen.refresh() == second  # the phone has scanned: the screen holds still


def test_an_update_counts_for_the_grace_after_it_left_the_screen(
    service: LoginService, app_id: str, clock: FrozenClock
) -> None:
    screen = make_screen(service, rotate_every=3.0, binding_grace=5.0)
    old = screen.current
    assert old is not None
    clock.advance(3)
    screen.refresh()
    clock.advance(4)  # update 0 left the screen 4 s ago
    phone(service, app_id).approve(code=old.code)
    response = screen.poll()
    assert response is not None
    assert service.complete(screen.transaction_id, response).ok


def test_an_update_long_gone_does_not_count(
    service: LoginService, app_id: str, clock: FrozenClock
) -> None:
    screen = make_screen(service, rotate_every=3.0, binding_grace=5.0)
    old = screen.current
    assert old is not None
    for _ in range(4):
        clock.advance(3)
        screen.refresh()
    held = phone(service, app_id)
    held.scan(old.frames(), screen.transaction_id)  # a photo of the screen, 12 s old
    held.approve()
    response = screen.poll()
    assert response is not None
    assert service.complete(screen.transaction_id, response).verdict.reason is Reason.BAD_BINDING


def test_the_screen_writes_png_frames_the_phone_can_scan(
    service: LoginService, app_id: str, clock: FrozenClock, tmp_path: Path
) -> None:
    screen = make_screen(service, qr_dir=tmp_path / "qr", rotate_every=3.0)
    clock.advance(3)
    screen.refresh()
    current = screen.current
    assert current is not None
    paths = [Path(p) for p in screen.png_paths]
    assert len(paths) == 2
    assert [scan_frame_png(p) for p in paths] == list(current.frames())
    held = phone(service, app_id)
    state = screen.session().screen
    assert state.png == screen.png_paths
    # Held to the screen, the phone reads the PNGs (not the payloads): remove the value from
    # what it could read otherwise by pointing it at the files only.
    result = held.scan_pngs(paths, screen.transaction_id)
    assert result.complete
    assert result.update == 1
    held.approve()
    response = screen.poll()
    assert response is not None
    assert service.complete(screen.transaction_id, response).ok


def test_a_scan_within_the_grace_binds_for_good(
    service: LoginService, app_id: str, clock: FrozenClock
) -> None:
    screen = make_screen(service, rotate_every=3.0, binding_grace=5.0)
    old = screen.current
    assert old is not None
    clock.advance(3)
    screen.refresh()
    clock.advance(2)  # update 0 left 2 s ago: a person copying it is still in time
    held = phone(service, app_id)
    held.scan(old.frames(), screen.transaction_id)
    assert screen.bound() == old
    clock.advance(60)
    rest = screen.refresh()
    assert rest is not None
    assert rest.update == 1  # held still since the scan
    held.approve()
    response = screen.poll()
    assert response is not None
    assert service.complete(screen.transaction_id, response).ok


def test_an_interrupted_wait_closes_the_login(
    service: LoginService, app_id: str, clock: FrozenClock
) -> None:
    screen = make_screen(service)

    def interrupt(_: LoginScreen) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        screen.wait(on_tick=interrupt)
    assert screen.session().status is SessionStatus.CLOSED
    assert phone(service, app_id).inbox() == []
    assert begin(service)  # the next login is not held up


def test_only_a_phone_the_login_was_pushed_to_may_report_or_answer(
    service: LoginService, app_id: str
) -> None:
    screen = make_screen(service)
    stranger = enroll(service, user="bob")
    with pytest.raises(ProtocolError, match="not pushed to app"):
        StateExchange(service.store).report_scan(screen.transaction_id, stranger, 0, 0.0)
    with pytest.raises(ProtocolError, match="no request"):
        phone(service, stranger).approve(transaction_id=screen.transaction_id)


def test_a_session_read_in_a_transaction_is_read_again_after_a_write(
    service: LoginService, app_id: str, clock: FrozenClock
) -> None:
    screen = make_screen(service)
    exchange = StateExchange(service.store)
    with service.store.transaction():
        before = exchange.session(screen.transaction_id)
        assert exchange.session(screen.transaction_id) is before  # kept for the transaction
        exchange.close(screen.transaction_id, clock.now())
        after = exchange.session(screen.transaction_id)
        assert before.status is SessionStatus.PENDING
        assert after.status is SessionStatus.CLOSED
    assert exchange.session(screen.transaction_id) is not after  # read afresh outside it


def test_a_session_read_after_an_answer_in_one_transaction_shows_the_answer(
    service: LoginService, app_id: str, clock: FrozenClock
) -> None:
    """The answer is judged against the session it reads; that read must not outlive the write."""
    screen = make_screen(service)
    held = phone(service, app_id)
    held.look_at_screen(screen.session().screen, screen.transaction_id)
    exchange = StateExchange(service.store)
    with service.store.transaction():
        assert exchange.session(screen.transaction_id).status is SessionStatus.PENDING
        held.approve(transaction_id=screen.transaction_id)
        assert exchange.session(screen.transaction_id).status is SessionStatus.ANSWERED
