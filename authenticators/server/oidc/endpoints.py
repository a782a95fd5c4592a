"""The OIDC endpoints: discovery, JWKS, authorize, token and userinfo."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from typing import Any

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import InvalidRequestError, InvalidScopeError, OAuth2Error
from authlib.oidc.core.errors import LoginRequiredError
from joserfc import jwt
from joserfc.errors import JoseError
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from authenticators.core.errors import CoreError
from authenticators.protocol import Level
from authenticators.server.api import on_loop, services_of
from authenticators.server.clients import OIDCClient
from authenticators.server.context import Services
from authenticators.server.flows import METHOD, USER_ID, browser_digest
from authenticators.server.http import ApiError, error_response, query_pairs, read_form
from authenticators.server.oidc.claims import CLAIMS_SUPPORTED, user_claims
from authenticators.server.oidc.cors import client_origins, cors_route, origin_of
from authenticators.server.oidc.mitid import ACR_VALUES, MAX_STATE, MitIDOptions, parse_options
from authenticators.server.oidc.models import (
    PAR_PREFIX,
    AccessToken,
    Authentication,
    RefreshToken,
)
from authenticators.server.oidc.server import NO_STORE, EmuRequest
from authenticators.server.pages.render import render
from authenticators.server.pages.strings import pick_language
from authenticators.server.stages import start_the_only_method

BROWSER_COOKIE = "mitid_emu_browser"

AUTHORIZE = "/authorize"
TOKEN = "/token"  # noqa: S105 - a path
USERINFO = "/userinfo"
REVOCATION = "/revoke"
END_SESSION = "/logout"
PAR = "/par"
PAR_LIFETIME = 60
INTROSPECTION = "/introspect"
JWKS = "/jwks"
DISCOVERY = "/.well-known/openid-configuration"
OAUTH_METADATA = "/.well-known/oauth-authorization-server"  # RFC 8414


CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
SIGNING_ALGS = ["RS256", "PS256", "ES256"]


def discovery_document(services: Services) -> dict[str, Any]:
    issuer = services.config.issuer_url
    return {
        "issuer": issuer,
        "authorization_endpoint": issuer + AUTHORIZE,
        "token_endpoint": issuer + TOKEN,
        "userinfo_endpoint": issuer + USERINFO,
        "jwks_uri": issuer + JWKS,
        "scopes_supported": list(services.authorization_server.scopes_supported),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "end_session_endpoint": issuer + END_SESSION,
        "frontchannel_logout_supported": False,
        "revocation_endpoint": issuer + REVOCATION,
        "introspection_endpoint": issuer + INTROSPECTION,
        "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": SIGNING_ALGS,
        "request_object_signing_alg_values_supported": SIGNING_ALGS,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": list(ACR_VALUES),
        "claims_supported": list(CLAIMS_SUPPORTED),
        "claims_parameter_supported": False,
        "request_parameter_supported": True,
        "request_uri_parameter_supported": True,
        "pushed_authorization_request_endpoint": issuer + PAR,
        "require_pushed_authorization_requests": False,
        "prompt_values_supported": ["none", "login"],
        "ui_locales_supported": ["da", "en"],
        "authorization_response_iss_parameter_supported": True,
        "emulator_control_api": issuer + "/emulator/openapi.json",
    }


async def discovery(request: Request) -> Response:
    return JSONResponse(discovery_document(services_of(request)))


async def jwks(request: Request) -> Response:
    services = services_of(request)
    return JSONResponse(await on_loop(services.keyring.jwks))


async def _browser_pairs(
    request: Request, services: Services, lang: str
) -> list[tuple[str, str]] | Response:
    """A browser request's parameters, from the query and a POSTed form; bad ones: an error page."""
    try:
        pairs = query_pairs(request)
        if request.method == "POST":
            pairs = [*pairs, *await read_form(request, services.config.body_limit)]
    except ApiError as exc:
        return render(
            "error.html",
            lang,
            status=exc.status,
            error=exc.error,
            description=exc.description,
            session_error=False,
        )
    return pairs


