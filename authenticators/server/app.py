"""The ASGI application: OIDC endpoints, login pages, control API, each kind's step routes."""

from __future__ import annotations

import logging
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from authenticators.server import control, identification, login, self_service, start
from authenticators.server.brokers import control as broker_control
from authenticators.server.brokers import server as brokers
from authenticators.server.config import ServerConfig
from authenticators.server.context import Services, build_services
from authenticators.server.http import error_response
from authenticators.server.nemlogin import endpoints as nemlogin
from authenticators.server.oidc import endpoints
from authenticators.server.pages.render import render
from authenticators.server.pages.strings import pick_language
from authenticators.store import Checkpointer, Store

log = logging.getLogger("mitid_emulator.server")

_JSON_PREFIXES = ("/emulator", "/token", "/userinfo", "/jwks", "/.well-known")


async def health(request: Request) -> Response:
    """The trivial request: what the benchmark measures the server against."""
    return PlainTextResponse("ok")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith(_JSON_PREFIXES) or exc.status_code == 405:
        error = {404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "invalid_request"
        )
        return error_response(exc.status_code, error, str(exc.detail), dict(exc.headers or {}))
    lang = pick_language(request.headers.get("accept-language"))
    return render(
        "error.html",
        lang,
        status=exc.status_code,
        error="not_found" if exc.status_code == 404 else "invalid_request",
        description=str(exc.detail),
        session_error=True,
    )


async def _server_error(request: Request, exc: Exception) -> Response:
    # The type only: an exception's text might carry something it should not.
    log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return JSONResponse(
        {"error": "server_error", "error_description": "the emulator failed; see its log"},
        status_code=500,
    )


def prepare_state(config: ServerConfig, store: Store | None = None) -> str:
    """Make the state ready before workers start: schemas, first key, clients file, admin token.

    Returns the admin token.
    """
    services = build_services(config, store)
    if config.clients_file:
        services.clients.load_file(Path(config.clients_file))
    from authenticators.server.settings import admin_token

    return admin_token(services.store, config.admin_token)


def create_app(config: ServerConfig, store: Store | None = None) -> Starlette:
    services = build_services(config, store)
    routes: list[BaseRoute] = [Route("/health", health, methods=["GET"])]
    routes += endpoints.routes()
    routes += login.routes()
    routes += control.routes()
    routes += start.routes()
    routes += identification.routes()
    routes += self_service.routes()
    routes += brokers.routes()
    routes += broker_control.routes()
    routes += nemlogin.install(services)
    seen: set[int] = set()
    for step in services.steps.values():
        if id(step) not in seen:
            seen.add(id(step))
            routes += step.routes()
            routes += [endpoint.route() for endpoint in step.endpoints()]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    # No redirect from "/path/" to "/path": Starlette builds it from the Host header.
    app.router.redirect_slashes = False
    app.state.services = services
    return app


def app_from_env() -> Starlette:
    """The factory each worker process calls (``uvicorn --factory``)."""
    app = create_app(ServerConfig.from_env())
    # Its thread lives as long as the worker process; the log left over is copied by the next
    # process to open the state.
    Checkpointer(services_of_app(app).store).start()
    return app


def services_of_app(app: Starlette) -> Services:
    services: Services = app.state.services
    return services
