"""The start page (``/``), the control API's index (``/emulator/``) and the one list of issuers.

Everything the server speaks is named once, in :func:`issuers`: ``serve``'s banner and the start
page both read it, so a protocol added to the server is added there and shows up in both.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from authenticators.server.api import off_loop, services_of
from authenticators.server.config import ServerConfig
from authenticators.server.context import Services
from authenticators.server.pages.render import render

#: The public client ``serve`` registers in a fresh state, and where it sends the person back.
EXAMPLE_CLIENT = "example"
EXAMPLE_REDIRECTS = ("http://127.0.0.1:8000/callback", "http://localhost:8000/callback")
LOGIN_PATH = "/start/login"


@dataclass(frozen=True)
class Issuer:
    """One protocol the server speaks: what it is, and the URL a relying party starts from."""

    label: str
    title: str
    url: str


def issuers(config: ServerConfig) -> list[Issuer]:
    """Every issuer this server runs, OIDC first. Add a protocol's issuer here."""
    base = config.issuer_url
    found = [
        Issuer("OIDC", "OpenID Connect (MitID broker)", f"{base}/.well-known/openid-configuration")
    ]
    from authenticators.server.brokers.control import issuers as broker_issuers

    for broker in broker_issuers(base):
        found.append(
            Issuer(
                "broker", broker["title"], f"{broker['issuer']}/.well-known/openid-configuration"
            )
        )
    entity_id = config.nemlogin_entity_id or f"{base}/nemlogin"
    found.append(Issuer("NemLog-in", f"SAML IdP {entity_id}", f"{base}/nemlogin/saml/metadata"))
    return found


def example_login_query(client_id: str, redirect_uri: str) -> dict[str, str]:
    """A fresh authorization request of a public client: state, nonce and PKCE (S256)."""
    verifier = secrets.token_urlsafe(32)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid",
        "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16),
        "code_challenge": base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii"),
        "code_challenge_method": "S256",
    }


def _example(services: Services) -> tuple[str, str] | None:
    """The client a start-page login uses: ``example`` when it is there, else the first public
    one; with the redirect URI it is sent back to."""
    public = [c for c in services.clients.list() if c.public and c.redirect_uris]
    chosen = [c for c in public if c.client_id == EXAMPLE_CLIENT] or public
    if not chosen:
        return None
    return chosen[0].client_id, chosen[0].redirect_uris[0]


async def start_login(request: Request) -> Response:
    """A login as the example client, with a fresh state, nonce and PKCE each time."""
    services = services_of(request)
    example = await off_loop(_example, services)
    if example is None:
        return JSONResponse(
            {
                "error": "not_found",
                "error_description": "no public client to log in with; add one with "
                "`mitid-emu clients add NAME --redirect-uri URL --public`",
            },
            status_code=404,
        )
    query = urlencode(example_login_query(*example))
    return RedirectResponse(f"{services.config.issuer_url}/authorize?{query}", status_code=302)


def _page_data(services: Services) -> dict[str, Any]:
    identities = [
        {
            "user_id": identity.user_id,
            "name": identity.name,
            "methods": ", ".join(kind for kind, _ in identity.authenticators) or "none",
        }
        for identity in services.identities.list()[:50]
    ]
    clients = [
        {
            "client_id": client.client_id,
            "kind": "public, PKCE" if client.public else "confidential",
            "redirect_uris": ", ".join(client.redirect_uris),
        }
        for client in services.clients.list()[:50]
    ]
    return {"identities": identities, "clients": clients, "example": _example(services)}


async def start_page(request: Request) -> Response:
    services = services_of(request)
    data = await off_loop(_page_data, services)
    base = services.config.issuer_url
    return render(
        "start.html",
        "en",
        base=base,
        issuers=issuers(services.config),
        login_url=f"{base}{LOGIN_PATH}" if data["example"] else None,
        **data,
    )


async def emulator_index(request: Request) -> Response:
    base = services_of(request).config.issuer_url
    return JSONResponse(
        {
            "description": "the emulator control API: send the admin token `serve` prints as "
            "Authorization: Bearer TOKEN",
            "openapi": f"{base}/emulator/openapi.json",
            "identities": f"{base}/emulator/identities",
            "clock": f"{base}/emulator/clock",
        }
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/", start_page, methods=["GET"]),
        Route(LOGIN_PATH, start_login, methods=["GET"]),
        Route("/emulator", emulator_index, methods=["GET"]),
        Route("/emulator/", emulator_index, methods=["GET"]),
    ]
