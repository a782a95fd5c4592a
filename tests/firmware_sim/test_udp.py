"""The UDP server, by the SoloKeys simulator convention, driven by python-fido2."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator

import pytest
from fido2.ctap import CtapError
from fido2.ctap1 import Ctap1
from fido2.ctap2 import Ctap2
from fido2.ctap2.pin import ClientPin
from fido2.hid import CtapHidDevice

from authenticators.clock import FrozenClock
from firmware_sim.chip import ChipDevice
from firmware_sim.udp import REBOOT_PACKET, UdpServer

from .chip.conftest import CDH, RP, UdpConnection, descriptor, descriptor_of, free_udp_port
from .chip.conftest import make_credential as make_cred

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def served() -> Iterator[tuple[ChipDevice, UdpServer, int]]:
    chip = ChipDevice(clock=FrozenClock())
    reply = free_udp_port()
    server = UdpServer(chip, port=0, reply_port=reply)
    server.start()
    yield chip, server, reply
    server.stop()
    chip.close()


@pytest.fixture
def udp_hid(served: tuple[ChipDevice, UdpServer, int]) -> Iterator[CtapHidDevice]:
    _, server, reply = served
    hid = CtapHidDevice(descriptor("udp"), UdpConnection(server.address[1], reply))
    yield hid
    hid.close()


def test_python_fido2_over_udp(udp_hid: CtapHidDevice) -> None:
    ctap = Ctap2(udp_hid)
    assert "FIDO_2_1" in ctap.info.versions
    made = make_cred(ctap)
    data = made.auth_data.credential_data
    assert data is not None
    ctap.get_assertion(RP["id"], CDH, [descriptor_of(made)]).verify(CDH, data.public_key)
    assert Ctap1(udp_hid).get_version() == "U2F_V2"
    assert udp_hid.ping(b"x" * 300) == b"x" * 300


def test_reboot_packet_power_cycles(
    served: tuple[ChipDevice, UdpServer, int], udp_hid: CtapHidDevice
) -> None:
    chip, server, reply = served
    ctap = Ctap2(udp_hid)
    pin = ClientPin(ctap)
    pin.set_pin("1234")
    for _ in range(3):
        with pytest.raises(CtapError):
            pin.get_pin_token("0000")
    assert pin.get_pin_retries() == (5, True)
    udp_hid._connection.write_packet(REBOOT_PACKET)  # type: ignore[attr-defined]
    udp_hid.close()  # the old channel is gone with the reboot; open afresh
    fresh = CtapHidDevice(descriptor("udp"), UdpConnection(server.address[1], reply))
    assert ClientPin(Ctap2(fresh)).get_pin_retries() == (5, False)
    assert server.reboots == 1
    assert chip.boots == 2
    fresh.close()


def test_garbage_datagrams_get_protocol_answers(served: tuple[ChipDevice, UdpServer, int]) -> None:
    _, server, reply = served
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", reply))
    sock.settimeout(5)
    try:
        token = ("127.0.0.1", server.address[1])
        sock.sendto(b"", token)  # ignored
        sock.sendto(struct.pack(">IBH", 0, 0x81, 1) + b"x", token)  # channel 0 is no channel
        answer = sock.recv(1024)
        assert len(answer) == 64
        assert answer[:5] == struct.pack(">IB", 0, 0xBF)
        assert answer[7] == CtapError.ERR.INVALID_CHANNEL
        sock.sendto(struct.pack(">IBH", 0xFFFFFFFF, 0x86, 8) + b"12345678" + b"\0" * 200, token)
        answer = sock.recv(1024)  # an oversized datagram is cut to one report
        assert answer[4] == 0x86
        assert answer[7:15] == b"12345678"
    finally:
        sock.close()


def test_only_loopback() -> None:
    chip = ChipDevice(clock=FrozenClock())
    with pytest.raises(ValueError, match="loopback"):
        UdpServer(chip, host="0.0.0.0")  # noqa: S104 - the point of the test
    chip.close()


def test_port_in_use(served: tuple[ChipDevice, UdpServer, int]) -> None:
    _, server, _ = served
    chip = ChipDevice(clock=FrozenClock())
    with pytest.raises(OSError):
        UdpServer(chip, port=server.address[1]).start()
    chip.close()
