"""The NemLog-in endpoints: metadata, single sign-on, single logout, the answer to the SP.

A verified AuthnRequest starts a login flow on the same login pages as OIDC, with the finisher
``nemlogin``. When the login ends, the finisher keeps the outcome and sends the browser to the
answer page, which builds the SAML Response (xmlsec1 runs outside any store transaction) and
posts it to the SP's assertion consumer service. The control API registers SPs.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from authenticators.clock import Clock, SystemClock
from authenticators.core.errors import CoreError
from authenticators.ct import bytes_eq
from authenticators.protocol import Level
from authenticators.server import api
from authenticators.server.api import Endpoint, object_schema, off_loop
from authenticators.server.context import Services
from authenticators.server.flows import METHOD, ORGANISATION, STEP, USER_ID, Flow, browser_digest
from authenticators.server.http import ApiError, Fields, read_form, read_json
from authenticators.server.nemlogin import (
    METADATA_PATH,
    SLO_PATH,
    SSO_PATH,
    oiosaml,
    xmlsec_problem,
)
from authenticators.server.nemlogin.errors import SamlError, SamlErrorCode
from authenticators.server.oidc.endpoints import BROWSER_COOKIE
from authenticators.server.oidc.models import Authentication
from authenticators.server.pages.render import render
from authenticators.server.pages.strings import pick_language
from authenticators.server.stages import choose, methods_offered
from authenticators.store import Schema

if TYPE_CHECKING:  # pysaml2 is imported on the first SAML request, not at start-up
    from authenticators.server.nemlogin.idp import IdentityProvider, Login
    from authenticators.server.nemlogin.messages import AuthnRequest, Incoming, ReplayGuard
    from authenticators.server.nemlogin.providers import ServiceProvider

FINISHER = "nemlogin"
ANSWER_PATH = "/nemlogin/saml/answer"
SCRIPT_PATH = "/nemlogin/saml/post.js"
SCRIPT = Path(__file__).resolve().parent.parent / "pages" / "static" / "saml_post.js"
SP_API = "/emulator/nemlogin/sps"
ANSWER_LIFETIME = 120.0
# Login failures that mean the level asked for cannot be reached: NoAuthnContext.
LEVEL_FAILURES = {"no_methods", "insufficient_level", "method_not_available"}

SCHEMA = Schema(
    "nemlogin_answers",
    [
        """
        CREATE TABLE nemlogin_answers (
            id TEXT PRIMARY KEY,
            browser TEXT NOT NULL,
            data TEXT NOT NULL,
            expires_at REAL NOT NULL
        )
        """
    ],
)


def default_entity_id(services: Services) -> str:
    return services.config.issuer_url + "/nemlogin"


class NemLogin:
    """The NemLog-in side of one server process; the IdP itself is made on first use."""

    def __init__(self, services: Services, message_clock: Clock | None = None) -> None:
        self.services = services
        # SAML messages carry wall-clock times (pysaml2 reads the system clock itself).
        self.message_clock = message_clock or SystemClock()
        services.store.ensure(SCHEMA)
        self._guard: ReplayGuard | None = None
        self._idp: IdentityProvider | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"NemLogin({self.entity_id!r})"

    @property
    def entity_id(self) -> str:
        return self.services.config.nemlogin_entity_id or default_entity_id(self.services)

    @property
    def guard(self) -> ReplayGuard:
        from authenticators.server.nemlogin.messages import ReplayGuard

        if self._guard is None:
            self._guard = ReplayGuard(self.services.store)
        return self._guard

    def idp(self) -> IdentityProvider:
        from authenticators.server.nemlogin.idp import IdentityProvider

        with self._lock:
            if self._idp is None:
                self._idp = IdentityProvider(
                    self.services.store,
                    self.services.clock,
                    self.entity_id,
                    self.services.config.issuer_url,
                )
            return self._idp

    # -- metadata ------------------------------------------------------------------------------

    async def metadata(self, request: Request) -> Response:
        if (missing := _unavailable(request)) is not None:
            return missing
        xml = await off_loop(lambda: self.idp().metadata())
        return Response(xml, media_type="application/samlmetadata+xml")

    # -- single sign-on ----------------------------------------------------------------------

    async def sso(self, request: Request) -> Response:
        if (missing := _unavailable(request)) is not None:
            return missing
        lang = pick_language(request.headers.get("accept-language"))
        try:
            incoming = await _incoming(request, self.services.config.body_limit)
        except ApiError as exc:
            return _error_page(lang, exc.status, exc.error, exc.description)
        except SamlError as exc:
            return _refused(lang, exc)
        cookie = request.cookies.get(BROWSER_COOKIE)
        new_cookie = None
        if not cookie or len(cookie) > 100:
            cookie = new_cookie = secrets.token_urlsafe(24)
        response = await off_loop(self._sso, incoming, cookie, lang)
        if new_cookie:
            response.set_cookie(BROWSER_COOKIE, new_cookie, httponly=True, samesite="lax", path="/")
        return response

    def _sso(self, incoming: Incoming, cookie: str, lang: str) -> Response:
        from authenticators.server.nemlogin.messages import read_authn_request

        idp = self.idp()
        try:
            req = read_authn_request(idp, self.guard, incoming, self.message_clock.now())
        except SamlError as exc:
            return _refused(lang, exc)
        try:
            level, professional = req.requirement(Level(self.services.config.default_level))
            if req.is_passive:
                raise SamlError(
                    SamlErrorCode.NO_PASSIVE,
                    "the IdP keeps no session: every login asks the person (IsPassive)",
                )
        except SamlError as exc:
            return self._post_page(
                req.sp, req.acs.location, req.relay_state, req.id, error=exc, lang=lang
            )
        if "simulation" in incoming.params:
            return self._simulate(req, level, professional, incoming.params["simulation"], cookie)
        return self._start(req, level, professional, cookie, lang)

    def _start(
        self, req: AuthnRequest, level: Level, professional: bool, cookie: str, lang: str
    ) -> Response:
        """The login flow on the pages, with the finisher that answers the SP."""
        flow = self._new_flow(req, level, professional, cookie, lang, None)
        return RedirectResponse(f"/login/{flow.id}", status_code=303)

    def _new_flow(
        self,
        req: AuthnRequest,
        level: Level,
        professional: bool,
        cookie: str,
        lang: str,
        user_id: str | None,
    ) -> Flow:
        params = [
            ("request_id", req.id),
            ("entity_id", req.sp.entity_id),
            ("acs", req.acs.location),
            ("level", level.value),
            ("professional", "1" if professional else ""),
        ]
        if req.relay_state is not None:
            params.append(("relay_state", req.relay_state))
        if req.app_switch is not None:
            params += [("app_switch_platform", req.app_switch[0])]
        identity_uuid = None
        if user_id is not None:
            identity_uuid = self.services.identities.get(user_id).uuid
        return self.services.flows.create(
            browser=browser_digest(cookie),
            params=params,
            client_id=req.sp.entity_id,
            client_name=req.sp.name,
            redirect_uri=req.acs.location,
            level=level.value,
            business=professional,
            reference_text="",
            lang=lang,
            finisher=FINISHER,
            hint_uuid=identity_uuid,
            stage=METHOD if user_id else USER_ID,
            user_id=user_id,
        )

    def _simulate(
        self, req: AuthnRequest, level: Level, professional: bool, value: str, cookie: str
    ) -> Response:
        """The no-UI path (``simulation=no-ui uuid:… | username:… | cpr:…``), for an SP
        registered with ``--simulate`` only: the same login the pages run, the app approved by
        the emulator as a person holding the phone to the screen would."""
        from authenticators.server.brokers.base import BrokerError, simulation_of
        from authenticators.server.brokers.simulation import approve_on_phone, find_person
        from authenticators.server.login import act_organisation, act_step

        services = self.services

        def refuse(code: SamlErrorCode, message: str) -> Response:
            error = SamlError(code, "simulation: " + message)
            return self._post_page(req.sp, req.acs.location, req.relay_state, req.id, error=error)

        if not req.sp.simulate:
            return refuse(SamlErrorCode.UNSUPPORTED, "not enabled for this service provider")
        try:
            sim = simulation_of(value, None)
        except BrokerError as exc:
            return refuse(SamlErrorCode.MALFORMED, exc.description)
        identity = find_person(services, sim)
        if identity is None or (sim.cpr is not None and sim.cpr != identity.cpr):
            return refuse(SamlErrorCode.AUTHN_FAILED, "no such person")
        with services.store.transaction():
            flow = self._new_flow(req, level, professional, cookie, "da", identity.user_id)
            offered = [m for m in methods_offered(services, flow) if m["kind"] == sim.kind]
            if offered:
                choose(services, flow, offered[0])
                services.flows.save(flow)
        if not offered:
            services.flows.delete(flow.id)
            return refuse(SamlErrorCode.NO_AUTHN_CONTEXT, f"no {sim.kind} reaches the level")
        if flow.stage != STEP or flow.transaction_id is None:
            services.flows.delete(flow.id)
            return refuse(SamlErrorCode.AUTHN_FAILED, flow.failure or "the login did not start")
        try:
            approve_on_phone(services, flow.transaction_id)
        except Exception as exc:  # the app refused: no PIN to give, blocked, …
            services.flows.delete(flow.id)
            return refuse(SamlErrorCode.AUTHN_FAILED, getattr(exc, "message", type(exc).__name__))
        with services.store.transaction():
            response = act_step(services, flow, {})
            if response is None and flow.stage == ORGANISATION:
                first = flow.step_data["organisations"][0]["cvr"]
                response = act_organisation(services, flow, {"cvr": first})
            if response is None:
                services.flows.save(flow)
        if response is not None:
            return response
        services.flows.delete(flow.id)
        return refuse(SamlErrorCode.AUTHN_FAILED, flow.failure or "not approved")

    # -- the end of the login ------------------------------------------------------------------

    def finish(self, services: Services, flow: Flow, auth: Authentication | None) -> Response:
        """The finisher: keep the outcome, send the browser to the answer page."""
        data: dict[str, Any] = {"params": flow.params, "failure": flow.failure, "lang": flow.lang}
        if auth is not None:
            data["auth"] = auth.to_json()
        answer = secrets.token_urlsafe(18)
        now = services.clock.now()
        with services.store.transaction() as conn:
            conn.execute(
                "INSERT INTO nemlogin_answers (id, browser, data, expires_at) VALUES (?, ?, ?, ?)",
                (answer, flow.browser, json.dumps(data), now + ANSWER_LIFETIME),
            )
            conn.execute("DELETE FROM nemlogin_answers WHERE expires_at < ?", (now,))
        response = RedirectResponse(f"{ANSWER_PATH}/{answer}", status_code=303)
        response.headers["Cache-Control"] = "no-store"
        return response

    async def answer(self, request: Request) -> Response:
        if (missing := _unavailable(request)) is not None:
            return missing
        answer = str(request.path_params.get("answer", ""))
        cookie = request.cookies.get(BROWSER_COOKIE) or ""
        lang = pick_language(request.headers.get("accept-language"))
        return await off_loop(self._answer, answer, cookie, lang)

    def _answer(self, answer: str, cookie: str, lang: str) -> Response:
        from authenticators.server.nemlogin.idp import Login

        services = self.services
        with services.store.transaction() as conn:
            row = conn.execute(
                "SELECT browser, data, expires_at FROM nemlogin_answers WHERE id = ?",
                (answer[:64],),
            ).fetchone()
            if row is not None:
                conn.execute("DELETE FROM nemlogin_answers WHERE id = ?", (answer[:64],))
        if (
            row is None
            or row["expires_at"] < services.clock.now()
            or not bytes_eq(browser_digest(cookie).encode(), str(row["browser"]).encode())
        ):
            return _error_page(lang, 400, "session_lost", "This login has already ended.")
        data = json.loads(row["data"])
        params = dict(data["params"])
        lang = data.get("lang") or lang
        sp = self.idp().providers.get(params["entity_id"])
        if sp is None:
            return _refused(
                lang, SamlError(SamlErrorCode.UNKNOWN_SP, "the service provider was removed")
            )
        request_id, acs, relay = params["request_id"], params["acs"], params.get("relay_state")
        if "auth" not in data:
            code = (
                SamlErrorCode.NO_AUTHN_CONTEXT
                if data.get("failure") in LEVEL_FAILURES
                else SamlErrorCode.AUTHN_FAILED
            )
            error = SamlError(code, _failure_text(data.get("failure")))
            return self._post_page(sp, acs, relay, request_id, error=error, lang=lang)
        auth = Authentication.from_json(data["auth"])
        if Level(auth.level).rank < Level(params["level"]).rank:
            error = SamlError(SamlErrorCode.NO_AUTHN_CONTEXT, "the level asked for was not reached")
            return self._post_page(sp, acs, relay, request_id, error=error, lang=lang)
        try:
            identity = services.identities.by_uuid(auth.identity_uuid)
        except CoreError:
            error = SamlError(SamlErrorCode.AUTHN_FAILED, "the identity was removed")
            return self._post_page(sp, acs, relay, request_id, error=error, lang=lang)
        professional = bool(params.get("professional")) and auth.business
        login = Login(
            identity_uuid=identity.uuid,
            professional=professional,
            loa_uri=oiosaml.loa_uri(Level(auth.level)),
            attributes=dict(oiosaml.attributes(identity, auth, _today(self.message_clock.now()))),
            auth_time=auth.auth_time,
        )
        return self._post_page(sp, acs, relay, request_id, login=login, lang=lang)

    def _post_page(
        self,
        sp: ServiceProvider,
        acs: str,
        relay_state: str | None,
        request_id: str,
        *,
        login: Login | None = None,
        error: SamlError | None = None,
        lang: str = "da",
    ) -> Response:
        """The page that posts the Response to the SP (by script, or by a button without)."""
        idp = self.idp()
        if login is not None:
            xml = idp.authn_response(sp, in_response_to=request_id, destination=acs, login=login)
        else:
            assert error is not None
            xml = idp.error_response(sp, in_response_to=request_id, destination=acs, error=error)
        fields = {"SAMLResponse": base64.b64encode(xml.encode("utf-8")).decode("ascii")}
        if relay_state is not None:
            fields["RelayState"] = relay_state
        return render(
            "saml_post.html",
            lang,
            action=acs,
            fields=fields,
            service=sp.name,
            script=SCRIPT_PATH,
        )

    # -- single logout ---------------------------------------------------------------------------

    async def slo(self, request: Request) -> Response:
        if (missing := _unavailable(request)) is not None:
            return missing
        lang = pick_language(request.headers.get("accept-language"))
        try:
            incoming = await _incoming(request, self.services.config.body_limit)
        except ApiError as exc:
            return _error_page(lang, exc.status, exc.error, exc.description)
        except SamlError as exc:
            return _refused(lang, exc)
        return await off_loop(self._slo, incoming, lang)

    def _slo(self, incoming: Incoming, lang: str) -> Response:
        from authenticators.server.nemlogin.messages import read_logout_request

        idp = self.idp()
        try:
            req = read_logout_request(idp, self.guard, incoming, self.message_clock.now())
        except SamlError as exc:
            return _refused(lang, exc)
        endpoint = req.sp.slo_redirect()
        if endpoint is None:
            return _refused(
                lang,
                SamlError(
                    SamlErrorCode.UNSUPPORTED,
                    "the SP registered no SingleLogoutService with the HTTP-Redirect binding",
                ),
            )
        location = idp.logout_response(
            req.sp,
            in_response_to=req.id,
            destination=endpoint.response_location or endpoint.location,
            relay_state=req.relay_state,
        )
        return RedirectResponse(location, status_code=303, headers={"Cache-Control": "no-store"})

    async def script(self, request: Request) -> Response:
        return Response(
            SCRIPT.read_text(encoding="utf-8"),
            media_type="text/javascript",
            headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    def routes(self) -> list[BaseRoute]:
        return [
            Route(METADATA_PATH, self.metadata, methods=["GET"]),
            Route(SSO_PATH, self.sso, methods=["GET", "POST"]),
            Route(SLO_PATH, self.slo, methods=["GET", "POST"]),
            Route(ANSWER_PATH + "/{answer}", self.answer, methods=["GET"]),
            Route(SCRIPT_PATH, self.script, methods=["GET"]),
            *(endpoint.route() for endpoint in SP_ENDPOINTS),
        ]


# -- the control API: service providers ----------------------------------------------------------


def _idp(services: Services) -> IdentityProvider:
    if services.nemlogin is None:
        raise ApiError(404, "not_found", "this server has no NemLog-in IdP")
    return services.nemlogin.idp()


async def list_sps(request: Request, services: Services) -> Response:
    found = await off_loop(lambda: _idp(services).providers.list())
    return _json({"service_providers": [sp.to_dict() for sp in found]})


async def add_sp(request: Request, services: Services) -> Response:
    fields = Fields(await read_json(request, 512 * 1024), ADD_SP.fields_allowed())
    xml = fields.req_text("metadata", max_length=256 * 1024)
    name = fields.text("name", max_length=200)
    simulate = fields.flag("simulate")

    def work() -> ServiceProvider:
        try:
            return _idp(services).providers.add(xml, name=name, simulate=simulate)
        except SamlError as exc:
            raise ApiError(400, exc.code.error, exc.message) from None

    return _json((await off_loop(work)).to_dict(), 201)


async def remove_sp(request: Request, services: Services) -> Response:
    entity_id = request.query_params.get("entity_id", "")

    def work() -> None:
        try:
            _idp(services).providers.remove(entity_id)
        except SamlError as exc:
            raise ApiError(404, "not_found", exc.message) from None

    await off_loop(work)
    return _json({"deleted": entity_id})


ADD_SP = Endpoint(
    "POST",
    SP_API,
    add_sp,
    "Register (or replace) an SP from its SAML metadata",
    body=object_schema(
        {
            "metadata": {"type": "string", "maxLength": 262144},
            "name": {"type": "string", "maxLength": 200},
            "simulate": {"type": "boolean"},
        },
        ["metadata"],
    ),
    body_required=True,
    created=True,
    errors=(400, 401, 415),
)
SP_ENDPOINTS = [
    Endpoint("GET", SP_API, list_sps, "The NemLog-in IdP's service providers"),
    ADD_SP,
    Endpoint(
        "DELETE",
        SP_API,
        remove_sp,
        "Remove an SP",
        errors=(401, 404),
        required_query={"entity_id": {"type": "string"}},
    ),
]


def openapi_paths() -> dict[str, Any]:
    """The control API's SP registry, for the OpenAPI document."""
    return api.openapi_paths(SP_ENDPOINTS)


