"""MitID Erhverv: a person logs in for a company, picking it when they may act for several."""

from __future__ import annotations

import secrets

import httpx
import pytest

from authenticators.pytest_plugin import MitIDClient, MitIDIdentity, MitIDServer
from authenticators.server.testing import BrowserLogin, Callback, LoginFailed
from tests.server.conftest import exchange, id_token_claims

BUSINESS = "urn:grn:authn:dk:mitid:business"


def cvr() -> str:
    return f"{secrets.randbelow(9) + 1}{secrets.randbelow(10**7):07d}"


@pytest.fixture
def companies(mitid_server: MitIDServer, mitid_identity: MitIDIdentity) -> list[str]:
    numbers = [cvr(), cvr()]
    for number, name in zip(numbers, ("Alfa ApS", "Beta A/S"), strict=True):
        mitid_server.emulator.create_organisation(number, name)
    mitid_server.emulator.add_membership(mitid_identity.user_id, numbers[0], ["admin"])
    mitid_server.emulator.add_membership(mitid_identity.user_id, numbers[1], ["signer", "reader"])
    return numbers


def test_a_business_login_asks_which_company_and_names_it(
    http: httpx.Client,
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
    companies: list[str],
) -> None:
    request = mitid_client.authorization_request(acr_values=BUSINESS)
    callback = mitid_browser.login(
        request.url, mitid_identity.user_id, password=mitid_identity.password, cvr=companies[1]
    )
    claims = id_token_claims(
        http, exchange(http, mitid_client, request, callback.code or "").json()["id_token"]
    )
    assert claims["acr"] == BUSINESS
    assert claims["cvr"] == companies[1]
    assert claims["org_name"] == "Beta A/S"
    assert claims["roles"] == ["signer", "reader"]
    assert claims["loa"].endswith("/loa/Substantial")


def test_the_company_page_lists_every_company(
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
    companies: list[str],
    mitid_server: MitIDServer,
) -> None:
    request = mitid_client.authorization_request(acr_values=BUSINESS)
    page = mitid_browser.open(request.url)
    assert not isinstance(page, Callback)
    page = mitid_browser.submit(page, user_id=mitid_identity.user_id)
    assert not isinstance(page, Callback)
    assert page.form
    page = mitid_browser.submit(page, method=page.form.choices["method"][0])
    assert not isinstance(page, Callback)
    assert page.form
    code = mitid_server.emulator.fresh_code("codeviser", mitid_identity.authenticators["codeviser"])
    page = mitid_browser.submit(page, code=code, password=mitid_identity.password)
    assert not isinstance(page, Callback)
    assert page.form
    assert page.stage == "organisation"
    assert sorted(page.form.choices["cvr"]) == sorted(companies)
    assert "Alfa ApS" in page.html
    assert "Beta A/S" in page.html


def test_vatid_hint_picks_the_company(
    http: httpx.Client,
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
    companies: list[str],
) -> None:
    request = mitid_client.authorization_request(login_hint=f"vatid:DK{companies[0]}")
    callback = mitid_browser.login(
        request.url, mitid_identity.user_id, password=mitid_identity.password
    )
    claims = id_token_claims(
        http, exchange(http, mitid_client, request, callback.code or "").json()["id_token"]
    )
    assert claims["cvr"] == companies[0]
    assert claims["org_name"] == "Alfa ApS"


def test_a_company_the_person_does_not_act_for_is_refused(
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
    companies: list[str],
    mitid_server: MitIDServer,
) -> None:
    stranger = cvr()
    mitid_server.emulator.create_organisation(stranger, "Gamma I/S")
    request = mitid_client.authorization_request(login_hint=f"vatid:DK{stranger}")
    with pytest.raises(LoginFailed) as failed:
        mitid_browser.login(request.url, mitid_identity.user_id, password=mitid_identity.password)
    assert failed.value.reason == "organisation_not_member"


def test_a_person_without_companies_cannot_log_in_for_business(
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
) -> None:
    request = mitid_client.authorization_request(acr_values=BUSINESS)
    with pytest.raises(LoginFailed) as failed:
        mitid_browser.login(request.url, mitid_identity.user_id, password=mitid_identity.password)
    assert failed.value.reason == "no_organisation"


def test_a_single_company_is_chosen_without_asking(
    http: httpx.Client,
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
    mitid_server: MitIDServer,
) -> None:
    number = cvr()
    mitid_server.emulator.create_organisation(number, "Solo ApS")
    mitid_server.emulator.add_membership(mitid_identity.user_id, number)
    request = mitid_client.authorization_request(acr_values=BUSINESS)
    callback = mitid_browser.login(
        request.url, mitid_identity.user_id, password=mitid_identity.password
    )
    claims = id_token_claims(
        http, exchange(http, mitid_client, request, callback.code or "").json()["id_token"]
    )
    assert (claims["cvr"], claims["org_name"], claims["roles"]) == (number, "Solo ApS", [])
