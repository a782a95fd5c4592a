"""The emulator control API: the admin token, every call, and bad input that changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from authenticators.pytest_plugin import MitIDServer
from authenticators.server.runner import ServerThread
from authenticators.server.testing import EmulatorError
from tests.server.conftest import emulator_for


def test_the_admin_token_is_required(http: httpx.Client) -> None:
    assert http.get("/emulator/identities").status_code == 401
    wrong = http.get("/emulator/identities", headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "unauthorized"
    assert wrong.headers["www-authenticate"].startswith("Bearer")
    assert (
        http.get("/emulator/identities", headers={"Authorization": "Basic abc"}).status_code == 401
    )
    # the document is public
    assert http.get("/emulator/openapi.json").json()["openapi"].startswith("3.")


def test_identities_authenticators_and_codes(http: httpx.Client, admin: dict[str, str]) -> None:
    made = http.post(
        "/emulator/identities",
        headers=admin,
        json={
            "user_id": "ctl-person",
            "name": "Control Person",
            "password": "long-enough-1",
            "cpr": "020202-4321",
            "authenticators": [{"kind": "codeviser", "name": "ctl-cv"}],
        },
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["enrolled"][0]["otpauth_uri"].startswith("otpauth://totp/")
    assert body["cpr"] == "0202024321"
    assert body["birthdate"] == "2002-02-02"
    extra = http.post(
        "/emulator/identities/ctl-person/authenticators",
        headers=admin,
        json={"kind": "kodeoplaeser", "digits": 8},
    )
    assert extra.status_code == 201, extra.text
    name = extra.json()["id"]
    code = http.get(f"/emulator/code-tokens/kodeoplaeser/{name}/code", headers=admin).json()
    assert len(code["code"]) == 8
    assert code["code"].isdigit()
    assert code["used"] is False
    listed = http.get("/emulator/identities", headers=admin).json()["identities"]
    assert "ctl-person" in [i["user_id"] for i in listed]
    shown = http.get("/emulator/identities/ctl-person", headers=admin).json()
    assert {a["kind"] for a in shown["authenticators"]} == {"codeviser", "kodeoplaeser"}
    removed = http.delete(
        f"/emulator/identities/ctl-person/authenticators/kodeoplaeser/{name}", headers=admin
    )
    assert removed.status_code == 200
    assert http.delete("/emulator/identities/ctl-person", headers=admin).status_code == 200
    assert http.get("/emulator/identities/ctl-person", headers=admin).status_code == 404
    kinds = http.get("/emulator/kinds", headers=admin).json()["kinds"]
    assert {"kind": "codeviser", "amr": "code_token", "login_step": True} in kinds


def test_clients_through_the_api(http: httpx.Client, admin: dict[str, str]) -> None:
    made = http.post(
        "/emulator/clients",
        headers=admin,
        json={"client_id": "api-client", "redirect_uris": ["https://svc.example/cb"]},
    )
    assert made.status_code == 201
    assert len(made.json()["client_secret"]) >= 32
    listed = http.get("/emulator/clients", headers=admin).json()["clients"]
    entry = next(c for c in listed if c["client_id"] == "api-client")
    assert "client_secret" not in entry
    assert entry["public"] is False
    again = http.post(
        "/emulator/clients",
        headers=admin,
        json={"client_id": "api-client", "redirect_uris": ["https://svc.example/cb"]},
    )
    assert again.status_code == 409
    assert http.delete("/emulator/clients/api-client", headers=admin).status_code == 200
    assert http.delete("/emulator/clients/api-client", headers=admin).status_code == 404


def test_the_clock_freezes_and_moves(own_server: ServerThread) -> None:
    emulator = emulator_for(own_server)
    frozen = emulator.clock(freeze=True, at=1_800_000_000)
    assert frozen == {"now": 1_800_000_000, "frozen": True, "offset": 0.0}
    assert emulator.clock(advance=30)["now"] == 1_800_000_030
    running = emulator.clock(freeze=False)
    assert running["frozen"] is False
    assert abs(running["now"] - 1_800_000_030) < 5
    assert emulator.clock(reset=True)["offset"] == 0.0


def test_codes_follow_the_emulator_clock(own_server: ServerThread) -> None:
    emulator = emulator_for(own_server)
    emulator.create_identity(
        "clocked",
        "Clocked",
        password="long-enough-1",
        authenticators=[{"kind": "codeviser", "name": "clocked-cv"}],
    )
    emulator.clock(freeze=True, at=1_800_000_000)
    first = emulator.current_code("codeviser", "clocked-cv")
    assert emulator.current_code("codeviser", "clocked-cv") == first
    emulator.clock(advance=30)
    assert emulator.current_code("codeviser", "clocked-cv") != first


def test_reset_forgets_everything_but_keys(own_server: ServerThread) -> None:
    emulator = emulator_for(own_server)
    emulator.create_identity("gone-soon", "Gone")
    emulator.create_organisation("12121212", "Gone ApS")
    emulator.add_client("gone-client", ["http://127.0.0.1:9/cb"])
    keys = emulator.http.get("/jwks").json()
    emulator.reset()
    assert emulator.call("GET", "/emulator/identities")["identities"] == []
    assert emulator.call("GET", "/emulator/organisations")["organisations"] == []
    assert emulator.call("GET", "/emulator/clients")["clients"] == []
    assert emulator.http.get("/jwks").json() == keys


def test_pending_logins_are_listed(
    http: httpx.Client,
    admin: dict[str, str],
    mitid_server: MitIDServer,
) -> None:
    emulator = mitid_server.emulator
    emulator.create_identity(
        "pending-person",
        "Pending",
        password="long-enough-1",
        authenticators=[{"kind": "codeviser", "name": "pending-cv"}],
    )
    emulator.add_client("pending-client", ["http://127.0.0.1:9/p"])
    from authenticators.server.testing import BrowserLogin, Page, authorization_request

    browser = BrowserLogin(mitid_server.url, emulator)
    request = authorization_request(
        mitid_server.url,
        "pending-client",
        "http://127.0.0.1:9/p",
        login_hint="message:" + "TG9nIG9uIHRvIFRlc3Q=",
    )
    page = browser.open(request.url)
    assert isinstance(page, Page)
    page = browser.submit(page, user_id="pending-person")
    assert isinstance(page, Page)
    assert page.form
    browser.submit(page, method=page.form.choices["method"][0])
    pending = [p for p in emulator.pending_logins("codeviser") if p["user_id"] == "pending-person"]
    assert pending
    assert pending[0]["reference_text"]["body"] == "Log on to Test"
    assert pending[0]["service_provider"] == "pending-client"
    browser.close()


# -- bad input: a 4xx JSON error that says what was wrong, and nothing changed ----------------

BAD: list[tuple[str, str, dict[str, Any], int, str]] = [
    (
        "POST",
        "/emulator/identities",
        {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
        400,
        "not valid JSON",
    ),
    (
        "POST",
        "/emulator/identities",
        {"content": b"[1, 2]", "headers": {"Content-Type": "application/json"}},
        400,
        "JSON object",
    ),
    (
        "POST",
        "/emulator/identities",
        {"content": b'{"user_id": "bad-input"}', "headers": {"Content-Type": "text/plain"}},
        415,
        "Content-Type",
    ),
    (
        "POST",
        "/emulator/identities",
        {
            "content": b'{"name": "[{\\"", "a": ' + b"[" * 990 + b"]" * 990 + b"}",
            "headers": {"Content-Type": "application/json"},
        },
        400,
        "nested 991 levels deep",
    ),
    (
        "POST",
        "/emulator/identities",
        {"json": {"user_id": 5, "name": "Five"}},
        400,
        "'user_id' must be a string",
    ),
    (
        "POST",
        "/emulator/identities",
        {"json": {"user_id": "bad-input", "name": ["x"]}},
        400,
        "'name' must be a string",
    ),
    ("POST", "/emulator/identities", {"json": {"user_id": "bad-input"}}, 400, "'name' is required"),
    (
        "POST",
        "/emulator/identities",
        {"json": {"user_id": "bad-input", "name": "X", "colour": "red"}},
        400,
        "unknown field 'colour'",
    ),
    (
        "POST",
        "/emulator/identities",
        {"json": {"user_id": "bad-input", "name": "X", "password": "short"}},
        400,
        "at least 8",
    ),
    (
        "POST",
        "/emulator/identities",
        {"json": {"user_id": "bad-input", "name": "X", "cpr": "999999-9999"}},
        400,
        "CPR",
    ),
    (
        "POST",
        "/emulator/identities",
        {"json": {"user_id": "bad-input", "name": "X", "authenticators": [{"kind": "nope"}]}},
        404,
        "kind 'nope'",
    ),
    (
        "POST",
        "/emulator/identities",
        {
            "json": {
                "user_id": "bad-input",
                "name": "X",
                "authenticators": [{"kind": "codeviser", "digits": 7}],
            }
        },
        400,
        "digits",
    ),
    (
        "POST",
        "/emulator/identities",
        {"json": {"user_id": "bad-input", "name": "X", "authenticators": "codeviser"}},
        400,
        "list of objects",
    ),
    (
        "POST",
        "/emulator/identities",
        {
            "content": b'{"user_id": "bad-input", "name": "' + b"x" * 70000 + b'"}',
            "headers": {"Content-Type": "application/json"},
        },
        413,
        "limit",
    ),
    (
        "POST",
        "/emulator/identities/nobody-here/authenticators",
        {"json": {"kind": "codeviser"}},
        404,
        "nobody-here",
    ),
    ("GET", "/emulator/code-tokens/codeviser/no-such-token/code", {}, 404, "no-such-token"),
    ("GET", "/emulator/code-tokens/chip/anything/code", {}, 404, "not a code token kind"),
    ("DELETE", "/emulator/identities/nobody-here", {}, 404, "nobody-here"),
    ("DELETE", "/emulator/organisations/12345678", {}, 404, "12345678"),
    ("DELETE", "/emulator/organisations/not-a-cvr", {}, 400, "CVR"),
    (
        "PUT",
        "/emulator/identities/nobody-here/organisations/12345678",
        {"json": {"roles": "admin"}},
        400,
        "list of strings",
    ),
    ("POST", "/emulator/clock", {"json": {"advance": "soon"}}, 400, "'advance' must be a number"),
    ("POST", "/emulator/clock", {"json": {"freeze": "yes"}}, 400, "'freeze' must be true or false"),
    ("POST", "/emulator/clock", {"json": {"at": -5}}, 400, "at least"),
    (
        "POST",
        "/emulator/clients",
        {"json": {"client_id": "bad-input", "redirect_uris": ["javascript:alert(1)"]}},
        400,
        "not allowed",
    ),
    (
        "POST",
        "/emulator/clients",
        {"json": {"client_id": "bad-input", "redirect_uris": ["https://x/cb#frag"]}},
        400,
        "fragment",
    ),
    (
        "POST",
        "/emulator/clients",
        {
            "json": {
                "client_id": "bad-input",
                "redirect_uris": ["https://x/cb"],
                "public": True,
                "client_secret": "0123456789abcdefgh",
            }
        },
        400,
        "no secret",
    ),
    ("GET", "/emulator/nothing-here", {}, 404, ""),
    ("PATCH", "/emulator/identities", {}, 405, ""),
]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "says"),
    BAD,
    ids=[f"{m} {p} {s}" for m, p, _, s, _ in BAD],
)
def test_bad_input_is_a_4xx_that_says_why_and_changes_nothing(
    http: httpx.Client,
    admin: dict[str, str],
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    says: str,
) -> None:
    before = http.get("/emulator/identities", headers=admin).json()
    clients_before = http.get("/emulator/clients", headers=admin).json()
    headers = {**admin, **kwargs.pop("headers", {})}
    response = http.request(method, path, headers=headers, **kwargs)
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert says in body["error_description"], body
    assert http.get("/emulator/identities", headers=admin).json() == before
    assert http.get("/emulator/clients", headers=admin).json() == clients_before


def test_no_writer_waits_for_a_password_or_pin_hash(
    own_server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Password and PIN hashes are slow by design: they are made before the write lock."""
    from authenticators.app import apps as app_repository
    from authenticators.core.identities import IdentityRepository
    from authenticators.server.app import services_of_app
    from authenticators.server.steps.app import login_step as app_step

    store = services_of_app(own_server.app).store
    held: list[tuple[str, bool]] = []

    def watching(name: str, original: Any) -> Any:
        def wrapper(*args: Any) -> Any:
            held.append((name, store._write_lock.locked()))
            return original(*args)

        return wrapper

    monkeypatch.setattr(
        IdentityRepository,
        "hash_password",
        staticmethod(watching("password", IdentityRepository.hash_password)),
    )
    monkeypatch.setattr(app_step, "hash_pin", watching("pin", app_step.hash_pin))
    monkeypatch.setattr(app_repository, "hash_pin", watching("pin", app_repository.hash_pin))
    emulator = emulator_for(own_server)
    made = emulator.create_identity(
        "hashes-outside",
        "Hash Outside",
        password="long-enough-1",
        authenticators=[{"kind": "app", "pin": "135790"}, {"kind": "codeviser", "name": "ho"}],
    )
    assert {e["kind"] for e in made["enrolled"]} == {"app", "codeviser"}
    emulator.call("POST", "/emulator/identities/hashes-outside/authenticators", {"kind": "app"})
    assert [name for name, _ in held] == ["password", "pin", "pin"]
    assert not any(locked for _, locked in held), held
    # A refused enrollment still leaves nothing behind.
    with pytest.raises(EmulatorError):
        emulator.create_identity(
            "hashes-refused",
            "Refused",
            password="long-enough-1",
            authenticators=[{"kind": "app", "pin": "12"}],
        )
    assert "hashes-refused" not in [
        i["user_id"] for i in emulator.call("GET", "/emulator/identities")["identities"]
    ]
    emulator.close()
