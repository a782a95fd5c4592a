"""Single sign-on: a signed AuthnRequest, the same login pages, an encrypted, signed assertion."""

from __future__ import annotations

import base64
import re
import secrets
from typing import Any

import pytest

from authenticators.protocol import Level
from authenticators.pytest_plugin import PASSWORD, MitIDIdentity, MitIDServer
from authenticators.server.nemlogin import oiosaml
from authenticators.server.nemlogin.providers import AES256_GCM
from authenticators.server.nemlogin.testing import OIOSAMLServiceProvider, ValidationError
from authenticators.server.testing import BrowserLogin, Callback, Page

STATUS = "urn:oasis:names:tc:SAML:2.0:status:"
RESPONDER = STATUS + "Responder"


def test_a_professional_gets_the_company_attributes(
    mitid_server: MitIDServer, nemlogin_sp: OIOSAMLServiceProvider, mitid_browser: BrowserLogin
) -> None:
    # A CVR of its own: the session's server is shared, and other tests count on 12345678 not existing.
    user_id = "pro-" + secrets.token_hex(4)
    mitid_server.emulator.create_identity(
        user_id,
        "Erhverv Tester",
        password=PASSWORD,
        birthdate="1980-02-29",
        authenticators=[{"kind": "codeviser", "name": user_id + "-cv"}],
        organisations=[{"cvr": "31415926", "name": "Test ApS", "roles": ["admin", "signer"]}],
    )
    url, request_id = nemlogin_sp.login_url(level=Level.SUBSTANTIAL, professional=True)
    answer = mitid_browser.login(url, user_id, password=PASSWORD)
    outcome = nemlogin_sp.validate(answer.params["SAMLResponse"], request_id, professional=True)
    assert outcome.name_id.startswith(oiosaml.PROFESSIONAL_NAME_ID)
    assert outcome.attribute("Cvr") == "31415926"
    assert outcome.attribute("OrganizationName") == "Test ApS"
    assert outcome.attribute("DateOfBirth") == "1980-02-29"
    for name in ("Rid", "ProductionUnit", "SeNumber", "ProfessionalPersistentUUID"):
        assert outcome.attribute(name), name
    privileges = base64.b64decode(outcome.attribute("Privileges") or "").decode()
    assert "<Privilege>admin</Privilege>" in privileges
    assert "cvrNumberIdentifier:31415926" in privileges


def test_aes_gcm_when_the_sp_metadata_asks_for_it(
    mitid_server: MitIDServer,
    mitid_browser: BrowserLogin,
    mitid_identity: MitIDIdentity,
) -> None:
    sp = OIOSAMLServiceProvider(
        mitid_server.emulator.nemlogin_metadata(),
        entity_id="https://gcm.example.test/saml",
        encryption=AES256_GCM,
    )
    try:
        assert mitid_server.emulator.add_nemlogin_sp(sp.metadata)["encryption"] == AES256_GCM
        url, request_id = sp.login_url(
            level=Level.LOW, force_authn=True, app_switch=("iOS", "https://app.example.test/x")
        )
        answer = mitid_browser.login(url, mitid_identity.user_id, password=mitid_identity.password)
        assert AES256_GCM in base64.b64decode(answer.params["SAMLResponse"]).decode()
        outcome = sp.validate(answer.params["SAMLResponse"], request_id, level=Level.LOW)
        assert outcome.loa == "Substantial"  # code display and password: at least what was asked
    finally:
        sp.close()


def test_cancel_is_authn_failed_and_carries_no_assertion(
    nemlogin_sp: OIOSAMLServiceProvider, mitid_browser: BrowserLogin, mitid_identity: MitIDIdentity
) -> None:
    url, _ = nemlogin_sp.login_url()
    page = mitid_browser.open(url)
    assert isinstance(page, Page)
    assert page.stage == "user_id"
    answer = mitid_browser.cancel(page)
    assert answer.url == nemlogin_sp.acs_url
    assert nemlogin_sp.status(answer.params["SAMLResponse"]) == (RESPONDER, STATUS + "AuthnFailed")
    assert "Assertion" not in base64.b64decode(answer.params["SAMLResponse"]).decode()


def test_an_unmet_level_is_no_authn_context(
    mitid_server: MitIDServer, nemlogin_sp: OIOSAMLServiceProvider, mitid_browser: BrowserLogin
) -> None:
    user_id = "low-" + secrets.token_hex(4)
    mitid_server.emulator.create_identity(
        user_id,
        "Only Code",
        password=PASSWORD,
        authenticators=[{"kind": "codeviser", "name": user_id + "-cv"}],
    )
    url, _ = nemlogin_sp.login_url(level=Level.HIGH)
    page = mitid_browser.open(url)
    assert isinstance(page, Page)
    page = mitid_browser.submit(page, user_id=user_id)
    assert isinstance(page, Page)
    assert page.stage == "failed"
    answer = mitid_browser.cancel(page)
    status = nemlogin_sp.status(answer.params["SAMLResponse"])
    assert status == (RESPONDER, STATUS + "NoAuthnContext")


@pytest.mark.parametrize(
    ("options", "second"),
    [
        ({"is_passive": True}, "NoPassive"),
        ({"class_refs": ["urn:example:unknown-context"]}, "NoAuthnContext"),
    ],
    ids=["is-passive", "unknown-context"],
)
def test_answered_at_once_with_a_status(
    nemlogin_sp: OIOSAMLServiceProvider,
    mitid_browser: BrowserLogin,
    options: dict[str, Any],
    second: str,
) -> None:
    url, request_id = nemlogin_sp.login_url(**options)
    answer = mitid_browser.open(url)
    assert isinstance(answer, Callback)
    assert answer.url == nemlogin_sp.acs_url
    assert nemlogin_sp.status(answer.params["SAMLResponse"]) == (RESPONDER, STATUS + second)
    with pytest.raises(ValidationError):
        nemlogin_sp.validate(answer.params["SAMLResponse"], request_id)


def test_an_authn_request_over_http_post_with_an_enveloped_signature(
    mitid_server: MitIDServer,
    nemlogin_sp: OIOSAMLServiceProvider,
    mitid_browser: BrowserLogin,
    mitid_identity: MitIDIdentity,
) -> None:
    request_id, info = nemlogin_sp.client.prepare_for_authenticate(
        entityid=nemlogin_sp.idp_entity_id,
        binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
        sigalg="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        digest_alg="http://www.w3.org/2001/04/xmlenc#sha256",
    )
    form = re.search(r'name="SAMLRequest" value="([^"]+)"', info["data"])
    assert form is not None
    assert b"Signature" in base64.b64decode(form.group(1))
    started = mitid_browser.http.post("/nemlogin/saml/sso", data={"SAMLRequest": form.group(1)})
    assert started.status_code == 303
    answer = mitid_browser.login(
        mitid_server.url + started.headers["location"],
        mitid_identity.user_id,
        password=mitid_identity.password,
    )
    nemlogin_sp.validate(answer.params["SAMLResponse"], request_id)
