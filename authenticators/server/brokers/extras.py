"""The generic provider's PAR (RFC 9126) and RP-initiated logout at a broker's own paths.

Idura takes pushed requests at ``/oauth2/par``; Signaturgruppen ends sessions at
``/connect/endsession``. Both work as the generic issuer's do (client authentication, the pushed
request's lifetime and single use, the ``post_logout_redirect_uri`` origin rule), with the broker's
clients, its key and its issuer; a pushed request is checked as the broker checks the request.
"""

from __future__ import annotations

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import OAuth2Error
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from authenticators.server.api import on_loop, services_of
from authenticators.server.brokers.base import BrokerError
from authenticators.server.brokers.server import Broker, brokers_of, grant_client_id
from authenticators.server.http import ApiError, error_response, query_pairs, read_form
from authenticators.server.oidc.cors import client_origins, origin_of
from authenticators.server.oidc.endpoints import (
    PAR_LIFETIME,
    _check_basic_header,
    _printable_ascii,
    client_request_problem,
)
from authenticators.server.oidc.mitid import MAX_STATE
from authenticators.server.oidc.models import PAR_PREFIX
from authenticators.server.oidc.server import NO_STORE, CodeGrant, EmuRequest
from authenticators.server.pages.render import render
from authenticators.server.pages.strings import pick_language

# What a broker's clients authenticate with (their token endpoint's methods).
AUTH_METHODS = list(CodeGrant.TOKEN_ENDPOINT_AUTH_METHODS)
_CLIENT_AUTH_PARAMS = ("client_secret", "client_assertion", "client_assertion_type")


def pushed(broker: Broker, pairs: list[tuple[str, str]]) -> list[tuple[str, str]] | None:
    """The parameters pushed for ``request_uri``, used up; None when unknown, expired, used
    or another client's."""
    data = dict(pairs)
    request_uri, client_id = data.get("request_uri", ""), data.get("client_id", "")
    if not request_uri.startswith(PAR_PREFIX) or len(request_uri) > 200 or len(client_id) > 128:
        return None
    return broker.services.grants.pushed_request(
        request_uri, grant_client_id(broker.dialect, client_id)
    )


async def par(request: Request, mount: str) -> Response:
    services = services_of(request)
    broker = brokers_of(services).mounted[mount]
    path = broker.dialect.paths.par
    try:
        form = await read_form(request, services.config.body_limit)
        _check_basic_header(request.headers.get("authorization"))
    except ApiError as exc:
        return exc.response()
    bad = _printable_ascii(form)
    problem = (
        f"'{bad}' must be printable ASCII"
        if bad is not None
        else client_request_problem(form, request.headers.get("authorization"))
    )
    if problem is not None:
        return error_response(400, "invalid_request", problem)
    oreq = EmuRequest("POST", broker.url(path), request.headers, form=form)
    try:
        client = await on_loop(broker.oauth.authenticate_client, oreq, AUTH_METHODS, path)
    except OAuth2Error as error:
        response: Response = broker.oauth.handle_error_response(oreq, error)
        return response
    pairs = [(k, v) for k, v in form if k not in _CLIENT_AUTH_PARAMS]
    if dict(pairs).get("client_id", client.client_id) != client.client_id:
        return error_response(400, "invalid_request", "'client_id' is not the authenticated client")
    if any(k == "request_uri" for k, _ in pairs):
        return error_response(400, "invalid_request", "'request_uri' cannot be pushed")
    if all(k != "client_id" for k, _ in pairs):
        pairs.append(("client_id", client.client_id))

    def check() -> Response:
        authorize = EmuRequest("GET", broker.url(broker.dialect.paths.authorize), {}, pairs)
        try:
            broker.oauth.get_consent_grant(authorize, end_user=None)
            broker.dialect.parse(authorize.payload.data)
        except OAuth2Error as error:
            return error_response(400, error.error, error.get_error_description() or "")
        except BrokerError as exc:
            return error_response(400, exc.error, exc.description)
        request_uri = services.grants.push_request(
            grant_client_id(broker.dialect, client.client_id), pairs, PAR_LIFETIME
        )
        return JSONResponse(
            {"request_uri": request_uri, "expires_in": PAR_LIFETIME},
            status_code=201,
            headers=NO_STORE,
        )

    return await on_loop(check)


async def end_session(request: Request, mount: str) -> Response:
    """RP-initiated logout: ``id_token_hint`` must be this broker's, ``post_logout_redirect_uri``
    on the origin of one of the client's redirect URIs; back there with ``state``, or a page."""
    services = services_of(request)
    broker = brokers_of(services).mounted[mount]
    lang = pick_language(request.query_params.get("ui_locales"))
    try:
        pairs = query_pairs(request)
        if request.method == "POST":
            pairs = [*pairs, *await read_form(request, services.config.body_limit)]
    except ApiError as exc:
        return _refused(lang, exc.description, exc.status)
    return await on_loop(_end_session, broker, pairs, lang)


def _refused(lang: str, description: str, status: int = 400) -> Response:
    return render(
        "error.html",
        lang,
        status=status,
        error="invalid_request",
        description=description,
        session_error=False,
    )


def _end_session(broker: Broker, pairs: list[tuple[str, str]], lang: str) -> Response:
    names = [name for name, _ in pairs]
    if len(names) != len(set(names)):
        return _refused(lang, "A parameter is sent more than once.")
    data = dict(pairs)
    state = data.get("state")
    if len(state or "") > MAX_STATE:
        return _refused(lang, f"'state' is longer than {MAX_STATE} characters.")
    client_id = data.get("client_id")
    hint = data.get("id_token_hint")
    if hint:
        keys = KeySet([broker.state.keys.key(broker.dialect.name)])
        try:
            claims = jwt.decode(hint, keys, algorithms=["RS256"]).claims
        except (JoseError, ValueError):
            return _refused(lang, "'id_token_hint' is not an ID token this issuer signed.")
        if claims.get("iss") != broker.issuer:
            return _refused(lang, "'id_token_hint' was issued by another issuer.")
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if client_id and client_id not in audiences:
            return _refused(lang, "'client_id' is not the audience of 'id_token_hint'.")
        client_id = client_id or str(audiences[0])
    redirect = data.get("post_logout_redirect_uri")
    if redirect:
        client = broker.client(client_id) if client_id else None
        if client is None:
            return _refused(
                lang, "'post_logout_redirect_uri' needs 'client_id' or 'id_token_hint'."
            )
        origin = origin_of(redirect)
        if origin is None or origin not in client_origins(client.redirect_uris):
            return _refused(
                lang,
                "'post_logout_redirect_uri' must be on the origin of one of the client's "
                "redirect URIs.",
            )
        target = add_params_to_uri(redirect, [("state", state)]) if state else redirect
        return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})
    return render("logged_out.html", lang)
