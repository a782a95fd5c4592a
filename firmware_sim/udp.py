"""Serve a simulated chip over UDP, by the SoloKeys simulator convention.

The token listens on 127.0.0.1:8111 and sends its answers to 127.0.0.1:7112; each datagram is
one raw 64-byte CTAPHID report, and one fixed 64-byte "reboot" datagram power-cycles the token.
Tools written for that simulator (python-fido2 with a UDP connection, solo-python's test suite)
drive this one unmodified. Loopback only: nothing here is meant to be reachable from a network.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading

from firmware_sim.chip.connection import DeviceConnection
from firmware_sim.chip.ctaphid import PACKET_SIZE
from firmware_sim.chip.device import ChipDevice

log = logging.getLogger(__name__)

DEFAULT_TOKEN_PORT = 8111
DEFAULT_REPLY_PORT = 7112
LOOPBACK = "127.0.0.1"

#: The SoloKeys simulator's magic reboot report: a fixed random-looking 64-byte packet.
REBOOT_PACKET = bytes.fromhex(
    "ac1052ca95e569de69e02ebff333485f13f9b2da34c5a8a340526697a9ab2e0b"
    "394d8d04973c134005be1a0140bff6045bb26eb77a73eaa47813f6b49a7250dc"
)

_POLL_SECONDS = 0.1


class UdpServer:
    """One device, one socket: a receiving thread feeds reports in, a sending thread
    forwards every report the device emits to the answer port."""

    def __init__(
        self,
        device: ChipDevice,
        *,
        host: str = LOOPBACK,
        port: int = DEFAULT_TOKEN_PORT,
        reply_host: str = LOOPBACK,
        reply_port: int = DEFAULT_REPLY_PORT,
    ) -> None:
        for address in (host, reply_host):
            if not ipaddress.ip_address(address).is_loopback:
                raise ValueError(f"{address} is not a loopback address")
        self.device = device
        self.host = host
        self.port = port
        self.reply = (reply_host, reply_port)
        self._sock: socket.socket | None = None
        self._connection: DeviceConnection | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.reboots = 0

    def __repr__(self) -> str:
        return f"UdpServer({self.host}:{self.port} -> {self.reply[0]}:{self.reply[1]})"

    @property
    def address(self) -> tuple[str, int]:
        """Where the token listens (the real port if 0 was asked for)."""
        if self._sock is None:
            return self.host, self.port
        host, port = self._sock.getsockname()[:2]
        return str(host), int(port)

    def start(self) -> None:
        """Bind and start serving; ``OSError`` if the port is taken."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        sock.settimeout(_POLL_SECONDS)
        self._sock = sock
        connection = self._connection = self.device.connect()
        self._stop.clear()
        self._threads = [
            threading.Thread(
                target=self._receive, args=(sock, connection), name="chip-udp-rx", daemon=True
            ),
            threading.Thread(
                target=self._send, args=(sock, connection), name="chip-udp-tx", daemon=True
            ),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5.0)
        self._threads = []
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> UdpServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _receive(self, sock: socket.socket, connection: DeviceConnection) -> None:
        while not self._stop.is_set():
            try:
                data, _ = sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                continue  # e.g. ICMP port unreachable from an earlier send on Linux
            if not data:
                continue
            if data == REBOOT_PACKET:
                self.reboots += 1
                self.device.power_cycle()
                continue
            connection.write_packet(data[:PACKET_SIZE])

    def _send(self, sock: socket.socket, connection: DeviceConnection) -> None:
        while not self._stop.is_set():
            try:
                packet = connection.read_packet(_POLL_SECONDS)
            except TimeoutError:
                continue
            except ConnectionError:
                return
            try:
                sock.sendto(packet, self.reply)
            except OSError as exc:
                log.debug("dropped an answer: %s", exc.strerror)
