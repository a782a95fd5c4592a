"""A pytest plugin that lets python-fido2's device suite drive a UDP token.

python-fido2's ``tests/device`` finds a key with ``fido2.hid.list_descriptors``, opens it with
``open_connection``/``open_device`` and, given ``--controller URL``, asks an HTTP power controller
to touch the key and to unplug and replug it (``/usbN/touch/on|off``, ``/usbN/power/on|off``).
This plugin replaces those three functions with one UDP token (``--chip-udp HOST:PORT``, answers
on ``--chip-reply PORT``, the SoloKeys simulator convention) and, unless ``--controller`` is
given, serves that controller itself on a free loopback port: power off sends the convention's
power-cycle packet and hides the key until power on, which shows it under a new path, as a
replugged USB key gets one. Touches need no answer: serve the key with ``--presence always``.

Use: ``pytest -p authenticators.chip.conformance.plugin --chip-udp 127.0.0.1:8111 tests/device``.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fido2 import hid
from fido2.hid import CtapHidDevice
from fido2.hid.base import CtapHidConnection, HidDescriptor

from authenticators.hal.base import descriptor
from authenticators.hal.udp import DEFAULT_REPLY_PORT, UdpConnection

PATH_PREFIX = "udp-chip"
PRODUCT = "MitID emulated chip (UDP)"


class UdpKey:
    """The one key on the bus: a shared UDP link and whether it is powered."""

    def __init__(self, host: str, port: int, reply_port: int) -> None:
        self.uri = f"udp://{host}:{port}"
        self.link = UdpConnection(self.uri, host, port, reply_port)
        self.powered = True
        self.boot = 1
        self.power_cycles = 0
        self.touches = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"UdpKey({self.uri}, powered={self.powered}, boot={self.boot})"

    @property
    def path(self) -> str:
        return f"{PATH_PREFIX}/{self.boot}"

    def descriptors(self) -> list[HidDescriptor]:
        with self._lock:
            if not self.powered:
                return []
            return [descriptor(self.path, PRODUCT, None)]

    def power(self, on: bool) -> None:
        with self._lock:
            if on == self.powered:
                return
            if not on:
                self.link.reboot()
                self.power_cycles += 1
            else:
                self.boot += 1
            self.powered = on

    def connection(self, desc: HidDescriptor) -> CtapHidConnection:
        if desc.path != self.path or not self.powered:
            raise OSError(f"no such device: {desc.path!r}")
        return _Handle(self.link)

    def close(self) -> None:
        self.link.close()


class _Handle(CtapHidConnection):
    """One opened handle on the shared link; closing it leaves the link open for the next."""

    def __init__(self, link: UdpConnection) -> None:
        self._link = link

    def write_packet(self, data: bytes) -> None:
        self._link.write_packet(data)

    def read_packet(self) -> bytes:
        return self._link.read_packet()

    def close(self) -> None:
        pass


class _Controller(BaseHTTPRequestHandler):
    """The power controller's HTTP API: ``/`` and ``/usbN/{touch,power}/{on,off}``."""

    key: UdpKey

    def do_GET(self) -> None:
        parts = [p for p in self.path.split("/") if p]
        if not parts:
            self._answer(200, b"ok")
            return
        if len(parts) != 3 or not parts[0].startswith("usb") or parts[2] not in ("on", "off"):
            self._answer(404, b"unknown")
            return
        if parts[1] == "power":
            self.key.power(parts[2] == "on")
        elif parts[1] == "touch":
            self.key.touches += parts[2] == "on"
        else:
            self._answer(404, b"unknown")
            return
        self._answer(200, b"ok")

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_controller(key: UdpKey) -> ThreadingHTTPServer:
    """Start the controller on a free loopback port (``server.server_address``)."""
    handler = type("Controller", (_Controller,), {"key": key})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, name="chip-controller", daemon=True).start()
    return server


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chip", "the UDP chip under test")
    group.addoption("--chip-udp", metavar="HOST:PORT", help="where the UDP token listens")
    group.addoption(
        "--chip-reply",
        type=int,
        default=DEFAULT_REPLY_PORT,
        metavar="PORT",
        help="loopback port the token answers to",
    )


_KEY: UdpKey | None = None
_CONTROLLER: ThreadingHTTPServer | None = None


def _key() -> UdpKey:
    if _KEY is None:
        raise OSError("no UDP chip configured (--chip-udp)")
    return _KEY


def _list_descriptors() -> list[HidDescriptor]:
    return _key().descriptors()


def _open_connection(desc: HidDescriptor) -> CtapHidConnection:
    return _key().connection(desc)


def _open_device(path: str) -> CtapHidDevice:
    for desc in _key().descriptors():
        if desc.path == path:
            return CtapHidDevice(desc, _key().connection(desc))
    raise OSError(f"no such device: {path!r}")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Route the HID layer before the suite's conftest imports it."""
    hid.list_descriptors = _list_descriptors
    hid.open_connection = _open_connection
    hid.open_device = _open_device


def pytest_configure(config: pytest.Config) -> None:
    global _KEY, _CONTROLLER
    address = config.getoption("chip_udp")
    if not address:
        return
    host, _, port = str(address).rpartition(":")
    _KEY = UdpKey(host or "127.0.0.1", int(port), int(config.getoption("chip_reply")))
    if getattr(config.option, "controller", "missing") is None:
        _CONTROLLER = serve_controller(_KEY)
        config.option.controller = "http://{}:{}".format(*_CONTROLLER.server_address[:2])


def pytest_unconfigure(config: pytest.Config) -> None:
    global _KEY, _CONTROLLER
    if _CONTROLLER is not None:
        _CONTROLLER.shutdown()
        _CONTROLLER.server_close()
        _CONTROLLER = None
    if _KEY is not None:
        _KEY.close()
        _KEY = None
