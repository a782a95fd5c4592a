"""Bad input at every broker's endpoints: the broker's refusal, never a 500."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authenticators.pytest_plugin import MitIDBrokerClient

Make = Callable[..., MitIDBrokerClient]
BROKERS = ["idura", "signaturgruppen", "signicat", "signicat-enterprise"]
KEYS = [
    "acr_values",
    "login_hint",
    "idp_values",
    "idp_params",
    "simulation",
    "scope",
    "state",
    "nonce",
    "prompt",
    "ui_locales",
    "response_mode",
    "code_challenge_method",
]
WORDS = st.sampled_from(
    [
        "",
        "no-ui",
        "ui",
        "uuid:",
        "uuid:{00000000-0000-4000-8000-00000000000a}",
        "message:%%%",
        "message:" + "QQ" * 200,
        "vatid:DK1",
        "action:nope",
        "sub:12",
        "business",
        "business_optional",
        "idp:mitid",
        "urn:grn:authn:dk:mitid:high",
        "urn:signicat:oidc:method:mitid",
        "mitid",
        "mitid_erhverv",
        '{"mitid": {"loa_value": 3}}',
        '{"mitid": []}',
        "[1, 2",
        "cpr:1",
        "method:chip",
        "openid",
        "\u00e6\u00f8\u00e5",
        "\x00",
    ]
)
VALUES = st.lists(WORDS, max_size=3).map(" ".join)


@pytest.mark.slow
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    broker=st.sampled_from(BROKERS),
    params=st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=5),
)
def test_authorize_never_fails_with_a_server_error(
    mitid_broker_client: Make, broker: str, params: dict[str, str]
) -> None:
    client, endpoints = _clients(mitid_broker_client)[broker]
    scope = params.pop("scope", "openid")
    request = client.authorization_request(scope, **params)
    answer = httpx.get(request.url)
    assert answer.status_code < 500, (params, answer.text[:300])
    for endpoint in endpoints:
        junk = httpx.post(endpoint, data=params, headers={"Authorization": "Bearer x"})
        assert junk.status_code < 500, (endpoint, params, junk.text[:300])
        wrong = httpx.post(endpoint, data=params, auth=(client.client_id, "not-the-secret-0"))
        assert wrong.status_code < 500, (endpoint, params, wrong.text[:300])


_made: dict[str, tuple[MitIDBrokerClient, list[str]]] = {}


def _clients(make: Make) -> dict[str, tuple[MitIDBrokerClient, list[str]]]:
    """One simulating client per broker for every example (registering is not what is tested),
    with the endpoints that take a form."""
    if not _made:
        for broker in BROKERS:
            client = make(broker, simulate=True)
            document = httpx.get(client.issuer + "/.well-known/openid-configuration").json()
            names = ("token", "userinfo", "pushed_authorization_request", "end_session")
            found = [document[f"{n}_endpoint"] for n in names if f"{n}_endpoint" in document]
            _made[broker] = (client, found)
    return _made
