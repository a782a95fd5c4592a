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
from starlette.routing import BaseRoute

from authenticators.server import api
from authenticators.server.api import Endpoint, Schema, object_schema, off_loop, path_param
from authenticators.server.brokers import dialects, issuer_path, mounts
from authenticators.server.brokers.base import Dialect
from authenticators.server.brokers.server import brokers_of
from authenticators.server.context import Services
from authenticators.server.http import ApiError, Fields, read_json

CLIENT_BODY = object_schema(
    {
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
    ["client_id", "redirect_uris"],
)
PERSON_BODY = object_schema({"protected": {"type": "boolean"}})


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
        await read_json(request, services.config.body_limit), set(CLIENT_BODY["properties"])
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
    fields = Fields(
        await read_json(request, services.config.body_limit), set(PERSON_BODY["properties"])
    )
    protected = fields.flag("protected")

    def work() -> dict[str, Any]:
        identity = services.identities.by_uuid(identity_uuid)
        brokers_of(services).persons.set_protected(identity.uuid, protected)
        return {"uuid": identity.uuid, "protected": protected}

    return _json(await off_loop(work))


def endpoints() -> list[Endpoint]:
    """The declarations (made on demand: the broker names come from the installed dialects)."""
    broker: Schema = {"type": "string", "enum": sorted(mounts())}
    return [
        Endpoint(
            "PUT",
            "/emulator/brokers/persons/{uuid}",
            set_person,
            "What brokers know of a person beyond MitID (name and address protection)",
            body=PERSON_BODY,
            body_required=True,
            errors=(400, 401, 404, 413, 415),
        ),
        Endpoint("GET", "/emulator/brokers", list_brokers, "The broker issuers"),
        Endpoint(
            "GET",
            "/emulator/brokers/{broker}/clients",
            list_clients,
            "A broker's clients",
            errors=(401, 404),
            params={"broker": broker},
        ),
        Endpoint(
            "POST",
            "/emulator/brokers/{broker}/clients",
            create_client,
            "Register a client at a broker (the secret is returned once)",
            body=CLIENT_BODY,
            body_required=True,
            created=True,
            errors=(400, 401, 404, 409, 413, 415),
            params={"broker": broker},
        ),
        Endpoint(
            "DELETE",
            "/emulator/brokers/{broker}/clients/{client_id}",
            delete_client,
            "Remove a broker's client",
            errors=(401, 404),
            params={
                "broker": broker,
                "client_id": {"type": "string", "minLength": 1, "maxLength": 128},
            },
        ),
    ]


def routes() -> list[BaseRoute]:
    return [endpoint.route() for endpoint in endpoints()]


def openapi_paths() -> dict[str, Schema]:
    return api.openapi_paths(endpoints())