async def authorize(request: Request) -> Response:
    services = services_of(request)
    lang = pick_language(request.query_params.get("ui_locales"))
    pairs = await _browser_pairs(request, services, lang)
    if isinstance(pairs, Response):
        return pairs
    cookie = request.cookies.get(BROWSER_COOKIE)
    new_cookie = None
    if not cookie or len(cookie) > 100:
        cookie = new_cookie = secrets.token_urlsafe(24)
    response = await on_loop(_authorize, services, request, pairs, cookie, not new_cookie)
    if new_cookie:
        response.set_cookie(
            BROWSER_COOKIE,
            new_cookie,
            httponly=True,
            samesite="lax",
            path="/",
            secure=services.config.issuer_url.startswith("https:"),
        )
    return response


# RFC 6749 appendix A: these are printable ASCII (VSCHAR / NQSCHAR); Authlib assumes it.
_ASCII_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "acr_values",
    "response_mode",
    "ui_locales",
    "login_hint",
    "grant_type",
    "code",
    "code_verifier",
    "client_secret",
)


def _printable_ascii(pairs: list[tuple[str, str]]) -> str | None:
    """The first standard parameter that is not printable ASCII, if any."""
    for key, value in pairs:
        if key in _ASCII_PARAMS and not all(" " <= c <= "~" for c in value):
            return key
    return None


def _authorize(
    services: Services,
    request: Request,
    pairs: list[tuple[str, str]],
    cookie: str,
    known_browser: bool,
) -> Response:
    bad = _printable_ascii(pairs)
    if bad is not None:
        lang = pick_language(request.headers.get("accept-language"))
        return render(
            "error.html",
            lang,
            status=400,
            error="invalid_request",
            description=f"'{bad}' must be printable ASCII.",
            session_error=False,
        )
    if any(name == "request" for name, _ in pairs):
        unpacked = _request_object(services, pairs)
        if isinstance(unpacked, str):
            lang = pick_language(request.headers.get("accept-language"))
            return render(
                "error.html",
                lang,
                status=400,
                error="invalid_request_object",
                description=unpacked,
                session_error=False,
            )
        pairs = unpacked
    if any(name == "request_uri" for name, _ in pairs):
        pushed = _pushed(services, pairs)
        if pushed is None:
            lang = pick_language(request.headers.get("accept-language"))
            return render(
                "error.html",
                lang,
                status=400,
                error="invalid_request_uri",
                description="'request_uri' is unknown, used, expired or another client's.",
                session_error=False,
            )
        pairs = pushed
    oreq = EmuRequest("GET", services.config.issuer_url + AUTHORIZE, request.headers, query=pairs)
    data = oreq.payload.data
    lang = pick_language(data.get("ui_locales"), request.headers.get("accept-language"))
    state = data.get("state")
    if state is not None and len(state) > MAX_STATE:
        # Not sent back: a redirect would carry it whole.
        return render(
            "error.html",
            lang,
            status=400,
            error="invalid_request",
            description=f"'state' is longer than {MAX_STATE} characters.",
            session_error=False,
        )
    browser = browser_digest(cookie)
    session = services.grants.session_of(browser) if known_browser else None
    try:
        grant, options = _check_request(services, oreq, session)
        if session is not None and not _session_will_do(services, session, data, options):
            session = None
        if session is None and "none" in (data.get("prompt") or "").split():
            raise LoginRequiredError(redirect_uri=grant.redirect_uri, state=data.get("state"))
    except OAuth2Error as error:
        return _authorize_error(services, oreq, error, lang)
    client = oreq.client
    if session is not None:
        # Single sign-on: the browser's login session answers without asking again.
        from authenticators.server.login import finish

        with services.store.transaction():
            flow = services.flows.create(
                browser=browser,
                params=pairs,
                client_id=client.client_id,
                client_name=client.name,
                redirect_uri=grant.redirect_uri,
                level=options.level.value,
                business=False,
                reference_text=options.reference_text,
                lang=lang,
            )
            return finish(services, flow, session)
    stage, user_id = USER_ID, None
    if options.hint_uuid:
        try:
            user_id = services.identities.by_uuid(options.hint_uuid).user_id
            stage = METHOD
        except CoreError:
            user_id = None
    # When the service named the person and one of their methods will do, its step starts
    # at once (MitID goes straight to someone's only authenticator): one transaction for both.
    with services.store.transaction():
        flow = services.flows.create(
            browser=browser_digest(cookie),
            params=pairs,
            client_id=client.client_id,
            client_name=client.name,
            redirect_uri=grant.redirect_uri,
            level=options.level.value,
            business=options.business,
            reference_text=options.reference_text,
            lang=lang,
            hint_uuid=options.hint_uuid,
            hint_cvr=options.hint_cvr,
            stage=stage,
            user_id=user_id,
        )
        if start_the_only_method(services, flow):
            services.flows.save(flow)
    return RedirectResponse(f"/login/{flow.id}", status_code=303)


