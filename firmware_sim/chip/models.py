"""Key models: what a simulated key reports about itself and how it behaves.

A model fixes getInfo (versions, PIN/UV protocols and their order, algorithms, extensions,
options, limits), the AAGUID and attestation chain (one batch per model), and the quirks that
set real products apart. ``mitid-chip`` is the default and offers everything the simulator
supports, following CTAP 2.1 (and CTAP 2.2 where it adds features); ``solo1`` answers as the
SoloKeys solo1 simulator does; ``u2f-only`` is a FIDO U2F key without CTAP2.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from firmware_sim.chip.credentials import EDDSA, ES256, SUPPORTED_ALGORITHMS
from firmware_sim.chip.errors import Status

ALL_EXTENSIONS = (
    "credBlob",
    "credProtect",
    "hmac-secret",
    "hmac-secret-mc",
    "largeBlobKey",
    "minPinLength",
    "thirdPartyPayment",
)


@dataclass(frozen=True)
class Model:
    """A simulated product."""

    name: str = "MitID Emulated Chip"
    aaguid: bytes = uuid.UUID("6d697469-642d-656d-752d-636869703031").bytes
    vendor: str = "mitid-emulator"
    firmware_version: int = 0x00010000
    #: The short name ``--model`` and ``?model=`` take.
    key: str = "mitid-chip"
    summary: str = "everything the simulator supports (CTAP 2.1 and 2.2 features)"
    #: False: a U2F-only key (no CTAPHID_CBOR capability, CTAP2 commands are unknown).
    ctap2: bool = True
    versions: tuple[str, ...] = ("U2F_V2", "FIDO_2_0", "FIDO_2_1")
    pin_protocols: tuple[int, ...] = (2, 1)
    algorithms: tuple[int, ...] = SUPPORTED_ALGORITHMS
    extensions: tuple[str, ...] = ALL_EXTENSIONS
    #: authenticatorConfig (alwaysUv, setMinPINLength), largeBlobs, getPinUvAuthToken with
    #: permissions (CTAP 2.1 only).
    config: bool = True
    large_blobs: bool = True
    permissions: bool = True
    #: Enterprise attestation (CTAP 2.1 §7.1) and the RP IDs it is vendor-facilitated for.
    enterprise_attestation: bool = True
    enterprise_rp_ids: tuple[str, ...] = ("enterprise.mitid-emu.test",)
    #: The persistent pinUvAuthToken for read-only credential management (CTAP 2.2, pcmr).
    persistent_token: bool = True
    #: credentialManagement under its CTAP 2.1 command (0x0A) too, not only the 2.1-PRE one
    #: (0x41); getInfo says credMgmt, else credentialMgmtPreview.
    credential_management: bool = True
    max_msg_size: int = 2048
    max_creds_in_list: int = 16
    max_cred_id_length: int = 128
    max_cred_blob_length: int = 32
    max_rp_ids_for_min_pin: int = 8
    #: getPINRetries before a PIN is set: PIN_NOT_SET (True) or the count (solo1).
    retries_need_pin: bool = True
    #: makeCredUvNotRqd (CTAP 2.1): a non-discoverable credential needs no PIN even when one
    #: is set. False is CTAP 2.0's rule: with a PIN set, every makeCredential needs it.
    make_cred_uv_not_required: bool = True
    #: The answer to a zero-length pinUvAuthParam while a PIN is set (CTAP 2.1 §6.1.2 step 1:
    #: PIN_INVALID; solo1 answers PIN_AUTH_INVALID).
    pin_probe_error: int = Status.PIN_INVALID
    #: The answer to an hmac-secret saltAuth that does not verify (CTAP 2.1 §12.5:
    #: PIN_AUTH_INVALID; solo1 answers EXTENSION_FIRST).
    bad_salt_auth_error: int = Status.PIN_AUTH_INVALID
    #: CTAP 2.0's rules where 2.1 relaxed or tightened them: makeCredential refuses any "up"
    #: option (2.1 §6.1.2 ignores up=true) and checks the type of the rp's and user's "icon";
    #: getAssertion ignores an "rk" option (2.1 §6.2.2 step 5: UNSUPPORTED_OPTION).
    ctap20_checks: bool = False
    #: Three wrong pinUvAuthParams in a row answer PIN_AUTH_BLOCKED until a power cycle, as solo1
    #: does (CTAP 2.1 counts wrong PINs only, §6.5.5.7).
    block_on_auth_mismatch: bool = False

    def extension(self, name: str) -> bool:
        return name in self.extensions


DEFAULT_MODEL = Model()

SOLO1 = Model(
    name="Solo Secp256r1 FIDO2 CTAP2 Authenticator",
    aaguid=uuid.UUID("8876631b-d4a0-427f-5773-0ec71c9e0279").bytes,
    vendor="SoloKeys",
    firmware_version=0x00040100,
    key="solo1",
    summary="as the SoloKeys solo1 simulator answers: FIDO_2_1_PRE, PIN protocol 1 only",
    versions=("U2F_V2", "FIDO_2_0", "FIDO_2_1_PRE"),
    pin_protocols=(1,),
    algorithms=(ES256, EDDSA),
    extensions=("credProtect", "hmac-secret"),
    config=False,
    large_blobs=False,
    permissions=False,
    enterprise_attestation=False,
    enterprise_rp_ids=(),
    persistent_token=False,
    max_msg_size=1200,
    max_creds_in_list=20,
    retries_need_pin=False,
    make_cred_uv_not_required=False,
    pin_probe_error=Status.PIN_AUTH_INVALID,
    bad_salt_auth_error=Status.EXTENSION_FIRST,
    ctap20_checks=True,
    block_on_auth_mismatch=True,
)

U2F_ONLY = Model(
    name="MitID Emulated U2F Key",
    aaguid=bytes(16),
    key="u2f-only",
    summary="a FIDO U2F key: CTAP1 only, no CTAP2",
    ctap2=False,
    versions=("U2F_V2",),
    pin_protocols=(),
    algorithms=(ES256,),
    extensions=(),
    config=False,
    large_blobs=False,
    permissions=False,
    enterprise_attestation=False,
    enterprise_rp_ids=(),
    persistent_token=False,
    credential_management=False,
)

MODELS: dict[str, Model] = {m.key: m for m in (DEFAULT_MODEL, SOLO1, U2F_ONLY)}


def model_named(key: str) -> Model:
    """The model called ``key``; ``KeyError`` names the ones there are."""
    try:
        return MODELS[key]
    except KeyError:
        raise KeyError(f"unknown model {key!r} (models: {', '.join(MODELS)})") from None
