"""Personalisation: what an issuing country writes into a passport's chip.

A test PKI per country (a CSCA and a document signer, ICAO 9303-12), the LDS1 files (EF.COM,
EF.CardAccess, DG1 with the MRZ, DG2 with the face, DG14, DG15) and EF.SOD: a CMS SignedData,
signed by the document signer, over the SHA-256 of every data group. Documents for negative
tests come from the same code: a document signer whose certificate has expired, a data group
changed after signing, and a clone (the files copied onto a chip without the original's keys).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from asn1crypto import cms, core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from authenticators.icao9303 import lds, oids, tlv
from authenticators.icao9303.mrz import check_digit, mrz_information
from firmware_sim.passport.chip import ChipData

Random = Callable[[int], bytes]

#: ISO 3166 alpha-3 (as in the MRZ) -> alpha-2 (as in X.509 names), for the states we issue for.
ALPHA2 = {"DNK": "DK", "GRL": "GL", "FRO": "FO", "SWE": "SE", "NOR": "NO", "DEU": "DE"}
ALPHA2_TEST = "XX"  # ICAO's test state UTO and anything else

DOCUMENT_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_key(pem: bytes) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("not an EC private key")
    return key


def load_aa_key(pem: bytes) -> ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValueError("not an EC or RSA private key")
    return key


def new_aa_key(algorithm: str) -> ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey:
    """Active Authentication's key: ECDSA P-256, or RSA 2048 (ISO/IEC 9796-2 signatures)."""
    if algorithm == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


@dataclass(frozen=True)
class CountryPki:
    """A country's signing keys: its CSCA and one document signer (certificates and keys)."""

    country: str
    csca_cert: bytes  # PEM
    csca_key: bytes = field(repr=False)
    signer_cert: bytes = b""
    signer_key: bytes = field(default=b"", repr=False)


def _name(country: str, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, ALPHA2.get(country, ALPHA2_TEST)),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"Test passport authority {country}"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def new_pki(country: str, now: dt.datetime) -> CountryPki:
    """A self-signed CSCA and a document signer valid from yesterday for ten years."""
    csca_key = ec.generate_private_key(ec.SECP256R1())
    name = _name(country, f"CSCA {country}")
    csca = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(csca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=15 * 366))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(csca_key.public_key()), critical=False
        )
        .sign(csca_key, hashes.SHA256())
    )
    pki = CountryPki(country, _pem(csca), _key_pem(csca_key))
    return new_signer(pki, now - dt.timedelta(days=1), now + dt.timedelta(days=10 * 366))


def new_signer(pki: CountryPki, not_before: dt.datetime, not_after: dt.datetime) -> CountryPki:
    """The same CSCA with a new document signer valid in the given window."""
    csca = x509.load_pem_x509_certificate(pki.csca_cert)
    csca_key = load_key(pki.csca_key)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(pki.country, f"Document signer {pki.country}"))
        .issuer_name(csca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(csca_key.public_key()),
            critical=False,
        )
        .sign(csca_key, hashes.SHA256())
    )
    return CountryPki(pki.country, pki.csca_cert, pki.csca_key, _pem(cert), _key_pem(key))


@dataclass(frozen=True)
class Holder:
    surname: str
    given_names: str
    birth: dt.date
    nationality: str
    sex: str  # "M", "F" or "<"
    expiry: dt.date
    issuing_state: str
    photo: bytes = field(repr=False)  # JPEG


@dataclass(frozen=True)
class Passport:
    """An issued passport: what is printed (the MRZ) and what is in its chip."""

    holder: Holder
    document_number: str
    mrz: tuple[str, str]
    files: dict[int, bytes] = field(repr=False)
    aa_key: bytes = field(repr=False)  # PEM
    ca_key: bytes = field(repr=False)  # PEM
    can: str = field(repr=False)

    @property
    def mrz_information(self) -> str:
        return mrz_information(
            self.document_number, _yymmdd(self.holder.birth), _yymmdd(self.holder.expiry)
        )

    def chip_data(self) -> ChipData:
        return ChipData(
            files=dict(self.files),
            mrz_information=self.mrz_information,
            can=self.can,
            aa_key=load_aa_key(self.aa_key),
            ca_key=load_key(self.ca_key),
        )


