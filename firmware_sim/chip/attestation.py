"""Attestation: a batch key and certificate chain per simulated model, and the statement formats.

Every device of one model shares one batch key, as real keys do (FIDO requires batches of at
least 100 000 so an attestation does not identify the device). The batch certificate carries the
fields the FIDO "packed" format requires (CTAP 2.1 / WebAuthn §8.2.1): version 3; subject C, O,
OU = "Authenticator Attestation", CN; basic constraints CA=false; and the id-fido-gen-ce-aaguid
extension holding the AAGUID. A self-signed root signs the batch certificate; relying parties that
want to verify the chain get the root from :attr:`BatchAttestation.root_der`.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, ObjectIdentifier

from firmware_sim.chip import cbor
from firmware_sim.chip.models import DEFAULT_MODEL, Model
from firmware_sim.chip.state import ChipState, StateBackend

__all__ = [
    "DEFAULT_MODEL",
    "BatchAttestation",
    "Model",
    "batch_for",
    "enterprise_for",
    "none_statement",
]

OID_FIDO_AAGUID = ObjectIdentifier("1.3.6.1.4.1.45724.1.1.4")
OID_FIDO_TRANSPORTS = ObjectIdentifier("1.3.6.1.4.1.45724.2.1.1")

_NOT_BEFORE = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
_NOT_AFTER = datetime.datetime(2049, 12, 31, tzinfo=datetime.UTC)


@dataclass(frozen=True)
class BatchAttestation:
    """The batch key and its chain; the key stays out of repr."""

    key: ec.EllipticCurvePrivateKey = field(repr=False)
    cert_der: bytes
    root_der: bytes

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message, ec.ECDSA(hashes.SHA256()))

    def packed(self, auth_data: bytes, client_data_hash: bytes) -> tuple[str, dict[str, Any]]:
        sig = self.sign(auth_data + client_data_hash)
        return "packed", {"alg": -7, "sig": sig, "x5c": [self.cert_der]}


def none_statement() -> tuple[str, dict[str, Any]]:
    return "none", {}


def batch_for(model: Model, backend: StateBackend) -> BatchAttestation:
    """The model's batch attestation, created on first use and kept by the backend."""
    key = _model_key(model)
    material = backend.load_model(key)
    if material is None:
        material = backend.save_model(key, _generate(model))
    decoded = cbor.decode(material)
    private = serialization.load_der_private_key(decoded["key"], password=None)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    return BatchAttestation(key=private, cert_der=decoded["cert"], root_der=decoded["root"])


def enterprise_for(model: Model, state: ChipState) -> BatchAttestation:
    """One device's enterprise attestation (CTAP 2.1 §7.1): a key and certificate of its own,
    which may identify the device, unlike the batch's."""
    serial = secrets.token_hex(8)
    material = state.enterprise_material(lambda: _generate(model, f"enterprise {serial}"))
    decoded = cbor.decode(material)
    private = serialization.load_der_private_key(decoded["key"], password=None)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    return BatchAttestation(key=private, cert_der=decoded["cert"], root_der=decoded["root"])


def _model_key(model: Model) -> str:
    return f"{model.name}/{model.aaguid.hex()}"


def _generate(model: Model, batch: str = "batch 1") -> bytes:
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "DK"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, model.vendor),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{model.vendor} attestation root"),
        ]
    )
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_NOT_BEFORE)
        .not_valid_after(_NOT_AFTER)
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
        .sign(root_key, hashes.SHA256())
    )
    batch_key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "DK"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, model.vendor),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Authenticator Attestation"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{model.name} {batch}"),
        ]
    )
    usb_transport = b"\x03\x02\x05\x20"  # BIT STRING: bit 2 (USB) set
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(root_name)
        .public_key(batch_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_NOT_BEFORE)
        .not_valid_after(_NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.UnrecognizedExtension(OID_FIDO_AAGUID, b"\x04\x10" + model.aaguid),
            critical=False,
        )
        .add_extension(
            x509.UnrecognizedExtension(OID_FIDO_TRANSPORTS, usb_transport), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )
    return cbor.encode(
        {
            "key": batch_key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            "cert": cert.public_bytes(serialization.Encoding.DER),
            "root": root.public_bytes(serialization.Encoding.DER),
        }
    )
