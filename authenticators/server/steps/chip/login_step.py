"""The chip step: the password and a WebAuthn assertion, judged together by the core; and
enrolling a chip for an identity (the control API's enroll call)."""

from __future__ import annotations

import binascii
import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from starlette.routing import BaseRoute

from authenticators import registry
from authenticators.chip.enroll import ChipOptions
from authenticators.chip.errors import ChipHostError
from authenticators.chip.plugin import ChipPlugin
from authenticators.chip.records import ChipRecord
from authenticators.chip.webauthn import b64, client_challenge, unb64
from authenticators.core.errors import CoreError
from authenticators.hal import HalError
from authenticators.protocol import ProtocolError, Reason
from authenticators.protocol import Response as ChipResponse
from authenticators.server.api import Endpoint
from authenticators.server.context import Services
from authenticators.server.http import ApiError, Fields
from authenticators.server.steps.base import (
    Outcome,
    StepContext,
    StepFailed,
    StepPage,
    begin_login,
    free_name,
    outcome_of,
    password_of,
    script_route,
)

KIND = "chip"
DEFAULT_RP_ID = "localhost"
SCRIPT_URL = "/static/chip-step.js"
TIMEOUT_MS = 60_000
ASSERTION_FIELDS = ("credential_id", "authenticator_data", "client_data", "signature")
# Refusals the person can put right on the same page (a new transaction each time).
RETRYABLE = frozenset({Reason.WRONG_PASSWORD, Reason.MALFORMED, Reason.NOT_APPROVED})


def chip_plugin() -> ChipPlugin:
    plugin = registry.get(KIND)
    assert isinstance(plugin, ChipPlugin)
    return plugin


def login_origins(issuer_url: str, rp_id: str) -> list[str]:
    """Where the login page may run: the issuer's origin, the RP ID on the issuer's scheme and
    port (``http://localhost:PORT`` for a page opened as localhost), and ``https://RP_ID``."""
    parts = urlsplit(issuer_url)
    port = f":{parts.port}" if parts.port else ""
    found = [f"{parts.scheme}://{parts.netloc}", f"{parts.scheme}://{rp_id}{port}"]
    found.append(f"https://{rp_id}")
    return list(dict.fromkeys(found))