def _check_request(
    services: Services, oreq: EmuRequest, session: Authentication | None, prompts: bool = True
) -> tuple[Any, MitIDOptions]:
    """An authorization request checked as Authlib does (client, redirect URI, response type,
    scope, PKCE, repeats; ``prompt`` when ``prompts``) and as OpenID Connect and MitID ask."""
    server = services.authorization_server
    data = oreq.payload.data
    if prompts:
        grant = server.get_consent_grant(oreq, end_user=session)
    else:
        try:
            grant = server.get_authorization_grant(oreq)
            grant.validate_no_multiple_request_parameter(oreq)
            grant.redirect_uri = grant.validate_authorization_request()
        except OAuth2Error as error:
            error.state = data.get("state")
            raise
    try:
        if "openid" not in (data.get("scope") or "").split():
            raise InvalidScopeError("The scope must include 'openid' (an OpenID Connect login).")
        max_age = data.get("max_age")
        if max_age is not None and not (max_age.isdigit() and len(max_age) <= 10):
            raise InvalidRequestError("'max_age' must be a whole number of seconds.")
        options = parse_options(data, Level(services.config.default_level))
    except OAuth2Error as error:
        error.redirect_uri = grant.redirect_uri
        error.state = data.get("state")
        raise
    return grant, options


_JWT_ONLY = ("iss", "aud", "exp", "iat", "nbf", "jti", "request", "request_uri")


def _request_object(
    services: Services, pairs: list[tuple[str, str]]
) -> list[tuple[str, str]] | str:
    """The parameters of a signed request object (RFC 9101), which replace the URL's; or
    why it is refused. Signed by the client with one of its registered keys, for this
    issuer, and naming the same client as the URL does."""
    data = dict(pairs)
    client_id, token = data.get("client_id", ""), data.get("request", "")
    client = services.clients.find(client_id) if 0 < len(client_id) <= 128 else None
    if client is None:
        return "A request object needs the 'client_id' of a registered client beside it."
    keys = client.key_set()
    if keys is None:
        return "The client has no registered keys ('jwks') to check a request object with."
    if len(token) > 16 * 1024:
        return "The request object is too long."
    try:
        claims = jwt.decode(token, keys, algorithms=SIGNING_ALGS).claims
        jwt.JWTClaimsRegistry(
            leeway=60,
            iss={"essential": True, "value": client_id},
            aud={"essential": True, "value": services.config.issuer_url},
        ).validate(claims)
    except (JoseError, ValueError):
        return "The request object is not signed by the client's key for this issuer."
    if claims.get("client_id", client_id) != client_id:
        return "The request object names another client."
    unpacked: list[tuple[str, str]] = []
    for name, value in claims.items():
        if name in _JWT_ONLY:
            continue
        text = value if isinstance(value, str) else json.dumps(value)
        unpacked.append((name, text))
    if all(name != "client_id" for name, _ in unpacked):
        unpacked.append(("client_id", client_id))
    return unpacked


def _pushed(services: Services, pairs: list[tuple[str, str]]) -> list[tuple[str, str]] | None:
    """The parameters pushed for ``request_uri`` (RFC 9126), used up; the URL's other
    parameters are ignored, but its ``client_id`` must be the pusher's."""
    data = dict(pairs)
    request_uri, client_id = data.get("request_uri", ""), data.get("client_id", "")
    if not request_uri.startswith(PAR_PREFIX) or len(request_uri) > 200 or len(client_id) > 128:
        return None
    return services.grants.pushed_request(request_uri, client_id)


