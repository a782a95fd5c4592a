"""Fixtures shared by the HAL, chip and CLI tests: a simulated chip, the fake hidapi module
plugged with it, and the same chip served over UDP on free ports (always stopped)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from firmware_sim.chip import ChipDevice
from firmware_sim.udp import UdpServer
from tests.hal.fakehid import FakeHidApi

HID_PATH = "/dev/hidraw7"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def chip() -> Iterator[ChipDevice]:
    device = ChipDevice()
    yield device
    device.close()


@pytest.fixture
def fake_hid(chip: ChipDevice) -> FakeHidApi:
    api = FakeHidApi()
    api.plug(HID_PATH, chip)
    return api


@pytest.fixture
def udp_uri(chip: ChipDevice) -> Iterator[str]:
    port, reply = free_udp_port(), free_udp_port()
    server = UdpServer(chip, port=port, reply_port=reply)
    server.start()
    try:
        yield f"udp://127.0.0.1:{port}?reply={reply}"
    finally:
        server.stop()
