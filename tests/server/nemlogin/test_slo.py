"""Single logout: a signed LogoutRequest over HTTP-Redirect, a signed LogoutResponse back."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

from authenticators.pytest_plugin import MitIDServer
from authenticators.server.nemlogin import oiosaml
from authenticators.server.nemlogin.testing import OIOSAMLServiceProvider

SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"


def test_sp_initiated_logout(
    mitid_server: MitIDServer, nemlogin_sp: OIOSAMLServiceProvider
) -> None:
    name_id = oiosaml.PERSON_NAME_ID + "11111111-2222-4333-8444-555555555555"
    url, _ = nemlogin_sp.logout_url(name_id, relay_state="bye")
    with httpx.Client(follow_redirects=False) as http:
        answer = http.get(url)
        assert answer.status_code == 303
        location = answer.headers["location"]
        assert location.startswith(nemlogin_sp.slo_url + "?")
        params = dict(parse_qsl(urlsplit(location).query))
        assert params["RelayState"] == "bye"
        assert params["SigAlg"] == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
        assert nemlogin_sp.check_logout_response(location) == SUCCESS  # signature checked

        again = http.get(url)  # the same request again
        assert again.status_code == 400
        assert 'data-reason="replayed"' in again.text

        parts = urlsplit(nemlogin_sp.logout_url(name_id)[0])
        unsigned = {k: v for k, v in parse_qsl(parts.query) if k == "SAMLRequest"}
        refused = http.get(f"{mitid_server.url}{parts.path}?{urlencode(unsigned)}")
        assert refused.status_code == 400
        assert 'data-reason="unsigned"' in refused.text
