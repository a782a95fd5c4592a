"""The example: an independent SAML library logs a person in through the NemLog-in IdP.

The service provider is pysaml2's own SP client (``saml2.client.Saml2Client``), configured as
OIOSAML 3 asks (:class:`~authenticators.server.nemlogin.testing.OIOSAMLServiceProvider`, also the
``nemlogin_sp`` fixture): it takes the IdP's metadata from ``/nemlogin/saml/metadata``, registers
its own metadata (signing and encryption certificates, an HTTP-POST assertion consumer service),
and sends an AuthnRequest over HTTP-Redirect signed RSA-SHA256 asking for a level and a profile.

The person logs in on the login pages (here: user ID, code display, password). The page then posts
the Response to the SP, which checks it as the official reference SP (OIOSAML.Java) does:
Success, ``InResponseTo``, an unsigned response with exactly one ``EncryptedAssertion`` and no
plain one; pysaml2 decrypts it with the SP's key and checks the assertion's signature against the
IdP's metadata, the audience, the bearer confirmation's recipient and ``NotOnOrAfter``; then one
``AuthnStatement``, one ``AttributeStatement``, the NameID prefix of the profile asked for,
``SpecVer`` ``OIO-SAML-3.0`` and a level at least the one asked for.
"""

from __future__ import annotations

import base64

from authenticators.protocol import Level
from authenticators.pytest_plugin import MitIDIdentity
from authenticators.server.nemlogin import oiosaml
from authenticators.server.nemlogin.testing import OIOSAMLServiceProvider
from authenticators.server.testing import BrowserLogin


def test_pysaml2_logs_a_person_in_and_validates_as_the_reference_sp(
    nemlogin_sp: OIOSAMLServiceProvider,
    mitid_browser: BrowserLogin,
    mitid_identity: MitIDIdentity,
) -> None:
    # 1. The SP asks: a signed AuthnRequest over HTTP-Redirect, Substantial, a person.
    url, request_id = nemlogin_sp.login_url(
        level=Level.SUBSTANTIAL, professional=False, relay_state="back-to-3"
    )
    # 2. The person logs in on the pages; the last page posts the Response to the ACS.
    answer = mitid_browser.login(url, mitid_identity.user_id, password=mitid_identity.password)
    assert answer.url == nemlogin_sp.acs_url
    assert answer.params["RelayState"] == "back-to-3"
    # 3. The SP checks the Response as the reference SP does, and reads the assertion.
    outcome = nemlogin_sp.validate(
        answer.params["SAMLResponse"], request_id, level=Level.SUBSTANTIAL
    )
    assert outcome.name_id == oiosaml.PERSON_NAME_ID + mitid_identity.uuid
    assert outcome.loa == "Substantial"
    assert outcome.attribute("SpecVer") == "OIO-SAML-3.0"
    assert outcome.attribute("FullName") == "Test Person"
    assert outcome.attribute("Cpr") == "0101901234"
    assert (outcome.attribute("CprUUID") or "").startswith("urn:uuid:")
    # The algorithms NemLog-in's test IdP uses: RSA-OAEP key transport, AES-256-CBC data.
    xml = base64.b64decode(answer.params["SAMLResponse"]).decode()
    assert "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p" in xml
    assert "http://www.w3.org/2001/04/xmlenc#aes256-cbc" in xml
