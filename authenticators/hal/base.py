"""The HAL's connection classes and the opened-device handle every transport returns.

Each transport (simulator, UDP, hidapi) subclasses :class:`HalConnection` and supplies three
primitives — send one 64-byte report, wait for one, close. The base class turns silence, short
reports and vanished devices into :class:`HalError`, so python-fido2's ``CtapHidDevice`` on top
sees either a clean report or one exception with a reason code.
"""

from __future__ import annotations

import abc
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType

from fido2.ctap import CtapError
from fido2.hid import CtapHidDevice
from fido2.hid.base import CtapHidConnection, HidDescriptor

from authenticators.hal.errors import HalError, HalErrorCode

PACKET_SIZE = 64
#: How long a report may take before the device counts as gone (keep-alives come every 100 ms).
READ_TIMEOUT = 10.0
#: How long the first answer (CTAPHID_INIT) may take: short, so a dead device is reported fast.
INIT_TIMEOUT = 2.0


class HalConnection(CtapHidConnection):
    """python-fido2's view of one transport: fixed 64-byte reports, errors with reasons."""

    def __init__(self, uri: str, *, timeout: float = READ_TIMEOUT) -> None:
        self.uri = uri
        self.timeout = timeout
        self.closed = False

    @abc.abstractmethod
    def _send(self, report: bytes) -> None:
        """Deliver one 64-byte output report or raise :class:`HalError`."""

    @abc.abstractmethod
    def _receive(self, timeout: float) -> bytes | None:
        """One input report, or None when nothing came within ``timeout`` seconds."""

    @abc.abstractmethod
    def _close(self) -> None: ...

    #: What to say when the device stays silent.
    silent_hint = "unplug and replug the token, then try again"

    def write_packet(self, data: bytes) -> None:
        if self.closed:
            raise HalError(HalErrorCode.UNPLUGGED, self.uri, "the connection is closed")
        self._send(bytes(data).ljust(PACKET_SIZE, b"\x00")[:PACKET_SIZE])

    def read_packet(self) -> bytes:
        if self.closed:
            raise HalError(HalErrorCode.UNPLUGGED, self.uri, "the connection is closed")
        report = self._receive(self.timeout)
        if report is None:
            raise HalError(
                HalErrorCode.TIMEOUT,
                self.uri,
                f"no answer within {self.timeout:g} s",
                self.silent_hint,
            )
        if len(report) < 7:
            raise HalError(
                HalErrorCode.GARBAGE,
                self.uri,
                f"answered a {len(report)}-byte report, not a CTAPHID one",
                "is this a FIDO security key? check the device path",
            )
        return report[:PACKET_SIZE].ljust(PACKET_SIZE, b"\x00")

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._close()


@dataclass
class HalDevice:
    """An opened token: python-fido2's ``CtapHidDevice`` plus what the HAL knows about it."""

    uri: str
    transport: str
    ctap: CtapHidDevice
    connection: HalConnection
    product: str | None = None
    serial: str | None = None
    simulated: bool = False
    power_cycle_hook: Callable[[], None] | None = field(default=None, repr=False)

    @property
    def can_power_cycle(self) -> bool:
        return self.power_cycle_hook is not None

    def power_cycle(self) -> None:
        """Unplug and replug (simulators only), then open a fresh CTAPHID channel."""
        if self.power_cycle_hook is None:
            raise HalError(
                HalErrorCode.CANNOT_OPEN,
                self.uri,
                "a real token cannot be power-cycled from here",
                "unplug and replug it by hand",
            )
        self.power_cycle_hook()
        self.ctap = handshake(self.uri, self.ctap.descriptor, self.connection)

    def describe(self) -> dict[str, object]:
        version = ".".join(str(v) for v in self.ctap.device_version)
        return {
            "uri": self.uri,
            "transport": self.transport,
            "product": self.product,
            "serial": self.serial,
            "simulated": self.simulated,
            "ctaphid_version": self.ctap.version,
            "device_version": version,
            "capabilities": self.ctap.capabilities,
        }

    def close(self) -> None:
        self.ctap.close()

    def __enter__(self) -> HalDevice:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def descriptor(
    path: str, product: str | None, serial: str | None, vid: int = 0, pid: int = 0
) -> HidDescriptor:
    return HidDescriptor(path, vid, pid, PACKET_SIZE, PACKET_SIZE, product, serial)


def handshake(uri: str, desc: HidDescriptor, connection: HalConnection) -> CtapHidDevice:
    """CTAPHID_INIT through python-fido2, with a short timeout; errors say what went wrong."""
    normal = connection.timeout
    connection.timeout = min(normal, INIT_TIMEOUT)
    try:
        with garbage_as_errors(uri):
            return CtapHidDevice(desc, connection)
    except HalError as exc:
        if exc.code is HalErrorCode.TIMEOUT:
            raise HalError(
                HalErrorCode.NOT_FIDO,
                uri,
                "does not answer CTAPHID_INIT, so it is no working FIDO token",
                connection.silent_hint,
            ) from None
        raise
    finally:
        connection.timeout = normal


@contextmanager
def garbage_as_errors(uri: str) -> Iterator[None]:
    """Answers python-fido2 cannot parse become ``HalError(GARBAGE)``; token errors pass."""
    try:
        yield
    except (HalError, CtapError):
        raise
    except (ConnectionError, struct.error, ValueError, KeyError, TypeError, IndexError) as exc:
        name = type(exc).__name__
        raise HalError(
            HalErrorCode.GARBAGE,
            uri,
            f"answered something that is not CTAP ({name})",
            "unplug and replug it; if it persists, the device is no FIDO token",
        ) from None
    except Exception as exc:
        # python-fido2's ConnectionFailure and friends: the device broke the framing rules.
        if type(exc).__module__.startswith("fido2"):
            raise HalError(
                HalErrorCode.GARBAGE,
                uri,
                f"answered something that is not CTAP (it broke the framing: {exc})",
                "unplug and replug it; if it persists, the device is no FIDO token",
            ) from None
        raise
