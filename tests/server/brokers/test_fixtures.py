"""The pytest plugin's fixtures take a broker: the same test logs in at every broker's issuer."""

from __future__ import annotations

import pytest

from authenticators.pytest_plugin import MitIDBrokerClient, MitIDClient, MitIDIdentity
from authenticators.server.testing import BrowserLogin
from tests.server.brokers.conftest import redeem

# Each broker's own way of naming the person who logs in.
PERSON_CLAIM = {
    "idura": "uuid",
    "signaturgruppen": "mitid.uuid",
    "signicat-enterprise": "sub",
}


@pytest.mark.parametrize("mitid_client", sorted(PERSON_CLAIM), indirect=True)
def test_a_login_at_each_broker(
    mitid_client: MitIDClient, mitid_identity: MitIDIdentity, mitid_browser: BrowserLogin
) -> None:
    assert isinstance(mitid_client, MitIDBrokerClient)
    request = mitid_client.authorization_request()
    callback = mitid_browser.login(request.url, mitid_identity.user_id, kind="app")
    claims = redeem(mitid_client, request, callback).id_token
    assert claims[PERSON_CLAIM[mitid_client.broker]] == mitid_identity.uuid
