"""Each dialect's token reproduces its broker's documented example claim for claim.

The examples are data (``vectors/``): every claim there must be issued, with the same JSON type
and the same format (a UUID stays a UUID, ``{uuid}`` keeps its braces, a date its ISO form,
an NSIS URI its prefix, a number-like string stays a string).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from authenticators.pytest_plugin import MitIDBrokerClient, MitIDIdentity
from tests.server.brokers.conftest import callback_of, discovery, redeem

VECTORS = Path(__file__).parent / "vectors"

FORMS = [
    ("{uuid}", r"\{[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}\}"),
    ("uuid", r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}"),
    ("hex32", r"[0-9a-f]{32}"),
    ("datetime", r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"),
    ("date", r"\d{4}-\d\d-\d\d"),
    ("digits", r"\d+"),
    ("method", r"[a-z_]+:\d{13}(:(LOW|SUBSTANTIAL|HIGH)){4}"),
    ("level", r"LOW|SUBSTANTIAL|HIGH"),
    ("bool", r"true|false"),
    ("acr", r"urn:grn:authn:dk:mitid:(low|substantial|high|business)"),
    ("nsis", r"https://data\.gov\.dk/concept/core/nsis/(Low|Substantial|High)"),
    ("url", r"https?://\S+"),
    ("base64", r"[A-Za-z0-9+/]{16,}={0,2}"),
    ("upper", r"[A-Z]{2,}"),
]


def form(value: Any) -> str:
    """The type of a claim, and for a string the first format it has."""
    if not isinstance(value, str):
        kinds = {type(v).__name__ for v in value} if isinstance(value, list) else set()
        return type(value).__name__ + (f"[{','.join(sorted(kinds))}]" if kinds else "")
    for name, pattern in FORMS:
        if re.fullmatch(pattern, value):
            return name
    return "text"


# What the service or the configuration chooses: only the type is the broker's.
CHOSEN_BY_CALLER = {"iss", "aud", "nonce"}


def assert_like(example: dict[str, Any], issued: dict[str, Any]) -> None:
    missing = sorted(set(example) - set(issued))
    assert not missing, f"claims missing: {missing}"
    shape: Callable[[Any], str] = form
    differ = {
        name: (form(value), form(issued[name]), issued[name])
        for name, value in example.items()
        if (type if name in CHOSEN_BY_CALLER else shape)(value)
        != (type if name in CHOSEN_BY_CALLER else shape)(issued[name])
    }
    assert not differ, differ


def test_the_classifier_tells_formats_apart() -> None:
    assert form("{11111111-2222-4333-8444-555555555555}") == "{uuid}"
    assert form("11111111-2222-4333-8444-555555555555") == "uuid"
    assert form("53") == "digits"
    assert form(53) == "int"
    assert form(["code_app"]) == "list[str]"
    assert form("https://data.gov.dk/concept/core/nsis/loa/Substantial") == "url"
    with pytest.raises(AssertionError):
        assert_like({"age": "53"}, {"age": 53})
    with pytest.raises(AssertionError):
        assert_like({"sub": "{11111111-2222-4333-8444-555555555555}"}, {"sub": "x"})


def _login(
    client: MitIDBrokerClient, identity: MitIDIdentity, scope: str, **params: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    request = client.authorization_request(
        scope,
        simulation=f"no-ui uuid:{identity.uuid} cpr:{identity.cpr.replace('-', '')}",
        **params,
    )
    tokens = redeem(client, request, callback_of(httpx.get(request.url)))
    info = tokens.userinfo(discovery(client)["userinfo_endpoint"])
    assert info.status_code == 200, info.text
    return tokens.id_token, info.json()


Make = Callable[..., MitIDBrokerClient]


def test_idura_id_token(mitid_broker_client: Make, mitid_identity: MitIDIdentity) -> None:
    example = json.loads((VECTORS / "idura_id_token.json").read_text())
    client = mitid_broker_client("idura", simulate=True)
    import base64

    message = base64.b64encode(b"Body").decode()
    id_token, _ = _login(client, mitid_identity, "openid ssn", login_hint=f"message:{message}")
    assert_like(example, id_token)
    assert "acr" not in id_token
    assert "amr" not in id_token


def test_signaturgruppen_id_token(mitid_broker_client: Make, mitid_identity: MitIDIdentity) -> None:
    example = json.loads((VECTORS / "signaturgruppen_id_token.json").read_text())
    client = mitid_broker_client("signaturgruppen", simulate=True)
    id_token, info = _login(client, mitid_identity, "openid mitid ssn", idp_values="mitid")
    assert_like(example, id_token)
    assert id_token["exp"] - id_token["iat"] == 300
    assert info["mitid.uuid"] == mitid_identity.uuid
    assert info["dk.cpr"] == mitid_identity.cpr.replace("-", "")


def test_signicat_userinfo(mitid_broker_client: Make, mitid_identity: MitIDIdentity) -> None:
    example = json.loads((VECTORS / "signicat_userinfo.json").read_text())
    client = mitid_broker_client("signicat", simulate=True)
    id_token, info = _login(
        client,
        mitid_identity,
        "openid profile idp-id nin mitid-extra",
        acr_values="idp:mitid urn:grn:authn:dk:mitid:substantial",
    )
    assert_like(example, info)
    assert id_token["amr"] == ["external"]
    assert info["mitid_cpr_source"] == "user"


def test_signicat_enterprise(mitid_broker_client: Make, mitid_identity: MitIDIdentity) -> None:
    client = mitid_broker_client("signicat-enterprise", simulate=True)
    assert client.issuer.endswith("/brokers/signicat/oidc")
    id_token, info = _login(
        client,
        mitid_identity,
        "openid profile signicat.national_id mitid",
        acr_values="urn:signicat:oidc:method:mitid-cpr",
    )
    assert id_token["sub"] == info["sub"] == mitid_identity.uuid
    assert info["signicat.national_id"] == mitid_identity.cpr.replace("-", "")
    assert info["auth_token_id"] == f"mitid:{mitid_identity.uuid}"
