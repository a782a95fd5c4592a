"""APDU transports: how the reader reaches a chip. ``passport:sim:NAME`` is a simulated passport
from the state directory, in process; ``pcsc:READER`` is a PC/SC reader (pyscard), which may hold
a real passport or the simulator served to pcscd through vpcd (``mitid-emu passport serve``)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Protocol

from authenticators.passport.errors import PassportError, PassportErrorCode


class ApduTransport(Protocol):
    uri: str

    def transmit(self, apdu: bytes) -> bytes: ...

    def close(self) -> None: ...


class ChipLike(Protocol):
    def power_on(self) -> bytes: ...

    def transmit(self, raw: bytes) -> bytes: ...


class SimTransport:
    """A simulated chip in this process, reached only through its APDU interface."""

    def __init__(self, uri: str, chip: ChipLike) -> None:
        self.uri = uri
        self._chip = chip
        self.atr = chip.power_on()

    def transmit(self, apdu: bytes) -> bytes:
        return self._chip.transmit(apdu)

    def close(self) -> None:
        return None


class PcscTransport:
    """A card in a PC/SC reader, through pyscard."""

    def __init__(self, uri: str, reader_name: str) -> None:
        self.uri = uri
        try:
            from smartcard.Exceptions import SmartcardException
            from smartcard.System import readers
        except ImportError:  # pragma: no cover - pyscard is a dependency
            raise PassportError(PassportErrorCode.TRANSPORT, "pyscard is not installed") from None
        try:
            found = [
                r for r in readers() if reader_name in (str(r), "auto") or reader_name in str(r)
            ]
        except SmartcardException as exc:
            raise PassportError(
                PassportErrorCode.TRANSPORT, f"PC/SC is not available ({exc}); is pcscd running?"
            ) from None
        if not found:
            raise PassportError(
                PassportErrorCode.TRANSPORT, f"no PC/SC reader matches {reader_name!r}"
            )
        self._connection = found[0].createConnection()
        try:
            self._connection.connect()
        except SmartcardException:
            raise PassportError(
                PassportErrorCode.NO_PASSPORT, f"no passport on reader {found[0]}"
            ) from None
        self.atr = bytes(self._connection.getATR())

    def transmit(self, apdu: bytes) -> bytes:
        from smartcard.Exceptions import SmartcardException

        try:
            data, sw1, sw2 = self._connection.transmit(list(apdu))
        except SmartcardException as exc:
            raise PassportError(PassportErrorCode.TRANSPORT, f"the reader failed: {exc}") from None
        return bytes(data) + bytes([sw1, sw2])

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a card that is gone already
            self._connection.disconnect()


def open_transport(uri: str, sim_chip: Callable[[str], ChipLike] | None = None) -> ApduTransport:
    """The transport a URI names; ``sim_chip`` makes the simulated chip of a passport name."""
    if uri.startswith("passport:sim:"):
        name = uri.removeprefix("passport:sim:")
        if sim_chip is None:
            raise PassportError(PassportErrorCode.TRANSPORT, "no simulated passports here")
        return SimTransport(uri, sim_chip(name))
    if uri.startswith("pcsc:"):
        return PcscTransport(uri, uri.removeprefix("pcsc:") or "auto")
    raise PassportError(
        PassportErrorCode.INVALID_ARGUMENT,
        f"unknown passport URI {uri!r}: use passport:sim:NAME or pcsc:READER",
    )
