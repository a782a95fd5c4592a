"""Single sign-on: a signed AuthnRequest, the same login pages, an encrypted, signed assertion."""

from __future__ import annotations

import base64

from authenticators.protocol import Level
from authenticators.pytest_plugin import MitIDIdentity
from authenticators.server.nemlogin import oiosaml
from authenticators.server.nemlogin.testing import OIOSAMLServiceProvider
from authenticators.server.testing import BrowserLogin


def test_a_person_logs_in_and_the_sp_accepts_the_response(
    nemlogin_sp: OIOSAMLServiceProvider,
    mitid_browser: BrowserLogin,
    mitid_identity: MitIDIdentity,
) -> None:
    url, request_id = nemlogin_sp.login_url(level=Level.SUBSTANTIAL, relay_state="back-to-3")
    answer = mitid_browser.login(url, mitid_identity.user_id, password=mitid_identity.password)
    assert answer.url == nemlogin_sp.acs_url
    assert answer.params["RelayState"] == "back-to-3"
    outcome = nemlogin_sp.validate(answer.params["SAMLResponse"], request_id)
    assert outcome.name_id == oiosaml.PERSON_NAME_ID + mitid_identity.uuid
    assert outcome.loa == "Substantial"
    assert outcome.attribute("FullName") == "Test Person"
    assert outcome.attribute("Cpr") == "0101901234"
    xml = base64.b64decode(answer.params["SAMLResponse"]).decode()
    assert "http://www.w3.org/2001/04/xmlenc#aes256-cbc" in xml
    assert "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p" in xml
