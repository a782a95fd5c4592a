"""The control API's frame: the admin token, the library's errors as JSON 4xx, work off the loop."""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from authenticators.core.errors import CoreError, CoreErrorCode
from authenticators.protocol import ErrorCode, ProtocolError
from authenticators.server.clients import ClientError
from authenticators.server.context import Services
from authenticators.server.http import ApiError, Fields, read_json
from authenticators.store import StoreError, StoreErrorCode

P = ParamSpec("P")
R = TypeVar("R")

Handler = Callable[[Request, Services], Awaitable[Response]]

_CORE_STATUS = {
    CoreErrorCode.UNKNOWN_IDENTITY: (404, "not_found"),
    CoreErrorCode.UNKNOWN_ORGANISATION: (404, "not_found"),
    CoreErrorCode.UNKNOWN_TRANSACTION: (404, "not_found"),
    CoreErrorCode.NOT_LINKED: (404, "not_found"),
    CoreErrorCode.DUPLICATE_IDENTITY: (409, "conflict"),
    CoreErrorCode.DUPLICATE_ORGANISATION: (409, "conflict"),
    CoreErrorCode.ALREADY_LINKED: (409, "conflict"),
}
_PROTOCOL_STATUS = {
    ErrorCode.UNKNOWN_KIND: (404, "not_found"),
    ErrorCode.UNKNOWN_AUTHENTICATOR: (404, "not_found"),
    ErrorCode.CONFLICT: (409, "conflict"),
    ErrorCode.PARALLEL_SESSION: (409, "conflict"),
}


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def as_api_error(exc: Exception) -> ApiError | None:
    """The library's error as the API's, or None for anything unexpected."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, CoreError):
        status, error = _CORE_STATUS.get(exc.code, (400, "invalid_request"))
        return ApiError(status, error, exc.message)
    if isinstance(exc, ProtocolError):
        status, error = _PROTOCOL_STATUS.get(exc.code, (400, "invalid_request"))
        return ApiError(status, error, exc.message)
    if isinstance(exc, ClientError):
        if exc.unknown:
            return ApiError(404, "not_found", exc.message)
        return ApiError(
            409 if exc.conflict else 400,
            "conflict" if exc.conflict else "invalid_request",
            exc.message,
        )
    if isinstance(exc, StoreError) and exc.code is StoreErrorCode.BUSY:
        return ApiError(503, "temporarily_unavailable", exc.message)
    return None


def check_admin(request: Request, services: Services) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or not services.admin(token.strip()):
        raise ApiError(
            401,
            "unauthorized",
            "send the admin token printed by `mitid-emu serve` as 'Authorization: Bearer TOKEN'",
            {"WWW-Authenticate": 'Bearer realm="mitid-emulator"'},
        )


def admin_endpoint(func: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Guard a control API handler with the admin token and turn errors into JSON 4xx."""

    @functools.wraps(func)
    async def endpoint(request: Request) -> Response:
        services = services_of(request)
        try:
            check_admin(request, services)
            return await func(request, services)
        except Exception as exc:
            error = as_api_error(exc)
            if error is None:
                raise
            return error.response()

    return endpoint


async def off_loop(func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run blocking work (password hashing, anything that may wait long) in the thread pool."""
    return await run_in_threadpool(func, *args, **kwargs)


async def on_loop(func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run short work on the event loop itself: a few store queries (writers queue in the store
    for well under a millisecond), a signature. A hop to the thread pool and back costs more
    than such work does; anything that may wait on a password hash goes to :func:`off_loop`.
    """
    return func(*args, **kwargs)


def path_param(request: Request, name: str) -> str:
    value: Any = request.path_params.get(name)
    if not isinstance(value, str) or not value or len(value) > 200:
        raise ApiError(404, "not_found", f"no such {name}")
    return value


# -- declared endpoints: a route and its OpenAPI description in one place ------------------------

Schema = dict[str, Any]
ERROR_SCHEMA: Schema = {"$ref": "#/components/schemas/Error"}
_PATH_PARAM: Schema = {"type": "string", "minLength": 1, "maxLength": 64}


def object_schema(
    properties: Mapping[str, Schema], required: Iterable[str] = (), *, closed: bool = True
) -> Schema:
    """A JSON object schema; ``closed`` refuses fields it does not name."""
    schema: Schema = {"type": "object"}
    wanted = list(required)
    if wanted:
        schema["required"] = wanted
    if closed:
        schema["additionalProperties"] = False
    schema["properties"] = dict(properties)
    return schema


@dataclass(frozen=True)
class Endpoint:
    """One control API operation: its handler, guarded by the admin token, and what it takes
    and answers, from which both its route and its part of the OpenAPI document are made."""

    method: str
    path: str
    handler: Handler
    summary: str
    body: Schema | None = None  # the JSON request body
    body_required: bool = False
    response: Schema = field(default_factory=lambda: {"type": "object"})
    ok: str = "OK"
    created: bool = False
    errors: tuple[int, ...] = (401,)
    params: Mapping[str, Schema] = field(default_factory=dict)  # path parameters by name
    query: Mapping[str, Schema] = field(default_factory=dict)  # optional query parameters
    required_query: Mapping[str, Schema] = field(default_factory=dict)

    def route(self) -> Route:
        return Route(self.path, admin_endpoint(self.handler), methods=[self.method])

    def fields_allowed(self) -> set[str]:
        return set((self.body or {}).get("properties", {}))

    async def fields(self, request: Request, services: Services) -> Fields:
        """The request's JSON body, refusing fields the declared body does not name."""
        data = await read_json(request, services.config.body_limit)
        return Fields(data, self.fields_allowed())

    def path_parameters(self) -> list[Schema]:
        names = re.findall(r"{(\w+)(?::\w+)?}", self.path)
        return [
            {"name": n, "in": "path", "required": True, "schema": self.params.get(n, _PATH_PARAM)}
            for n in names
        ]

    def operation(self) -> Schema:
        ok = {
            "description": self.ok,
            "content": {"application/json": {"schema": self.response}},
        }
        responses: Schema = {"201" if self.created else "200": ok}
        for code in self.errors:
            content = {"application/json": {"schema": ERROR_SCHEMA}}
            responses[str(code)] = {"description": "refused", "content": content}
        op: Schema = {"summary": self.summary}
        parameters = [
            {"name": n, "in": "query", "required": True, "schema": schema}
            for n, schema in self.required_query.items()
        ] + [
            {"name": n, "in": "query", "required": False, "schema": schema}
            for n, schema in self.query.items()
        ]
        if parameters:
            op["parameters"] = parameters
        if self.body is not None:
            op["requestBody"] = {
                "required": self.body_required,
                "content": {"application/json": {"schema": self.body}},
            }
        op["responses"] = responses
        return op


def openapi_paths(endpoints: Iterable[Endpoint]) -> dict[str, Schema]:
    """The OpenAPI path items of declared endpoints (path parameters on the path item)."""
    paths: dict[str, Schema] = {}
    for endpoint in endpoints:
        item = paths.setdefault(endpoint.path, {})
        parameters = endpoint.path_parameters()
        if parameters:
            item.setdefault("parameters", parameters)
        item[endpoint.method.lower()] = endpoint.operation()
    return paths
