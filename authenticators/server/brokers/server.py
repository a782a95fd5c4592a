"""A broker's issuer: its OAuth server (Authlib, as the generic one), endpoints and routes.

Everything but the dialect's own mapping is the generic provider's: client authentication, PKCE,
redirect URIs, code exchange, the login pages and steps. Codes and tokens live in the generic
grant tables under ``broker:<name>/<client_id>``, so no broker's code or token is good at
another broker or at the generic issuer.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from authlib.oauth2.rfc6749 import AccessDeniedError, AuthorizationServer, OAuth2Error
from joserfc import jwt
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from authenticators.core.errors import CoreError
from authenticators.protocol import Action
from authenticators.server.api import on_loop, services_of
from authenticators.server.brokers import issuer_path, mounts
from authenticators.server.brokers.base import (
    BrokerError,
    BrokerRequest,
    Dialect,
    Person,
    parse_options,
)
from authenticators.server.brokers.state import (
    ALG,
    BrokerClient,
    BrokerClients,
    BrokerKeys,
    BrokerPersons,
)
from authenticators.server.clients import OIDCClient
from authenticators.server.flows import METHOD, USER_ID, Flow, browser_digest
from authenticators.server.http import ApiError, error_response, query_pairs, read_form
from authenticators.server.oidc.cors import client_origins, cors_route
from authenticators.server.oidc.endpoints import (
    BROWSER_COOKIE,
    _check_basic_header,
    _printable_ascii,
)
from authenticators.server.oidc.models import Authentication, StoredCode
from authenticators.server.oidc.server import (
    NO_STORE,
    CodeGrant,
    EmuAuthorizationServer,
    EmuOpenIDCode,
    EmuRequest,
    S256Challenge,
)
from authenticators.server.pages.render import render
from authenticators.server.pages.strings import pick_language
from authenticators.server.stages import start_the_only_method

if TYPE_CHECKING:
    from authenticators.server.context import Services


def grant_client_id(dialect: Dialect, client_id: str) -> str:
    return f"broker:{dialect.name}/{client_id}"


class Broker:
    """One mounted issuer (a dialect under one of its mount names) in one server process."""

    def __init__(self, services: Services, mount: str, state: BrokerState) -> None:
        self.services = services
        self.mount = mount
        self.dialect = state.dialects[mount]
        self.state = state
        self.issuer = services.config.issuer_url + issuer_path(mount)
        self.oauth = BrokerAuthorizationServer(services, self)

    def url(self, path: str) -> str:
        return self.issuer + path

    def person(self, auth: Authentication) -> Person:
        return Person(self.services.identities.by_uuid(auth.identity_uuid), auth, self.mount)

    def client(self, client_id: str) -> BrokerClient | None:
        if not isinstance(client_id, str) or len(client_id) > 128:
            return None
        return self.state.clients.find(self.dialect.name, client_id)


class BrokerState:
    """What every broker of one process shares: the clients, the keys, the mounted issuers."""

    def __init__(self, services: Services) -> None:
        self.clients = BrokerClients(services.store, services.clock)
        self.keys = BrokerKeys(services.store, services.clock)
        self.persons = BrokerPersons(services.store)
        # The dialects with the choices the server was started with (checked by `serve`).
        self.dialects = parse_options(services.config.broker_options, mounts())
        self.mounted = {mount: Broker(services, mount, self) for mount in mounts()}


def brokers_of(services: Services) -> BrokerState:
    if services.brokers is None:
        services.brokers = BrokerState(services)
    state: BrokerState = services.brokers
    return state


def broker_of(request: Request, mount: str) -> Broker:
    return brokers_of(services_of(request)).mounted[mount]


# -- the OAuth server ----------------------------------------------------------------------------


class BrokerCodeGrant(CodeGrant):
    @property
    def broker(self) -> Broker:
        server: BrokerAuthorizationServer = self.server
        return server.broker

    def save_authorization_code(self, code: str, request: EmuRequest) -> None:
        data = request.payload.data
        self.services.grants.save_code(
            code,
            client_id=grant_client_id(self.broker.dialect, request.client.client_id),
            redirect_uri=data["redirect_uri"],
            scope=request.scope or "",
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            authentication=request.user,
            lifetime=self.services.config.code_lifetime,
        )

    def query_authorization_code(self, code: str, client: OIDCClient) -> StoredCode | None:
        if not isinstance(code, str) or len(code) > 512:
            return None
        found = self.services.grants.consume_code(
            code, grant_client_id(self.broker.dialect, client.client_id)
        )
        if found is None or found.authentication.broker != self.broker.dialect.name:
            return None
        return found

    def create_authorization_response(self, redirect_uri: str, grant_user: Any) -> Any:
        if not grant_user:
            dialect = self.broker.dialect
            error = AccessDeniedError(
                description=dialect.cancel_description,
                redirect_uri=redirect_uri,
                state=self.request.payload.state,
            )
            error.error = dialect.cancel_error
            raise error
        return super().create_authorization_response(redirect_uri, grant_user)


class BrokerOpenIDCode(EmuOpenIDCode):
    def __init__(self, services: Services, broker: Broker) -> None:
        super().__init__(services)
        self.require_nonce = broker.dialect.require_nonce
        self.broker = broker

    def encode_id_token(self, token: dict[str, Any], request: EmuRequest) -> str:
        """The dialect's ID token: its claims only (no acr/amr/at_hash it would not send)."""
        broker = self.broker
        client: BrokerClient = request.client
        code: StoredCode | None = request.authorization_code
        now = self.services.oidc_clock.now()
        claims: dict[str, Any] = {"iss": broker.issuer, "aud": client.client_id}
        if code is not None and code.nonce:
            claims["nonce"] = code.nonce
        claims["iat"] = int(now)
        claims["exp"] = int(now) + broker.dialect.id_token_lifetime
        person = broker.person(request.user)
        claims.update(
            broker.dialect.id_token_claims(person, set(token["scope"].split()), now, client)
        )
        key = broker.state.keys.key(broker.dialect.name)
        header = {"alg": ALG, "kid": str(key.kid), "typ": "JWT"}
        return jwt.encode(header, claims, key, algorithms=[ALG])


