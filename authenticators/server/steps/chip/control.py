"""The chip's control API: have an enrolled simulated chip sign, as a platform (the browser and
the operating system) would for the test browser."""

from __future__ import annotations

import binascii
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from authenticators.chip.errors import ChipHostError
from authenticators.chip.host import ChipHost
from authenticators.chip.webauthn import b64, unb64
from authenticators.hal import HalError, open_device
from authenticators.server.api import Endpoint, object_schema, off_loop, path_param
from authenticators.server.context import Services
from authenticators.server.http import ApiError
from authenticators.server.steps.chip.login_step import chip_plugin


async def assertion(request: Request, services: Services) -> Response:
    """authenticatorGetAssertion on an enrolled simulated chip, as a platform would send it."""
    name = path_param(request, "name")
    fields = await ASSERT.fields(request, services)
    encoded = fields.req_text("client_data_hash", max_length=200)
    rp_id = fields.text("rp_id", max_length=64)
    try:
        client_data_hash = unb64(encoded)
    except (ValueError, binascii.Error):
        client_data_hash = b""
    if len(client_data_hash) != 32:
        raise ApiError(400, "invalid_request", "client_data_hash is 32 bytes, base64url")

    def work() -> dict[str, Any]:
        record = chip_plugin().records(services.store).get(name)
        if not record.uri.startswith("sim:"):
            raise ApiError(409, "conflict", f"chip {name!r} is not a simulated chip")
        with open_device(record.uri, store=services.store, clock=services.clock) as device:
            signed = ChipHost(device).get_assertion(
                rp_id or record.rp_id, client_data_hash, [record.credential_id]
            )
        used = signed.credential.get("id", record.credential_id) if signed.credential else None
        result = {
            "credential_id": b64(bytes(used or record.credential_id)),
            "authenticator_data": b64(bytes(signed.auth_data)),
            "signature": b64(bytes(signed.signature)),
        }
        if signed.user and "id" in signed.user:
            result["user_handle"] = b64(bytes(signed.user["id"]))
        return result

    try:
        return JSONResponse(await off_loop(work), headers={"Cache-Control": "no-store"})
    except (ChipHostError, HalError) as exc:
        return ApiError(409, "conflict", exc.message).response()


ASSERT = Endpoint(
    "POST",
    "/emulator/chips/{name}/assert",
    assertion,
    "Have an enrolled simulated chip sign (a platform's authenticatorGetAssertion, with the "
    "user touching the chip)",
    body=object_schema(
        {
            "client_data_hash": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,200}$"},
            "rp_id": {"type": "string", "maxLength": 64},
        },
        ["client_data_hash"],
    ),
    body_required=True,
    ok="the assertion",
    errors=(400, 401, 404, 409, 413, 415),
)
ENDPOINTS = [ASSERT]
