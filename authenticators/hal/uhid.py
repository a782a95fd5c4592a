"""Expose a simulated chip as a real ``/dev/hidrawN`` through Linux uhid (optional).

With ``/dev/uhid`` writable, :class:`UhidBridge` creates a virtual USB HID device with the FIDO
report descriptor; any FIDO client on the machine (a browser, libfido2, ``hid:auto`` here) then
sees the simulator as a plugged-in security key. Where uhid is missing, :func:`unavailable` says
why and nothing is attempted.
"""

from __future__ import annotations

import os
import select
import struct
import threading
from pathlib import Path

from authenticators.hal.base import PACKET_SIZE
from authenticators.hal.sim import ReportPipe

UHID_PATH = "/dev/uhid"
UHID_DESTROY = 1
UHID_OUTPUT = 6
UHID_CREATE2 = 11
UHID_INPUT2 = 12
BUS_USB = 0x03
#: sizeof(struct uhid_event): the type plus the largest member (uhid_create2_req).
EVENT_SIZE = 4 + 128 + 64 + 64 + 2 + 2 + 4 + 4 + 4 + 4 + 4096
DATA_MAX = 4096

#: Usage page 0xF1D0 (FIDO), usage 1 (CTAPHID): 64-byte input and output reports.
FIDO_REPORT_DESCRIPTOR = bytes.fromhex(
    "06d0f1 0901 a101 0920 1500 26ff00 7508 9540 8102 0921 1500 26ff00 7508 9540 9102 c0".replace(
        " ", ""
    )
)


def unavailable(path: str = UHID_PATH) -> str | None:
    """Why a virtual HID device cannot be made here, or None when it can."""
    if not os.path.exists(path):
        return f"{path} does not exist (load the uhid kernel module: modprobe uhid)"
    if not os.access(path, os.R_OK | os.W_OK):
        return f"{path} is not readable and writable by this user (run with access to it)"
    return None


def _event(kind: int, body: bytes) -> bytes:
    return (struct.pack("<I", kind) + body).ljust(EVENT_SIZE, b"\x00")


class UhidBridge:
    """A uhid device whose reports go to and come from a simulator's report pipe."""

    def __init__(
        self,
        pipe: ReportPipe,
        *,
        name: str = "MitID emulated chip",
        uniq: str = "mitid-emu-sim",
        vendor: int = 0x1209,
        product: int = 0x000A,
        path: str = UHID_PATH,
    ) -> None:
        self.pipe = pipe
        self.name = name
        self.uniq = uniq
        self.vendor = vendor
        self.product = product
        self.path = path
        self._fd: int | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        reason = unavailable(self.path)
        if reason:
            raise OSError(reason)
        fd = os.open(self.path, os.O_RDWR | os.O_CLOEXEC)
        self._fd = fd
        rd = FIDO_REPORT_DESCRIPTOR
        body = (
            self.name.encode()[:127].ljust(128, b"\x00")
            + b"mitid-emulator".ljust(64, b"\x00")
            + self.uniq.encode()[:63].ljust(64, b"\x00")
            + struct.pack("<HHIIII", len(rd), BUS_USB, self.vendor, self.product, 0x0100, 0)
            + rd.ljust(DATA_MAX, b"\x00")
        )
        os.write(fd, _event(UHID_CREATE2, body))
        self._stop.clear()
        self._threads = [
            threading.Thread(target=self._outputs, name="uhid-out", daemon=True),
            threading.Thread(target=self._inputs, name="uhid-in", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _outputs(self) -> None:
        """Host writes (UHID_OUTPUT) into the simulator."""
        assert self._fd is not None
        while not self._stop.is_set():
            ready, _, _ = select.select([self._fd], [], [], 0.1)
            if not ready:
                continue
            try:
                event = os.read(self._fd, EVENT_SIZE)
            except OSError:
                return
            (kind,) = struct.unpack_from("<I", event)
            if kind != UHID_OUTPUT:
                continue
            size = struct.unpack_from("<H", event, 4 + DATA_MAX)[0]
            data = event[4 : 4 + size]
            if len(data) == PACKET_SIZE + 1 and data[0] == 0:
                data = data[1:]  # the report id of an unnumbered report
            if data:
                self.pipe.write_packet(data[:PACKET_SIZE])

    def _inputs(self) -> None:
        """Simulator answers into the kernel (UHID_INPUT2), which hands them to hidraw readers."""
        assert self._fd is not None
        while not self._stop.is_set():
            try:
                report = self.pipe.read_packet(0.1)
            except TimeoutError:
                continue
            except ConnectionError:
                return
            body = struct.pack("<H", len(report)) + report.ljust(DATA_MAX, b"\x00")
            os.write(self._fd, _event(UHID_INPUT2, body))

    def hidraw_path(self) -> str | None:
        """The ``/dev/hidrawN`` the kernel made for this device, once it has."""
        for node in sorted(Path("/sys/class/hidraw").glob("hidraw*")):
            try:
                uevent = (node / "device" / "uevent").read_text()
            except OSError:
                continue
            if f"HID_UNIQ={self.uniq}" in uevent.splitlines():
                return f"/dev/{node.name}"
        return None

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2.0)
        self._threads = []
        if self._fd is not None:
            try:
                os.write(self._fd, _event(UHID_DESTROY, b""))
            finally:
                os.close(self._fd)
                self._fd = None
