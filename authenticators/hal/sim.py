"""``sim:`` — an in-process simulated chip, reached only through its 64-byte report interface."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from authenticators.hal.base import HalConnection
from authenticators.hal.errors import HalError, HalErrorCode


class ReportPipe(Protocol):
    """What a simulated device's HID interface offers (``ChipDevice.connect()``)."""

    def write_packet(self, data: bytes) -> None: ...

    def read_packet(self, timeout: float | None = None) -> bytes: ...

    def close(self) -> None: ...


class SimConnection(HalConnection):
    """Reports in and out of a simulator's HID interface, in process."""

    silent_hint = "the simulator hung; run the command again"

    def __init__(
        self,
        uri: str,
        pipe: ReportPipe,
        *,
        timeout: float = 10.0,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(uri, timeout=timeout)
        self._pipe = pipe
        self._on_close = on_close

    def _send(self, report: bytes) -> None:
        try:
            self._pipe.write_packet(report)
        except ConnectionError:
            raise HalError(HalErrorCode.UNPLUGGED, self.uri, "the simulator was closed") from None

    def _receive(self, timeout: float) -> bytes | None:
        try:
            return self._pipe.read_packet(timeout)
        except TimeoutError:
            return None
        except ConnectionError:
            raise HalError(HalErrorCode.UNPLUGGED, self.uri, "the simulator was closed") from None

    def _close(self) -> None:
        self._pipe.close()
        if self._on_close is not None:
            self._on_close()
