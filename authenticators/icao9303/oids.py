"""Object identifiers of ICAO 9303-10/11 and BSI TR-03110 that the LDS files name."""

from __future__ import annotations

BSI = "0.4.0.127.0.7.2.2"
ID_PK_ECDH = f"{BSI}.1.2"
ID_CA_ECDH_3DES = f"{BSI}.3.2.1"
ID_CA_ECDH_AES128 = f"{BSI}.3.2.2"
ID_PACE_ECDH_GM_AES128 = f"{BSI}.4.2.2"
ID_AA = "2.23.136.1.1.5"
LDS_SECURITY_OBJECT = "2.23.136.1.1.1"
ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2"

AID_LDS1 = bytes.fromhex("A0000002471001")


def encode_oid(dotted: str) -> bytes:
    """The content bytes of an OBJECT IDENTIFIER (no tag, no length)."""
    parts = [int(p) for p in dotted.split(".")]
    out = bytearray([parts[0] * 40 + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        part >>= 7
        while part:
            chunk.append(0x80 | (part & 0x7F))
            part >>= 7
        out.extend(reversed(chunk))
    return bytes(out)


def decode_oid(data: bytes) -> str:
    if not data:
        raise ValueError("an empty object identifier")
    parts = [min(data[0] // 40, 2)]
    parts.append(data[0] - 40 * parts[0])
    value = 0
    for byte in data[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    if data[-1] & 0x80:
        raise ValueError("an object identifier cut short")
    return ".".join(str(p) for p in parts)