def _yymmdd(day: dt.date) -> str:
    return day.strftime("%y%m%d")


def _mrz_name(text: str) -> str:
    cleaned = "".join(c if c.isalpha() and c.isascii() else " " for c in text.upper())
    return "<".join(cleaned.split())


def mrz_lines(holder: Holder, document_number: str) -> tuple[str, str]:
    """The two 44-character lines of a TD3 (passport) MRZ, 9303-4 §4.2."""
    name = f"{_mrz_name(holder.surname)}<<{_mrz_name(holder.given_names)}"
    line1 = f"P<{holder.issuing_state}{name}"[:44].ljust(44, "<")
    number = document_number.ljust(9, "<")
    birth, expiry = _yymmdd(holder.birth), _yymmdd(holder.expiry)
    optional = "<" * 14
    line2 = (
        f"{number}{check_digit(number)}{holder.nationality}{birth}{check_digit(birth)}"
        f"{holder.sex}{expiry}{check_digit(expiry)}{optional}{check_digit(optional)}"
    )
    composite = line2[0:10] + line2[13:20] + line2[21:43]
    return line1, line2 + check_digit(composite)


def _integer(value: int) -> bytes:
    return tlv.tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _oid(dotted: str) -> bytes:
    return tlv.tlv(0x06, oids.encode_oid(dotted))


def _set(*members: bytes) -> bytes:
    return tlv.tlv(0x31, b"".join(sorted(members)))  # DER: a SET OF in the order of its encodings


def _spki(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def pace_infos() -> list[bytes]:
    """PACEInfo for ECDH generic mapping with AES-128 on brainpoolP256r1 (13) and P-256 (12)."""
    return [
        tlv.tlv(0x30, _oid(oids.ID_PACE_ECDH_GM_AES128) + _integer(2) + _integer(parameter))
        for parameter in (13, 12)
    ]


def face_record(jpeg: bytes, width: int, height: int) -> bytes:
    """An ISO/IEC 19794-5 facial record holding one JPEG image, inside DG2's templates."""
    image_info = bytes([1, 0]) + width.to_bytes(2, "big") + height.to_bytes(2, "big")
    image_info += bytes([1, 2]) + bytes(2) + bytes(2)  # sRGB, from a digital camera
    facial = bytes(2) + bytes([0, 0, 0]) + bytes(3) + bytes(2) + bytes(3) + bytes(3)
    block = facial + image_info + jpeg
    block = (len(block) + 4).to_bytes(4, "big") + block
    record = b"FAC\x00010\x00" + (len(block) + 14).to_bytes(4, "big") + b"\x00\x01" + block
    header = tlv.tlv(0x80, b"\x01\x01") + tlv.tlv(0x87, b"\x01\x01") + tlv.tlv(0x88, b"\x00\x08")
    template = tlv.tlv(0x7F60, tlv.tlv(0xA1, header) + tlv.tlv(0x5F2E, record))
    return tlv.tlv(0x75, tlv.tlv(0x7F61, tlv.tlv(0x02, b"\x01") + template))


def _jpeg(photo: bytes) -> tuple[bytes, int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(photo)) as image:
        rgb = image.convert("RGB")
    rgb.thumbnail((480, 600))
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=85)
    return out.getvalue(), rgb.width, rgb.height


def _random_number(rng: Random) -> str:
    return "".join(DOCUMENT_CHARS[b % len(DOCUMENT_CHARS)] for b in rng(9))


