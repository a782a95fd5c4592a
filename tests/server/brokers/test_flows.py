"""What brokers add on top of MitID: MitID Erhverv with the company choice and vatid, the
business_optional fallback, name and address protection, the reference text in the app."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable

import httpx

from authenticators.pytest_plugin import MitIDBrokerClient, MitIDIdentity, MitIDServer
from authenticators.server.testing import BrowserLogin, Page
from tests.server.brokers.conftest import callback_of, discovery, redeem

Make = Callable[..., MitIDBrokerClient]


def cvr() -> str:
    return f"{secrets.randbelow(9) + 1}{secrets.randbelow(10**7):07d}"


def test_idura_erhverv_with_vatid_and_the_company_choice(
    mitid_server: MitIDServer,
    mitid_broker_client: Make,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
) -> None:
    emulator = mitid_server.emulator
    alfa, beta = cvr(), cvr()
    emulator.create_organisation(alfa, "Alfa ApS")
    emulator.create_organisation(beta, "Beta A/S")
    emulator.add_membership(mitid_identity.user_id, alfa, ["admin"])
    emulator.add_membership(mitid_identity.user_id, beta, ["signer"])
    client = mitid_broker_client("idura")
    # vatid picks the company: no company page
    request = client.authorization_request(
        acr_values="urn:grn:authn:dk:mitid:business", login_hint=f"vatid:DK{alfa}"
    )
    callback = mitid_browser.login(request.url, mitid_identity.user_id, kind="app")
    employee = redeem(client, request, callback).id_token
    assert employee["cvrNumberIdentifier"] == alfa
    assert employee["2.5.4.10"] == "Alfa ApS"
    assert employee["employee"] == "true"
    assert employee["uuid"] != mitid_identity.uuid  # the professional identity
    assert employee["authenticationtype"] == "urn:grn:authn:dk:mitid:business"
    # without it the person picks; one who may sign gets the private claims too
    request = client.authorization_request("openid", login_hint="business")
    callback = mitid_browser.login(request.url, mitid_identity.user_id, kind="app", cvr=beta)
    signatory = redeem(client, request, callback).id_token
    assert signatory["cvrNumberIdentifier"] == beta
    assert signatory["companySignatory"] == "true"
    assert signatory["uuid"] == mitid_identity.uuid


def test_business_optional_lets_a_private_person_in(
    mitid_broker_client: Make, mitid_identity: MitIDIdentity
) -> None:
    client = mitid_broker_client("idura", simulate=True)
    request = client.authorization_request(
        login_hint=f"business_optional uuid:{mitid_identity.uuid}", simulation="no-ui"
    )
    claims = redeem(client, request, callback_of(httpx.get(request.url))).id_token
    assert claims["uuid"] == mitid_identity.uuid
    assert "cvrNumberIdentifier" not in claims
    required = client.authorization_request(
        login_hint=f"business uuid:{mitid_identity.uuid}", simulation="no-ui"
    )
    refused = callback_of(httpx.get(required.url))
    assert refused.error == "access_denied"
    assert "no_organisation" in refused.params["error_description"]


def test_signaturgruppen_erhverv_and_protection(
    mitid_server: MitIDServer, mitid_broker_client: Make, mitid_identity: MitIDIdentity
) -> None:
    emulator = mitid_server.emulator
    number = cvr()
    emulator.create_organisation(number, "Gamma I/S")
    emulator.add_membership(mitid_identity.user_id, number, ["employee"])
    client = mitid_broker_client("signaturgruppen", simulate=True)
    request = client.authorization_request(
        "openid nemlogin",
        idp_values="mitid_erhverv",
        simulation=f"no-ui uuid:{mitid_identity.uuid}",
    )
    tokens = redeem(client, request, callback_of(httpx.get(request.url)))
    assert tokens.id_token["idp"] == "mitid_erhverv"
    assert tokens.id_token["identity_type"] == "professional"
    info = tokens.userinfo(discovery(client)["userinfo_endpoint"]).json()
    assert info["nemlogin.cvr"] == number
    assert info["nemlogin.org_name"] == "Gamma I/S"
    assert info["nemlogin.auth_to_repr"] is False
    # a person with name and address protection
    emulator.call("PUT", f"/emulator/brokers/persons/{mitid_identity.uuid}", {"protected": True})
    request = client.authorization_request(
        "openid mitid", idp_values="mitid", simulation=f"no-ui uuid:{mitid_identity.uuid}"
    )
    tokens = redeem(client, request, callback_of(httpx.get(request.url)))
    info = tokens.userinfo(discovery(client)["userinfo_endpoint"]).json()
    assert info["mitid.identity_name"] == "NAVNE & ADRESSEBESKYTTET"
    signicat = mitid_broker_client("signicat", simulate=True)
    request = signicat.authorization_request(
        "openid mitid-extra", simulation=f"no-ui uuid:{mitid_identity.uuid}"
    )
    tokens = redeem(signicat, request, callback_of(httpx.get(request.url)))
    info = tokens.userinfo(discovery(signicat)["userinfo_endpoint"]).json()
    assert info["mitid_name_and_address_protection"] == "true"


def test_the_app_shows_the_reference_text_and_action(
    mitid_server: MitIDServer,
    mitid_broker_client: Make,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
) -> None:
    client = mitid_broker_client("idura")
    message = base64.urlsafe_b64encode("Underskriv lejekontrakt ½".encode()).decode().rstrip("=")
    request = client.authorization_request(
        login_hint=f"uuid:{mitid_identity.uuid} message:{message} action:sign"
    )
    page = mitid_browser.open(request.url)
    assert isinstance(page, Page)
    assert page.form is not None
    app = next(c for c in page.form.choices["method"] if c.startswith("app:"))
    step = mitid_browser.submit(page, method=app)
    assert isinstance(step, Page)
    shown = [
        login
        for login in mitid_server.emulator.app_logins()
        if login["user_id"] == mitid_identity.user_id
    ]
    assert shown[0]["reference_text"] == {"header": "SIGN", "body": "Underskriv lejekontrakt ½"}
    assert shown[0]["service_provider"] == "Test Service"
    mitid_browser.cancel(step)  # the push is taken back: no login left waiting on the server
    assert not [
        login
        for login in mitid_server.emulator.app_logins()
        if login["user_id"] == mitid_identity.user_id
    ]
