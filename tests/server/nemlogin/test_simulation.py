"""The no-UI path: an SP allowed to simulate names the person; the emulator's phone approves."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

from authenticators.pytest_plugin import MitIDIdentity, MitIDServer
from authenticators.server.nemlogin import oiosaml
from authenticators.server.nemlogin.testing import OIOSAMLServiceProvider
from authenticators.server.testing import BrowserLogin, Callback

STATUS = "urn:oasis:names:tc:SAML:2.0:status:"


def test_an_sp_allowed_to_simulate_gets_the_response_at_once(
    mitid_server: MitIDServer,
    nemlogin_sp: OIOSAMLServiceProvider,
    mitid_browser: BrowserLogin,
    mitid_identity: MitIDIdentity,
) -> None:
    url, request_id = nemlogin_sp.login_url()
    simulation = urlencode({"simulation": f"no-ui uuid:{mitid_identity.uuid}"})
    answer = mitid_browser.open(f"{url}&{simulation}")
    assert isinstance(answer, Callback)
    outcome = nemlogin_sp.validate(answer.params["SAMLResponse"], request_id)
    assert outcome.name_id == oiosaml.PERSON_NAME_ID + mitid_identity.uuid
    assert not mitid_server.emulator.app_logins()  # the phone answered the push

    url, _ = nemlogin_sp.login_url()
    nobody = urlencode({"simulation": "no-ui username:nobody-at-all"})
    refused = mitid_browser.open(f"{url}&{nobody}")
    assert isinstance(refused, Callback)
    assert nemlogin_sp.status(refused.params["SAMLResponse"])[1] == STATUS + "AuthnFailed"


def test_never_for_an_sp_not_allowed(
    mitid_server: MitIDServer, mitid_browser: BrowserLogin, mitid_identity: MitIDIdentity
) -> None:
    sp = OIOSAMLServiceProvider(
        mitid_server.emulator.nemlogin_metadata(), entity_id="https://nosim.example.test/saml"
    )
    try:
        mitid_server.emulator.add_nemlogin_sp(sp.metadata)
        url, _ = sp.login_url()
        simulation = urlencode({"simulation": f"no-ui uuid:{mitid_identity.uuid}"})
        answer = mitid_browser.open(f"{url}&{simulation}")
        assert isinstance(answer, Callback)
        assert sp.status(answer.params["SAMLResponse"])[1] == STATUS + "RequestUnsupported"
        assert b"Assertion" not in base64.b64decode(answer.params["SAMLResponse"])
    finally:
        sp.close()
