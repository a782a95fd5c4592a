"""``udp://HOST:PORT`` — an out-of-process simulator, by the SoloKeys simulator convention.

The token listens on HOST:PORT (8111 by default) and sends every answer to 127.0.0.1:7112; one
raw 64-byte CTAPHID report per datagram; a fixed 64-byte "reboot" datagram power-cycles it.
"""

from __future__ import annotations

import socket

from authenticators.hal.base import HalConnection
from authenticators.hal.errors import HalError, HalErrorCode

DEFAULT_TOKEN_PORT = 8111
DEFAULT_REPLY_PORT = 7112
#: The SoloKeys simulator's reboot report (part of the convention, so tools interoperate).
REBOOT_PACKET = bytes.fromhex(
    "ac1052ca95e569de69e02ebff333485f13f9b2da34c5a8a340526697a9ab2e0b"
    "394d8d04973c134005be1a0140bff6045bb26eb77a73eaa47813f6b49a7250dc"
)


class UdpConnection(HalConnection):
    """Send reports to the token's port, receive them on the answer port."""

    def __init__(
        self, uri: str, host: str, port: int, reply_port: int, *, timeout: float = 10.0
    ) -> None:
        super().__init__(uri, timeout=timeout)
        self.token = (host, port)
        self.silent_hint = (
            f"is a simulator running there? start one with `mitid-emu chip serve --udp {port}"
            f" --reply-port {reply_port}`"
        )
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind(("127.0.0.1", reply_port))
        except OSError as exc:
            sock.close()
            raise HalError(
                HalErrorCode.CANNOT_OPEN,
                uri,
                f"cannot receive answers on udp://127.0.0.1:{reply_port} ({exc.strerror})",
                "another client holds that port; close it or add ?reply=PORT to the URI "
                "(and start the simulator with the same --reply-port)",
            ) from None
        self._sock = sock

    def _send(self, report: bytes) -> None:
        try:
            self._sock.sendto(report, self.token)
        except OSError as exc:
            raise HalError(
                HalErrorCode.UNPLUGGED, self.uri, f"cannot send ({exc.strerror})", self.silent_hint
            ) from None

    def _receive(self, timeout: float) -> bytes | None:
        self._sock.settimeout(timeout)
        try:
            data, _ = self._sock.recvfrom(1024)
        except TimeoutError:
            return None
        except ConnectionRefusedError:
            raise HalError(
                HalErrorCode.NOT_FOUND, self.uri, "nothing listens there", self.silent_hint
            ) from None
        except OSError as exc:
            raise HalError(
                HalErrorCode.UNPLUGGED, self.uri, f"cannot receive ({exc.strerror})"
            ) from None
        return data

    def reboot(self) -> None:
        """The convention's power cycle: persistent state stays, channels go."""
        self._send(REBOOT_PACKET)

    def _close(self) -> None:
        self._sock.close()
