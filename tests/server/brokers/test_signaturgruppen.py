"""Signaturgruppen (NEB): idp_values, idp_params, dotted userinfo, its cancel, its error pages."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import httpx

from authenticators.pytest_plugin import MitIDBrokerClient, MitIDIdentity, MitIDServer
from authenticators.server.testing import BrowserLogin, Page
from tests.server.brokers.conftest import callback_of, discovery, redeem

Make = Callable[..., MitIDBrokerClient]


def test_paths(mitid_server: MitIDServer, mitid_broker_client: Make) -> None:
    client = mitid_broker_client("signaturgruppen")
    document = discovery(client)
    assert document["issuer"] == f"{mitid_server.url}/brokers/signaturgruppen/op"
    assert document["authorization_endpoint"] == client.issuer + "/connect/authorize"
    assert document["jwks_uri"] == client.issuer + "/.well-known/openid-configuration/jwks"
    assert document["idp_values_supported"] == ["mitid", "mitid_erhverv"]


def test_login_with_idp_params_and_cancel(
    mitid_broker_client: Make, mitid_identity: MitIDIdentity, mitid_browser: BrowserLogin
) -> None:
    client = mitid_broker_client("signaturgruppen")
    params = {
        "mitid": {
            "reference_text": base64.b64encode(b"Sign the lease").decode(),
            "action_text": "SIGN",
            "loa_value": "substantial",
        }
    }
    request = client.authorization_request(
        "openid mitid", idp_values="mitid", idp_params=json.dumps(params)
    )
    callback = mitid_browser.login(request.url, mitid_identity.user_id, kind="app")
    tokens = redeem(client, request, callback)
    assert tokens.id_token["idp"] == "mitid"
    assert tokens.id_token["amr"] == ["code_app"]
    assert tokens.id_token["loa"] == "https://data.gov.dk/concept/core/nsis/Substantial"
    info = tokens.userinfo(discovery(client)["userinfo_endpoint"]).json()
    assert info["mitid.uuid"] == mitid_identity.uuid
    assert info["mitid.transaction_id"] == tokens.id_token["transaction_id"]
    assert "dk.cpr" not in info  # no ssn scope
    # the person gives up: the broker's cancel
    again = client.authorization_request("openid", idp_values="mitid")
    page = mitid_browser.open(again.url)
    assert isinstance(page, Page)
    cancelled = mitid_browser.cancel(page)
    assert cancelled.error == "access_denied"
    assert cancelled.params["error_description"] == "mitid_user_aborted"
    assert cancelled.params["state"] == again.state


def test_refusals(mitid_broker_client: Make) -> None:
    client = mitid_broker_client("signaturgruppen")
    unknown_idp = httpx.get(client.authorization_request(idp_values="nemid").url)
    assert unknown_idp.status_code == 400
    assert "location" not in unknown_idp.headers
    assert "nemid" in unknown_idp.text
    broken = httpx.get(client.authorization_request(idp_params="{not json").url)
    assert broken.status_code == 400
    bad_loa = httpx.get(
        client.authorization_request(idp_params=json.dumps({"mitid": {"loa_value": "x"}})).url
    )
    assert callback_of(bad_loa).error == "invalid_request"
    bad_sim = httpx.get(client.authorization_request(simulation="no-ui").url)
    assert callback_of(bad_sim).error == "invalid_request"


def test_no_ui_simulation_parameter(
    mitid_broker_client: Make, mitid_identity: MitIDIdentity
) -> None:
    client = mitid_broker_client("signaturgruppen", simulate=True)
    request = client.authorization_request(
        "openid mitid", simulation=f"no-ui username:{mitid_identity.user_id}"
    )
    tokens = redeem(client, request, callback_of(httpx.get(request.url)))
    assert tokens.id_token["mitid.uuid"] == mitid_identity.uuid
    wrong = client.authorization_request(
        "openid", simulation=f"no-ui uuid:{mitid_identity.uuid} cpr:0101001234"
    )
    assert callback_of(httpx.get(wrong.url)).error == "access_denied"


def test_end_session(mitid_broker_client: Make, mitid_identity: MitIDIdentity) -> None:
    client = mitid_broker_client("signaturgruppen", simulate=True)
    document = discovery(client)
    assert document["end_session_endpoint"] == client.issuer + "/connect/endsession"
    request = client.authorization_request(
        "openid mitid", simulation=f"no-ui uuid:{mitid_identity.uuid}"
    )
    id_token = redeem(client, request, callback_of(httpx.get(request.url))).response["id_token"]
    back = httpx.get(
        document["end_session_endpoint"],
        params={
            "id_token_hint": id_token,
            "post_logout_redirect_uri": "http://127.0.0.1:9/signed-out",
            "state": "s1",
        },
    )
    assert back.status_code == 303
    assert back.headers["location"] == "http://127.0.0.1:9/signed-out?state=s1"
    elsewhere = httpx.get(
        document["end_session_endpoint"],
        params={"id_token_hint": id_token, "post_logout_redirect_uri": "https://evil.example/"},
    )
    assert elsewhere.status_code == 400
    idura = mitid_broker_client("idura", simulate=True)
    other = idura.authorization_request(
        login_hint=f"uuid:{mitid_identity.uuid}", simulation="no-ui"
    )
    foreign = redeem(idura, other, callback_of(httpx.get(other.url))).response["id_token"]
    refused = httpx.get(document["end_session_endpoint"], params={"id_token_hint": foreign})
    assert refused.status_code == 400
    assert httpx.get(document["end_session_endpoint"]).status_code == 200  # a page: signed out
