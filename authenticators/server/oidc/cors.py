"""CORS for the endpoints a single-page app calls itself: discovery, JWKS, token, userinfo, ...

An origin is allowed when a registered client has a redirect URI there, or when the server was
told to allow it (``serve --cors-origin``). Preflights (``OPTIONS``) are answered here; the
answers carry ``Vary: Origin`` and never allow credentials (these endpoints use no cookies).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from authenticators.server.api import on_loop, services_of
from authenticators.server.context import Services
from authenticators.server.http import error_response

Endpoint = Callable[[Request], Awaitable[Response]]
OriginCheck = Callable[[Services, str], bool]

ALLOWED_HEADERS = "Authorization, Content-Type, DPoP"
MAX_AGE = "600"


def origin_of(uri: str) -> str | None:
    """``scheme://host[:port]`` of a URL, lower-case; None for what has no web origin."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    default = {"http": 80, "https": 443}[parts.scheme]
    suffix = f":{port}" if port is not None and port != default else ""
    return f"{parts.scheme}://{host.lower()}{suffix}"


def client_origins(redirect_uris: Iterable[str]) -> set[str]:
    return {o for o in (origin_of(u) for u in redirect_uris) if o}


def registered_origin(services: Services, origin: str) -> bool:
    """Whether the generic issuer allows ``origin``: a client's redirect URI or configured."""
    if origin in services.config.cors_origins:
        return True
    return any(origin in client_origins(c.redirect_uris) for c in services.clients.list())


def cors_route(
    path: str,
    endpoint: Endpoint,
    methods: list[str],
    allowed: OriginCheck = registered_origin,
) -> Route:
    """A route whose answers a page on an allowed origin may read (preflight included)."""
    allow_methods = ", ".join([*methods, "OPTIONS"])

    async def with_cors(request: Request) -> Response:
        origin = request.headers.get("origin")
        ok = False
        if origin and len(origin) <= 256:
            ok = await on_loop(allowed, services_of(request), origin.lower())
        if request.method == "OPTIONS":
            if not ok:
                return error_response(
                    403,
                    "invalid_request",
                    "this origin may not call the endpoint",
                    {"Vary": "Origin"},
                )
            response: Response = Response(status_code=204)
            response.headers["Access-Control-Allow-Methods"] = allow_methods
            response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            response.headers["Access-Control-Max-Age"] = MAX_AGE
        else:
            response = await endpoint(request)
        if origin:
            response.headers["Vary"] = "Origin"
        if ok and origin:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = "WWW-Authenticate"
        return response

    return Route(path, with_cors, methods=[*methods, "OPTIONS"])
