"""The emulator control API under ``/emulator/``: JSON, guarded by the admin token.

Create, list and delete identities and companies; enroll authenticators of every kind that has a
login step; read a code token's current code; list pending logins; freeze and move the clock;
register clients; rotate keys; reset everything. Described by ``/emulator/openapi.json``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from authenticators import registry
from authenticators.core.identities import Identity
from authenticators.server.api import (
    Endpoint,
    Schema,
    object_schema,
    off_loop,
    path_param,
    services_of,
)
from authenticators.server.context import Services
from authenticators.server.http import ApiError, Fields, read_json

# Kept by a reset: the signing keys (clients cache the JWKS), the admin token, schema versions.
KEEP_ON_RESET = {
    "schema_versions",
    "signing_keys",
    "broker_keys",
    "server_settings",
    "emulator_clock",
    "nemlogin_keys",
}


def _json(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers={"Cache-Control": "no-store"})


def identity_json(services: Services, identity: Identity) -> dict[str, Any]:
    data = identity.to_dict(with_cpr=True)
    data["organisations"] = [m.to_dict() for m in services.organisations.memberships(identity.uuid)]
    return data


_STR: Schema = {"type": "string"}
_CHANGES = (400, 401, 404, 409, 413, 415)  # what a call with a JSON body may be refused with


# -- identities ------------------------------------------------------------------------------


async def list_identities(request: Request, services: Services) -> Response:
    def work() -> list[dict[str, Any]]:
        return [identity_json(services, i) for i in services.identities.list()]

    return _json({"identities": await off_loop(work)})


async def create_identity(request: Request, services: Services) -> Response:
    fields = await CREATE_IDENTITY.fields(request, services)
    user_id = fields.req_text("user_id", max_length=64)
    name = fields.req_text("name", max_length=200)
    password = fields.text("password", max_length=256)
    cpr = fields.text("cpr", max_length=16)
    birthdate = fields.text("birthdate", max_length=16)
    wanted = fields.objects("authenticators")
    orgs = fields.objects("organisations")

    # A step that talks to a simulated device (whose firmware writes the state from a thread of
    # its own) enrolls after the identity's transaction; if it fails, the identity goes again.
    later = [w for w in wanted if _enrolls_alone(services, w)]
    at_once = [w for w in wanted if not _enrolls_alone(services, w)]

    def work() -> dict[str, Any]:
        hashed = services.identities.hash_password(password) if password is not None else None
        with services.store.transaction():  # the password was hashed before the write lock
            identity = services.identities.create(
                user_id, name, birthdate=birthdate, cpr=cpr, password_hash=hashed
            )
            enrolled = [_enroll(services, identity.user_id, Fields(w)) for w in at_once]
            for org in orgs:
                _join(services, identity.user_id, Fields(org, {"cvr", "name", "roles"}))
        try:
            enrolled += [_enroll(services, identity.user_id, Fields(w)) for w in later]
        except BaseException:
            services.identities.delete(identity.user_id)
            raise
        data = identity_json(services, services.identities.get(identity.user_id))
        data["enrolled"] = enrolled
        return data

    return _json(await off_loop(work), 201)


async def get_identity(request: Request, services: Services) -> Response:
    user_id = path_param(request, "user_id")

    def work() -> dict[str, Any]:
        return identity_json(services, services.identities.get(user_id))

    return _json(await off_loop(work))


async def delete_identity(request: Request, services: Services) -> Response:
    user_id = path_param(request, "user_id")
    await off_loop(services.identities.delete, user_id)
    return _json({"deleted": user_id})


# -- authenticators ----------------------------------------------------------------------------


def _enroll(services: Services, user_id: str, fields: Fields) -> dict[str, Any]:
    kind = fields.req_text("kind", max_length=32)
    step = services.steps.get(kind)
    if step is None:
        known = ", ".join(sorted(services.steps)) or "none"
        raise ApiError(
            404, "not_found", f"no login step for authenticator kind {kind!r}; known: {known}"
        )
    allowed = {"kind", *step.enroll_fields(kind)}
    return step.enroll(services, kind, user_id, Fields(fields.data, allowed))


def _enrolls_alone(services: Services, wanted: dict[str, Any]) -> bool:
    step = services.steps.get(str(wanted.get("kind")))
    return bool(getattr(step, "enrolls_outside_transaction", False))


async def add_authenticator(request: Request, services: Services) -> Response:
    user_id = path_param(request, "user_id")
    fields = Fields(await read_json(request, services.config.body_limit))  # _enroll checks them
    return _json(await off_loop(_enroll, services, user_id, fields), 201)


async def remove_authenticator(request: Request, services: Services) -> Response:
    user_id = path_param(request, "user_id")
    kind = path_param(request, "kind")
    auth_id = path_param(request, "authenticator_id")
    await off_loop(services.identities.remove_authenticator, user_id, kind, auth_id)
    return _json({"removed": {"user_id": user_id, "kind": kind, "id": auth_id}})


async def list_kinds(request: Request, services: Services) -> Response:
    kinds = [
        {"kind": kind, "amr": registry.get(kind).amr, "login_step": kind in services.steps}
        for kind in registry.kinds()
    ]
    return _json({"kinds": kinds})


# -- organisations -----------------------------------------------------------------------------


async def list_organisations(request: Request, services: Services) -> Response:
    orgs = await off_loop(services.organisations.list)
    return _json({"organisations": [o.to_dict() for o in orgs]})


async def create_organisation(request: Request, services: Services) -> Response:
    fields = await CREATE_ORGANISATION.fields(request, services)
    cvr = fields.req_text("cvr", max_length=16)
    name = fields.req_text("name", max_length=200)
    org = await off_loop(services.organisations.create, cvr, name)
    return _json(org.to_dict(), 201)


async def delete_organisation(request: Request, services: Services) -> Response:
    cvr = path_param(request, "cvr")
    await off_loop(services.organisations.delete, cvr)
    return _json({"deleted": cvr})


def _join(services: Services, user_id: str, fields: Fields) -> None:
    cvr = fields.req_text("cvr", max_length=16)
    name = fields.text("name", max_length=200)
    roles = fields.texts("roles", max_items=32, max_length=64) or []
    with services.store.transaction():
        if name is not None and cvr not in {o.cvr for o in services.organisations.list()}:
            services.organisations.create(cvr, name)
        services.organisations.add_member(user_id, cvr, roles)


async def add_membership(request: Request, services: Services) -> Response:
    user_id = path_param(request, "user_id")
    cvr = path_param(request, "cvr")
    fields = await ADD_MEMBERSHIP.fields(request, services)
    roles = fields.texts("roles", max_items=32, max_length=64) or []

    def work() -> dict[str, Any]:
        services.organisations.add_member(user_id, cvr, roles)
        return identity_json(services, services.identities.get(user_id))

    return _json(await off_loop(work))


async def remove_membership(request: Request, services: Services) -> Response:
    user_id = path_param(request, "user_id")
    cvr = path_param(request, "cvr")
    await off_loop(services.organisations.remove_member, user_id, cvr)
    return _json({"removed": {"user_id": user_id, "cvr": cvr}})


# -- clients -----------------------------------------------------------------------------------


async def list_clients(request: Request, services: Services) -> Response:
    clients = await off_loop(services.clients.list)
    return _json({"clients": [c.to_dict() for c in clients]})


async def create_client(request: Request, services: Services) -> Response:
    fields = await CREATE_CLIENT.fields(request, services)
    client_id = fields.req_text("client_id", max_length=128)
    uris = fields.texts("redirect_uris", max_items=20, max_length=2000)
    if not uris:
        raise ApiError(400, "invalid_request", "field 'redirect_uris' needs at least one URI")
    public = fields.flag("public")
    secret = fields.text("client_secret", max_length=512)
    name = fields.text("name", max_length=200)
    scopes = fields.texts("scopes", max_items=10, max_length=64)
    jwks = fields.data.get("jwks")

    def work() -> dict[str, Any]:
        client, made = services.clients.add(
            client_id,
            uris,
            name=name,
            public=public,
            secret=secret,
            scopes=scopes,
            source="api",
            jwks=jwks,
        )
        data = client.to_dict()
        if made is not None and secret is None:  # shown once when the server made it
            data["client_secret"] = made
        return data

    return _json(await off_loop(work), 201)


async def delete_client(request: Request, services: Services) -> Response:
    client_id = path_param(request, "client_id")
    await off_loop(services.clients.remove, client_id)
    return _json({"deleted": client_id})


# -- logins, clock, keys, reset ----------------------------------------------------------------


async def pending_logins(request: Request, services: Services) -> Response:
    kind = request.query_params.get("kind")

    def work() -> list[dict[str, Any]]:
        return [
            {
                "transaction_id": login.transaction_id,
                "user_id": login.user_id,
                "kind": login.kind,
                "level": login.level.value,
                "service_provider": login.challenge.service_provider,
                "reference_text": {
                    "header": login.challenge.reference_text.header.value,
                    "body": login.challenge.reference_text.body,
                },
                "created_at": login.created_at,
                "expires_at": login.expires_at,
            }
            for login in services.login.open_logins(kind or None)
        ]

    return _json({"logins": await off_loop(work)})


def _clock_json(services: Services) -> dict[str, Any]:
    setting = services.clock.setting()
    return {
        "now": services.clock.now(),
        "frozen": setting.frozen_at is not None,
        "offset": setting.offset,
    }


async def get_clock(request: Request, services: Services) -> Response:
    return _json(await off_loop(_clock_json, services))


async def set_clock(request: Request, services: Services) -> Response:
    fields = await SET_CLOCK.fields(request, services)
    at = fields.number("at", minimum=0, maximum=4_102_444_800)  # up to year 2100
    advance = fields.number("advance", minimum=-10 * 365 * 86400, maximum=10 * 365 * 86400)
    reset = fields.flag("reset")
    freeze = fields.data.get("freeze")
    if freeze is not None and not isinstance(freeze, bool):
        raise ApiError(400, "invalid_request", "field 'freeze' must be true or false")

    def work() -> dict[str, Any]:
        clock = services.clock
        with services.store.transaction():
            if reset:
                clock.reset()
            if freeze is True:
                clock.freeze(at)
            elif at is not None:
                clock.set(at)
            if freeze is False:
                clock.unfreeze()
            if advance is not None:
                clock.advance(advance)
        return _clock_json(services)

    return _json(await off_loop(work))


async def rotate_keys(request: Request, services: Services) -> Response:
    def work() -> dict[str, Any]:
        kid = services.keys.rotate(keep_published=services.config.token_lifetime + 60)
        services.keyring.refresh()
        return {"active": kid, "keys": [k.to_dict() for k in services.keys.list()]}

    return _json(await off_loop(work))


def reset_state(services: Services) -> None:
    """Forget every identity, token, company, client, login and audit record."""
    with services.store.transaction():
        services.store.clear(keep=KEEP_ON_RESET)
        services.clock.reset()
    if services.config.clients_file:
        from pathlib import Path

        services.clients.load_file(Path(services.config.clients_file))


async def reset(request: Request, services: Services) -> Response:
    await off_loop(reset_state, services)
    return _json({"reset": True})


async def openapi(request: Request) -> Response:
    from authenticators.server.openapi import openapi_document  # it describes ENDPOINTS below

    return JSONResponse(openapi_document(services_of(request)))


# -- the declarations: routes and the OpenAPI document are made from them ----------------------

_USER_ID: Schema = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$"}
_NAME: Schema = {"type": "string", "minLength": 1, "maxLength": 200}
_CVR_PARAM: Schema = {"type": "string", "minLength": 1, "maxLength": 16}
_ENROLL: Schema = {"$ref": "#/components/schemas/Enroll"}

CREATE_IDENTITY = Endpoint(
    "POST",
    "/emulator/identities",
    create_identity,
    "Create an identity (with authenticators and companies)",
    body=object_schema(
        {
            "user_id": _USER_ID,
            "name": _NAME,
            "password": {"type": "string", "minLength": 8, "maxLength": 256},
            "cpr": {"type": "string", "pattern": "^[0-9]{6}-?[0-9]{4}$"},
            "birthdate": {"type": "string", "format": "date"},
            "authenticators": {"type": "array", "maxItems": 4, "items": _ENROLL},
            "organisations": {
                "type": "array",
                "maxItems": 4,
                "items": object_schema(
                    {
                        "cvr": {"type": "string", "pattern": "^[1-9][0-9]{7}$"},
                        "name": _NAME,
                        "roles": {"type": "array", "items": _STR, "maxItems": 8},
                    },
                    ["cvr"],
                ),
            },
        },
        ["user_id", "name"],
    ),
    body_required=True,
    ok="created",
    created=True,
    errors=_CHANGES,
)
ADD_MEMBERSHIP = Endpoint(
    "PUT",
    "/emulator/identities/{user_id}/organisations/{cvr}",
    add_membership,
    "Let the identity act for the company, with roles",
    body=object_schema({"roles": {"type": "array", "items": _STR, "maxItems": 32}}),
    errors=(400, 401, 404, 413, 415),
    params={"cvr": _CVR_PARAM},
)
CREATE_ORGANISATION = Endpoint(
    "POST",
    "/emulator/organisations",
    create_organisation,
    "Create a company (MitID Erhverv)",
    body=object_schema(
        {"cvr": {"type": "string", "pattern": "^(DK)?[1-9][0-9]{7}$"}, "name": _NAME},
        ["cvr", "name"],
    ),
    body_required=True,
    ok="created",
    created=True,
    errors=(400, 401, 409, 413, 415),
)
CREATE_CLIENT = Endpoint(
    "POST",
    "/emulator/clients",
    create_client,
    "Register an OIDC client (the secret is returned once)",
    body=object_schema(
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
            "scopes": {
                "type": "array",
                "items": {
                    "type": "string",
                    "enum": ["openid", "profile", "ssn", "mitid_erhverv", "offline_access"],
                },
            },
            "jwks": {
                "type": "object",
                "description": "public keys: private_key_jwt, request objects",
                "properties": {"keys": {"type": "array", "maxItems": 10}},
            },
        },
        ["client_id", "redirect_uris"],
    ),
    body_required=True,
    ok="created",
    created=True,
    errors=(400, 401, 409, 413, 415),
)
SET_CLOCK = Endpoint(
    "POST",
    "/emulator/clock",
    set_clock,
    "Freeze, unfreeze, set or move the clock",
    body=object_schema(
        {
            "freeze": {"type": "boolean"},
            "at": {"type": "number", "minimum": 0, "maximum": 4102444800},
            "advance": {"type": "number", "minimum": -315360000, "maximum": 315360000},
            "reset": {"type": "boolean"},
        }
    ),
    body_required=True,
    errors=(400, 401, 413, 415),
)

ENDPOINTS = [
    Endpoint("GET", "/emulator/identities", list_identities, "List identities"),
    CREATE_IDENTITY,
    Endpoint(
        "GET", "/emulator/identities/{user_id}", get_identity, "Show an identity", errors=(401, 404)
    ),
    Endpoint(
        "DELETE",
        "/emulator/identities/{user_id}",
        delete_identity,
        "Delete an identity",
        errors=(401, 404),
    ),
    Endpoint(
        "POST",
        "/emulator/identities/{user_id}/authenticators",
        add_authenticator,
        "Enroll a new authenticator for the identity",
        body=_ENROLL,
        body_required=True,
        ok="enrolled",
        created=True,
        errors=_CHANGES,
    ),
    Endpoint(
        "DELETE",
        "/emulator/identities/{user_id}/authenticators/{kind}/{authenticator_id}",
        remove_authenticator,
        "Unlink an authenticator",
        errors=(401, 404),
    ),
    ADD_MEMBERSHIP,
    Endpoint(
        "DELETE",
        "/emulator/identities/{user_id}/organisations/{cvr}",
        remove_membership,
        "Stop the identity acting for the company",
        errors=(400, 401, 404),
        params={"cvr": _CVR_PARAM},
    ),
    Endpoint("GET", "/emulator/kinds", list_kinds, "Authenticator kinds and their login steps"),
    Endpoint("GET", "/emulator/organisations", list_organisations, "List companies"),
    CREATE_ORGANISATION,
    Endpoint(
        "DELETE",
        "/emulator/organisations/{cvr}",
        delete_organisation,
        "Delete a company",
        errors=(400, 401, 404),
        params={"cvr": _CVR_PARAM},
    ),
    Endpoint("GET", "/emulator/clients", list_clients, "List OIDC clients"),
    CREATE_CLIENT,
    Endpoint(
        "DELETE",
        "/emulator/clients/{client_id}",
        delete_client,
        "Remove an OIDC client",
        errors=(401, 404),
        params={"client_id": {"type": "string", "minLength": 1, "maxLength": 128}},
    ),
    Endpoint(
        "GET",
        "/emulator/logins",
        pending_logins,
        "Pending logins (what an app would be asked to approve)",
        query={"kind": _STR},
    ),
    Endpoint("GET", "/emulator/clock", get_clock, "The emulator's clock"),
    SET_CLOCK,
    Endpoint("POST", "/emulator/keys/rotate", rotate_keys, "Rotate the ID token signing key"),
    Endpoint("POST", "/emulator/reset", reset, "Forget everything but the keys"),
]


def routes() -> list[BaseRoute]:
    return [
        Route("/emulator/openapi.json", openapi, methods=["GET"]),
        *(endpoint.route() for endpoint in ENDPOINTS),
    ]
