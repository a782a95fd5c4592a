"""The conformance plugin: python-fido2's HID layer routed to a UDP token, and the suite's power
controller answered (power off = the power-cycle packet, power on = the key under a new path)."""

from __future__ import annotations

import io
import socket
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from authenticators.chip.conformance import runner
from authenticators.clock import FrozenClock
from firmware_sim.chip import ChipDevice
from firmware_sim.udp import UdpServer

pytest_plugins = ["pytester"]
pytestmark = [pytest.mark.timeout(60), pytest.mark.slow]

#: A miniature of python-fido2's tests/device conftest: it imports the HID functions by name at
#: import time and drives the controller over HTTP, as the real one does.
SUITE = """
import json
import urllib.request
from fido2.ctap2 import Ctap2
from fido2.hid import list_descriptors, open_connection, open_device, CtapHidDevice


def get(config, path):
    url = config.getoption("controller").rstrip("/") + path
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.status


def test_route_and_power(pytestconfig):
    assert get(pytestconfig, "/") == 200
    (first,) = list_descriptors()
    dev = CtapHidDevice(first, open_connection(first))
    assert "FIDO_2_1" in Ctap2(dev).get_info().versions
    assert get(pytestconfig, "/usb6/touch/on") == 200
    assert get(pytestconfig, "/usb6/power/off") == 200
    assert list_descriptors() == []
    assert get(pytestconfig, "/usb6/power/on") == 200
    (second,) = list_descriptors()
    assert second.path != first.path
    again = open_device(second.path)
    assert "FIDO_2_1" in Ctap2(again).get_info().versions


def test_unknown_controller_path(pytestconfig):
    import urllib.error
    try:
        get(pytestconfig, "/usb6/boil/on")
    except urllib.error.HTTPError as exc:
        assert exc.code == 404
    else:
        raise AssertionError("answered an unknown path")
"""


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served() -> Iterator[tuple[UdpServer, int]]:
    chip = ChipDevice(clock=FrozenClock())
    reply = _free_udp_port()
    server = UdpServer(chip, port=0, reply_port=reply)
    server.start()
    yield server, reply
    server.stop()
    chip.close()


def test_plugin_routes_hid_and_power_cycles(
    pytester: pytest.Pytester, served: tuple[UdpServer, int]
) -> None:
    server, reply = served
    pytester.makeconftest(
        "def pytest_addoption(parser):\n    parser.addoption('--controller', action='store')\n"
    )
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest_subprocess(
        "-p",
        "authenticators.chip.conformance.plugin",
        "--chip-udp",
        f"127.0.0.1:{server.address[1]}",
        "--chip-reply",
        str(reply),
    )
    result.assert_outcomes(passed=2)
    assert server.reboots == 1


def test_without_a_chip_no_device_is_listed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_empty="from fido2.hid import list_descriptors\n"
        "def test_none():\n"
        "    import pytest\n"
        "    with pytest.raises(OSError):\n"
        "        list_descriptors()\n"
    )
    result = pytester.runpytest_subprocess("-p", "authenticators.chip.conformance.plugin")
    result.assert_outcomes(passed=1)


def test_fetch_suite_unpacks_a_cached_sdist(tmp_path: Path) -> None:
    archive = tmp_path / "fido2-9.9.9.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, text in [
            ("fido2-9.9.9/tests/device/conftest.py", "# suite\n"),
            ("elsewhere/evil.py", "# not ours\n"),
        ]:
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    root = runner.fetch_suite(tmp_path, "9.9.9")
    assert (root / "tests" / "device" / "conftest.py").read_text() == "# suite\n"
    assert not (tmp_path / "elsewhere").exists()
