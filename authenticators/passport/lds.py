"""Reading the LDS files: the MRZ in DG1, the face image in DG2, the keys in DG14 and DG15."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from authenticators.icao9303 import oids, tlv
from authenticators.icao9303.mrz import check_digit, mrz_information
from authenticators.passport.errors import PassportError, PassportErrorCode


def _malformed(what: str) -> PassportError:
    return PassportError(PassportErrorCode.MALFORMED, what)


def _outer(content: bytes, tag: int, what: str) -> bytes:
    try:
        found, value, end = tlv.read_tlv(content)
    except tlv.TlvError:
        raise _malformed(f"{what} is not TLV") from None
    if found != tag or end != len(content):
        raise _malformed(f"{what} does not start with tag {tag:02X}")
    return value


@dataclass(frozen=True)
class Mrz:
    """The TD3 (passport) MRZ, as in DG1 or on the data page."""

    document_type: str
    issuing_state: str
    surname: str
    given_names: str
    document_number: str
    nationality: str
    birth: str  # YYMMDD
    sex: str
    expiry: str  # YYMMDD
    lines: tuple[str, str]

    @property
    def information(self) -> str:
        return mrz_information(self.document_number, self.birth, self.expiry)

    @property
    def name(self) -> str:
        return f"{self.given_names} {self.surname}".strip()

    def expiry_date(self) -> dt.date:
        return dt.datetime.strptime(self.expiry, "%y%m%d").date()

    def birth_date(self, today: dt.date) -> dt.date:
        """The birth date, its century the one that puts it in the past."""
        day = dt.datetime.strptime(self.birth, "%y%m%d").date()
        return day if day <= today else day.replace(year=day.year - 100)


def parse_mrz(text: str) -> Mrz:
    """Two 44-character lines (joined or not); the check digits must hold."""
    joined = "".join(text.split()).upper()
    if len(joined) != 88 or not joined.startswith("P"):
        raise PassportError(
            PassportErrorCode.INVALID_ARGUMENT,
            "a passport MRZ is two lines of 44 characters, the first starting with P",
        )
    line1, line2 = joined[:44], joined[44:]
    names = line1[5:].split("<<", 1)
    number = line2[0:9]
    fields = [(number, line2[9]), (line2[13:19], line2[19]), (line2[21:27], line2[27])]
    composite = line2[0:10] + line2[13:20] + line2[21:43]
    try:
        bad = [value for value, digit in fields if check_digit(value) != digit]
        bad_composite = check_digit(composite) != line2[43]
    except ValueError:
        raise PassportError(PassportErrorCode.INVALID_ARGUMENT, "not MRZ characters") from None
    if bad or bad_composite:
        raise PassportError(
            PassportErrorCode.INVALID_ARGUMENT,
            "the MRZ's check digits do not hold (a misread or a wrong line)",
        )
    return Mrz(
        document_type=line1[0:2].rstrip("<"),
        issuing_state=line1[2:5].replace("<", ""),
        surname=names[0].replace("<", " ").strip(),
        given_names=(names[1] if len(names) > 1 else "").replace("<", " ").strip(),
        document_number=number.rstrip("<"),
        nationality=line2[10:13].replace("<", ""),
        birth=line2[13:19],
        sex=line2[20],
        expiry=line2[21:27],
        lines=(line1, line2),
    )


def dg1_mrz(content: bytes) -> Mrz:
    value = _outer(content, 0x61, "DG1")
    try:
        mrz = tlv.find(value, 0x5F1F)
    except tlv.TlvError:
        mrz = None
    if mrz is None:
        raise _malformed("DG1 holds no MRZ")
    try:
        return parse_mrz(mrz.decode("ascii"))
    except (UnicodeDecodeError, PassportError):
        raise _malformed("DG1's MRZ is not a valid passport MRZ") from None


def dg2_image(content: bytes) -> bytes:
    """The first face image in DG2 (JPEG or JPEG 2000), out of its ISO/IEC 19794-5 record."""
    value = _outer(content, 0x75, "DG2")
    try:
        group = tlv.find(value, 0x7F61) or b""
        template = tlv.find(group, 0x7F60) or b""
        record = tlv.find(template, 0x5F2E) or tlv.find(template, 0x7F2E)
    except tlv.TlvError:
        record = None
    if not record or record[:4] != b"FAC\x00" or len(record) < 46:
        raise _malformed("DG2 holds no ISO/IEC 19794-5 face record")
    points = int.from_bytes(record[18:20], "big")
    start = 14 + 20 + 8 * points + 12
    if start >= len(record):
        raise _malformed("DG2's face record holds no image")
    return record[start:]


@dataclass(frozen=True)
class SecurityInfos:
    chip_authentication_key: bytes | None  # SubjectPublicKeyInfo (DER)
    chip_authentication_protocol: str | None
    active_authentication_algorithm: str | None


def dg14_infos(content: bytes) -> SecurityInfos:
    value = _outer(content, 0x6E, "DG14")
    key = protocol = aa = None
    try:
        tag, infos, _ = tlv.read_tlv(value)
        if tag != 0x31:
            raise _malformed("DG14 holds no SET of SecurityInfos")
        for seq_tag, info in tlv.parse(infos):
            if seq_tag != 0x30:
                continue
            parts = tlv.parse(info)
            if not parts or parts[0][0] != 0x06:
                continue
            oid = oids.decode_oid(parts[0][1])
            if oid == oids.ID_PK_ECDH and len(parts) >= 2:
                key = tlv.tlv(parts[1][0], parts[1][1])
            elif oid.startswith(oids.BSI + ".3.") and protocol is None:
                protocol = oid
            elif oid == oids.ID_AA and len(parts) >= 3 and parts[2][0] == 0x06:
                aa = oids.decode_oid(parts[2][1])
    except (tlv.TlvError, ValueError):
        raise _malformed("DG14 is not a SET of SecurityInfos") from None
    return SecurityInfos(key, protocol, aa)


def dg15_key(content: bytes) -> bytes:
    return _outer(content, 0x6F, "DG15")


def com_groups(content: bytes) -> list[int]:
    """The data-group numbers EF.COM lists."""
    from authenticators.icao9303.lds import DATA_GROUPS

    value = _outer(content, 0x60, "EF.COM")
    try:
        tags = tlv.find(value, 0x5C) or b""
    except tlv.TlvError:
        raise _malformed("EF.COM lists no data groups") from None
    by_tag = {tag: number for number, (_, tag) in DATA_GROUPS.items()}
    return sorted(by_tag[t] for t in tags if t in by_tag)


def pace_parameters(card_access: bytes) -> list[int]:
    """The standardized domain parameter IDs of the ECDH generic-mapping AES-128 PACEInfos in
    EF.CardAccess, in the chip's order (empty when it offers none this reader speaks)."""
    found: list[int] = []
    try:
        tag, infos, _ = tlv.read_tlv(card_access)
        if tag != 0x31:
            return found
        for seq_tag, info in tlv.parse(infos):
            parts = tlv.parse(info) if seq_tag == 0x30 else []
            if (
                len(parts) == 3
                and parts[0][0] == 0x06
                and oids.decode_oid(parts[0][1]) == oids.ID_PACE_ECDH_GM_AES128
            ):
                found.append(int.from_bytes(parts[2][1], "big"))
    except (tlv.TlvError, ValueError):
        return []
    return found
