"""The OpenAPI document of the control API and the OIDC endpoints (for people and fuzzers)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from authenticators import __version__
from authenticators.server.api import openapi_paths

if TYPE_CHECKING:
    from authenticators.server.context import Services

_ERROR = {"$ref": "#/components/schemas/Error"}
_STR = {"type": "string"}


def _ok(description: str = "OK", schema: dict[str, Any] | None = None) -> dict[str, Any]:
    content = {"application/json": {"schema": schema or {"type": "object"}}}
    return {"description": description, "content": content}


def _errors(*codes: int) -> dict[str, Any]:
    return {
        str(code): {"description": "refused", "content": {"application/json": {"schema": _ERROR}}}
        for code in codes
    }


def _json_body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def _path(name: str, pattern: str | None = None, max_length: int = 64) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": max_length}
    if pattern:
        schema["pattern"] = pattern
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _op(summary: str, ok: dict[str, Any], *errors: int, **extra: Any) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {"200": ok, **_errors(*errors)}}
    if extra.pop("created", False):
        op["responses"]["201"] = op["responses"].pop("200")
    op.update(extra)
    return op


def openapi_document(services: Services) -> dict[str, Any]:
    enroll_props: dict[str, Any] = {"kind": {"type": "string", "enum": sorted(services.steps)}}
    for kind, step in sorted(services.steps.items()):
        enroll_props.update(step.enroll_fields(kind))
    identity_create = {
        "type": "object",
        "required": ["user_id", "name"],
        "additionalProperties": False,
        "properties": {
            "user_id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$"},
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "password": {"type": "string", "minLength": 8, "maxLength": 256},
            "cpr": {"type": "string", "pattern": "^[0-9]{6}-?[0-9]{4}$"},
            "birthdate": {"type": "string", "format": "date"},
            "authenticators": {
                "type": "array",
                "maxItems": 4,
                "items": {"$ref": "#/components/schemas/Enroll"},
            },
            "organisations": {
                "type": "array",
                "maxItems": 4,
                "items": {
                    "type": "object",
                    "required": ["cvr"],
                    "additionalProperties": False,
                    "properties": {
                        "cvr": {"type": "string", "pattern": "^[1-9][0-9]{7}$"},
                        "name": {"type": "string", "minLength": 1, "maxLength": 200},
                        "roles": {"type": "array", "items": _STR, "maxItems": 8},
                    },
                },
            },
        },
    }
    user = _path("user_id")
    paths: dict[str, Any] = {
        "/emulator/identities": {
            "get": _op("List identities", _ok(), 401),
            "post": _op(
                "Create an identity (with authenticators and companies)",
                _ok("created"),
                400,
                401,
                404,
                409,
                413,
                415,
                created=True,
                requestBody=_json_body(identity_create),
            ),
        },
        "/emulator/identities/{user_id}": {
            "parameters": [user],
            "get": _op("Show an identity", _ok(), 401, 404),
            "delete": _op("Delete an identity", _ok(), 401, 404),
        },
        "/emulator/identities/{user_id}/authenticators": {
            "parameters": [user],
            "post": _op(
                "Enroll a new authenticator for the identity",
                _ok("enrolled"),
                400,
                401,
                404,
                409,
                413,
                415,
                created=True,
                requestBody=_json_body({"$ref": "#/components/schemas/Enroll"}),
            ),
        },
        "/emulator/identities/{user_id}/authenticators/{kind}/{authenticator_id}": {
            "parameters": [user, _path("kind"), _path("authenticator_id")],
            "delete": _op("Unlink an authenticator", _ok(), 401, 404),
        },
        "/emulator/identities/{user_id}/organisations/{cvr}": {
            "parameters": [user, _path("cvr", max_length=16)],
            "put": _op(
                "Let the identity act for the company, with roles",
                _ok(),
                400,
                401,
                404,
                413,
                415,
                requestBody=_json_body(
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {"roles": {"type": "array", "items": _STR, "maxItems": 32}},
                    },
                    required=False,
                ),
            ),
            "delete": _op("Stop the identity acting for the company", _ok(), 400, 401, 404),
        },
        "/emulator/kinds": {"get": _op("Authenticator kinds and their login steps", _ok(), 401)},
        "/emulator/organisations": {
            "get": _op("List companies", _ok(), 401),
            "post": _op(
                "Create a company (MitID Erhverv)",
                _ok("created"),
                400,
                401,
                409,
                413,
                415,
                created=True,
                requestBody=_json_body(
                    {
                        "type": "object",
                        "required": ["cvr", "name"],
                        "additionalProperties": False,
                        "properties": {
                            "cvr": {"type": "string", "pattern": "^(DK)?[1-9][0-9]{7}$"},
                            "name": {"type": "string", "minLength": 1, "maxLength": 200},
                        },
                    }
                ),
            ),
        },
        "/emulator/organisations/{cvr}": {
            "parameters": [_path("cvr", max_length=16)],
            "delete": _op("Delete a company", _ok(), 400, 401, 404),
        },
        "/emulator/clients": {
            "get": _op("List OIDC clients", _ok(), 401),
            "post": _op(
                "Register an OIDC client (the secret is returned once)",
                _ok("created"),
                400,
                401,
                409,
                413,
                415,
                created=True,
                requestBody=_json_body(
                    {
                        "type": "object",
                        "required": ["client_id", "redirect_uris"],
                        "additionalProperties": False,
                        "properties": {
                            "client_id": {
                                "type": "string",
                                "pattern": "^[A-Za-z0-9][A-Za-z0-9._:-]{2,127}$",
                            },
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
                                    "enum": [
                                        "openid",
                                        "profile",
                                        "ssn",
                                        "mitid_erhverv",
                                        "offline_access",
                                    ],
                                },
                            },
                            "jwks": {
                                "type": "object",
                                "description": "public keys: private_key_jwt, request objects",
                                "properties": {"keys": {"type": "array", "maxItems": 10}},
                            },
                        },
                    }
                ),
            ),
        },
        "/emulator/clients/{client_id}": {
            "parameters": [_path("client_id", max_length=128)],
            "delete": _op("Remove an OIDC client", _ok(), 401, 404),
        },
        "/emulator/logins": {
            "get": _op(
                "Pending logins (what an app would be asked to approve)",
                _ok(),
                401,
                parameters=[{"name": "kind", "in": "query", "required": False, "schema": _STR}],
            )
        },
        "/emulator/clock": {
            "get": _op("The emulator's clock", _ok(), 401),
            "post": _op(
                "Freeze, unfreeze, set or move the clock",
                _ok(),
                400,
                401,
                413,
                415,
                requestBody=_json_body(
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "freeze": {"type": "boolean"},
                            "at": {"type": "number", "minimum": 0, "maximum": 4102444800},
                            "advance": {
                                "type": "number",
                                "minimum": -315360000,
                                "maximum": 315360000,
                            },
                            "reset": {"type": "boolean"},
                        },
                    }
                ),
            ),
        },
        "/emulator/keys/rotate": {
            "post": _op("Rotate the ID token signing key", _ok(), 401),
        },
        "/emulator/reset": {"post": _op("Forget everything but the keys", _ok(), 401)},
        "/.well-known/openid-configuration": {
            "get": {
                "summary": "OpenID Provider metadata",
                "security": [],
                "responses": {"200": _ok()},
            }
        },
        "/jwks": {
            "get": {
                "summary": "Published signing keys",
                "security": [],
                "responses": {"200": _ok()},
            }
        },
        "/token": {
            "post": {
                "summary": "Exchange an authorization code",
                "security": [],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "grant_type": _STR,
                                    "code": _STR,
                                    "redirect_uri": _STR,
                                    "client_id": _STR,
                                    "client_secret": _STR,
                                    "code_verifier": _STR,
                                },
                            }
                        }
                    },
                },
                "responses": {"200": _ok(), **_errors(400, 401, 413, 415)},
            }
        },
        "/userinfo": {
            "get": {
                "summary": "Claims of the access token's login",
                "security": [{"bearer": []}],
                "responses": {"200": _ok(), **_errors(401)},
            }
        },
        "/authorize": {
            "get": {
                "summary": "Start a login (OIDC authorization request)",
                "security": [],
                "parameters": [
                    {"name": n, "in": "query", "required": False, "schema": _STR}
                    for n in (
                        "response_type",
                        "client_id",
                        "redirect_uri",
                        "scope",
                        "state",
                        "nonce",
                        "code_challenge",
                        "code_challenge_method",
                        "acr_values",
                        "login_hint",
                        "prompt",
                        "ui_locales",
                    )
                ],
                "responses": {
                    "303": {"description": "to the login pages"},
                    "302": {"description": "back to the client with an error"},
                    "400": {"description": "an error page"},
                },
            }
        },
    }
    seen: set[int] = set()
    for step in services.steps.values():
        if id(step) not in seen:
            seen.add(id(step))
            paths.update(openapi_paths(step.endpoints()))
    from authenticators.server.brokers.control import openapi_paths as broker_paths

    paths.update(broker_paths())
    from authenticators.server.nemlogin.endpoints import openapi_paths as nemlogin_paths

    paths.update(nemlogin_paths())
    from authenticators.server.identification import openapi_paths as identification_paths

    paths.update(identification_paths())
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "mitid-emulator login server",
            "version": __version__,
            "description": (
                "The emulator control API (under /emulator/, guarded by the admin token that "
                "`mitid-emu serve` prints) and the OpenID Connect endpoints."
            ),
        },
        "servers": [{"url": services.config.issuer_url}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "error_description"],
                    "properties": {"error": _STR, "error_description": _STR},
                },
                "Enroll": {
                    "type": "object",
                    "required": ["kind"],
                    "additionalProperties": False,
                    "properties": enroll_props,
                },
            },
        },
    }
