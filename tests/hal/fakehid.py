"""A stand-in for the ``hidraw`` module of the hidapi wheel, backed by the chip simulator.

It mimics the API the HAL uses exactly: ``enumerate(vendor_id, product_id)`` returning dicts
with bytes paths, ``device()`` handles with ``open_path`` (``OSError('open failed')``),
``write`` (report id byte first; -1 once unplugged), ``read(max_length, timeout_ms)`` (a list of
ints, ``[]`` on timeout, ``OSError('read error')`` once unplugged) and ``close``. It also checks
what a real device would care about: every write is report id 0 plus one 64-byte report.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from firmware_sim.chip import ChipDevice, DeviceConnection

FIDO_PAGE = 0xF1D0


@dataclass
class FakeEntry:
    path: bytes
    chip: ChipDevice | None
    usage_page: int = FIDO_PAGE
    usage: int = 1
    product: str = "Fake FIDO Key"
    serial: str = "FAKE0001"
    garbage: bool = False
    plugged: bool = True
    writes: list[bytes] = field(default_factory=list)


class FakeHidApi:
    """The module-level API: ``enumerate`` and ``device``."""

    def __init__(self) -> None:
        self.entries: dict[bytes, FakeEntry] = {}
        self.handles: list[FakeHandle] = []

    def plug(self, path: str, chip: ChipDevice | None, **kwargs: Any) -> FakeEntry:
        entry = FakeEntry(path.encode(), chip, **kwargs)
        self.entries[entry.path] = entry
        return entry

    def unplug(self, path: str) -> None:
        entry = self.entries.pop(path.encode())
        entry.plugged = False

    def enumerate(self, vendor_id: int = 0, product_id: int = 0) -> list[dict[str, Any]]:
        return [
            {
                "path": e.path,
                "vendor_id": 0x1209,
                "product_id": 0x000A,
                "serial_number": e.serial,
                "release_number": 0x0100,
                "manufacturer_string": "Fake",
                "product_string": e.product,
                "usage_page": e.usage_page,
                "usage": e.usage,
                "interface_number": 0,
            }
            for e in self.entries.values()
        ]

    def device(self) -> FakeHandle:
        handle = FakeHandle(self)
        self.handles.append(handle)
        return handle


class FakeHandle:
    def __init__(self, api: FakeHidApi) -> None:
        self.api = api
        self.entry: FakeEntry | None = None
        self.connection: DeviceConnection | None = None

    def _open(self) -> FakeEntry:
        if self.entry is None:
            raise ValueError("not open")
        return self.entry

    def open_path(self, path: bytes) -> None:
        if not isinstance(path, bytes):
            raise TypeError("path must be bytes")
        entry = self.api.entries.get(path)
        if entry is None:
            raise OSError("open failed")
        self.entry = entry
        if entry.chip is not None:
            self.connection = entry.chip.connect()

    def write(self, buff: Any) -> int:
        entry = self._open()
        data = bytes(buff)
        if not entry.plugged:
            return -1
        assert len(data) == 65, f"a write is report id + 64 bytes, got {len(data)}"
        assert data[0] == 0, "the report id must be 0"
        entry.writes.append(data)
        if self.connection is not None and not entry.garbage:
            self.connection.write_packet(data[1:])
        return len(data)

    def read(self, max_length: int, timeout_ms: int = 0) -> list[int]:
        entry = self._open()
        if not entry.plugged:
            raise OSError("read error")
        if entry.garbage:
            return list(os.urandom(max_length))
        if self.connection is None:
            return []
        try:
            packet = self.connection.read_packet(timeout_ms / 1000.0 if timeout_ms else None)
        except TimeoutError:
            return []
        return list(packet[:max_length])

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
        self.entry = None

    def get_product_string(self) -> str:
        return self._open().product

    def get_serial_number_string(self) -> str:
        return self._open().serial