def install(services: Services) -> list[BaseRoute]:
    """Register the finisher and return the routes (the app calls this once)."""
    nemlogin = NemLogin(services)
    services.finishers[FINISHER] = nemlogin.finish
    services.nemlogin = nemlogin
    return nemlogin.routes()


async def _incoming(request: Request, limit: int) -> Incoming:
    from authenticators.server.nemlogin.messages import Incoming

    if request.method == "GET":
        return Incoming.from_query(request.scope.get("query_string", b""))
    return Incoming.from_form(await read_form(request, limit))


def _today(now: float) -> dt.date:
    return dt.datetime.fromtimestamp(now, dt.UTC).date()


def _failure_text(failure: str | None) -> str:
    if failure is None:
        return "the person cancelled the login"
    return f"the login failed: {failure}"


def _unavailable(request: Request) -> Response | None:
    """A clear 503 when this machine cannot sign or encrypt SAML messages."""
    problem = xmlsec_problem()
    if problem is None:
        return None
    lang = pick_language(request.headers.get("accept-language"))
    return _error_page(lang, 503, "saml_unavailable", problem)


def _json(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers={"Cache-Control": "no-store"})


def _error_page(lang: str, status: int, error: str, description: str) -> Response:
    return render(
        "error.html", lang, status=status, error=error, description=description, session_error=False
    )


def _refused(lang: str, exc: SamlError) -> Response:
    """A request that cannot be answered at an ACS: a page naming the SAML status."""
    status = 413 if exc.code is SamlErrorCode.TOO_LARGE else 400
    return _error_page(
        lang,
        status,
        exc.code.error,
        f"{exc.message} (SAML status {exc.code.second_status})",
    )
