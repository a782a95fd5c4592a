"""The IdP's signing and encryption certificates: made once, kept in the state.

Service providers pin these from the metadata, so they survive restarts and resets.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from authenticators.clock import Clock
from authenticators.store import Schema, Store

SCHEMA = Schema(
    "nemlogin_keys",
    [
        """
        CREATE TABLE nemlogin_keys (
            use TEXT PRIMARY KEY,
            key_pem TEXT NOT NULL,
            cert_pem TEXT NOT NULL,
            created_at REAL NOT NULL
        )
        """
    ],
)

USES = ("signing", "encryption")
RSA_BITS = 2048
VALID_DAYS = 3650


@dataclass(frozen=True)
class KeyPair:
    use: str
    key_pem: str = field(repr=False)
    cert_pem: str

    @property
    def cert_base64(self) -> str:
        """The certificate's DER in base64, as metadata carries it."""
        lines = self.cert_pem.strip().splitlines()
        return "".join(line for line in lines if not line.startswith("-----"))


def _make(use: str, entity: str, now: float) -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mitid-emulator"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"NemLog-in emulator {use}"),
        ]
    )
    start = dt.datetime.fromtimestamp(now, dt.UTC) - dt.timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=VALID_DAYS))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
    return KeyPair(use, key_pem, cert_pem)


def idp_keys(store: Store, clock: Clock) -> dict[str, KeyPair]:
    """The signing and the encryption key pair, made on first use."""
    store.ensure(SCHEMA)
    with store.read() as conn:
        rows = conn.execute("SELECT use, key_pem, cert_pem FROM nemlogin_keys").fetchall()
    found = {r["use"]: KeyPair(r["use"], r["key_pem"], r["cert_pem"]) for r in rows}
    if all(use in found for use in USES):
        return found
    made = {use: _make(use, "idp", clock.now()) for use in USES if use not in found}
    with store.transaction() as conn:
        for pair in made.values():
            conn.execute(
                "INSERT OR IGNORE INTO nemlogin_keys (use, key_pem, cert_pem, created_at)"
                " VALUES (?, ?, ?, ?)",
                (pair.use, pair.key_pem, pair.cert_pem, clock.now()),
            )
        rows = conn.execute("SELECT use, key_pem, cert_pem FROM nemlogin_keys").fetchall()
    return {r["use"]: KeyPair(r["use"], r["key_pem"], r["cert_pem"]) for r in rows}
