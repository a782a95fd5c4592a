"""The device side of a USB HID link, in process: write 64-byte reports in, read reports out.

This is what the host side's ``sim:`` transport wraps. Each connection sees every report the
device sends, like each reader of a hidraw node; hosts pick out their own channel.
"""

from __future__ import annotations

from types import TracebackType

from firmware_sim.chip.ctaphid import PACKET_SIZE, CtapHidTransport


class DeviceConnection:
    """One open handle on a simulated device's HID interface."""

    def __init__(self, transport: CtapHidTransport) -> None:
        self._transport = transport
        self._outbox = transport.open()
        self.closed = False

    def __repr__(self) -> str:
        return f"DeviceConnection(closed={self.closed})"

    def write_packet(self, data: bytes) -> None:
        """Send one output report; a short one is zero-padded as the HID stack would."""
        if self.closed:
            raise ConnectionError("connection closed")
        if not data or len(data) > PACKET_SIZE:
            raise ValueError(f"a report is 1 to {PACKET_SIZE} bytes")
        self._transport.receive(bytes(data))

    def read_packet(self, timeout: float | None = None) -> bytes:
        """The next input report; ``TimeoutError`` if none arrives within ``timeout`` seconds."""
        if self.closed:
            raise ConnectionError("connection closed")
        return self._outbox.pop(timeout)

    def pending(self) -> int:
        """Reports waiting to be read (tests use it to assert silence)."""
        return self._outbox.pending()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._transport.release(self._outbox)

    def __enter__(self) -> DeviceConnection:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
