"""Idura Verify (Criipto): paths, acr_values, login_hint, claims, errors, the no-UI path."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable

import httpx

from authenticators.pytest_plugin import MitIDBrokerClient, MitIDIdentity, MitIDServer
from authenticators.server.testing import BrowserLogin
from tests.server.brokers.conftest import callback_of, discovery, redeem

Make = Callable[..., MitIDBrokerClient]


def test_discovery_and_paths(mitid_server: MitIDServer, mitid_broker_client: Make) -> None:
    for mount in ("idura", "criipto"):
        client = mitid_broker_client(mount)
        document = discovery(client)
        assert document["issuer"] == f"{mitid_server.url}/brokers/{mount}"
        assert document["authorization_endpoint"] == client.issuer + "/oauth2/authorize"
        assert document["token_endpoint"] == client.issuer + "/oauth2/token"
        assert document["userinfo_endpoint"] == client.issuer + "/oauth2/userinfo"
        assert document["jwks_uri"] == client.issuer + "/.well-known/jwks"
        assert "urn:grn:authn:dk:mitid:business" in document["acr_values_supported"]
        keys = httpx.get(document["jwks_uri"]).json()["keys"]
        generic = httpx.get(mitid_server.url + "/jwks").json()["keys"]
        assert {k["kid"] for k in keys}.isdisjoint(k["kid"] for k in generic)


def test_login_through_the_pages(
    mitid_broker_client: Make,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
) -> None:
    client = mitid_broker_client("idura")
    message = base64.b64encode(b"Log on to Demo Bank").decode()
    request = client.authorization_request(
        "openid ssn",
        acr_values="urn:grn:authn:dk:mitid:substantial",
        login_hint=f"message:{message} action:approve sub:{mitid_identity.cpr.replace('-', '')}",
    )
    callback = mitid_browser.login(request.url, mitid_identity.user_id, kind="app")
    tokens = redeem(client, request, callback)
    claims = tokens.id_token
    assert claims["identityscheme"] == "dkmitid"
    assert claims["authenticationtype"] == "urn:grn:authn:dk:mitid:substantial"
    assert re.fullmatch(
        r"app:\d{13}:SUBSTANTIAL:SUBSTANTIAL:SUBSTANTIAL:HIGH", claims["authenticationmethod"]
    )
    assert re.fullmatch(r"\{[0-9a-f-]{36}\}", claims["sub"])
    assert claims["nameidentifier"] == claims["sub"][1:-1].replace("-", "")
    assert claims["uuid"] == mitid_identity.uuid
    assert claims["cprNumberIdentifier"] == mitid_identity.cpr.replace("-", "")
    assert claims["refTextHeader"] == "APPROVE"
    assert claims["refTextBody"] == "Log on to Demo Bank"
    assert claims["nonce"] == request.nonce
    assert "acr" not in claims
    assert "amr" not in claims
    info = tokens.userinfo(discovery(client)["userinfo_endpoint"])
    assert info.status_code == 200
    assert info.json()["uuid"] == mitid_identity.uuid


def test_refusals(mitid_broker_client: Make) -> None:
    client = mitid_broker_client("idura")
    two = client.authorization_request(
        acr_values="urn:grn:authn:dk:mitid:low urn:grn:authn:dk:mitid:high"
    )
    response = httpx.get(two.url)
    callback = callback_of(response)
    assert callback.error == "invalid_request"
    assert callback.params["state"] == two.state
    unknown = httpx.get(client.authorization_request(acr_values="urn:other").url)
    assert callback_of(unknown).error == "invalid_request"
    bad_message = httpx.get(client.authorization_request(login_hint="message:%%%").url)
    assert callback_of(bad_message).error == "invalid_request"
    # an unknown client gets a page, never a redirect
    page = httpx.get(client.authorize_endpoint + "?client_id=nobody&response_type=code")
    assert page.status_code == 400
    # a code from this broker is no good at the generic token endpoint, nor at another broker
    token = httpx.post(
        client.issuer + "/oauth2/token",
        data={"grant_type": "authorization_code", "code": "x", "client_id": client.client_id},
    )
    assert token.status_code == 400
    assert token.json()["error"] == "invalid_grant"


def test_no_ui_path(mitid_broker_client: Make, mitid_identity: MitIDIdentity) -> None:
    simulating = mitid_broker_client("idura", simulate=True)
    request = simulating.authorization_request(
        "openid ssn", login_hint=f"uuid:{mitid_identity.uuid}", simulation="no-ui"
    )
    tokens = redeem(simulating, request, callback_of(httpx.get(request.url)))
    assert tokens.id_token["uuid"] == mitid_identity.uuid
    assert tokens.id_token["authenticationmethod"].startswith("app:")
    # never for a client not marked
    plain = mitid_broker_client("idura")
    refused = plain.authorization_request(
        login_hint=f"uuid:{mitid_identity.uuid}", simulation="no-ui"
    )
    assert callback_of(httpx.get(refused.url)).error == "unauthorized_client"


def test_long_claim_names(mitid_broker_client: Make, mitid_identity: MitIDIdentity) -> None:
    client = mitid_broker_client("idura", simulate=True, long_claims=True)
    request = client.authorization_request(
        login_hint=f"uuid:{mitid_identity.uuid}", simulation="no-ui"
    )
    claims = redeem(client, request, callback_of(httpx.get(request.url))).id_token
    assert claims["dk:gov:saml:attribute:UUID"] == mitid_identity.uuid
    assert claims["dk:gov:saml:attribute:LoA"] == "SUBSTANTIAL"
    assert "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier" in claims
    assert "uuid" not in claims
    assert "loA" not in claims


def test_cpr_match_when_ssn_is_asked_for(
    mitid_broker_client: Make, mitid_identity: MitIDIdentity, mitid_browser: BrowserLogin
) -> None:
    from authenticators.server.testing import LoginFailed

    client = mitid_broker_client("idura")
    cpr = mitid_identity.cpr.replace("-", "")
    matched = client.authorization_request("openid ssn")
    callback = mitid_browser.login(matched.url, mitid_identity.user_id, kind="app", cpr=cpr)
    assert redeem(client, matched, callback).id_token["cprNumberIdentifier"] == cpr
    # a wrong number asks again; the third wrong one sends the broker's error back
    wrong = client.authorization_request("openid ssn")
    try:
        mitid_browser.login(wrong.url, mitid_identity.user_id, kind="app", cpr="0101001234")
    except LoginFailed as exc:
        page = exc.page
    else:
        raise AssertionError("a wrong CPR number was accepted")
    assert page.stage == "cpr"
    page = mitid_browser.submit(page, cpr="0101001234")
    refused = mitid_browser.submit(page, cpr="0101001234")
    assert refused.error == "access_denied"
    assert "Only 3 tries" in refused.params["error_description"]
    assert refused.params["state"] == wrong.state
    # a prefilled CPR number (sub:) is matched without asking
    prefilled = client.authorization_request("openid ssn", login_hint=f"sub:{cpr}")
    callback = mitid_browser.login(prefilled.url, mitid_identity.user_id, kind="app")
    assert redeem(client, prefilled, callback).id_token["cprNumberIdentifier"] == cpr


def test_cors_for_the_clients_origins(mitid_broker_client: Make) -> None:
    client = mitid_broker_client("idura")
    preflight = {"Access-Control-Request-Method": "POST"}
    allowed = httpx.options(
        client.issuer + "/oauth2/token", headers={"Origin": "http://127.0.0.1:9", **preflight}
    )
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == "http://127.0.0.1:9"
    other = httpx.options(
        client.issuer + "/oauth2/token", headers={"Origin": "https://evil.example", **preflight}
    )
    assert other.status_code == 403
    jwks = httpx.get(client.issuer + "/.well-known/jwks", headers={"Origin": "http://127.0.0.1:9"})
    assert jwks.headers["access-control-allow-origin"] == "http://127.0.0.1:9"


def test_pushed_authorization_requests(
    mitid_broker_client: Make, mitid_identity: MitIDIdentity
) -> None:
    client = mitid_broker_client("idura", public=False, simulate=True)
    document = discovery(client)
    assert document["pushed_authorization_request_endpoint"] == client.issuer + "/oauth2/par"
    request = client.authorization_request(
        login_hint=f"uuid:{mitid_identity.uuid}", simulation="no-ui"
    )
    params = dict(httpx.URL(request.url).params)
    secret = client.client_secret or ""
    pushed = httpx.post(
        document["pushed_authorization_request_endpoint"],
        data=params,
        auth=(client.client_id, secret),
    )
    assert pushed.status_code == 201, pushed.text
    request_uri = pushed.json()["request_uri"]
    at_authorize = (
        f"{client.authorize_endpoint}?client_id={client.client_id}&request_uri={request_uri}"
    )
    tokens = redeem(client, request, callback_of(httpx.get(at_authorize)))
    assert tokens.id_token["uuid"] == mitid_identity.uuid
    again = httpx.get(at_authorize)  # used up
    assert again.status_code == 400
    assert "invalid_request_uri" in again.text
    two = {**params, "acr_values": "urn:grn:authn:dk:mitid:low urn:grn:authn:dk:mitid:high"}
    refused = httpx.post(
        document["pushed_authorization_request_endpoint"], data=two, auth=(client.client_id, secret)
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_request"
    stranger = httpx.post(
        document["pushed_authorization_request_endpoint"],
        data=params,
        auth=(client.client_id, "not-the-secret-at-all"),
    )
    assert stranger.status_code == 401
