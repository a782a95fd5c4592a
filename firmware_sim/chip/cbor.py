"""CTAP2 canonical CBOR (CTAP 2.1 §8): a strict decoder and the canonical encoder.

The decoder refuses anything a conforming platform never sends — indefinite lengths, tags,
non-minimal integers, unsorted or duplicate map keys, trailing bytes, invalid UTF-8 — with
``CTAP2_ERR_INVALID_CBOR``, so malformed input can never reach command handlers.
"""

from __future__ import annotations

import struct
from typing import Any

from fido2 import cbor as _fido2_cbor

from firmware_sim.chip.errors import ChipError, Status

MAX_DEPTH = 8

encode = _fido2_cbor.encode


def decode(data: bytes) -> Any:
    """Decode exactly one canonical CBOR item filling all of ``data``."""
    value, end = _Decoder(data).item(0, 0)
    if end != len(data):
        raise ChipError(Status.INVALID_CBOR, "trailing bytes")
    return value


class _Decoder:
    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def _fail(self, why: str) -> ChipError:
        return ChipError(Status.INVALID_CBOR, why)

    def _head(self, pos: int) -> tuple[int, int, int]:
        data = self.data
        if pos >= len(data):
            raise self._fail("truncated")
        first = data[pos]
        major, info = first >> 5, first & 0x1F
        pos += 1
        if info < 24:
            return major, info, pos
        if info > 27:
            raise self._fail("indefinite length or reserved value")
        size = 1 << (info - 24)
        if pos + size > len(data):
            raise self._fail("truncated")
        if size == 1:
            value = data[pos]
        elif size == 2:
            value = struct.unpack_from(">H", data, pos)[0]
        elif size == 4:
            value = struct.unpack_from(">I", data, pos)[0]
        else:
            value = struct.unpack_from(">Q", data, pos)[0]
        if major != 7:
            minimum = 24 if size == 1 else 1 << (4 * size)
            if value < minimum:
                raise self._fail("non-minimal length")
        return major, value if major != 7 else info, pos + size

    def item(self, pos: int, depth: int) -> tuple[Any, int]:
        if depth > MAX_DEPTH:
            raise self._fail("nested too deeply")
        start = pos
        major, value, pos = self._head(pos)
        data = self.data
        if major == 0:
            return value, pos
        if major == 1:
            return -1 - value, pos
        if major in (2, 3):
            end = pos + value
            if end > len(data):
                raise self._fail("truncated")
            raw = data[pos:end]
            if major == 2:
                return raw, end
            try:
                return raw.decode("utf-8"), end
            except UnicodeDecodeError:
                raise self._fail("invalid UTF-8") from None
        if major == 4:
            if value > len(data) - pos:
                raise self._fail("truncated")
            items = []
            for _ in range(value):
                element, pos = self.item(pos, depth + 1)
                items.append(element)
            return items, pos
        if major == 5:
            if value * 2 > len(data) - pos:
                raise self._fail("truncated")
            result: dict[Any, Any] = {}
            previous: bytes | None = None
            for _ in range(value):
                key_start = pos
                key, pos = self.item(pos, depth + 1)
                if isinstance(key, (list, dict)):
                    raise self._fail("map key must be a scalar")
                raw_key = data[key_start:pos]
                if previous is not None and _canonical_order(raw_key) <= _canonical_order(previous):
                    raise self._fail("map keys not in canonical order or duplicated")
                previous = raw_key
                result[key], pos = self.item(pos, depth + 1)
            return result, pos
        if major == 6:
            raise self._fail("tags are not allowed")
        # major 7: simple values and floats
        first_info = data[start] & 0x1F
        if first_info == 20:
            return False, pos
        if first_info == 21:
            return True, pos
        if first_info in (22, 23):
            return None, pos
        if first_info == 25:
            return struct.unpack_from(">e", data, start + 1)[0], pos
        if first_info == 26:
            return struct.unpack_from(">f", data, start + 1)[0], pos
        if first_info == 27:
            return struct.unpack_from(">d", data, start + 1)[0], pos
        raise self._fail("unsupported simple value")


def _canonical_order(raw_key: bytes) -> tuple[int, int, bytes]:
    """CTAP2 canonical key order: major type, then length, then bytes (RFC 7049 §3.9)."""
    return raw_key[0] >> 5, len(raw_key), raw_key