def issue(
    holder: Holder,
    pki: CountryPki,
    now: dt.datetime,
    *,
    rng: Random = secrets.token_bytes,
    tamper: bool = False,
    active_authentication: str = "ecdsa",
) -> Passport:
    """A passport for ``holder``, signed by the country's document signer.

    ``tamper`` changes DG1 after the SOD was signed (Passive Authentication must catch it);
    ``active_authentication`` is ``ecdsa`` or ``rsa``."""
    number = _random_number(rng)
    line1, line2 = mrz_lines(holder, number)
    aa_key = new_aa_key(active_authentication)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    jpeg, width, height = _jpeg(holder.photo)
    groups = {
        1: tlv.tlv(0x61, tlv.tlv(0x5F1F, (line1 + line2).encode("ascii"))),
        2: face_record(jpeg, width, height),
        14: tlv.tlv(
            0x6E,
            _set(
                tlv.tlv(0x30, _oid(oids.ID_CA_ECDH_AES128) + _integer(1)),
                tlv.tlv(0x30, _oid(oids.ID_PK_ECDH) + _spki(ca_key)),
                *(
                    [tlv.tlv(0x30, _oid(oids.ID_AA) + _integer(1) + _oid(oids.ECDSA_WITH_SHA256))]
                    if isinstance(aa_key, ec.EllipticCurvePrivateKey)
                    else []
                ),
                *pace_infos(),
            ),
        ),
        15: tlv.tlv(0x6F, _spki(aa_key)),
    }
    com_tags = bytes(lds.COM_TAGS[n] for n in sorted(groups))
    files = {
        lds.EF_CARD_ACCESS: _set(*pace_infos()),
        lds.EF_COM[0]: tlv.tlv(
            0x60,
            tlv.tlv(0x5F01, b"0107") + tlv.tlv(0x5F36, b"040000") + tlv.tlv(0x5C, com_tags),
        ),
        lds.EF_SOD[0]: tlv.tlv(0x77, signed_data(groups, pki, now)),
    }
    for number_, content in groups.items():
        files[lds.DATA_GROUPS[number_][0]] = content
    if tamper:
        changed = line1.replace("<<", "<<X", 1)[:44]
        files[lds.DATA_GROUPS[1][0]] = tlv.tlv(0x61, tlv.tlv(0x5F1F, (changed + line2).encode()))
    can = "".join(str(b % 10) for b in rng(6))
    return Passport(holder, number, (line1, line2), files, _key_pem(aa_key), _key_pem(ca_key), can)


def clone(passport: Passport) -> Passport:
    """The same printed page and files on another chip: the private keys cannot be copied."""
    fresh_aa = new_aa_key("rsa" if _is_rsa(passport.aa_key) else "ecdsa")
    fresh_ca = ec.generate_private_key(ec.SECP256R1())
    return Passport(
        passport.holder,
        passport.document_number,
        passport.mrz,
        dict(passport.files),
        _key_pem(fresh_aa),
        _key_pem(fresh_ca),
        passport.can,
    )


def _is_rsa(pem: bytes) -> bool:
    return isinstance(load_aa_key(pem), rsa.RSAPrivateKey)


def signed_data(groups: dict[int, bytes], pki: CountryPki, now: dt.datetime) -> bytes:
    """EF.SOD's ContentInfo: CMS SignedData over the LDS security object (9303-10 §4.6.2)."""
    security_object = lds.LdsSecurityObject(
        {
            "version": 0,
            "hash_algorithm": {"algorithm": "sha256"},
            "data_group_hash_values": [
                {"data_group_number": n, "data_group_hash_value": hashlib.sha256(c).digest()}
                for n, c in sorted(groups.items())
            ],
        }
    ).dump()
    signer = x509.load_pem_x509_certificate(pki.signer_cert)
    signer_asn1 = asn1_x509.Certificate.load(signer.public_bytes(serialization.Encoding.DER))
    attributes = cms.CMSAttributes(
        [
            {"type": "content_type", "values": [oids.LDS_SECURITY_OBJECT]},
            {"type": "signing_time", "values": [core.UTCTime(now.astimezone(dt.UTC))]},
            {"type": "message_digest", "values": [hashlib.sha256(security_object).digest()]},
        ]
    )
    signature = load_key(pki.signer_key).sign(attributes.dump(), ec.ECDSA(hashes.SHA256()))
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": {
                        "issuer": signer_asn1.issuer,
                        "serial_number": signer_asn1.serial_number,
                    }
                }
            ),
            "digest_algorithm": {"algorithm": "sha256"},
            "signed_attrs": attributes,
            "signature_algorithm": {"algorithm": "sha256_ecdsa"},
            "signature": signature,
        }
    )
    content = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [{"algorithm": "sha256"}],
            "encap_content_info": {
                "content_type": oids.LDS_SECURITY_OBJECT,
                "content": security_object,
            },
            "certificates": [signer_asn1],
            "signer_infos": [signer_info],
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": content}).dump())
