"""The phone's side of the app exchange over HTTP, under ``/emulator/app/``: for an app whose key
lives elsewhere (``mitid-emu app watch --server``)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from authenticators.app.answer import Answer
from authenticators.app.errors import AppRefusal
from authenticators.app.inbox import StateExchange
from authenticators.server.api import (
    Endpoint,
    object_schema,
    on_loop,
    path_param,
)
from authenticators.server.context import Services
from authenticators.server.http import ApiError, read_json
from authenticators.server.steps.app.screen import app_plugin, json_response, refusal_response

# -- the phone's side over HTTP (AppExchange) -----------------------------------------------------


def _known_app(services: Services, app_id: str) -> None:
    app_plugin().apps(services.store).get(app_id)


async def phone_inbox(request: Request, services: Services) -> Response:
    app_id = path_param(request, "app_id")

    def work() -> dict[str, Any]:
        _known_app(services, app_id)
        requests = StateExchange(services.store).inbox(app_id, services.clock.now())
        return {"requests": [r.to_wire() for r in requests]}

    return json_response(await on_loop(work))


async def phone_request(request: Request, services: Services) -> Response:
    app_id = path_param(request, "app_id")
    transaction_id = path_param(request, "transaction_id")

    def work() -> dict[str, Any]:
        _known_app(services, app_id)
        exchange = StateExchange(services.store)
        return exchange.request(transaction_id, app_id, services.clock.now()).to_wire()

    try:
        return json_response(await on_loop(work))
    except AppRefusal as exc:
        return refusal_response(exc)


async def phone_scan(request: Request, services: Services) -> Response:
    app_id = path_param(request, "app_id")
    transaction_id = path_param(request, "transaction_id")
    fields = await SCAN.fields(request, services)
    update = fields.number("update", minimum=0, maximum=2**31 - 1)
    if update is None or update != int(update):
        raise ApiError(400, "invalid_request", "field 'update' must be a counter of 0 or more")

    def work() -> dict[str, Any]:
        _known_app(services, app_id)
        exchange = StateExchange(services.store)
        exchange.report_scan(transaction_id, app_id, int(update), services.clock.now())
        return {"scanned": int(update)}

    return json_response(await on_loop(work))


async def phone_screen(request: Request, services: Services) -> Response:
    """What a phone held to the login screen reads: the frames of the update shown now."""
    app_id = path_param(request, "app_id")
    transaction_id = path_param(request, "transaction_id")

    def work() -> dict[str, Any]:
        _known_app(services, app_id)
        exchange = StateExchange(services.store)
        exchange.request(transaction_id, app_id, services.clock.now())
        current = exchange.session(transaction_id).screen.current
        frames = [f.payload() for f in current.frames()] if current else []
        return {"update": current.update if current else None, "frames": frames}

    try:
        return json_response(await on_loop(work))
    except AppRefusal as exc:
        return refusal_response(exc)


async def phone_answer(request: Request, services: Services) -> Response:
    data = await read_json(request, services.config.body_limit)
    try:
        answer = Answer.from_dict(data)
    except (KeyError, TypeError, ValueError):
        raise ApiError(400, "invalid_request", "the body is not an app answer") from None
    if len(answer.signature) > 80 or len(answer.bind) > 128:
        raise ApiError(400, "invalid_request", "the body is not an app answer")

    def work() -> dict[str, Any]:
        _known_app(services, answer.app_id)
        StateExchange(services.store).submit(answer, services.clock.now())
        return {"accepted": answer.transaction_id}

    try:
        return json_response(await on_loop(work))
    except AppRefusal as exc:
        return refusal_response(exc)


_PATH = {
    "app_id": {"type": "string", "minLength": 1, "maxLength": 64},
    "transaction_id": {"type": "string", "minLength": 1, "maxLength": 64},
}
_REQUEST = "/emulator/app/apps/{app_id}/requests/{transaction_id}"

SCAN = Endpoint(
    "POST",
    f"{_REQUEST}/scan",
    phone_scan,
    "The phone has read both QR frames of an update",
    body=object_schema(
        {"update": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}}, ["update"]
    ),
    errors=(400, 401, 404, 413, 415),
    params=_PATH,
)
ENDPOINTS = [
    Endpoint(
        "GET",
        "/emulator/app/apps/{app_id}/inbox",
        phone_inbox,
        "A phone's pushes (the app's side over HTTP)",
        errors=(401, 404),
        params=_PATH,
    ),
    Endpoint(
        "GET",
        _REQUEST,
        phone_request,
        "One push to one phone",
        errors=(400, 401, 404, 409),
        params=_PATH,
    ),
    SCAN,
    Endpoint(
        "GET",
        f"{_REQUEST}/screen",
        phone_screen,
        "What a phone held to the login screen reads: the frames shown now",
        errors=(400, 401, 404, 409),
        params=_PATH,
    ),
    Endpoint(
        "POST",
        "/emulator/app/answers",
        phone_answer,
        "A phone's signed answer",
        body={"type": "object"},
        body_required=True,
        ok="accepted",
        errors=(400, 401, 404, 409, 413, 415),
    ),
]
