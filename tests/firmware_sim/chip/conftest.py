"""Host-side plumbing for the chip tests: python-fido2 drives the simulator, in process and
over UDP, through small ``CtapHidConnection`` subclasses."""

from __future__ import annotations

import hashlib
import os
import socket
import struct
from collections.abc import Iterator

import pytest
from fido2.ctap2 import AttestationResponse, Ctap2
from fido2.hid import CtapHidDevice
from fido2.hid.base import CtapHidConnection, HidDescriptor

from authenticators.clock import FrozenClock
from firmware_sim.chip import ChipDevice, DeviceConnection

READ_TIMEOUT = 10.0


class SimConnection(CtapHidConnection):
    """python-fido2's view of an in-process simulated chip."""

    def __init__(self, connection: DeviceConnection) -> None:
        self.connection = connection

    def read_packet(self) -> bytes:
        return self.connection.read_packet(READ_TIMEOUT)

    def write_packet(self, data: bytes) -> None:
        self.connection.write_packet(data)

    def close(self) -> None:
        self.connection.close()


class UdpConnection(CtapHidConnection):
    """The SoloKeys simulator convention: send to the token's port, read from the answer port."""

    def __init__(self, token_port: int, reply_port: int, timeout: float = READ_TIMEOUT) -> None:
        self.token = ("127.0.0.1", token_port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", reply_port))
        self.sock.settimeout(timeout)

    def read_packet(self) -> bytes:
        data, _ = self.sock.recvfrom(1024)
        return data

    def write_packet(self, data: bytes) -> None:
        self.sock.sendto(data, self.token)

    def close(self) -> None:
        self.sock.close()


def descriptor(path: str) -> HidDescriptor:
    return HidDescriptor(path, 0x1209, 0x000A, 64, 64, "MitID emulated chip", None)


def open_sim(device: ChipDevice) -> CtapHidDevice:
    return CtapHidDevice(descriptor("sim:"), SimConnection(device.connect()))


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def device(clock: FrozenClock) -> Iterator[ChipDevice]:
    chip = ChipDevice(clock=clock)
    yield chip
    chip.close()


@pytest.fixture
def hid(device: ChipDevice) -> Iterator[CtapHidDevice]:
    dev = open_sim(device)
    yield dev
    dev.close()


@pytest.fixture
def ctap2(hid: CtapHidDevice) -> Ctap2:
    return Ctap2(hid)


class RawHost:
    """Speaks CTAPHID report by report, for the framing rules python-fido2 never breaks."""

    def __init__(self, connection: DeviceConnection) -> None:
        self.connection = connection
        self.talked_on: set[int] = set()

    def write(self, packet: bytes) -> None:
        self.connection.write_packet(packet.ljust(64, b"\x00"))

    def send(self, cid: int, cmd: int, data: bytes = b"", length: int | None = None) -> None:
        size = len(data) if length is None else length
        self.talked_on.add(cid)
        head = struct.pack(">IBH", cid, 0x80 | cmd, size)
        self.write(head + data[:57])
        rest, seq = data[57:], 0
        while rest:
            self.write(struct.pack(">IB", cid, seq) + rest[:59])
            rest, seq = rest[59:], seq + 1

    def packet(self, timeout: float = READ_TIMEOUT) -> bytes:
        return self.connection.read_packet(timeout)

    def recv(
        self, timeout: float = READ_TIMEOUT, skip_keepalive: bool = True
    ) -> tuple[int, int, bytes]:
        """One whole message: (channel, command, payload)."""
        while True:
            first = self.packet(timeout)
            cid, cmd, length = struct.unpack_from(">IBH", first)
            if skip_keepalive and cmd == 0x80 | 0x3B:
                continue
            if cid not in self.talked_on or not cmd & 0x80:
                continue  # another host's conversation: every reader sees every report
            break
        data = bytearray(first[7:])
        seq = 0
        while len(data) < length:
            cont = self.packet(timeout)
            if struct.unpack_from(">I", cont)[0] != cid:
                continue
            assert cont[4] == seq
            data += cont[5:]
            seq += 1
        return cid, cmd & 0x7F, bytes(data[:length])

    def init(self, cid: int = 0xFFFFFFFF) -> int:
        nonce = os.urandom(8)
        self.send(cid, 0x06, nonce)
        while True:
            got_cid, cmd, payload = self.recv()
            if cmd == 0x06 and payload[:8] != nonce:
                continue
            break
        assert (got_cid, cmd) == (cid, 0x06)
        new_cid: int = struct.unpack_from(">I", payload, 8)[0]
        return new_cid

    def error(self, timeout: float = READ_TIMEOUT) -> tuple[int, int]:
        """The next message, which must be a CTAPHID_ERROR: (channel, code)."""
        cid, cmd, payload = self.recv(timeout)
        assert cmd == 0x3F, f"expected an error, got command 0x{cmd:02x}"
        return cid, payload[0]


@pytest.fixture
def raw(device: ChipDevice) -> Iterator[RawHost]:
    connection = device.connect()
    yield RawHost(connection)
    connection.close()


RP = {"id": "example.com", "name": "Example"}
CDH = hashlib.sha256(b"client data").digest()


def make_credential(
    ctap: Ctap2,
    *,
    rp: dict[str, str] | None = None,
    user_id: bytes = b"user-1",
    alg: int = -7,
    rk: bool = False,
    **kwargs: object,
) -> AttestationResponse:
    options = {"rk": True} if rk else None
    return ctap.make_credential(
        CDH,
        rp or RP,
        {"id": user_id, "name": "bob", "displayName": "Bob"},
        [{"type": "public-key", "alg": alg}],
        options=options,
        **kwargs,  # type: ignore[arg-type]
    )


def descriptor_of(response: AttestationResponse) -> dict[str, object]:
    data = response.auth_data.credential_data
    assert data is not None
    return {"type": "public-key", "id": data.credential_id}
