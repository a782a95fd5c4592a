"""The chip in vsmartcard's virtual reader: a client of vpcd, the PC/SC driver inside pcscd.

vpcd listens on TCP (127.0.0.1:35963 for its first slot, as Debian's ``vsmartcard-vpcd``
configures it); a card connects and is "in the reader" while connected. Each message is a 2-byte
big-endian length and a payload: one byte is a control code (``00`` power off, ``01`` power on,
``02`` reset, ``04`` send the ATR), anything longer is a command APDU, answered with the response
APDU in the same framing. Every PC/SC program (pyscard, opensc-tool, pcsc_scan) then sees a reader
with this passport in it.
"""

from __future__ import annotations

import logging
import socket
import threading

from firmware_sim.passport.chip import ATR, PassportChip

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 35963

POWER_OFF = 0
POWER_ON = 1
RESET = 2
GET_ATR = 4


def _quick_ack(sock: socket.socket) -> None:
    """Acknowledge at once: vpcd writes a frame's length and its payload separately, and with
    Nagle on its side and delayed ACKs on ours every command would wait ~40 ms."""
    if hasattr(socket, "TCP_QUICKACK"):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)


def _read_exact(sock: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        _quick_ack(sock)
        try:
            chunk = sock.recv(size - len(data))
        except TimeoutError:
            if not data:
                raise
            continue
        if not chunk:
            return None
        data += chunk
    return data


class VpcdCard:
    """Holds ``chip`` in the virtual reader until :meth:`stop` or vpcd goes away."""

    def __init__(
        self, chip: PassportChip, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
    ) -> None:
        self.chip = chip
        self.address = (host, port)
        self._stop = threading.Event()
        self.commands = 0

    def connect(self, timeout: float = 5.0) -> socket.socket:
        """Connect to vpcd; OSError when nothing listens (is pcscd running with vpcd?)."""
        sock = socket.create_connection(self.address, timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(0.2)
        return sock

    def stop(self) -> None:
        self._stop.set()

    def serve(self, sock: socket.socket) -> None:
        """Answer vpcd until stopped or disconnected; the socket is closed at the end."""
        try:
            while not self._stop.is_set():
                try:
                    header = _read_exact(sock, 2)
                except TimeoutError:
                    continue
                if header is None:
                    return
                size = int.from_bytes(header, "big")
                payload = _read_exact(sock, size) if size else b""
                if payload is None:
                    return
                answer = self._handle(payload)
                if answer is not None:
                    sock.sendall(len(answer).to_bytes(2, "big") + answer)
        except OSError as exc:
            log.info("vpcd connection ended: %s", exc)
        finally:
            sock.close()

    def _handle(self, payload: bytes) -> bytes | None:
        if len(payload) == 1:
            code = payload[0]
            if code == GET_ATR:
                return ATR
            if code in (POWER_ON, RESET, POWER_OFF):
                self.chip.power_on()  # every power change forgets the session
            return None
        self.commands += 1
        return self.chip.transmit(payload)
