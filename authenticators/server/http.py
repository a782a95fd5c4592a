"""Request bodies read with a size limit, and errors as JSON: what every endpoint shares."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse

FORM_TYPE = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"
MAX_FIELDS = 100
MAX_NESTING = 32
_OPENERS = frozenset(b"[{")
_CLOSERS = frozenset(b"]}")


def _nesting(body: bytes) -> int:
    """How deep arrays and objects nest in a JSON text (strings skipped), without parsing it."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in _OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        elif byte in _CLOSERS:
            depth -= 1
    return deepest


class ApiError(Exception):
    """A refusal to answer as ``{"error": ..., "error_description": ...}`` with a 4xx status."""

    def __init__(
        self,
        status: int,
        error: str,
        description: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        return error_response(self.status, self.error, self.description, self.headers)


def error_response(
    status: int, error: str, description: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 past ``limit`` bytes (declared or actually sent)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise ApiError(400, "invalid_request", "Content-Length is not a number")
        if int(declared) > limit:
            raise ApiError(413, "request_too_large", f"the body is over the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "request_too_large", f"the body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_form(request: Request, limit: int) -> list[tuple[str, str]]:
    """An ``application/x-www-form-urlencoded`` body as (name, value) pairs."""
    body = await read_body(request, limit)
    if not body:
        return []
    if media_type(request) != FORM_TYPE:
        raise ApiError(
            415, "invalid_request", f"send the form as {FORM_TYPE}, not {media_type(request)!r}"
        )
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "invalid_request", "the form is not valid UTF-8 url-encoding") from None
    if len(pairs) > MAX_FIELDS:
        raise ApiError(400, "invalid_request", f"a form has at most {MAX_FIELDS} fields")
    if any("\x00" in k or "\x00" in v for k, v in pairs):
        raise ApiError(400, "invalid_request", "the form contains NUL characters")
    return pairs


async def read_json(request: Request, limit: int) -> dict[str, Any]:
    """A JSON object body; anything else is a 4xx that says what was wrong."""
    body = await read_body(request, limit)
    if not body and not media_type(request):
        return {}  # no body at all: every field takes its default
    if media_type(request) != JSON_TYPE:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"send JSON with Content-Type: {JSON_TYPE} (got {media_type(request) or 'none'!r})",
        )
    if not body.strip():
        return {}
    depth = _nesting(body) if body.count(b"[") + body.count(b"{") > MAX_NESTING else 0
    if depth > MAX_NESTING:
        raise ApiError(
            400, "invalid_json", f"the JSON is nested {depth} levels deep; at most {MAX_NESTING}"
        )
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "the body must be a JSON object")
    return data


def query_pairs(request: Request) -> list[tuple[str, str]]:
    pairs = list(request.query_params.multi_items())
    if len(pairs) > MAX_FIELDS:
        raise ApiError(400, "invalid_request", f"at most {MAX_FIELDS} query parameters")
    if any("\x00" in k or "\x00" in v for k, v in pairs):
        raise ApiError(400, "invalid_request", "the query contains NUL characters")
    return pairs


class Fields:
    """Typed access to a JSON object's fields, each mistake a 400 naming the field."""

    def __init__(self, data: dict[str, Any], allowed: set[str] | None = None) -> None:
        self.data = data
        if allowed is not None:
            unknown = sorted(set(data) - allowed)
            if unknown:
                raise ApiError(
                    400,
                    "invalid_request",
                    f"unknown field {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}",
                )

    def _get(self, name: str, kind: type | tuple[type, ...], label: str, required: bool) -> Any:
        if name not in self.data or self.data[name] is None:
            if required:
                raise ApiError(400, "invalid_request", f"field {name!r} is required")
            return None
        value = self.data[name]
        if isinstance(value, bool) and kind is not bool:
            raise ApiError(400, "invalid_request", f"field {name!r} must be {label}")
        if not isinstance(value, kind):
            raise ApiError(400, "invalid_request", f"field {name!r} must be {label}")
        return value

    def text(self, name: str, *, required: bool = False, max_length: int = 1000) -> str | None:
        value: str | None = self._get(name, str, "a string", required)
        if value is not None and len(value) > max_length:
            raise ApiError(
                400, "invalid_request", f"field {name!r} is longer than {max_length} characters"
            )
        if value is not None and "\x00" in value:
            raise ApiError(400, "invalid_request", f"field {name!r} contains NUL characters")
        return value

    def req_text(self, name: str, *, max_length: int = 1000) -> str:
        value = self.text(name, required=True, max_length=max_length)
        assert value is not None
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        value = self._get(name, bool, "true or false", False)
        return default if value is None else bool(value)

    def number(
        self, name: str, *, minimum: float | None = None, maximum: float | None = None
    ) -> float | None:
        value = self._get(name, (int, float), "a number", False)
        if value is None:
            return None
        number = float(value)
        if number != number or number in (float("inf"), float("-inf")):
            raise ApiError(400, "invalid_request", f"field {name!r} must be a finite number")
        if minimum is not None and number < minimum:
            raise ApiError(400, "invalid_request", f"field {name!r} must be at least {minimum}")
        if maximum is not None and number > maximum:
            raise ApiError(400, "invalid_request", f"field {name!r} must be at most {maximum}")
        return number

    def texts(self, name: str, *, max_items: int = 50, max_length: int = 2000) -> list[str] | None:
        value = self._get(name, list, "a list of strings", False)
        if value is None:
            return None
        if len(value) > max_items:
            raise ApiError(
                400, "invalid_request", f"field {name!r} has more than {max_items} items"
            )
        for item in value:
            if not isinstance(item, str) or len(item) > max_length or "\x00" in item:
                raise ApiError(
                    400, "invalid_request", f"field {name!r} must be a list of short strings"
                )
        return list(value)

    def objects(self, name: str, *, max_items: int = 20) -> list[dict[str, Any]]:
        value = self._get(name, list, "a list of objects", False)
        if value is None:
            return []
        if len(value) > max_items:
            raise ApiError(
                400, "invalid_request", f"field {name!r} has more than {max_items} items"
            )
        if not all(isinstance(item, dict) for item in value):
            raise ApiError(400, "invalid_request", f"field {name!r} must be a list of objects")
        return [dict(item) for item in value]
