"""The identification app through the login server's control API, and the pytest fixtures:
a person registered with their passport logs in at level high with the app they got."""

from __future__ import annotations

import base64

import httpx
import pytest

from authenticators.pytest_plugin import MitIDClient, MitIDServer, RegisteredIdentity
from authenticators.server.testing import BrowserLogin, EmulatorError
from firmware_sim.passport import faces
from tests.server.conftest import exchange, id_token_claims

ACR = "urn:grn:authn:dk:mitid:"


def test_a_registered_identity_logs_in_at_high_with_its_app(
    mitid_server: MitIDServer,
    mitid_registered_identity: RegisteredIdentity,
    mitid_client: MitIDClient,
    mitid_browser: BrowserLogin,
) -> None:
    person = mitid_registered_identity
    shown = mitid_server.emulator.identity(person.user_id)
    assert (shown["name"], shown["birthdate"]) == ("Test Person Jensen", "1990-01-02")
    assert [a["kind"] for a in shown["authenticators"]] == ["app"]
    request = mitid_client.authorization_request(acr_values=ACR + "high")
    done = mitid_browser.login(request.url, person.user_id, kind="app", pin=person.app_pin)
    with httpx.Client(base_url=mitid_server.url) as http:
        claims = id_token_claims(
            http, exchange(http, mitid_client, request, done.code or "").json()["id_token"]
        )
    assert (claims["acr"], claims["amr"]) == (ACR + "high", ["code_app"])


def test_enroll_and_refusals_over_http(
    mitid_server: MitIDServer, mitid_registered_identity: RegisteredIdentity
) -> None:
    emulator = mitid_server.emulator
    person = mitid_registered_identity
    added = emulator.enroll_with_passport(person.passport, person.user_id, "codeviser")
    assert added["kind"] == "codeviser"
    kinds = sorted(a["kind"] for a in emulator.identity(person.user_id)["authenticators"])
    assert kinds == ["app", "codeviser"]
    # Another person's face, as an image: refused with its reason, nothing added.
    other = base64.b64encode(faces.camera_shot(faces.face("someone else"))).decode()
    with pytest.raises(EmulatorError) as refused:
        emulator.enroll_with_passport(
            person.passport, person.user_id, "app", face=other, pin="135790"
        )
    assert (refused.value.status, refused.value.error) == (422, "proofing_refused")
    assert "does not match the passport photo" in refused.value.description
    assert len(emulator.identity(person.user_id)["authenticators"]) == 2
    # A cloned chip cannot register anyone.
    clone = emulator.create_passport("Jensen", "Test Person", "1990-01-02", clone=True)
    with pytest.raises(EmulatorError) as cloned:
        emulator.register_with_passport(clone["name"], "clone-user", "135790")
    assert cloned.value.status == 422
    assert "Chip Authentication failed" in cloned.value.description
    with pytest.raises(EmulatorError) as missing:
        emulator.identity("clone-user")
    assert missing.value.status == 404
    with pytest.raises(EmulatorError) as unknown:
        emulator.register_with_passport("no-such-passport", "nobody-here", "135790")
    assert unknown.value.status == 404


def test_passports_over_http(mitid_server: MitIDServer) -> None:
    emulator = mitid_server.emulator
    made = emulator.create_passport("Berg", "Bo", "1985-06-07", nationality="SWE", sex="M")
    assert made["uri"] == f"passport:sim:{made['name']}"
    assert made["mrz"][0].startswith("P<SWEBERG<<BO<")
    listed = emulator.call("GET", "/emulator/passports")["passports"]
    assert made["name"] in [p["name"] for p in listed]
    assert emulator.call("GET", f"/emulator/passports/{made['name']}")["mrz"] == made["mrz"]
    # A Swedish passport needs a CPR number.
    with pytest.raises(EmulatorError) as foreign:
        emulator.register_with_passport(made["name"], "bo-berg-se", "135790")
    assert "CPR" in foreign.value.description
    emulator.call("DELETE", f"/emulator/passports/{made['name']}")
    with pytest.raises(EmulatorError) as gone:
        emulator.call("GET", f"/emulator/passports/{made['name']}")
    assert gone.value.status == 404