def _session_will_do(
    services: Services, session: Authentication, data: dict[str, str], options: MitIDOptions
) -> bool:
    """Whether the browser's login session answers this request without a new login: no
    ``prompt=login``, within ``max_age``, at the level asked for, the person named (if any),
    not a business login (that picks a company), and the person still there."""
    if "login" in (data.get("prompt") or "").split():
        return False
    max_age = data.get("max_age")
    if max_age is not None and services.oidc_clock.now() - session.auth_time > int(max_age):
        return False
    if options.business or session.business or session.broker is not None:
        return False
    if Level(session.level).rank < options.level.rank:
        return False
    if options.hint_uuid is not None and options.hint_uuid != session.identity_uuid:
        return False
    try:
        services.identities.by_uuid(session.identity_uuid)
    except CoreError:
        return False
    return True


def _authorize_error(
    services: Services, oreq: EmuRequest, error: OAuth2Error, lang: str
) -> Response:
    if error.redirect_uri:
        response: Response = services.authorization_server.handle_error_response(oreq, error)
        return with_issuer(response, services.config.issuer_url)
    return render(
        "error.html",
        lang,
        status=400,
        error=error.error,
        description=error.get_error_description() or "",
        session_error=False,
    )


async def token(request: Request) -> Response:
    services = services_of(request)
    try:
        form = await read_form(request, services.config.body_limit)
        _check_basic_header(request.headers.get("authorization"))
    except ApiError as exc:
        return exc.response()
    bad = _printable_ascii(form)
    if bad is not None:
        return error_response(400, "invalid_request", f"'{bad}' must be printable ASCII")
    refused = token_request_problem(form, request.headers.get("authorization"))
    if refused is not None:
        return error_response(400, "invalid_request", refused)
    oreq = EmuRequest("POST", services.config.issuer_url + TOKEN, request.headers, form=form)
    response: Response = await on_loop(services.authorization_server.create_token_response, oreq)
    return response


def client_request_problem(form: list[tuple[str, str]], authorization: str | None) -> str | None:
    """What RFC 6749 forbids in a client's request to the token endpoint (or to revocation
    and introspection) that Authlib lets through, or None."""
    names = [name for name, _ in form]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        return f"'{repeated[0]}' is sent more than once (RFC 6749 3.2)"
    basic = bool(authorization and authorization.lower().startswith("basic "))
    if basic + ("client_secret" in names) + ("client_assertion" in names) > 1:
        return "the client authenticates in more than one way; use one method"
    return None


def token_request_problem(form: list[tuple[str, str]], authorization: str | None) -> str | None:
    problem = client_request_problem(form, authorization)
    if problem is None and all(name != "grant_type" for name, _ in form):
        return "'grant_type' is missing"
    return problem


def with_issuer(response: Response, issuer: str | None) -> Response:
    """The authorization response, success or error, names the issuer (RFC 9207)."""
    location = response.headers.get("location")
    if location and issuer:
        response.headers["location"] = add_params_to_uri(location, [("iss", issuer)])
    return response


def _check_basic_header(header: str | None) -> None:
    """Refuse a Basic header Authlib could not decode (it would fail on bad UTF-8)."""
    if not header or not header.lower().startswith("basic "):
        return
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    if ":" not in decoded:
        raise ApiError(
            401,
            "invalid_client",
            "the Authorization header is not Basic base64(client_id:client_secret)",
            {"WWW-Authenticate": 'Basic realm="mitid-emulator"'},
        )


