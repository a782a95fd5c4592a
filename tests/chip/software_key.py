"""A software FIDO key for verifier tests: every field of an assertion under the test's control."""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from fido2 import cbor
from fido2.cose import ES256
from fido2.webauthn import CollectedClientData

from authenticators.chip.webauthn import b64, client_challenge, origin_for
from authenticators.protocol import Challenge, Enrollment, Response

FLAG_UP = 0x01
FLAG_UV = 0x04


@dataclass
class SoftwareKey:
    rp_id: str = "mitid.dk"
    credential_id: bytes = b"\x01" * 32
    counter: int = 0
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )

    def enrollment(self, *, sign_count: int = 0, uv_required: bool = False) -> Enrollment:
        cose = ES256.from_cryptography_key(self.key.public_key())
        return Enrollment(
            "chip",
            "soft",
            {
                "uri": "sim:soft",
                "rp_id": self.rp_id,
                "credential_id": self.credential_id.hex(),
                "public_key": cbor.encode(dict(cose)).hex(),
                "aaguid": "00000000-0000-0000-0000-000000000000",
                "attestation": {"status": "none"},
                "resident": False,
                "uv_required": uv_required,
                "sign_count": sign_count,
            },
        )

    def respond(
        self,
        challenge: Challenge,
        *,
        rp_id: str | None = None,
        flags: int = FLAG_UP,
        counter: int | None = None,
        webauthn_challenge: bytes | None = None,
        origin: str | None = None,
        kind: str = "webauthn.get",
    ) -> Response:
        if counter is None:
            self.counter += 1
            counter = self.counter
        client = CollectedClientData.create(
            type=kind,
            challenge=webauthn_challenge or client_challenge(challenge),
            origin=origin or origin_for(self.rp_id),
        )
        auth = (
            hashlib.sha256((rp_id or self.rp_id).encode()).digest()
            + bytes([flags])
            + struct.pack(">I", counter)
        )
        signature = self.key.sign(auth + client.hash, ec.ECDSA(hashes.SHA256()))
        return Response(
            challenge.transaction_id,
            "chip",
            "soft",
            {
                "credential_id": b64(self.credential_id),
                "authenticator_data": b64(auth),
                "client_data": b64(bytes(client)),
                "signature": b64(signature),
            },
        )
