"""Bad AuthnRequests get a clear error page naming the problem: never a 500, never an assertion."""

from __future__ import annotations

import base64
import re
import zlib
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from authenticators.pytest_plugin import MitIDServer
from authenticators.server.nemlogin.testing import OIOSAMLServiceProvider

SSO = "/nemlogin/saml/sso"

XXE = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"
  xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="x1" Version="2.0"
  IssueInstant="2030-01-01T00:00:00Z"><saml:Issuer>&xxe;</saml:Issuer></samlp:AuthnRequest>"""

LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
    + "".join(
        f'<!ENTITY {c} "{("&" + p + ";") * 10}">'
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + ']><samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="x2" '
    'Version="2.0" IssueInstant="2030-01-01T00:00:00Z">&i;</samlp:AuthnRequest>'
)


def deflated(xml: str | bytes) -> str:
    data = xml.encode() if isinstance(xml, str) else xml
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return base64.b64encode(packer.compress(data) + packer.flush()).decode()


def with_params(url: str, **change: str | None) -> str:
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query))
    for key, value in change.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return f"{parts.path}?{urlencode(params)}"


@pytest.fixture
def http(mitid_server: MitIDServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mitid_server.url, follow_redirects=False) as client:
        yield client


def refused(response: httpx.Response, error: str, status: int = 400) -> None:
    assert response.status_code == status, response.text[:500]
    assert f'data-reason="{error}"' in response.text
    assert not re.search(r"<(\w+:)?(Encrypted)?Assertion[\s>]", response.text)
    assert "SAMLResponse" not in response.text


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@pytest.mark.parametrize(
    ("request_param", "error"),
    [
        ("not base64!", "malformed"),
        (base64.b64encode(b"not deflate").decode(), "malformed"),
        (deflated("<not-closed"), "malformed"),
        (deflated("<a>not an AuthnRequest</a>"), "malformed"),
        (deflated(XXE), "malformed"),
        (deflated(LAUGHS), "malformed"),
        (deflated(b"\0" * 1_000_000), "too_large"),
        ("A" * 40_000, "too_large"),
    ],
    ids=["base64", "deflate", "xml", "not-a-request", "xxe", "entity-expansion", "bomb", "size"],
)
def test_malformed_and_oversized_requests(
    http: httpx.Client, request_param: str, error: str
) -> None:
    status = 413 if error == "too_large" else 400
    refused(http.get(SSO, params={"SAMLRequest": request_param}), error, status)


def test_a_request_without_saml_request(http: httpx.Client) -> None:
    refused(http.get(SSO), "malformed")
    refused(http.post(SSO, data={"RelayState": "x"}), "malformed")
    refused(http.post(SSO, data={"SAMLRequest": "A" * 70_000}), "request_too_large", 413)


def test_unsigned_tampered_and_foreign_signatures(
    http: httpx.Client, nemlogin_sp: OIOSAMLServiceProvider, mitid_server: MitIDServer
) -> None:
    url, _ = nemlogin_sp.login_url(relay_state="r1")
    refused(http.get(with_params(url, Signature=None, SigAlg=None)), "unsigned")
    refused(http.get(with_params(url, RelayState="r2")), "bad_signature")
    refused(
        http.get(with_params(url, SigAlg="http://www.w3.org/2000/09/xmldsig#rsa-sha1")),
        "unsupported",
    )
    impostor = OIOSAMLServiceProvider(
        mitid_server.emulator.nemlogin_metadata(), entity_id=nemlogin_sp.entity_id
    )
    try:
        forged, _ = impostor.login_url()
    finally:
        impostor.close()
    refused(http.get(path_of(forged)), "bad_signature")
    saml_request = dict(parse_qsl(urlsplit(url).query))["SAMLRequest"]
    xml = zlib.decompress(base64.b64decode(saml_request), -15)
    refused(http.post(SSO, data={"SAMLRequest": base64.b64encode(xml).decode()}), "unsigned")


def test_a_replayed_request(http: httpx.Client, nemlogin_sp: OIOSAMLServiceProvider) -> None:
    url, _ = nemlogin_sp.login_url()
    assert http.get(path_of(url)).status_code == 303
    refused(http.get(path_of(url)), "replayed")


def test_unknown_sp_and_unknown_acs(
    http: httpx.Client, nemlogin_sp: OIOSAMLServiceProvider, mitid_server: MitIDServer
) -> None:
    url, _ = nemlogin_sp.login_url(acs_url="https://evil.example.test/acs")
    refused(http.get(path_of(url)), "unknown_acs")
    stranger = OIOSAMLServiceProvider(
        mitid_server.emulator.nemlogin_metadata(), entity_id="https://stranger.example.test/saml"
    )
    try:
        url, _ = stranger.login_url()
    finally:
        stranger.close()
    refused(http.get(path_of(url)), "unknown_sp")


def test_an_answer_page_for_no_login(http: httpx.Client) -> None:
    refused(http.get("/nemlogin/saml/answer/no-such-answer"), "session_lost")


def test_the_openapi_document_describes_the_sp_registry(http: httpx.Client) -> None:
    paths = http.get("/emulator/openapi.json").json()["paths"]
    assert set(paths["/emulator/nemlogin/sps"]) == {"get", "post", "delete"}
