"""The common protocol: reference texts, challenges, canonical bytes, the constant-time helper."""

from __future__ import annotations

import pytest

from authenticators import registry
from authenticators.clock import FrozenClock
from authenticators.ct import bytes_eq
from authenticators.protocol import (
    Action,
    AuthenticatorPlugin,
    Challenge,
    ErrorCode,
    Level,
    ProtocolError,
    Reason,
    ReferenceText,
    Response,
    Verdict,
    code_proof,
)
from tests.support import T0


def test_reference_text_limits() -> None:
    ReferenceText(Action.SIGN, "x" * 130)
    with pytest.raises(ProtocolError, match="131 characters") as info:
        ReferenceText(Action.LOG_ON, "x" * 131)
    assert info.value.code is ErrorCode.INVALID_REFERENCE_TEXT
    with pytest.raises(ProtocolError, match="control characters"):
        ReferenceText(Action.LOG_ON, "a\x00b")
    with pytest.raises(ProtocolError, match="LOG_ON, APPROVE, CONFIRM, ACCEPT, SIGN"):
        ReferenceText.parse("body", "PAY")
    assert ReferenceText.parse("body", "approve").header is Action.APPROVE


def test_challenges_are_fresh_and_round_trip() -> None:
    clock = FrozenClock(T0)
    ref = ReferenceText(Action.LOG_ON, "Log on")
    a = Challenge.issue("codeviser", "Demo", ref, clock)
    b = Challenge.issue("codeviser", "Demo", ref, clock)
    assert a.transaction_id != b.transaction_id
    assert a.nonce != b.nonce
    assert len(a.nonce) == 32
    assert a.expires_at == T0 + 180
    assert Challenge.from_dict(a.to_dict()) == a
    assert Challenge.from_dict(a.to_dict()).canonical_bytes() == a.canonical_bytes()
    with pytest.raises(ProtocolError, match="malformed challenge"):
        Challenge.from_dict({"nonce": "zz"})


def test_canonical_bytes_cover_every_field() -> None:
    clock = FrozenClock(T0)
    base = Challenge.issue("codeviser", "Demo", ReferenceText(Action.LOG_ON, "x"), clock)
    variants = [
        {"transaction_id": "other"},
        {"nonce": bytes(32)},
        {"kind": "kodeoplaeser"},
        {"service_provider": "Demo2"},
        {"reference_text": ReferenceText(Action.SIGN, "x")},
        {"reference_text": ReferenceText(Action.LOG_ON, "y")},
        {"expires_at": T0 + 181},
        {"extra": {"rp": "a"}},
    ]
    seen = {base.canonical_bytes()}
    for change in variants:
        other = Challenge(**{**base.__dict__, **change})  # type: ignore[arg-type]
        seen.add(other.canonical_bytes())
        assert code_proof("123456", other) != code_proof("123456", base)
    assert len(seen) == len(variants) + 1


def test_bytes_eq_checks_types() -> None:
    assert bytes_eq(b"abc", b"abc")
    assert not bytes_eq(b"abc", b"abd")
    assert not bytes_eq(b"abc", b"abcd")
    with pytest.raises(TypeError):
        bytes_eq("abc", b"abc")  # type: ignore[arg-type]


def test_reprs_keep_payloads_out() -> None:
    response = Response("tx", "codeviser", "t1", {"code": "123456"})
    assert "123456" not in repr(response)
    assert "OK" in repr(Verdict(Reason.OK))


def test_levels_map_to_broker_values() -> None:
    assert Level.SUBSTANTIAL.acr == "urn:grn:authn:dk:mitid:substantial"
    assert Level.HIGH.loa == "https://data.gov.dk/concept/core/nsis/loa/High"
    assert Level.from_acr("urn:grn:authn:dk:mitid:low") is Level.LOW
    with pytest.raises(ProtocolError, match="unknown acr"):
        Level.from_acr("urn:x")


def test_our_kinds_come_through_the_entry_points() -> None:
    found = registry.plugins()
    assert {"codeviser", "kodeoplaeser"} <= set(found)
    for kind, plugin in found.items():
        assert isinstance(plugin, AuthenticatorPlugin)
        assert plugin.kind == kind
    assert found["codeviser"].amr == "code_token"
    assert found["kodeoplaeser"].amr == "code_reader"
    with pytest.raises(ProtocolError, match="unknown authenticator kind 'nfc'"):
        registry.get("nfc")


def test_enroll_options_are_each_kinds_typed_object() -> None:
    from authenticators import registry
    from authenticators.codeviser.plugin import CodeTokenOptions

    plugin = registry.get("codeviser")
    assert plugin.enroll_options({"name": "t1"}) == CodeTokenOptions("t1")
    with pytest.raises(ProtocolError, match="not enrolled with colour"):
        plugin.enroll_options({"name": "t1", "colour": "red"})
    with pytest.raises(ProtocolError, match="enrolled with"):
        plugin.enroll_options({})
