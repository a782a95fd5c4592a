"""The control API's broker part: the issuers, and each broker's clients.

``GET /emulator/brokers`` lists every issuer; ``GET|POST /emulator/brokers/{broker}/clients`` and
``DELETE /emulator/brokers/{broker}/clients/{client_id}`` keep a broker's clients, with the two
per-client options brokers set: ``simulate`` (the no-UI path) and ``long_claims``;
``PUT /emulator/brokers/persons/{uuid}`` marks a person as name and address protected.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from authenticators.server.api import admin_endpoint, off_loop, path_param
from authenticators.server.brokers import dialects, issuer_path, mounts
from authenticators.server.brokers.base import Dialect
from authenticators.server.brokers.server import brokers_of
from authenticators.server.context import Services
from authenticators.server.http import ApiError, Fields, read_json


def _json(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers={"Cache-Control": "no-store"})


def _dialect(request: Request) -> Dialect:
    name = path_param(request, "broker")
    found = mounts().get(name)
    if found is None:
        raise ApiError(404, "not_found", f"no broker {name!r}; known: {', '.join(dialects())}")
    return found


def issuers(base_url: str) -> list[dict[str, str]]:
    """Every mounted issuer: mount name, dialect, title and issuer URL."""
    return [
        {
            "broker": mount,
            "dialect": dialect.name,
            "title": dialect.title,
            "issuer": base_url + issuer_path(mount),
        }
        for mount, dialect in mounts().items()
    ]


async def list_brokers(request: Request, services: Services) -> Response:
    return _json({"brokers": issuers(services.config.issuer_url)})


async def list_clients(request: Request, services: Services) -> Response:
    dialect = _dialect(request)
    found = await off_loop(brokers_of(services).clients.list, dialect.name)
    return _json({"clients": [c.to_dict() for c in found]})


async def create_client(request: Request, services: Services) -> Response:
    dialect = _dialect(request)
    fields = Fields(
        await read_json(request, services.config.body_limit),
        {
            "client_id",
            "redirect_uris",
            "public",
            "client_secret",
            "name",
            "scopes",
            "simulate",
            "long_claims",
        },
    )
    client_id = fields.req_text("client_id", max_length=128)
    uris = fields.texts("redirect_uris", max_items=20, max_length=2000)
    if not uris:
        raise ApiError(400, "invalid_request", "field 'redirect_uris' needs at least one URI")
    secret = fields.text("client_secret", max_length=512)
    scopes = fields.texts("scopes", max_items=20, max_length=64)

    def work() -> dict[str, Any]:
        client, made = brokers_of(services).clients.add(
            dialect.name,
            client_id,
            uris,
            supported_scopes=dialect.scopes,
            name=fields.text("name", max_length=200),
            public=fields.flag("public"),
            secret=secret,
            scopes=scopes,
            simulate=fields.flag("simulate"),
            long_claims=fields.flag("long_claims"),
        )
        data = client.to_dict()
        if made is not None and secret is None:
            data["client_secret"] = made
        return data

    return _json(await off_loop(work), 201)


async def delete_client(request: Request, services: Services) -> Response:
    dialect = _dialect(request)
    client_id = path_param(request, "client_id")
    await off_loop(brokers_of(services).clients.remove, dialect.name, client_id)
    return _json({"deleted": client_id})


async def set_person(request: Request, services: Services) -> Response:
    """``{"protected": true}``: the person has name and address protection (as CPR records)."""
    identity_uuid = path_param(request, "uuid")
    fields = Fields(await read_json(request, services.config.body_limit), {"protected"})
    protected = fields.flag("protected")

    def work() -> dict[str, Any]:
        identity = services.identities.by_uuid(identity_uuid)
        brokers_of(services).persons.set_protected(identity.uuid, protected)
        return {"uuid": identity.uuid, "protected": protected}

    return _json(await off_loop(work))


def routes() -> list[BaseRoute]:
    return [
        Route("/emulator/brokers/persons/{uuid}", admin_endpoint(set_person), methods=["PUT"]),
        Route("/emulator/brokers", admin_endpoint(list_brokers), methods=["GET"]),
        Route(
            "/emulator/brokers/{broker}/clients",
            admin_endpoint(list_clients),
            methods=["GET"],
        ),
        Route(
            "/emulator/brokers/{broker}/clients",
            admin_endpoint(create_client),
            methods=["POST"],
        ),
        Route(
            "/emulator/brokers/{broker}/clients/{client_id}",
            admin_endpoint(delete_client),
            methods=["DELETE"],
        ),
    ]


def openapi_paths() -> dict[str, Any]:
    error = {"description": "refused", "content": {"application/json": {"schema": {}}}}
    ok = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
    broker = {
        "name": "broker",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": sorted(mounts())},
    }
    client_body = {
        "type": "object",
        "required": ["client_id", "redirect_uris"],
        "additionalProperties": False,
        "properties": {
            "client_id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._:-]{2,127}$"},
            "redirect_uris": {
                "type": "array",
                "items": {"type": "string", "format": "uri"},
                "minItems": 1,
                "maxItems": 5,
            },
            "public": {"type": "boolean"},
            "client_secret": {"type": "string", "minLength": 16, "maxLength": 512},
            "name": {"type": "string", "maxLength": 200},
            "scopes": {"type": "array", "items": {"type": "string"}},
            "simulate": {"type": "boolean"},
            "long_claims": {"type": "boolean"},
        },
    }
    return {
        "/emulator/brokers/persons/{uuid}": {
            "parameters": [
                {
                    "name": "uuid",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "minLength": 1, "maxLength": 64},
                }
            ],
            "put": {
                "summary": "What brokers know of a person beyond MitID (name and address "
                "protection)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "additionalProperties": False,
                                "properties": {"protected": {"type": "boolean"}},
                            }
                        }
                    },
                },
                "responses": {
                    "200": ok,
                    **{str(c): error for c in (400, 401, 404, 413, 415)},
                },
            },
        },
        "/emulator/brokers": {
            "get": {"summary": "The broker issuers", "responses": {"200": ok, "401": error}}
        },
        "/emulator/brokers/{broker}/clients": {
            "parameters": [broker],
            "get": {
                "summary": "A broker's clients",
                "responses": {"200": ok, "401": error, "404": error},
            },
            "post": {
                "summary": "Register a client at a broker (the secret is returned once)",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": client_body}},
                },
                "responses": {
                    "201": ok,
                    **{str(c): error for c in (400, 401, 404, 409, 413, 415)},
                },
            },
        },
        "/emulator/brokers/{broker}/clients/{client_id}": {
            "parameters": [
                broker,
                {
                    "name": "client_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "minLength": 1, "maxLength": 128},
                },
            ],
            "delete": {
                "summary": "Remove a broker's client",
                "responses": {"200": ok, "401": error, "404": error},
            },
        },
    }
