"""A kind is one registration: one installed only as a test distribution shows up everywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from authenticators import registry

DIST = Path(__file__).parent / "registry_dist"
MITID_EMU = Path(sys.executable).parent / "mitid-emu"

# Run with the test distribution on sys.path: start a server, give a person the test kind, and
# report what the control API and the login page's method choice say.
SERVER_SCRIPT = """
import json, sys
from authenticators.server.config import ServerConfig
from authenticators.server.runner import ServerThread
from authenticators.server.testing import BrowserLogin, Emulator, authorization_request

with ServerThread(ServerConfig(state_dir=sys.argv[1], port=0)) as server:
    emulator = Emulator(server.url, server.admin_token)
    emulator.add_client("client-1", ["http://127.0.0.1:9/cb"], public=True)
    emulator.create_identity("tess", "Tess Test", password="pw-1234567")
    enrolled = emulator.enroll("tess", "testkind", name="t1")
    kinds = emulator.call("GET", "/emulator/kinds")["kinds"]
    openapi = emulator.call("GET", "/emulator/openapi.json")
    browser = BrowserLogin(server.url, emulator)
    request = authorization_request(server.url, "client-1", "http://127.0.0.1:9/cb", ui_locales="en")
    page = browser.submit(browser.open(request.url), user_id="tess")
    print(json.dumps({
        "enrolled": enrolled,
        "kinds": kinds,
        "stage": page.stage,
        "choices": page.form.choices.get("method", []),
        "page": page.html,
        "enroll_kinds": str(openapi),
    }))
"""


def _with_dist() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(DIST), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path}


def test_a_kind_from_a_test_distribution_is_in_the_cli_help() -> None:
    shown = subprocess.run(
        [str(MITID_EMU), "--help"], env=_with_dist(), capture_output=True, text=True, check=True
    )
    assert "testkind" in shown.stdout
    assert "The test distribution's kind." in shown.stdout
    plain = subprocess.run([str(MITID_EMU), "--help"], capture_output=True, text=True, check=True)
    assert "testkind" not in plain.stdout
    assert "codeviser" in plain.stdout


def test_a_kind_from_a_test_distribution_is_in_the_control_api_and_the_method_choice(
    tmp_path: Path,
) -> None:
    ran = subprocess.run(
        [sys.executable, "-c", SERVER_SCRIPT, str(tmp_path / "state")],
        env=_with_dist(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    seen = json.loads(ran.stdout.splitlines()[-1])
    assert seen["enrolled"] == {"kind": "testkind", "id": "t1"}
    assert {"kind": "testkind", "amr": "test_amr", "login_step": True} in seen["kinds"]
    assert seen["stage"] == "method"
    assert seen["choices"] == ["testkind:t1"]
    assert "Test means" in seen["page"]
    assert "testkind" in seen["enroll_kinds"]


def test_any_group_loads_through_the_one_loader() -> None:
    assert registry.names("authenticators.nothing-registered") == []
    assert registry.load("authenticators.nothing-registered", "x") is None
    assert registry.load(registry.GROUP, "nonexistent") is None
    assert registry.load_all(registry.SERVER_GROUP).keys() >= {"codeviser", "app", "chip"}
    assert registry.facet(registry.CLI_GROUP, "not-a-kind") is None


def test_a_test_distribution_registers_in_any_group() -> None:
    code = (
        "from authenticators import registry; "
        "print(registry.names('authenticators.testonly'), "
        "registry.load('authenticators.testonly', 'example'))"
    )
    ran = subprocess.run(
        [sys.executable, "-c", code], env=_with_dist(), capture_output=True, text=True, check=True
    )
    assert ran.stdout.split() == ["['example']", "testkind"]
