"""The OpenAPI document of the control API and the OIDC endpoints (for people and fuzzers).

The control API's operations come from their declarations (:class:`server.api.Endpoint`, beside
each handler); the OIDC endpoints are described here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from authenticators import __version__
from authenticators.server import control
from authenticators.server.api import ERROR_SCHEMA, openapi_paths

if TYPE_CHECKING:
    from authenticators.server.context import Services

_STR = {"type": "string"}


def _ok(description: str = "OK", schema: dict[str, Any] | None = None) -> dict[str, Any]:
    content = {"application/json": {"schema": schema or {"type": "object"}}}
    return {"description": description, "content": content}


def _errors(*codes: int) -> dict[str, Any]:
    return {
        str(code): {
            "description": "refused",
            "content": {"application/json": {"schema": ERROR_SCHEMA}},
        }
        for code in codes
    }


def openapi_document(services: Services) -> dict[str, Any]:
    enroll_props: dict[str, Any] = {"kind": {"type": "string", "enum": sorted(services.steps)}}
    for kind, step in sorted(services.steps.items()):
        enroll_props.update(step.enroll_fields(kind))
    paths: dict[str, Any] = openapi_paths(control.ENDPOINTS)
    paths |= {
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
