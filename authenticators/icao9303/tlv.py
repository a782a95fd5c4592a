"""BER-TLV as ISO/IEC 7816-4 and ICAO 9303-10 use it: tags of one to three bytes, definite
lengths of up to four bytes."""

from __future__ import annotations


class TlvError(ValueError):
    """The bytes are not well-formed BER-TLV."""


def encode_tag(tag: int) -> bytes:
    if tag < 0:
        raise ValueError("a tag is not negative")
    return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    size = (length.bit_length() + 7) // 8
    if size > 4:
        raise ValueError("a length of more than four bytes")
    return bytes([0x80 | size]) + length.to_bytes(size, "big")


def tlv(tag: int, value: bytes) -> bytes:
    return encode_tag(tag) + encode_length(len(value)) + value


def read_tlv(data: bytes, offset: int = 0) -> tuple[int, bytes, int]:
    """The tag, value and the offset after the object that starts at ``offset``."""
    tag, offset = _read_tag(data, offset)
    length, offset = read_length(data, offset)
    end = offset + length
    if end > len(data):
        raise TlvError("a value runs past the end of the data")
    return tag, data[offset:end], end


def read_header(data: bytes, offset: int = 0) -> tuple[int, int, int]:
    """The tag, the length and the offset of the value, without needing the whole value."""
    tag, offset = _read_tag(data, offset)
    length, offset = read_length(data, offset)
    return tag, length, offset


def _read_tag(data: bytes, offset: int) -> tuple[int, int]:
    if offset >= len(data):
        raise TlvError("a tag is missing")
    first = data[offset]
    tag = first
    offset += 1
    if first & 0x1F == 0x1F:
        for count in range(3):
            if offset >= len(data):
                raise TlvError("a tag is cut short")
            byte = data[offset]
            tag = (tag << 8) | byte
            offset += 1
            if not byte & 0x80:
                break
            if count == 2:
                raise TlvError("a tag of more than three bytes")
    return tag, offset


def read_length(data: bytes, offset: int) -> tuple[int, int]:
    if offset >= len(data):
        raise TlvError("a length is missing")
    first = data[offset]
    offset += 1
    if first < 0x80:
        return first, offset
    size = first & 0x7F
    if size == 0 or size > 4:
        raise TlvError("an indefinite or too long length")
    if offset + size > len(data):
        raise TlvError("a length is cut short")
    return int.from_bytes(data[offset : offset + size], "big"), offset + size


def parse(data: bytes) -> list[tuple[int, bytes]]:
    """Every object in ``data``, in order; the data must hold whole objects only."""
    objects = []
    offset = 0
    while offset < len(data):
        tag, value, offset = read_tlv(data, offset)
        objects.append((tag, value))
    return objects


def find(data: bytes, tag: int) -> bytes | None:
    """The value of the first object with ``tag`` at the top level of ``data``."""
    for found, value in parse(data):
        if found == tag:
            return value
    return None
