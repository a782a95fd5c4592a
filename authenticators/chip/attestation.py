"""Attestation: does the token's statement prove which product made the credential?

python-fido2 checks the statement itself (packed, fido-u2f, none, …). Trust is by configuration:
the roots in :class:`TrustConfig` — by default the simulator's batch root from the state
directory, plus any PEM files named in ``MITID_EMU_CHIP_TRUST_ROOTS`` (``os.pathsep``-separated).
A valid statement that chains to none of them is *untrusted*, which an emulator accepts and
records (an unknown real token); a statement whose signature is wrong is refused.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fido2.attestation.base import (
    Attestation,
    AttestationType,
    InvalidAttestation,
    UnsupportedType,
    verify_x509_chain,
)
from fido2.ctap2.base import AttestationResponse

from authenticators.store import Store

TRUST_ENV = "MITID_EMU_CHIP_TRUST_ROOTS"


class TrustStatus(enum.Enum):
    TRUSTED = "trusted"  # chains to a configured root
    UNTRUSTED = "untrusted"  # valid, but from a root nobody configured
    SELF = "self"  # signed by the credential itself: proves nothing about the product
    NONE = "none"  # the token gave no attestation


@dataclass(frozen=True)
class AttestationReport:
    status: TrustStatus
    fmt: str
    aaguid: str
    subject: str | None
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "format": self.fmt,
            "aaguid": self.aaguid,
            "subject": self.subject,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class TrustConfig:
    """Root certificates (DER) whose attestations count as trusted."""

    roots: tuple[bytes, ...] = ()

    @classmethod
    def configured(cls, store: Store | None, *, trust_simulator: bool = True) -> TrustConfig:
        roots: list[bytes] = []
        if store is not None and trust_simulator:
            from authenticators.hal import simulator_roots

            roots.extend(simulator_roots(store))
        for name in filter(None, os.environ.get(TRUST_ENV, "").split(os.pathsep)):
            roots.extend(load_pem_roots(Path(name)))
        return cls(tuple(roots))


def load_pem_roots(path: Path) -> list[bytes]:
    try:
        certs = x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read trust roots from {path}: {exc}") from None
    return [c.public_bytes(serialization.Encoding.DER) for c in certs]


def _root_for(trust_path: list[bytes], roots: tuple[bytes, ...]) -> bytes | None:
    if not trust_path:
        return None
    last = x509.load_der_x509_certificate(trust_path[-1])
    for der in roots:
        if x509.load_der_x509_certificate(der).subject == last.issuer:
            return der
    return None


def _subject(att_stmt: Mapping[str, Any]) -> str | None:
    chain = att_stmt.get("x5c")
    if not chain:
        return None
    try:
        return x509.load_der_x509_certificate(chain[0]).subject.rfc4514_string()
    except ValueError:
        return None


def check(
    response: AttestationResponse, client_data_hash: bytes, trust: TrustConfig
) -> AttestationReport:
    """Classify a registration's attestation; :class:`InvalidAttestation` if it is forged."""
    auth_data = response.auth_data
    aaguid = str(auth_data.credential_data.aaguid) if auth_data.credential_data else ""
    fmt = response.fmt
    try:
        result = Attestation.for_type(fmt)().verify(response.att_stmt, auth_data, client_data_hash)
    except UnsupportedType:
        return AttestationReport(
            TrustStatus.UNTRUSTED, fmt, aaguid, None, f"format {fmt!r} is not supported here"
        )
    if result.attestation_type is AttestationType.NONE:
        return AttestationReport(TrustStatus.NONE, fmt, aaguid, None, "no attestation given")
    if result.attestation_type is AttestationType.SELF:
        return AttestationReport(
            TrustStatus.SELF, fmt, aaguid, None, "self attestation: no proof of the product"
        )
    subject = _subject(response.att_stmt)
    root = _root_for(result.trust_path, trust.roots)
    if root is None:
        return AttestationReport(
            TrustStatus.UNTRUSTED,
            fmt,
            aaguid,
            subject,
            "valid statement from a root that is not configured as trusted",
        )
    try:
        verify_x509_chain([*result.trust_path, root])
    except InvalidAttestation:
        return AttestationReport(
            TrustStatus.UNTRUSTED, fmt, aaguid, subject, "the chain does not verify to the root"
        )
    return AttestationReport(
        TrustStatus.TRUSTED, fmt, aaguid, subject, "chains to a configured root"
    )


__all__ = [
    "TRUST_ENV",
    "AttestationReport",
    "InvalidAttestation",
    "TrustConfig",
    "TrustStatus",
    "check",
    "load_pem_roots",
]
