"""Passive Authentication (9303-11 §5.1): EF.SOD's signature, the document signer's certificate
against the issuing country's CSCA, and the hash of every data group read."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from asn1crypto import cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from authenticators.ct import bytes_eq
from authenticators.icao9303 import lds, oids, tlv
from authenticators.passport.errors import PassportError, PassportErrorCode

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def _failed(reason: str) -> PassportError:
    return PassportError(
        PassportErrorCode.PASSIVE_AUTHENTICATION, f"Passive Authentication failed: {reason}"
    )


@dataclass(frozen=True)
class PassiveAuthentication:
    """What Passive Authentication established."""

    signer: str
    csca: str
    hash_algorithm: str
    groups: tuple[int, ...]  # the data groups whose hashes matched


def _sod_signed_data(sod: bytes) -> cms.SignedData:
    try:
        tag, body, end = tlv.read_tlv(sod)
        if tag != lds.EF_SOD[1] or end != len(sod):
            raise ValueError("not tag 77")
        info = cms.ContentInfo.load(body)
        if info["content_type"].native != "signed_data":
            raise ValueError("not SignedData")
        signed = info["content"]
        signed.native  # noqa: B018 - parse it all now, so a malformed SOD fails here
    except (ValueError, TypeError, KeyError, tlv.TlvError) as exc:
        raise _failed(f"EF.SOD is not a CMS SignedData ({exc})") from None
    assert isinstance(signed, cms.SignedData)
    return signed


def _verify(key: object, signature: bytes, data: bytes, algorithm: str, digest: str) -> None:
    hash_type = _HASHES.get(digest)
    if hash_type is None:
        raise _failed(f"an unsupported digest {digest}")
    if isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(signature, data, ec.ECDSA(hash_type()))
    elif isinstance(key, rsa.RSAPublicKey):
        if algorithm == "rsassa_pss":
            key.verify(
                signature,
                data,
                padding.PSS(padding.MGF1(hash_type()), padding.PSS.AUTO),
                hash_type(),
            )
        else:
            key.verify(signature, data, padding.PKCS1v15(), hash_type())
    else:
        raise _failed("an unsupported document signer key")


def _check_time(cert: x509.Certificate, now: dt.datetime, what: str) -> None:
    if now < cert.not_valid_before_utc:
        raise _failed(
            f"the {what} certificate is not valid before {cert.not_valid_before_utc:%Y-%m-%d}"
        )
    if now > cert.not_valid_after_utc:
        raise _failed(f"the {what} certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}")


def passive_authentication(
    sod: bytes,
    groups: Mapping[int, bytes],
    cscas: Sequence[bytes],
    now: dt.datetime,
) -> PassiveAuthentication:
    """Check EF.SOD and ``groups`` (number -> file contents) against the CSCA certificates
    (PEM or DER) the reader trusts; raise PassportError saying which check failed."""
    signed = _sod_signed_data(sod)
    encap = signed["encap_content_info"]
    if encap["content_type"].dotted != oids.LDS_SECURITY_OBJECT:
        raise _failed("EF.SOD does not hold an LDS security object")
    content = encap["content"].contents if encap["content"] is not None else b""
    try:
        security_object = lds.LdsSecurityObject.load(content)
        listed = {
            int(entry["data_group_number"].native): bytes(entry["data_group_hash_value"].native)
            for entry in security_object["data_group_hash_values"]
        }
        digest_name = security_object["hash_algorithm"]["algorithm"].native
    except (ValueError, TypeError, KeyError) as exc:
        raise _failed(f"the LDS security object is malformed ({exc})") from None
    infos = list(signed["signer_infos"])
    certificates = [c.chosen for c in signed["certificates"]] if signed["certificates"] else []
    if len(infos) != 1 or not certificates:
        raise _failed("EF.SOD needs one signer and its certificate")
    info = infos[0]
    try:
        signer = x509.load_der_x509_certificate(certificates[0].dump())
    except ValueError:
        raise _failed("the document signer certificate is malformed") from None
    csca = _issuer(signer, cscas)
    _check_time(csca, now, "CSCA")
    _check_time(signer, now, "document signer")
    try:
        signer.verify_directly_issued_by(csca)
    except (ValueError, TypeError, InvalidSignature):
        raise _failed("the document signer certificate is not signed by the CSCA") from None
    attributes = info["signed_attrs"]
    digest = info["digest_algorithm"]["algorithm"].native
    hash_type = _HASHES.get(digest)
    if not attributes or hash_type is None:
        raise _failed("EF.SOD's signer has no signed attributes")
    by_type = {a["type"].native: a["values"] for a in attributes}
    content_type = by_type.get("content_type")
    if content_type is None or content_type[0].dotted != oids.LDS_SECURITY_OBJECT:
        raise _failed("the signed content type is not the LDS security object")
    message_digest = by_type.get("message_digest")
    computed = hashlib.new(digest, content).digest()
    if message_digest is None or not bytes_eq(bytes(message_digest[0].native), computed):
        raise _failed("the signed digest does not match the LDS security object")
    signed_bytes = b"\x31" + attributes.dump()[1:]  # DER of the SET, not of the [0] field
    try:
        _verify(
            signer.public_key(),
            bytes(info["signature"].native),
            signed_bytes,
            info["signature_algorithm"].signature_algo,
            digest,
        )
    except InvalidSignature:
        raise _failed("the document signer's signature over EF.SOD is wrong") from None
    if digest_name not in _HASHES:
        raise _failed(f"an unsupported data-group hash {digest_name}")
    checked = []
    for number, data in sorted(groups.items()):
        expected = listed.get(number)
        if expected is None:
            raise _failed(f"DG{number} is not listed in EF.SOD")
        if not bytes_eq(hashlib.new(digest_name, data).digest(), expected):
            raise _failed(f"DG{number} does not match its hash in EF.SOD (changed after signing)")
        checked.append(number)
    return PassiveAuthentication(
        signer=signer.subject.rfc4514_string(),
        csca=csca.subject.rfc4514_string(),
        hash_algorithm=digest_name,
        groups=tuple(checked),
    )


def _load_cert(data: bytes) -> x509.Certificate:
    if data.lstrip().startswith(b"-----"):
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def _issuer(signer: x509.Certificate, cscas: Sequence[bytes]) -> x509.Certificate:
    for raw in cscas:
        try:
            csca = _load_cert(raw)
        except ValueError:
            continue
        if csca.subject == signer.issuer:
            return csca
    raise _failed(f"no trusted CSCA for {signer.issuer.rfc4514_string()}")
