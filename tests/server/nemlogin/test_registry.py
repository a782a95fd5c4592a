"""The IdP's metadata, and service providers registered by the CLI and the control API."""

from __future__ import annotations

import http.server
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import defusedxml.ElementTree as SafeET
import httpx
import pytest

from authenticators.pytest_plugin import MitIDServer
from authenticators.server.config import ServerConfig
from authenticators.server.nemlogin.testing import OIOSAMLServiceProvider
from authenticators.server.runner import ServerThread
from tests.support import Emu, assert_user_error

MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"
REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"

XXE_METADATA = """<?xml version="1.0"?>
<!DOCTYPE md [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&xxe;"/>"""


def certificates(xml: str) -> dict[str, str]:
    root = SafeET.fromstring(xml)
    return {
        kd.get("use"): kd.findtext(f".//{DS}X509Certificate")
        for kd in root.iter(f"{MD}KeyDescriptor")
    }


@pytest.mark.slow
def test_metadata_asks_for_signed_requests_and_keeps_its_keys(tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    with ServerThread(ServerConfig(state_dir=state, port=0)) as server:
        first = httpx.get(server.url + "/nemlogin/saml/metadata")
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("application/samlmetadata+xml")
    root = SafeET.fromstring(first.text)
    assert root.get("entityID") == server.url + "/nemlogin"
    idp = root.find(f"{MD}IDPSSODescriptor")
    assert idp is not None
    assert idp.get("WantAuthnRequestsSigned") == "true"
    for service in ("SingleSignOnService", "SingleLogoutService"):
        bindings = {e.get("Binding") for e in idp.findall(f"{MD}{service}")}
        assert bindings == {REDIRECT, POST}
    keys = certificates(first.text)
    assert set(keys) == {"signing", "encryption"}
    assert keys["signing"] != keys["encryption"]

    # `serve` prints the metadata URL; the entityID is an option; the keys stay.
    command = [sys.executable, "-m", "authenticators.cli", "--state", state, "serve"]
    options = ["--port", "0", "--workers", "1", "--nemlogin-entity-id", "urn:example:nemlogin"]
    proc = subprocess.Popen(
        [*command, *options], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert proc.stdout is not None
        printed = ""
        while "NemLog-in:" not in printed:
            line = proc.stdout.readline()
            assert line, printed
            printed += line
        found = re.search(r"NemLog-in: +(\S+/nemlogin/saml/metadata) +\(SAML IdP (\S+)\)", printed)
        assert found, printed
        assert found.group(2) == "urn:example:nemlogin"
        for _ in range(200):
            try:
                again = httpx.get(found.group(1), timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)
    assert SafeET.fromstring(again.text).get("entityID") == "urn:example:nemlogin"
    assert certificates(again.text) == keys  # made once, kept in the state


@pytest.fixture
def sp_metadata(mitid_server: MitIDServer, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    sp = OIOSAMLServiceProvider(
        mitid_server.emulator.nemlogin_metadata(), entity_id="https://cli.example.test/saml"
    )
    path = tmp_path / "sp-metadata.xml"
    path.write_text(sp.metadata)
    yield sp.metadata, path
    sp.close()


def test_cli_adds_lists_and_removes_an_sp(emu: Emu, sp_metadata: tuple[str, Path]) -> None:
    _, path = sp_metadata
    added = emu("nemlogin", "sp", "add", str(path), "--name", "Kommune Test")
    assert added.exit_code == 0, added.output
    assert "https://cli.example.test/saml" in added.stdout
    listed = emu("nemlogin", "sp", "list")
    assert "https://cli.example.test/saml\tKommune Test\thttps://sp.example.test/saml/acs" in (
        listed.stdout
    )
    removed = emu("nemlogin", "sp", "remove", "https://cli.example.test/saml")
    assert removed.exit_code == 0
    assert "no service providers yet" in emu("nemlogin", "sp", "list").stdout
    assert_user_error(emu("nemlogin", "sp", "remove", "https://cli.example.test/saml"), "no")


def test_cli_reads_metadata_from_a_url(emu: Emu, sp_metadata: tuple[str, Path]) -> None:
    xml, _ = sp_metadata

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = xml.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/metadata"
        result = emu("nemlogin", "sp", "add", url, "--json")
    finally:
        server.shutdown()
    assert result.exit_code == 0, result.output
    assert '"entity_id": "https://cli.example.test/saml"' in result.stdout


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("not xml at all", "could not be read"),
        (XXE_METADATA, "could not be read"),
        ('<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"/>', "0 ent"),
    ],
    ids=["garbage", "xxe", "empty"],
)
def test_cli_refuses_bad_metadata(emu: Emu, tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(content)
    assert_user_error(emu("nemlogin", "sp", "add", str(path)), words)
    assert_user_error(emu("nemlogin", "sp", "add", str(tmp_path / "missing.xml")), "cannot read")


def test_control_api_registers_sps(
    mitid_server: MitIDServer, sp_metadata: tuple[str, Path]
) -> None:
    xml, _ = sp_metadata
    emulator = mitid_server.emulator
    added = emulator.add_nemlogin_sp(xml, name="Control Test")
    assert added["entity_id"] == "https://cli.example.test/saml"
    assert added["encryption"] == "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
    assert any(s["name"] == "Control Test" for s in emulator.nemlogin_sps())
    emulator.remove_nemlogin_sp("https://cli.example.test/saml")
    assert all(s["entity_id"] != added["entity_id"] for s in emulator.nemlogin_sps())

    api = mitid_server.url + "/emulator/nemlogin/sps"
    token = {"Authorization": f"Bearer {mitid_server.admin_token}"}
    bad = httpx.post(api, json={"metadata": XXE_METADATA}, headers=token)
    assert bad.status_code == 400
    assert bad.json()["error"] == "bad_metadata"
    assert httpx.get(api).status_code == 401
    gone = httpx.delete(api, params={"entity_id": "https://nobody.test"}, headers=token)
    assert gone.status_code == 404


def test_without_xmlsec1_the_endpoints_say_so(
    mitid_server: MitIDServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("authenticators.server.nemlogin.XMLSEC", "/nonexistent/xmlsec1")
    for path in ("/nemlogin/saml/metadata", "/nemlogin/saml/sso?SAMLRequest=x"):
        answer = httpx.get(mitid_server.url + path)
        assert answer.status_code == 503
        assert 'data-reason="saml_unavailable"' in answer.text
        assert "apt-get install xmlsec1" in answer.text
