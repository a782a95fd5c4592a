"""Every stored fuzz input — the seed corpus and every finding — replayed through its harness:
a finding is a regression test from the moment it is found."""

from __future__ import annotations

from pathlib import Path

import pytest

from security.fuzz import TARGETS

#: Findings not fixed yet, by file name, with what is wrong (their xfail is strict).
KNOWN_FINDINGS: dict[str, str] = {}


def _cases() -> list[object]:
    cases: list[object] = []
    for target in TARGETS.values():
        for path in target.inputs():
            marks = []
            if path.name in KNOWN_FINDINGS:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_FINDINGS[path.name]))
            cases.append(
                pytest.param(target.name, path, id=f"{target.name}/{path.name}", marks=marks)
            )
    return cases


@pytest.mark.parametrize(("name", "path"), _cases())
def test_stored_input(name: str, path: Path) -> None:
    TARGETS[name].one_input()(path.read_bytes())


def test_every_target_has_a_seed_corpus() -> None:
    for target in TARGETS.values():
        assert any(target.corpus.iterdir()), target.name


def test_a_harness_flags_an_answer_outside_the_protocol(monkeypatch: pytest.MonkeyPatch) -> None:
    from security.fuzz import FuzzFailure
    from security.fuzz import ctap2 as harness

    harness.one_input(b"\x04")  # getInfo: fine
    real = harness.fixed_device

    def broken(**options: object) -> object:
        device = real(**options)
        monkeypatch.setattr(device.ctap2, "handle", lambda data, activity: b"\x99")
        return device

    monkeypatch.setattr(harness, "fixed_device", broken)
    with pytest.raises(FuzzFailure):
        harness.one_input(b"\x04")


def test_every_control_api_and_oidc_operation_has_a_seed() -> None:
    from security.fuzz import server_json
    from security.fuzz.seed_corpus import server_json_inputs

    seeds = {server_json.parse(path.read_bytes()) for path in TARGETS["server_json"].inputs()}
    sent = {(request.method, request.path) for request in seeds if request is not None}
    for data in server_json_inputs():
        request = server_json.parse(data)
        assert request is not None, data
        assert (request.method, request.path) in sent, data


def test_the_server_harness_flags_5xx_and_non_json_errors() -> None:
    from security.fuzz import FuzzFailure
    from security.fuzz.server_json import Request, check

    api = Request("POST", "/emulator/identities", "application/json", b"{}", True)
    check(api, 400, "application/json", b'{"error": "invalid_request"}')
    page = Request("GET", "/authorize", "", b"", False)
    check(page, 400, "text/html; charset=utf-8", b"<html></html>")
    for status, ctype, body in (
        (500, "application/json", b'{"error": "server_error"}'),
        (400, "text/plain", b"Bad Request"),
        (404, "application/json", b'"not found"'),
        (200, "application/json", b"{not json"),
    ):
        with pytest.raises(FuzzFailure):
            check(api, status, ctype, body)
    with pytest.raises(FuzzFailure):
        check(page, 502, "text/html", b"")


def test_the_server_harness_raises_what_escapes_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    from security.fuzz import server_json

    server_json.one_input(b"GET /emulator/kinds\n\n")
    services = server_json.fixture().client._transport._inner.app.state.services  # type: ignore[attr-defined]

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(services.identities, "list", broken, raising=False)
    with pytest.raises(RuntimeError):
        server_json.one_input(b"GET /emulator/identities\n\n")
