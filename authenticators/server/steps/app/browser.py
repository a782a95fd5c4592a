"""The app step page's own routes, under the browser's cookie (not the admin token): its
script, the poll of the login screen and the QR frames as PNG images."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from authenticators.app.inbox import StateExchange
from authenticators.core.errors import CoreError
from authenticators.protocol import ProtocolError
from authenticators.server.api import (
    on_loop,
    services_of,
)
from authenticators.server.context import Services
from authenticators.server.flows import STEP, Flow
from authenticators.server.steps.app.screen import KIND, json_response, png, screen_status
from authenticators.server.steps.base import (
    script_route,
)

SCRIPT_URL = "/static/app-step.js"


# -- the page's own routes (the browser's cookie, not the admin token) ---------------------------


def _browser_flow(services: Services, request: Request) -> Flow | None:
    from authenticators.server.oidc.endpoints import BROWSER_COOKIE

    flow = services.flows.get(str(request.path_params.get("flow", "")))
    if flow is None or not flow.check_browser(request.cookies.get(BROWSER_COOKIE)):
        return None
    if flow.stage != STEP or flow.kind != KIND or not flow.transaction_id:
        return None
    return flow


async def poll(request: Request) -> Response:
    """The page's poll: pending, answered, expired or closed, and the frames shown now."""
    services = services_of(request)

    def work() -> Response:
        flow = _browser_flow(services, request)
        if flow is None:
            return json_response({"status": "gone"}, 404)
        try:
            return json_response(screen_status(services, flow))
        except (CoreError, ProtocolError):
            return json_response({"status": "closed"})

    return await on_loop(work)


async def qr_png(request: Request) -> Response:
    """One QR frame of one update of the flow's login screen, as a PNG."""
    services = services_of(request)
    update = int(request.path_params["update"])
    part = int(request.path_params["part"])

    def work() -> Response:
        flow = _browser_flow(services, request)
        if flow is None or part not in (1, 2):
            return Response(status_code=404, headers={"Cache-Control": "no-store"})
        assert flow.transaction_id
        try:
            session = StateExchange(services.store).session(flow.transaction_id)
        except ProtocolError:
            return Response(status_code=404, headers={"Cache-Control": "no-store"})
        for shown in session.screen.updates:
            if shown.update == update:
                payload = shown.frames()[part - 1].payload()
                return Response(
                    png(payload), media_type="image/png", headers={"Cache-Control": "no-store"}
                )
        return Response(status_code=404, headers={"Cache-Control": "no-store"})

    return await on_loop(work)


def routes() -> list[BaseRoute]:
    return [
        script_route(SCRIPT_URL, "app_step.js"),
        Route("/login/{flow}/app/status", poll, methods=["GET"]),
        Route("/login/{flow}/app/qr/{update:int}/{part:int}.png", qr_png, methods=["GET"]),
    ]
