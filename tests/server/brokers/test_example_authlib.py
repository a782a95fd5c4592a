"""Example: a service configured for a broker logs in against the emulator, changing only its
issuer and client credentials.

Each case is an Authlib client set up as that broker's documentation says (discovery from the
issuer, the scopes, the parameters that pick MitID, the level, the reference text); it logs in
through the login pages in chromium (a person typing the code display's code, the password and,
where the service asked for the CPR number, the CPR number) and through the no-UI path, and
checks the ID token against the broker's JWKS::

    issuer = f"{mitid_server.url}/brokers/idura"        # was https://<tenant>.idura.broker
    client = mitid_broker_client("idura", public=False, simulate=True)
    metadata = httpx.get(issuer + "/.well-known/openid-configuration").json()
    oauth = OAuth2Client(client.client_id, client.client_secret, scope="openid ssn",
                         redirect_uri=client.redirect_uri, code_challenge_method="S256")
    url, state = oauth.create_authorization_url(metadata["authorization_endpoint"],
        code_verifier=verifier, nonce=nonce, acr_values="urn:grn:authn:dk:mitid:substantial",
        login_hint="message:" + base64("Log on to Demo Bank"))
"""

from __future__ import annotations

import base64
import json
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from authenticators.pytest_plugin import MitIDBrokerClient, MitIDIdentity, MitIDServer
from authenticators.server.testing import Emulator

pytestmark = pytest.mark.slow  # see `make check`

CHROMIUM = Path("/usr/bin/chromium")
REFERENCE = "Log on to Demo Bank"


@dataclass(frozen=True)
class Case:
    broker: str
    scope: str
    params: dict[str, str]
    check: Callable[[dict[str, Any], dict[str, Any], MitIDIdentity], None]
    auth_method: str = "client_secret_basic"


def _idura(claims: dict[str, Any], info: dict[str, Any], person: MitIDIdentity) -> None:
    assert claims["uuid"] == person.uuid
    assert claims["cprNumberIdentifier"] == person.cpr.replace("-", "")
    assert claims["authenticationtype"] == "urn:grn:authn:dk:mitid:substantial"
    assert claims["refTextBody"] == REFERENCE
    assert info["sub"] == claims["sub"]


def _signaturgruppen(claims: dict[str, Any], info: dict[str, Any], person: MitIDIdentity) -> None:
    assert claims["idp"] == "mitid"
    assert claims["mitid.uuid"] == person.uuid
    assert info["dk.cpr"] == person.cpr.replace("-", "")
    assert info["mitid.identity_name"] == person.name


def _signicat(claims: dict[str, Any], info: dict[str, Any], person: MitIDIdentity) -> None:
    assert claims["amr"] == ["external"]
    assert info["mitid_uuid"] == info["idp_id"] == person.uuid
    assert info["nin"] == person.cpr.replace("-", "")
    assert info["mitid_cpr_source"] == "user"


def _enterprise(claims: dict[str, Any], info: dict[str, Any], person: MitIDIdentity) -> None:
    assert claims["sub"] == person.uuid
    assert info["signicat.national_id"] == person.cpr.replace("-", "")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


CASES = [
    Case(
        "idura",
        "openid ssn",
        {
            "acr_values": "urn:grn:authn:dk:mitid:substantial",
            "login_hint": f"message:{_b64(REFERENCE)}",
        },
        _idura,
        "client_secret_post",
    ),
    Case(
        "signaturgruppen",
        "openid mitid ssn",
        {
            "idp_values": "mitid",
            "idp_params": json.dumps({"mitid": {"reference_text": _b64(REFERENCE)}}),
        },
        _signaturgruppen,
    ),
    Case(
        "signicat",
        "openid profile idp-id nin mitid-extra",
        {"acr_values": "idp:mitid"},
        _signicat,
    ),
    Case(
        "signicat-enterprise",
        "openid profile signicat.national_id",
        {"acr_values": "urn:signicat:oidc:method:mitid-cpr"},
        _enterprise,
    ),
]


