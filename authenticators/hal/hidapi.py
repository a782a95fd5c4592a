"""``hid:auto`` and ``hid:PATH`` — real tokens through the ``hidapi`` wheel.

On Linux the wheel's ``hidraw`` module is used: it talks to ``/dev/hidraw*`` and leaves the
kernel's drivers alone (its ``hid`` module is the libusb backend, which detaches them). Tokens
are found by the FIDO usage page 0xF1D0; every write carries report id 0 in front of the 64-byte
report, as hidapi expects for devices without numbered reports.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from dataclasses import dataclass
from typing import Any

from authenticators.hal.base import PACKET_SIZE, HalConnection
from authenticators.hal.errors import HalError, HalErrorCode

FIDO_USAGE_PAGE = 0xF1D0
FIDO_USAGE = 0x01
REPORT_ID = b"\x00"

_PERMISSION_HINT = (
    "check that your user may open it (a udev rule granting access to FIDO tokens, "
    "e.g. the one in libfido2 or your distribution's u2f package)"
)


def backend() -> Any:
    """The hidapi module for this platform: ``hidraw`` on Linux, ``hid`` elsewhere."""
    name = "hidraw" if sys.platform.startswith("linux") else "hid"
    return importlib.import_module(name)


@dataclass(frozen=True)
class HidInfo:
    """One HID interface as hidapi enumerates it."""

    path: str
    vendor_id: int
    product_id: int
    product: str | None
    manufacturer: str | None
    serial: str | None
    usage_page: int
    usage: int

    @property
    def is_fido(self) -> bool:
        return self.usage_page == FIDO_USAGE_PAGE and self.usage == FIDO_USAGE

    @property
    def uri(self) -> str:
        return f"hid:{self.path}"

    def to_dict(self) -> dict[str, object]:
        return {
            "uri": self.uri,
            "path": self.path,
            "vendor_id": f"{self.vendor_id:04x}",
            "product_id": f"{self.product_id:04x}",
            "product": self.product,
            "manufacturer": self.manufacturer,
            "serial": self.serial,
        }


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = str(value).strip()
    return text or None


def _path(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    return str(value)


def enumerate_hid(hid: Any) -> list[HidInfo]:
    """Every HID interface hidapi sees (FIDO or not)."""
    found = []
    for entry in hid.enumerate(0, 0):
        found.append(
            HidInfo(
                path=_path(entry.get("path", b"")),
                vendor_id=int(entry.get("vendor_id", 0)),
                product_id=int(entry.get("product_id", 0)),
                product=_text(entry.get("product_string")),
                manufacturer=_text(entry.get("manufacturer_string")),
                serial=_text(entry.get("serial_number")),
                usage_page=int(entry.get("usage_page", 0)),
                usage=int(entry.get("usage", 0)),
            )
        )
    return found


def enumerate_fido(hid: Any) -> list[HidInfo]:
    """The FIDO tokens among them, in a stable order."""
    return sorted((i for i in enumerate_hid(hid) if i.is_fido), key=lambda i: i.path)


def select(hid: Any, uri: str, path: str) -> HidInfo:
    """The interface ``hid:auto`` or ``hid:PATH`` names; refuse what is not a FIDO token."""
    everything = enumerate_hid(hid)
    if path == "auto":
        tokens = sorted((i for i in everything if i.is_fido), key=lambda i: i.path)
        if not tokens:
            raise HalError(
                HalErrorCode.NOT_FOUND,
                uri,
                "no FIDO security key is plugged in",
                "plug one in, or use sim: for the simulated chip; `mitid-emu chip list` shows "
                "what is there",
            )
        return tokens[0]
    for info in everything:
        if info.path == path:
            if not info.is_fido:
                raise HalError(
                    HalErrorCode.NOT_FIDO,
                    uri,
                    f"is a HID device ({info.product or 'unnamed'}, usage page "
                    f"0x{info.usage_page:04x}) but no FIDO token",
                    "pick a FIDO token from `mitid-emu chip list`",
                )
            return info
    raise HalError(
        HalErrorCode.NOT_FOUND,
        uri,
        "no HID device has that path",
        "it may have been unplugged; `mitid-emu chip list` shows the tokens present",
    )


class HidapiConnection(HalConnection):
    """A hidapi device handle: writes prefixed by report id 0, reads with a timeout."""

    silent_hint = "unplug and replug the token, then try again"

    def __init__(self, uri: str, hid: Any, info: HidInfo, *, timeout: float = 10.0) -> None:
        super().__init__(uri, timeout=timeout)
        handle = hid.device()
        try:
            handle.open_path(info.path.encode("utf-8", "surrogateescape"))
        except OSError as exc:
            raise HalError(
                HalErrorCode.CANNOT_OPEN, uri, f"cannot open it ({exc})", _PERMISSION_HINT
            ) from None
        self._handle = handle

    def _gone(self, detail: str) -> HalError:
        return HalError(
            HalErrorCode.UNPLUGGED,
            self.uri,
            f"the token went away ({detail})",
            "plug it back in and run the command again",
        )

    def _send(self, report: bytes) -> None:
        try:
            written = self._handle.write(REPORT_ID + report)
        except (OSError, ValueError) as exc:
            raise self._gone(str(exc)) from None
        if written is None or written < 0:
            raise self._gone("write failed")

    def _receive(self, timeout: float) -> bytes | None:
        try:
            data = self._handle.read(PACKET_SIZE, max(int(timeout * 1000), 1))
        except (OSError, ValueError) as exc:
            raise self._gone(str(exc)) from None
        if not data:
            return None
        return bytes(data)

    def _close(self) -> None:
        with contextlib.suppress(OSError, ValueError):  # already gone: nothing to release
            self._handle.close()
