"""The chip step: WebAuthn assertion of the login's challenge plus the password, level high."""

from __future__ import annotations

import base64
import hashlib
import json

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2 import cbor
from fido2.cose import ES256

from authenticators.pytest_plugin import MitIDClient, MitIDIdentity, MitIDServer
from authenticators.server.testing import BrowserLogin, Callback, EmulatorError, LoginFailed, Page
from tests.server.conftest import exchange, id_token_claims

ACR = "urn:grn:authn:dk:mitid:"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def attribute(page: Page, name: str) -> str:
    marker = f'{name}="'
    start = page.html.index(marker) + len(marker)
    return page.html[start : page.html.index('"', start)]


def open_chip_step(
    browser: BrowserLogin, client: MitIDClient, user_id: str, chip: str, **extra: str
) -> Page:
    page = browser.open(client.authorization_request(**extra).url)
    assert isinstance(page, Page)
    page = browser.submit(page, user_id=user_id)
    assert isinstance(page, Page)
    page = browser.submit(page, method=f"chip:{chip}")
    assert isinstance(page, Page)
    assert page.stage == "step", page.html
    return page


def test_chip_and_password_reach_high(
    http: httpx.Client,
    mitid_client: MitIDClient,
    mitid_identity: MitIDIdentity,
    mitid_browser: BrowserLogin,
) -> None:
    request = mitid_client.authorization_request(acr_values=ACR + "high")
    callback = mitid_browser.login(
        request.url, mitid_identity.user_id, kind="chip", password=mitid_identity.password
    )
    claims = id_token_claims(
        http, exchange(http, mitid_client, request, callback.code or "").json()["id_token"]
    )
    assert claims["acr"] == ACR + "high"
    assert claims["amr"] == ["u2f_token", "pwd"]


def test_the_page_runs_webauthn_with_the_enrolled_credential(
    mitid_client: MitIDClient, mitid_identity: MitIDIdentity, mitid_browser: BrowserLogin
) -> None:
    chip = mitid_identity.authenticators["chip"]
    page = open_chip_step(mitid_browser, mitid_client, mitid_identity.user_id, chip)
    assert '<script src="/static/chip-step.js"' in page.html
    assert attribute(page, "data-rp-id") == "localhost"
    assert len(base64.urlsafe_b64decode(attribute(page, "data-challenge") + "=")) == 32
    assert attribute(page, "data-allow")
    script = mitid_browser.http.get("/static/chip-step.js")
    assert "navigator.credentials" in script.text
    # no assertion, a browser error, no password: the page says which, and stays
    for values, reason in (
        ({"password": mitid_identity.password}, "chip_missing"),
        ({"password": mitid_identity.password, "chip_error": "NotAllowedError"}, "chip_error"),
        ({}, "password_missing"),
    ):
        again = mitid_browser.submit(page, **values)
        assert isinstance(again, Page)
        assert again.stage == "step"
        assert again.reason == reason
        page = again


def test_a_wrong_password_with_a_good_assertion_is_asked_again(
    mitid_client: MitIDClient, mitid_identity: MitIDIdentity, mitid_browser: BrowserLogin
) -> None:
    request = mitid_client.authorization_request()
    with pytest.raises(LoginFailed) as failed:
        mitid_browser.login(
            request.url, mitid_identity.user_id, kind="chip", password="not-the-password"
        )
    assert failed.value.reason == "wrong_password"
    assert failed.value.page.stage == "step"  # a fresh challenge, the same page
    # Only the password can be wrong once the chip has signed: the page says so.
    assert failed.value.page.alerts == [
        "Bemærk: Adgangskoden er forkert. Indtast den igen, og brug din MitID chip igen."
    ]


def test_an_assertion_for_another_origin_is_refused_with_a_page(
    mitid_client: MitIDClient, mitid_identity: MitIDIdentity, mitid_browser: BrowserLogin
) -> None:
    request = mitid_client.authorization_request()
    with pytest.raises(LoginFailed) as failed:
        mitid_browser.login(
            request.url,
            mitid_identity.user_id,
            kind="chip",
            password=mitid_identity.password,
            origin="https://phishing.example",
        )
    assert failed.value.reason == "bad_binding"
    assert failed.value.page.stage == "failed"


def test_a_credential_made_elsewhere_is_enrolled_by_its_public_key(
    mitid_server: MitIDServer, mitid_client: MitIDClient, mitid_browser: BrowserLogin
) -> None:
    """What a browser's platform authenticator does, done by hand: sign the client data."""
    emulator = mitid_server.emulator
    key = ec.generate_private_key(ec.SECP256R1())
    cose = cbor.encode(dict(ES256.from_cryptography_key(key.public_key())))
    credential_id = b"platform-credential-1"
    user = emulator.create_identity("platform.user", "Platform", password="platform-pass-1")
    enrolled = emulator.enroll(
        user["user_id"],
        "chip",
        name="platform-1",
        credential_id=b64(credential_id),
        public_key=b64(cose),
    )
    assert enrolled["uri"] == "external:"
    page = open_chip_step(mitid_browser, mitid_client, "platform.user", "platform-1")
    client_data = json.dumps(
        {
            "type": "webauthn.get",
            "challenge": attribute(page, "data-challenge"),
            "origin": mitid_server.url,
        }
    ).encode()
    auth_data = hashlib.sha256(b"localhost").digest() + bytes([0x01]) + (1).to_bytes(4, "big")
    signature = key.sign(
        auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
    )
    callback = mitid_browser.submit(
        page,
        password="platform-pass-1",
        credential_id=b64(credential_id),
        authenticator_data=b64(auth_data),
        client_data=b64(client_data),
        signature=b64(signature),
    )
    assert isinstance(callback, Callback)
    assert callback.code
    with pytest.raises(EmulatorError) as bad:
        emulator.enroll(
            "platform.user", "chip", credential_id=b64(b"x"), public_key=b64(b"not cose")
        )
    assert bad.value.status == 400
    with pytest.raises(EmulatorError) as not_sim:
        emulator.call(
            "POST", "/emulator/chips/platform-1/assert", {"client_data_hash": b64(bytes(32))}
        )
    assert not_sim.value.status == 409