@dataclass
class Service:
    """A service's OIDC client as its broker's documentation configures it."""

    case: Case
    client: MitIDBrokerClient
    metadata: dict[str, Any]
    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(16))

    def oauth(self) -> OAuth2Client:
        return OAuth2Client(
            self.client.client_id,
            self.client.client_secret,
            scope=self.case.scope,
            redirect_uri=self.client.redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method=self.case.auth_method,
        )

    def authorization_url(self, oauth: OAuth2Client, **extra: str) -> tuple[str, str]:
        url, state = oauth.create_authorization_url(
            self.metadata["authorization_endpoint"],
            code_verifier=self.verifier,
            nonce=self.nonce,
            **self.case.params,
            **extra,
        )
        return str(url), str(state)

    def finish(self, oauth: OAuth2Client, callback: str, state: str) -> None:
        assert httpx.URL(callback).params.get("state") == state, callback
        token = oauth.fetch_token(
            self.metadata["token_endpoint"],
            authorization_response=callback,
            code_verifier=self.verifier,
        )
        keys = KeySet.import_key_set(httpx.get(self.metadata["jwks_uri"]).json())
        claims = dict(jwt.decode(token["id_token"], keys, algorithms=["RS256"]).claims)
        JWTClaimsRegistry(
            now=int(time.time()),
            leeway=0,
            exp={"essential": True},
            iat={"essential": True},
            iss={"essential": True, "value": self.client.issuer},
            aud={"essential": True, "value": self.client.client_id},
            nonce={"essential": True, "value": self.nonce},
            sub={"essential": True},
        ).validate(claims)
        self.claims = claims
        self.userinfo: dict[str, Any] = oauth.get(self.metadata["userinfo_endpoint"]).json()


@pytest.fixture
def service(
    request: pytest.FixtureRequest, mitid_broker_client: Callable[..., MitIDBrokerClient]
) -> Service:
    case: Case = request.param
    client = mitid_broker_client(case.broker, public=False, simulate=True)
    metadata = httpx.get(client.issuer + "/.well-known/openid-configuration").json()
    assert metadata["issuer"] == client.issuer
    return Service(case, client, metadata)


@pytest.mark.parametrize("service", CASES, ids=[c.broker for c in CASES], indirect=True)
def test_no_ui_path(service: Service, mitid_identity: MitIDIdentity) -> None:
    with service.oauth() as oauth:
        url, state = service.authorization_url(
            oauth, simulation=f"no-ui uuid:{mitid_identity.uuid}"
        )
        answer = httpx.get(url)
        assert answer.status_code in (302, 303), answer.text
        service.finish(oauth, answer.headers["location"], state)
    service.case.check(service.claims, service.userinfo, mitid_identity)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed (make test)")
    with sync_api.sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--explicitly-allowed-ports=9",  # the clients' redirect URIs, answered by route
            ],
            locale="en-GB",
        )
        try:
            yield context
        finally:
            context.close()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("service", CASES, ids=[c.broker for c in CASES], indirect=True)
def test_through_the_pages_in_chromium(
    service: Service,
    mitid_identity: MitIDIdentity,
    mitid_emulator: Emulator,
    mitid_server: MitIDServer,
    chromium: Any,
) -> None:
    chromium.clear_cookies()
    page = chromium.new_page()
    callbacks: list[str] = []

    def back_at_the_service(route: Any) -> None:
        callbacks.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<h1>back</h1>")

    page.route("http://127.0.0.1:9/**", back_at_the_service)
    try:
        with service.oauth() as oauth:
            url, state = service.authorization_url(oauth)
            page.goto(url)
            page.fill("#user_id", mitid_identity.user_id)
            page.click("button.primary")
            token = mitid_identity.authenticators["codeviser"]
            page.check(f"input[value='codeviser:{token}']")
            page.click("button.primary")
            page.fill("#code", mitid_emulator.fresh_code("codeviser", token))
            page.fill("#password", mitid_identity.password)
            page.click("button.primary")
            page.fill("#cpr", mitid_identity.cpr)  # the service asked for the CPR number
            page.click("button.primary")
            deadline = time.monotonic() + 20
            while not callbacks and time.monotonic() < deadline:
                page.wait_for_timeout(50)
            assert callbacks, page.url
            service.finish(oauth, callbacks[-1], state)
    finally:
        page.close()
    service.case.check(service.claims, service.userinfo, mitid_identity)
