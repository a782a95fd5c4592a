"""``mitid-emu chip …`` over every transport (sim:, UDP, the fake hid device), the chip login, and
the refusals a person at the terminal gets: one line naming the device, exit code 2, no state."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from authenticators.hal import hidapi
from tests.hal import fixtures
from tests.hal.fakehid import FakeHidApi
from tests.support import Emu, assert_user_error

chip = fixtures.chip
fake_hid = fixtures.fake_hid
udp_uri = fixtures.udp_uri

PASSWORD = "demo-password-1"
PIN = "246810"


@pytest.fixture
def hid(fake_hid: FakeHidApi, monkeypatch: pytest.MonkeyPatch) -> FakeHidApi:
    monkeypatch.setattr(hidapi, "backend", lambda: fake_hid)
    return fake_hid


@pytest.fixture(params=["sim", "udp", "hid"])
def device(request: pytest.FixtureRequest) -> str:
    """A device URI on each transport."""
    if request.param == "sim":
        return "sim:cli"
    if request.param == "udp":
        uri: str = request.getfixturevalue("udp_uri")
        return uri
    request.getfixturevalue("hid")
    return f"hid:{fixtures.HID_PATH}"


@pytest.fixture
def person(emu: Emu) -> str:
    result = emu(
        "identity", "create", "--user-id", "demo.user", "--name", "Demo", "--password", PASSWORD
    )
    assert result.exit_code == 0, result.output
    return "demo.user"


def ok(result: object) -> str:
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    return str(result.stdout)  # type: ignore[attr-defined]


def test_info(emu: Emu, device: str) -> None:
    data = json.loads(ok(emu("chip", "info", device, "--json")))
    assert data["uri"] == device
    assert "FIDO_2_1" in data["versions"]
    assert data["aaguid"] == "6d697469-642d-656d-752d-636869703031"
    assert "hmac-secret" in ok(emu("chip", "info", device))


def test_register_link_and_log_in_at_high(emu: Emu, device: str, person: str) -> None:
    out = ok(emu("chip", "register", "--device", device))
    assert f"enrolled chip {device}" in out
    assert f"identity add-authenticator USER_ID chip {device}" in out
    ok(emu("identity", "add-authenticator", person, "chip", device))
    result = emu(
        "login",
        "--user-id",
        person,
        "--method",
        "chip",
        "--level",
        "high",
        "--password",
        PASSWORD,
        "--json",
    )
    data = json.loads(ok(result))
    assert data["ok"] is True
    assert data["level"] == "high"
    assert data["amr"] == ["u2f_token", "pwd"]


def test_register_for_a_user_and_authenticate(emu: Emu, device: str, person: str) -> None:
    data = json.loads(
        ok(
            emu(
                "chip",
                "register",
                "--device",
                device,
                "--name",
                "key",
                "--user-id",
                person,
                "--json",
            )
        )
    )
    assert data["user_id"] == person
    assert data["attestation"]["status"] in ("trusted", "untrusted")
    first = json.loads(ok(emu("chip", "authenticate", "key", "--json")))
    second = json.loads(ok(emu("chip", "authenticate", "key", "--json")))
    assert first["ok"] is True
    assert second["sign_count"] > first["sign_count"]
    listed = json.loads(ok(emu("chip", "enrolled", "--json")))
    assert [r["name"] for r in listed] == ["key"]
    assert listed[0]["sign_count"] == second["sign_count"]


def test_pin_resident_credentials_and_reset(emu: Emu, device: str) -> None:
    ok(emu("chip", "pin", "set", "--device", device, "--pin", PIN))
    ok(emu("chip", "pin", "change", "--device", device, "--pin", PIN, "--new-pin", "135790"))
    wrong = emu("chip", "creds", "list", "--device", device, "--pin", PIN)
    assert_user_error(wrong, re.escape(device), "PIN is wrong")
    ok(emu("chip", "register", "--device", device, "--name", "rk", "--resident", "--pin", "135790"))
    creds = json.loads(
        ok(emu("chip", "creds", "list", "--device", device, "--pin", "135790", "--json"))
    )
    assert len(creds) == 1
    assert creds[0]["rp_id"] == "mitid.dk"
    ok(
        emu(
            "chip",
            "creds",
            "delete",
            creds[0]["credential_id"],
            "--device",
            device,
            "--pin",
            "135790",
        )
    )
    assert (
        json.loads(
            ok(emu("chip", "creds", "list", "--device", device, "--pin", "135790", "--json"))
        )
        == []
    )
    assert "reset" in ok(emu("chip", "reset", "--device", device, "--yes"))
    info = json.loads(ok(emu("chip", "info", device, "--json")))
    assert info["options"]["clientPin"] is False


def test_selftest_with_junit(emu: Emu, device: str, tmp_path: Path) -> None:
    junit = tmp_path / "chip.xml"
    result = emu("chip", "selftest", "--device", device, "--allow-reset", "--junit", str(junit))
    out = ok(result)
    assert "0 failed" in out
    suite = ET.parse(junit).getroot().find("testsuite")  # noqa: S314 - our own file
    assert suite is not None
    assert suite.get("failures") == "0"
    assert int(suite.get("tests", "0")) >= 40


def test_selftest_json_without_reset(emu: Emu) -> None:
    data = json.loads(ok(emu("chip", "selftest", "--device", "sim:qa", "--json")))
    assert data["ok"] is True
    assert data["summary"]["skipped"] > 0
    skipped = [r for r in data["results"] if r["outcome"] == "skipped"]
    assert all("--allow-reset" in r["message"] for r in skipped)


def test_list_shows_every_kind(emu: Emu, hid: FakeHidApi, udp_uri: str) -> None:
    ok(emu("chip", "info", "sim:listed"))
    port, reply = udp_uri.removeprefix("udp://127.0.0.1:").split("?reply=")
    data = json.loads(ok(emu("chip", "list", "--udp-port", port, "--reply-port", reply, "--json")))
    uris = [d["uri"] for d in data["devices"]]
    assert uris == [f"hid:{fixtures.HID_PATH}", "sim:listed", udp_uri]
    text = ok(emu("chip", "list", "--udp-port", port, "--reply-port", reply))
    assert "Fake FIDO Key" in text


# -- refusals ----------------------------------------------------------------------------------


def _state(emu: Emu) -> str:
    return ok(emu("chip", "enrolled", "--json"))


@pytest.mark.parametrize(
    ("uri", "words"),
    [
        ("usb:3", ("usb:3", "not a device URI", "sim:")),
        ("sim:two words", ("name",)),
        ("hid:auto", ("hid:auto", "no FIDO security key", "sim:")),
        ("hid:/dev/hidraw0", ("hid:/dev/hidraw0", "no FIDO token", "chip list")),
        ("hid:/dev/hidraw3", ("hid:/dev/hidraw3", "not CTAP")),
        ("hid:/dev/hidraw9", ("hid:/dev/hidraw9", "no HID device")),
    ],
)
def test_devices_that_cannot_be_used(
    emu: Emu, monkeypatch: pytest.MonkeyPatch, uri: str, words: tuple[str, ...]
) -> None:
    api = FakeHidApi()
    api.plug("/dev/hidraw0", None, usage_page=0x0001, usage=6, product="Keyboard")
    if uri != "hid:auto":
        api.plug("/dev/hidraw3", None, garbage=True)
    monkeypatch.setattr(hidapi, "backend", lambda: api)
    before = _state(emu)
    assert_user_error(emu("chip", "register", "--device", uri), *words)
    assert_user_error(emu("chip", "info", uri), *words)
    assert _state(emu) == before


def test_udp_without_a_simulator(emu: Emu) -> None:
    uri = f"udp://127.0.0.1:{fixtures.free_udp_port()}?reply={fixtures.free_udp_port()}"
    assert_user_error(emu("chip", "info", uri), "udp://", "chip serve")


def test_an_unplugged_key_fails_the_login_clearly(emu: Emu, hid: FakeHidApi, person: str) -> None:
    ok(emu("chip", "register", "--device", "hid:auto", "--name", "key", "--user-id", person))
    hid.unplug(fixtures.HID_PATH)
    before = _state(emu)
    result = emu("login", "--user-id", person, "--method", "chip", "--password", PASSWORD)
    assert_user_error(result, "hid:auto", "no FIDO security key")
    assert_user_error(emu("chip", "authenticate", "key"), "hid:auto")
    assert _state(emu) == before
    trail = json.loads(emu("audit", "--json").stdout)
    assert [e["event"] for e in trail[-2:]] == ["login_started", "login_abandoned"]


def test_a_key_unplugged_mid_command(
    emu: Emu, hid: FakeHidApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    from authenticators.chip.host import ChipHost

    real = ChipHost.make_credential

    def pull_it_out(self: ChipHost, *args: object, **kwargs: object) -> object:
        hid.entries[fixtures.HID_PATH.encode()].plugged = False
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ChipHost, "make_credential", pull_it_out)
    assert_user_error(
        emu("chip", "register", "--device", "hid:auto"), "hid:auto", "went away", "plug it back in"
    )
    assert _state(emu) == "[]\n"


def test_identity_needs_a_registered_chip(emu: Emu, person: str) -> None:
    result = emu("identity", "add-authenticator", person, "chip", "sim:")
    assert_user_error(result, "no chip enrolled", "chip register")


def test_token_refusals_are_user_errors(emu: Emu) -> None:
    ok(emu("chip", "pin", "set", "--device", "sim:p", "--pin", PIN))
    assert_user_error(
        emu("chip", "pin", "set", "--device", "sim:p", "--pin", PIN), "sim:p", "PIN is set already"
    )
    assert_user_error(
        emu("chip", "pin", "change", "--device", "sim:p", "--pin", PIN, "--new-pin", "12"),
        "sim:p",
        "4 to 63",
    )
    assert_user_error(
        emu("chip", "creds", "delete", "zz", "--device", "sim:p", "--pin", PIN), "not hex"
    )
    assert_user_error(emu("chip", "reset", "--device", "sim:p"), "--yes")
    assert_user_error(emu("chip", "register", "--device", "sim:p", "--uv"), "--pin")
    assert_user_error(emu("chip", "selftest", "--device", "sim:p", "--area", "nfc"), "areas")
    ok(emu("chip", "register", "--device", "sim:p"))
    assert_user_error(emu("chip", "register", "--device", "sim:p"), "enrolled already")


def test_no_pin_ever_appears_in_output(emu: Emu) -> None:
    secret = "97531864"
    out = emu("chip", "pin", "set", "--device", "sim:s", "--pin", secret).output
    out += emu("chip", "creds", "list", "--device", "sim:s", "--pin", "11112222").output
    out += emu(
        "chip", "pin", "change", "--device", "sim:s", "--pin", "11112222", "--new-pin", "33334444"
    ).output
    assert secret not in out
    assert "11112222" not in out
    assert "33334444" not in out


# -- chip serve, out of process ----------------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    port, reply = fixtures.free_udp_port(), fixtures.free_udp_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "authenticators.cli",
            "--state",
            str(tmp_path / "served"),
            "chip",
            "serve",
            "--udp",
            str(port),
            "--reply-port",
            str(reply),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert "listening" in proc.stdout.readline()
        yield f"udp://127.0.0.1:{port}?reply={reply}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_chip_serve_is_driven_by_udp_uris(emu: Emu, served: str, person: str) -> None:
    ok(emu("chip", "register", "--device", served, "--name", "served", "--user-id", person))
    result = emu(
        "login", "--user-id", person, "--method", "chip", "--level", "high", "--password", PASSWORD
    )
    assert "Login accepted" in ok(result)


def test_the_chip_is_the_same_in_later_commands(emu: Emu) -> None:
    ok(emu("chip", "pin", "set", "--device", "sim:", "--pin", PIN))
    info = json.loads(ok(emu("chip", "info", "sim:", "--json")))
    assert info["options"]["clientPin"] is True