async def userinfo(request: Request) -> Response:
    services = services_of(request)
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    access_token = value.strip()
    if request.method == "POST" and not access_token:
        try:
            form = dict(await read_form(request, services.config.body_limit))
        except ApiError as exc:
            return exc.response()
        access_token, scheme = form.get("access_token", ""), "bearer"
    if not header and not access_token:
        # No credentials at all: a bare challenge, no error code (RFC 6750 3.1).
        return error_response(
            401,
            "invalid_request",
            "send the access token as 'Authorization: Bearer TOKEN'",
            {"WWW-Authenticate": "Bearer"},
        )
    if scheme.lower() != "bearer" or not access_token or len(access_token) > 512:
        return error_response(
            401,
            "invalid_token",
            "send the access token as 'Authorization: Bearer TOKEN'",
            {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )

    def claims() -> dict[str, Any] | None:
        found = services.grants.token(access_token)
        if found is None:
            return None
        try:
            identity = services.identities.by_uuid(found.authentication.identity_uuid)
        except CoreError:
            return None
        return user_claims(identity, found.authentication, found.scope)

    result = await on_loop(claims)
    if result is None:
        return error_response(
            401,
            "invalid_token",
            "the access token is unknown, expired or revoked",
            {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return JSONResponse(result, headers=NO_STORE)


async def _client_form(
    request: Request, services: Services, path: str, one_token: bool = True
) -> tuple[EmuRequest, OIDCClient] | Response:
    """A token-endpoint-style request (RFC 7009, RFC 7662): the form and the authenticated
    client, or the error to answer with."""
    try:
        form = await read_form(request, services.config.body_limit)
        _check_basic_header(request.headers.get("authorization"))
    except ApiError as exc:
        return exc.response()
    bad = _printable_ascii(form)
    names = [name for name, _ in form]
    problem = (
        f"'{bad}' must be printable ASCII"
        if bad is not None
        else client_request_problem(form, request.headers.get("authorization"))
    )
    if problem is None and one_token and names.count("token") != 1:
        problem = "send exactly one 'token'"
    if problem is not None:
        return error_response(400, "invalid_request", problem)
    oreq = EmuRequest("POST", services.config.issuer_url + path, request.headers, form=form)
    server = services.authorization_server
    try:
        client = await on_loop(server.authenticate_client, oreq, CLIENT_AUTH_METHODS, path)
    except OAuth2Error as error:
        response: Response = server.handle_error_response(oreq, error)
        return response
    return oreq, client


_CLIENT_AUTH_PARAMS = ("client_secret", "client_assertion", "client_assertion_type")


async def pushed_authorization_request(request: Request) -> Response:
    """RFC 9126: the client pushes its authorization request (authenticated as at the token
    endpoint) and gets a ``request_uri`` to send the browser to ``/authorize`` with."""
    services = services_of(request)
    checked = await _client_form(request, services, PAR, one_token=False)
    if isinstance(checked, Response):
        return checked
    oreq, client = checked
    form = [(k, v) for k, values in oreq.payload.datalist.items() for v in values]
    pairs = [(k, v) for k, v in form if k not in _CLIENT_AUTH_PARAMS]
    if oreq.form.get("client_id", client.client_id) != client.client_id:
        return error_response(400, "invalid_request", "'client_id' is not the authenticated client")
    if any(k == "request_uri" for k, _ in pairs):
        return error_response(400, "invalid_request", "'request_uri' cannot be pushed")
    if any(k == "request" for k, _ in pairs):
        unpacked = await on_loop(_request_object, services, pairs)
        if isinstance(unpacked, str):
            return error_response(400, "invalid_request_object", unpacked)
        pairs = unpacked
    if all(k != "client_id" for k, _ in pairs):
        pairs.append(("client_id", client.client_id))

    def check() -> Response:
        authorize = EmuRequest("GET", services.config.issuer_url + AUTHORIZE, {}, query=pairs)
        try:
            _check_request(services, authorize, None, prompts=False)
        except OAuth2Error as error:
            return error_response(400, error.error, error.get_error_description() or "")
        request_uri = services.grants.push_request(client.client_id, pairs, PAR_LIFETIME)
        return JSONResponse(
            {"request_uri": request_uri, "expires_in": PAR_LIFETIME},
            status_code=201,
            headers=NO_STORE,
        )

    return await on_loop(check)


async def revoke(request: Request) -> Response:
    """RFC 7009: the client's own access or refresh token stops working (a refresh token
    with every token of its grant); an unknown token is no error."""
    services = services_of(request)
    checked = await _client_form(request, services, REVOCATION)
    if isinstance(checked, Response):
        return checked
    oreq, client = checked
    token_value = oreq.form["token"]
    if len(token_value) <= 512:
        await on_loop(services.grants.revoke, token_value, client.client_id)
    return JSONResponse({}, headers=NO_STORE)


async def introspect(request: Request) -> Response:
    """RFC 7662: whether a token of the asking client is active, and what it stands for."""
    services = services_of(request)
    checked = await _client_form(request, services, INTROSPECTION)
    if isinstance(checked, Response):
        return checked
    oreq, client = checked
    token_value = oreq.form["token"]

    def look_up() -> dict[str, Any]:
        if len(token_value) > 512:
            return {"active": False}
        hint = oreq.form.get("token_type_hint")
        found: AccessToken | RefreshToken | None = None
        kind = "access_token"
        if hint != "refresh_token":
            found = services.grants.token(token_value)
        if found is None:
            found, kind = services.grants.live_refresh(token_value), "refresh_token"
        if found is None and hint == "refresh_token":
            found, kind = services.grants.token(token_value), "access_token"
        if found is None or found.client_id != client.client_id:
            return {"active": False}
        auth = found.authentication
        return {
            "active": True,
            "token_type": "Bearer" if kind == "access_token" else "refresh_token",
            "scope": found.scope,
            "client_id": found.client_id,
            "sub": auth.identity_uuid,
            "iss": services.config.issuer_url,
            "aud": found.client_id,
            "iat": int(found.issued_at),
            "exp": int(found.expires_at),
            "auth_time": int(auth.auth_time),
            "acr": auth.acr,
        }

    return JSONResponse(await on_loop(look_up), headers=NO_STORE)


async def end_session(request: Request) -> Response:
    """RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): the browser's login
    session ends; with ``post_logout_redirect_uri`` (on the origin of one of the client's
    redirect URIs) the browser goes back there with ``state``, else a page says it is done."""
    services = services_of(request)
    lang = pick_language(request.query_params.get("ui_locales"))
    pairs = await _browser_pairs(request, services, lang)
    if isinstance(pairs, Response):
        return pairs
    cookie = request.cookies.get(BROWSER_COOKIE)
    return await on_loop(_end_session, services, pairs, cookie, lang)


def _end_session(
    services: Services, pairs: list[tuple[str, str]], cookie: str | None, lang: str
) -> Response:
    def refused(description: str) -> Response:
        return render(
            "error.html",
            lang,
            status=400,
            error="invalid_request",
            description=description,
            session_error=False,
        )

    names = [name for name, _ in pairs]
    if len(names) != len(set(names)):
        return refused("A parameter is sent more than once.")
    data = dict(pairs)
    if len(data.get("state") or "") > MAX_STATE:
        return refused(f"'state' is longer than {MAX_STATE} characters.")
    hint_sid: str | None = None
    client_id = data.get("client_id")
    hint = data.get("id_token_hint")
    if hint:
        try:
            claims = jwt.decode(hint, services.keyring.key_set(), algorithms=["RS256"]).claims
        except (JoseError, ValueError):
            return refused("'id_token_hint' is not an ID token this issuer signed.")
        if claims.get("iss") != services.config.issuer_url:
            return refused("'id_token_hint' was issued by another issuer.")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if client_id and client_id not in audiences:
            return refused("'client_id' is not the audience of 'id_token_hint'.")
        client_id = client_id or str(audiences[0])
        hint_sid = claims.get("sid") if isinstance(claims.get("sid"), str) else None
    redirect = data.get("post_logout_redirect_uri")
    if redirect:
        client = services.clients.find(client_id) if client_id and len(client_id) <= 128 else None
        if client is None:
            return refused("'post_logout_redirect_uri' needs 'client_id' or 'id_token_hint'.")
        origin = origin_of(redirect)
        if origin is None or origin not in client_origins(client.redirect_uris):
            return refused(
                "'post_logout_redirect_uri' must be on the origin of one of the client's "
                "redirect URIs."
            )
    services.grants.end_session(
        browser=browser_digest(cookie) if cookie and len(cookie) <= 100 else None, sid=hint_sid
    )
    if redirect:
        state = data.get("state")
        target = add_params_to_uri(redirect, [("state", state)]) if state else redirect
        return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})
    return render("logged_out.html", lang)


def routes() -> list[BaseRoute]:
    return [
        cors_route(DISCOVERY, discovery, ["GET"]),
        cors_route(OAUTH_METADATA, discovery, ["GET"]),
        cors_route(JWKS, jwks, ["GET"]),
        Route(AUTHORIZE, authorize, methods=["GET", "POST"]),
        cors_route(TOKEN, token, ["POST"]),
        cors_route(USERINFO, userinfo, ["GET", "POST"]),
        Route(END_SESSION, end_session, methods=["GET", "POST"]),
        cors_route(PAR, pushed_authorization_request, ["POST"]),
        cors_route(REVOCATION, revoke, ["POST"]),
        cors_route(INTROSPECTION, introspect, ["POST"]),
    ]