class BrokerAuthorizationServer(EmuAuthorizationServer):
    def __init__(self, services: Services, broker: Broker) -> None:
        AuthorizationServer.__init__(self, scopes_supported=list(broker.dialect.scopes))
        self.services = services
        self.broker = broker
        self.register_token_generator("default", self._generate_token)
        self.register_grant(
            BrokerCodeGrant, [S256Challenge(required=True), BrokerOpenIDCode(services, broker)]
        )

    def query_client(self, client_id: str) -> BrokerClient | None:
        return self.broker.client(client_id)

    def _generate_token(
        self,
        grant_type: str,
        client: Any,
        user: Authentication | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        return {
            "token_type": "Bearer",
            "access_token": secrets.token_urlsafe(32),
            "expires_in": self.broker.dialect.access_token_lifetime,
            "scope": scope or "",
        }

    def save_token(self, token: dict[str, Any], request: EmuRequest) -> None:
        code: StoredCode | None = request.authorization_code
        self.services.grants.save_token(
            token["access_token"],
            client_id=grant_client_id(self.broker.dialect, request.client.client_id),
            code_sha256=code.code_sha256 if code else None,
            scope=token.get("scope", ""),
            authentication=request.user,
            lifetime=self.broker.dialect.access_token_lifetime,
        )


# -- endpoints -----------------------------------------------------------------------------------


def discovery_document(broker: Broker) -> dict[str, Any]:
    dialect, paths = broker.dialect, broker.dialect.paths
    document: dict[str, Any] = {
        "issuer": broker.issuer,
        "authorization_endpoint": broker.url(paths.authorize),
        "token_endpoint": broker.url(paths.token),
        "userinfo_endpoint": broker.url(paths.userinfo),
        "jwks_uri": broker.url(paths.jwks),
        "scopes_supported": list(dialect.scopes),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": [ALG],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": list(dialect.claims),
        "ui_locales_supported": ["da", "en"],
    }
    if dialect.acr_values:
        document["acr_values_supported"] = list(dialect.acr_values)
    if paths.par:
        document["pushed_authorization_request_endpoint"] = broker.url(paths.par)
        document["request_uri_parameter_supported"] = True
    if paths.end_session:
        document["end_session_endpoint"] = broker.url(paths.end_session)
    document.update(dialect.extra_discovery)
    return document


async def discovery(request: Request, mount: str) -> Response:
    return JSONResponse(discovery_document(broker_of(request, mount)))


async def jwks(request: Request, mount: str) -> Response:
    broker = broker_of(request, mount)
    return JSONResponse(await on_loop(broker.state.keys.jwks, broker.dialect.name))


def error_page(lang: str, error: str, description: str, status: int = 400) -> Response:
    return render(
        "error.html", lang, status=status, error=error, description=description, session_error=False
    )


def error_redirect(redirect_uri: str, error: str, description: str, state: str | None) -> Response:
    params = {"error": error, "error_description": description}
    if state is not None:
        params["state"] = state
    glue = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(redirect_uri + glue + urlencode(params), status_code=302)


async def authorize(request: Request, mount: str) -> Response:
    services = services_of(request)
    broker = broker_of(request, mount)
    lang = pick_language(request.query_params.get("ui_locales"))
    try:
        pairs = query_pairs(request)
        if request.method == "POST":
            pairs = [*pairs, *await read_form(request, services.config.body_limit)]
    except ApiError as exc:
        return error_page(lang, exc.error, exc.description, exc.status)
    if broker.dialect.paths.par and any(name == "request_uri" for name, _ in pairs):
        from authenticators.server.brokers.extras import pushed

        found = await on_loop(pushed, broker, pairs)
        if found is None:
            return error_page(
                lang,
                "invalid_request_uri",
                "'request_uri' is unknown, used, expired or another client's.",
            )
        pairs = found
    cookie = request.cookies.get(BROWSER_COOKIE)
    new_cookie = None
    if not cookie or len(cookie) > 100:
        cookie = new_cookie = secrets.token_urlsafe(24)
    if simulated(broker, pairs):
        from authenticators.server.brokers.simulation import simulate

        response: Response = await simulate(broker, request, pairs, cookie)
    else:
        response = await on_loop(_authorize, broker, request, pairs, cookie)
    if new_cookie:
        response.set_cookie(BROWSER_COOKIE, new_cookie, httponly=True, samesite="lax", path="/")
    return response


def simulated(broker: Broker, pairs: list[tuple[str, str]]) -> bool:
    """Whether the request asks for the no-UI path (worked out again, and checked, later)."""
    data = dict(reversed(pairs))
    return broker.dialect.wants_simulation(data)


def check_request(
    broker: Broker, request: Request, pairs: list[tuple[str, str]]
) -> tuple[BrokerRequest, Any, EmuRequest] | Response:
    """The request read and checked as the broker would: the options, Authlib's grant, or the
    broker's refusal (a redirect to the client, or a page when the client cannot be trusted)."""
    lang = pick_language(request.headers.get("accept-language"))
    bad = _printable_ascii(pairs)
    if bad is not None:
        return error_page(lang, "invalid_request", f"'{bad}' must be printable ASCII.")
    oreq = EmuRequest("GET", broker.url(broker.dialect.paths.authorize), request.headers, pairs)
    data = oreq.payload.data
    try:
        grant = broker.oauth.get_consent_grant(oreq, end_user=None)
    except OAuth2Error as error:
        if error.redirect_uri:
            response: Response = broker.oauth.handle_error_response(oreq, error)
            return response
        return error_page(lang, error.error, error.get_error_description() or "")
    try:
        options = broker.dialect.parse(data)
    except BrokerError as exc:
        if exc.redirect:
            return error_redirect(grant.redirect_uri, exc.error, exc.description, data.get("state"))
        return error_page(lang, exc.error, exc.description)
    return options, grant, oreq


def new_flow(
    broker: Broker,
    options: BrokerRequest,
    grant: Any,
    oreq: EmuRequest,
    pairs: list[tuple[str, str]],
    cookie: str,
    user_id: str | None,
) -> Flow:
    services = broker.services
    client: BrokerClient = oreq.client
    data = oreq.payload.data
    return services.flows.create(
        browser=browser_digest(cookie),
        params=pairs,
        client_id=client.client_id,
        client_name=client.name,
        redirect_uri=grant.redirect_uri,
        level=options.level.value,
        business=options.business,
        reference_text=options.reference_text,
        lang=pick_language(data.get("ui_locales") or data.get("language"), None),
        hint_uuid=options.hint_uuid,
        hint_cvr=options.hint_cvr,
        stage=METHOD if user_id else USER_ID,
        user_id=user_id,
        action=options.action.value,
        broker=broker.mount,
        broker_data={
            "business_optional": options.business_optional,
            "cpr_match": options.cpr_match,
            "cpr_hint": options.cpr_hint,
        },
    )


def _authorize(
    broker: Broker, request: Request, pairs: list[tuple[str, str]], cookie: str
) -> Response:
    services = broker.services
    checked = check_request(broker, request, pairs)
    if isinstance(checked, Response):
        return checked
    options, grant, oreq = checked
    user_id = None
    if options.hint_uuid:
        try:
            user_id = services.identities.by_uuid(options.hint_uuid).user_id
        except CoreError:
            user_id = None
    with services.store.transaction():
        flow = new_flow(broker, options, grant, oreq, pairs, cookie, user_id)
        if start_the_only_method(services, flow):
            services.flows.save(flow)
    return RedirectResponse(f"/login/{flow.id}", status_code=303)


async def token(request: Request, mount: str) -> Response:
    services = services_of(request)
    broker = broker_of(request, mount)
    try:
        form = await read_form(request, services.config.body_limit)
        _check_basic_header(request.headers.get("authorization"))
    except ApiError as exc:
        return exc.response()
    bad = _printable_ascii(form)
    if bad is not None:
        return error_response(400, "invalid_request", f"'{bad}' must be printable ASCII")
    oreq = EmuRequest("POST", broker.url(broker.dialect.paths.token), request.headers, form=form)
    response: Response = await on_loop(broker.oauth.create_token_response, oreq)
    return response


async def userinfo(request: Request, mount: str) -> Response:
    services = services_of(request)
    broker = broker_of(request, mount)
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    access_token = value.strip()
    if request.method == "POST" and not access_token:
        try:
            form = dict(await read_form(request, services.config.body_limit))
        except ApiError as exc:
            return exc.response()
        access_token, scheme = form.get("access_token", ""), "bearer"
    unknown = error_response(
        401,
        "invalid_token",
        "the access token is unknown, expired or revoked",
        {"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )
    if scheme.lower() != "bearer" or not access_token or len(access_token) > 512:
        return unknown

    def claims() -> dict[str, Any] | None:
        found = services.grants.token(access_token)
        if found is None or found.authentication.broker != broker.dialect.name:
            return None
        client = broker.client(found.client_id.split("/", 1)[-1])
        try:
            person = broker.person(found.authentication)
        except CoreError:
            return None
        now = services.oidc_clock.now()
        return broker.dialect.userinfo_claims(person, set(found.scope.split()), now, client)

    result = await on_loop(claims)
    if result is None:
        return unknown
    return JSONResponse(result, headers=NO_STORE)


Endpoint = Callable[[Request, str], Awaitable[Response]]


def _at(endpoint: Endpoint, mount: str) -> Callable[[Request], Awaitable[Response]]:
    async def bound(request: Request) -> Response:
        return await endpoint(request, mount)

    return bound


def _origins_of(mount: str) -> Callable[[Services, str], bool]:
    """CORS at a broker: its clients' redirect URI origins, and the configured ones."""
    name = mounts()[mount].name

    def allowed(services: Services, origin: str) -> bool:
        if origin in services.config.cors_origins:
            return True
        clients = brokers_of(services).clients.list(name)
        return any(origin in client_origins(c.redirect_uris) for c in clients)

    return allowed


def routes() -> list[BaseRoute]:
    """Each mount's discovery, JWKS, authorize, token and userinfo at its dialect's paths
    (and PAR and logout where the broker has them)."""
    from authenticators.server.brokers import extras

    found: list[BaseRoute] = []
    for mount, dialect in mounts().items():
        base = issuer_path(mount)
        paths = dialect.paths
        origins = _origins_of(mount)
        if paths.par:
            found.append(cors_route(base + paths.par, _at(extras.par, mount), ["POST"], origins))
        if paths.end_session:
            found.append(
                Route(
                    base + paths.end_session,
                    _at(extras.end_session, mount),
                    methods=["GET", "POST"],
                )
            )
        found += [
            cors_route(base + paths.discovery, _at(discovery, mount), ["GET"], origins),
            cors_route(base + paths.jwks, _at(jwks, mount), ["GET"], origins),
            Route(base + paths.authorize, _at(authorize, mount), methods=["GET", "POST"]),
            cors_route(base + paths.token, _at(token, mount), ["POST"], origins),
            cors_route(base + paths.userinfo, _at(userinfo, mount), ["GET", "POST"], origins),
        ]
    return found


# -- where a login finishes ----------------------------------------------------------------------


def finishing(
    services: Services, flow: Flow, auth: Authentication | None
) -> tuple[EmuAuthorizationServer, str, Authentication | None]:
    """The broker's OAuth server, its authorize URL and the login marked as the broker's."""
    assert flow.broker is not None
    broker = brokers_of(services).mounted[flow.broker]
    uri = broker.url(broker.dialect.paths.authorize)
    if auth is None:
        return broker.oauth, uri, None
    details = {
        "ref_header": Action(flow.action).value,
        "ref_body": flow.reference_text,
        "transaction_id": str(flow.broker_data.get("transaction_id") or secrets.token_hex(16)),
        "session_id": secrets.token_hex(16),
        "cpr_source": str(flow.broker_data.get("cpr_source") or "database"),
        "kind": flow.kind or "",
        "protected": "true" if broker.state.persons.protected(auth.identity_uuid) else "false",
    }
    return (
        broker.oauth,
        uri,
        replace(auth, broker=broker.dialect.name, details=tuple(details.items())),
    )
