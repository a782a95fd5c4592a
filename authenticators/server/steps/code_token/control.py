"""The code tokens' control API: press a token's button and read its code."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from authenticators.server.api import Endpoint, off_loop, path_param
from authenticators.server.context import Services
from authenticators.server.steps.code_token.login_step import KINDS, code_plugin


async def current_code(request: Request, services: Services) -> Response:
    """Press the token's button and read the display, at the emulator's (shared) time.

    ``used`` says the verifier has accepted this time step's code already (a login with it would
    be refused as replayed): wait ``seconds_left``, or move the clock on.
    """
    kind = path_param(request, "kind")
    name = path_param(request, "name")
    plugin = code_plugin(kind)

    def press() -> dict[str, Any]:
        holder = plugin.authenticator(services.store, name, services.clock)
        display = holder.press()
        record = plugin.tokens(services.store).get(name)
        last = record.state.last_step
        step = record.params.step(services.clock.now())
        return {
            "kind": kind,
            "name": name,
            "serial": record.serial,
            "code": display.code,
            "seconds_left": round(display.seconds_left, 3),
            "used": last is not None and step <= last,
            "at": services.clock.now(),
        }

    return JSONResponse(await off_loop(press), headers={"Cache-Control": "no-store"})


ENDPOINTS = [
    Endpoint(
        "GET",
        "/emulator/code-tokens/{kind}/{name}/code",
        current_code,
        "Press a code token's button and read its code",
        ok="the code",
        errors=(401, 404),
        params={"kind": {"type": "string", "enum": list(KINDS)}},
    )
]