class ChipStep:
    """Password and a WebAuthn assertion, judged together by the core."""

    # A simulated chip's firmware writes the state from its own thread: no transaction around.
    enrolls_outside_transaction = True

    def __repr__(self) -> str:
        return "ChipStep()"

    def start(self, ctx: StepContext) -> None:
        flow = ctx.flow
        assert flow.user_id
        assert flow.authenticator_id
        services = ctx.services
        try:
            record = chip_plugin().records(services.store).get(flow.authenticator_id)
        except ProtocolError:
            raise StepFailed("unknown_authenticator") from None
        extra = {
            "rp_id": record.rp_id,
            "origins": login_origins(services.config.issuer_url, record.rp_id),
        }
        begin_login(ctx, KIND, extra)

    def page(self, ctx: StepContext) -> StepPage:
        flow = ctx.flow
        assert flow.transaction_id
        assert flow.authenticator_id
        services = ctx.services
        record = chip_plugin().records(services.store).get(flow.authenticator_id)
        challenge = services.login.pending(flow.transaction_id).challenge
        return StepPage(
            "steps/chip.html",
            {
                "chip_id": record.name,
                "rp_id": record.rp_id,
                "webauthn_challenge": b64(client_challenge(challenge)),
                "allow": b64(record.credential_id),
                "user_verification": "required" if record.uv_required else "discouraged",
                "timeout_ms": TIMEOUT_MS,
                "script_url": SCRIPT_URL,
                "fields": ASSERTION_FIELDS,
            },
        )

    def submit(self, ctx: StepContext, form: Mapping[str, str]) -> Outcome:
        flow = ctx.flow
        assert flow.transaction_id
        assert flow.authenticator_id
        password = password_of(form)
        if password is None:
            return Outcome.retry("password_missing", restart=False)
        if form.get("chip_error"):
            return Outcome.retry("chip_error", restart=False)
        if not all(form.get(name) for name in ASSERTION_FIELDS):
            return Outcome.retry("chip_missing", restart=False)
        payload = {name: form[name] for name in ASSERTION_FIELDS}
        if form.get("user_handle"):
            payload["user_handle"] = form["user_handle"]
        response = ChipResponse(flow.transaction_id, KIND, flow.authenticator_id, payload)
        try:
            result = ctx.services.login.complete(flow.transaction_id, response, password)
        except CoreError:
            return Outcome.failed("expired")
        return outcome_of(result, retry=RETRYABLE)

    # -- enrollment ----------------------------------------------------------------------------

    def enroll_fields(self, kind: str) -> dict[str, Any]:
        return {
            "name": {"type": "string", "maxLength": 64, "description": "the chip's name"},
            "device": {
                "type": "string",
                "pattern": "^sim:([A-Za-z0-9][A-Za-z0-9._-]{0,63})?$",
                "description": "a simulated chip to register on (default: sim:NAME)",
            },
            "rp_id": {
                "type": "string",
                "pattern": "^[a-z0-9]([a-z0-9.-]{0,62})$",
                "description": f"the WebAuthn RP ID (default {DEFAULT_RP_ID}: the login page "
                "must then be opened as http://localhost:PORT)",
            },
            "credential_id": {
                "type": "string",
                "maxLength": 1400,
                "description": "a credential made elsewhere (base64url), with public_key",
            },
            "public_key": {
                "type": "string",
                "maxLength": 1400,
                "description": "its COSE public key (CBOR, base64url)",
            },
            "sign_count": {"type": "integer", "minimum": 0, "maximum": 4294967295},
        }

    def enroll(self, services: Services, kind: str, user_id: str, fields: Fields) -> dict[str, Any]:
        plugin = chip_plugin()
        identity = services.identities.get(user_id)
        rp_id = fields.text("rp_id", max_length=64) or DEFAULT_RP_ID
        name = fields.text("name", max_length=64) or free_name(
            identity.user_id, "chip", chip_plugin().records(services.store).exists
        )
        device = fields.text("device", max_length=80)
        credential = fields.text("credential_id", max_length=1400)
        public_key = fields.text("public_key", max_length=1400)
        count = fields.number("sign_count", minimum=0, maximum=2**32 - 1) or 0
        records = plugin.records(services.store)
        if records.exists(name):
            raise ApiError(409, "conflict", f"a chip named {name!r} is enrolled already")
        if credential is not None or public_key is not None:
            if device is not None:
                raise ApiError(
                    400, "invalid_request", "give 'device' or 'credential_id' and 'public_key'"
                )
            record = _external(services, name, rp_id, credential, public_key, int(count))
        else:
            uri = device or f"sim:{name}"
            if not uri.startswith("sim:"):
                raise ApiError(400, "invalid_request", "field 'device' must be sim: or sim:NAME")
            try:
                record = plugin.records(services.store).get(
                    plugin.enroll(
                        services.store,
                        services.clock,
                        ChipOptions(uri, name=name, rp_id=rp_id, user_name=identity.user_id),
                    ).authenticator_id
                )
            except (ChipHostError, HalError) as exc:
                raise ApiError(
                    409 if "enrolled already" in exc.message else 400,
                    "invalid_request",
                    exc.message,
                ) from None
        try:
            services.identities.add_authenticator(identity.user_id, KIND, record.name)
        except CoreError:
            records.delete(record.name)
            raise
        data = record.to_dict()
        return {"kind": KIND, "id": record.name, **data}

    # -- routes --------------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        return [script_route(SCRIPT_URL, "chip_step.js")]

    def endpoints(self) -> list[Endpoint]:
        from authenticators.server.steps.chip.control import ENDPOINTS

        return ENDPOINTS


def _external(
    services: Services,
    name: str,
    rp_id: str,
    credential: str | None,
    public_key: str | None,
    count: int,
) -> ChipRecord:
    """A credential a browser or platform authenticator made: kept by its public key."""
    if not credential or not public_key:
        raise ApiError(
            400, "invalid_request", "a credential made elsewhere needs credential_id and public_key"
        )
    try:
        credential_id = unb64(credential)
        cose = unb64(public_key)
    except (ValueError, binascii.Error):
        raise ApiError(
            400, "invalid_request", "credential_id and public_key are base64url"
        ) from None
    try:
        from fido2 import cbor
        from fido2.cose import CoseKey

        decoded = cbor.decode(cose)
        if not isinstance(decoded, Mapping):
            raise ValueError("not a map")
        CoseKey.parse(decoded)
    except Exception:  # anything the caller's bytes provoke
        raise ApiError(400, "invalid_request", "public_key is not a COSE public key") from None
    if not credential_id:
        raise ApiError(400, "invalid_request", "credential_id is empty")
    record = ChipRecord(
        name=name,
        uri="external:",
        rp_id=rp_id,
        credential_id=credential_id,
        public_key=cose,
        aaguid="00000000-0000-0000-0000-000000000000",
        attestation={
            "status": "none",
            "format": "none",
            "aaguid": "",
            "subject": None,
            "detail": "registered by its public key",
        },
        user_handle=hashlib.sha256(name.encode()).digest()[:16],
        resident=False,
        uv_required=False,
        sign_count=count,
        last_used=None,
        created_at=services.clock.now(),
    )
    return chip_plugin().records(services.store).add(record)


step = ChipStep()
