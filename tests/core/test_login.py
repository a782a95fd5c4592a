"""Login transactions end to end through the core: levels, passwords, expiry, single use."""

from __future__ import annotations

import pytest

from authenticators.clock import FrozenClock
from authenticators.codeviser.device import response_for_code
from authenticators.codeviser.plugin import CodeTokenOptions
from authenticators.codeviser.plugin import plugin as codeviser
from authenticators.core.errors import CoreError, CoreErrorCode
from authenticators.core.login import LoginService
from authenticators.otp import OtpKey, OtpParams
from authenticators.protocol import Action, Level, Reason, ReferenceText, Response
from authenticators.store import Store

SEED = bytes(range(20))
PASSWORD = "correct horse"
REF = ReferenceText(Action.LOG_ON, "Log on to Demo Bank")


@pytest.fixture
def service(store: Store, clock: FrozenClock) -> LoginService:
    svc = LoginService(store, clock)
    svc.identities.create("alice", "Alice", password=PASSWORD, cpr="010190-1234")
    codeviser.enroll(store, clock, CodeTokenOptions(name="t1", seed=SEED))
    svc.identities.add_authenticator("alice", "codeviser", "t1")
    return svc


def code_now(clock: FrozenClock) -> str:
    return OtpKey(SEED, OtpParams()).code(OtpParams().step(clock.now()))


def begin(service: LoginService, level: Level = Level.SUBSTANTIAL) -> tuple[str, Response]:
    challenge = service.begin(
        "alice", "codeviser", service_provider="Demo Bank", reference_text=REF, level=level
    )
    response = response_for_code(challenge, "t1", code_now(service.clock))  # type: ignore[arg-type]
    return challenge.transaction_id, response


def test_a_good_login(service: LoginService) -> None:
    tx, response = begin(service)
    result = service.complete(tx, response, PASSWORD)
    assert result.ok
    assert result.level is Level.SUBSTANTIAL
    assert result.amr == ("code_token", "pwd")
    assert result.identity.user_id == "alice"
    assert result.to_dict()["loa"].endswith("/Substantial")
    events = service.audit.recent()
    assert [e["event"] for e in events] == ["login_started", "login_finished"]
    assert events[-1]["reason"] == "ok"
    assert PASSWORD not in str(events)


def test_a_login_is_single_use(service: LoginService, clock: FrozenClock) -> None:
    tx, response = begin(service)
    assert service.complete(tx, response, PASSWORD).ok
    again = service.complete(tx, response, PASSWORD)
    assert again.verdict.reason is Reason.REPLAYED


def test_the_code_of_one_login_does_not_open_another(service: LoginService) -> None:
    _, response1 = begin(service)
    tx2, _ = begin(service)
    stolen = Response(tx2, "codeviser", "t1", response1.payload)
    assert service.complete(tx2, stolen, PASSWORD).verdict.reason is Reason.WRONG_CODE


def test_wrong_password(service: LoginService) -> None:
    tx, response = begin(service)
    result = service.complete(tx, response, "wrong password")
    assert result.verdict.reason is Reason.WRONG_PASSWORD
    assert not result.ok
    assert result.level is None


def test_expired(service: LoginService, clock: FrozenClock) -> None:
    tx, response = begin(service)
    clock.advance(181)
    assert service.complete(tx, response, PASSWORD).verdict.reason is Reason.EXPIRED


def test_level_high_is_out_of_reach_for_a_code_token(service: LoginService) -> None:
    with pytest.raises(CoreError, match="cannot reach level high") as info:
        begin(service, Level.HIGH)
    assert info.value.code is CoreErrorCode.INSUFFICIENT_LEVEL
    assert service.methods("alice", Level.HIGH) == []
    assert service.methods("alice", Level.SUBSTANTIAL) == [("codeviser", "t1")]


def test_method_and_password_must_exist(service: LoginService, clock: FrozenClock) -> None:
    with pytest.raises(CoreError, match="has no kodeoplaeser"):
        service.begin("alice", "kodeoplaeser", service_provider="x", reference_text=REF)
    service.identities.create("nopw", "No Password")
    codeviser.enroll(service.store, clock, CodeTokenOptions(name="t2"))
    service.identities.add_authenticator("nopw", "codeviser", "t2")
    with pytest.raises(CoreError, match="no password") as info:
        service.begin("nopw", "codeviser", service_provider="x", reference_text=REF)
    assert info.value.code is CoreErrorCode.NO_PASSWORD


def test_an_answer_from_another_token_is_refused(service: LoginService, clock: FrozenClock) -> None:
    codeviser.enroll(service.store, clock, CodeTokenOptions(name="other", seed=SEED))
    challenge = service.begin("alice", "codeviser", service_provider="x", reference_text=REF)
    response = response_for_code(challenge, "other", code_now(clock))
    assert service.complete(challenge.transaction_id, response, PASSWORD).verdict.reason is (
        Reason.MALFORMED
    )


def test_unknown_transaction(service: LoginService) -> None:
    with pytest.raises(CoreError, match="no login"):
        service.complete("nope", Response("nope", "codeviser", "t1", {}), PASSWORD)
