"""The login pages: user ID, choice of method, the kind's step, the company, and back.

Every page is a GET of ``/login/{flow}`` drawing the flow's stage; every form posts to one
action and is answered with a redirect (303), back to the page or to the service.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Error
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from authenticators.core.errors import CoreError
from authenticators.core.login import LoginResult
from authenticators.core.organisations import Membership
from authenticators.protocol import ErrorCode, Level, ProtocolError
from authenticators.server.api import off_loop, on_loop, services_of
from authenticators.server.context import Services
from authenticators.server.flows import (
    DONE,
    METHOD,
    OIDC,
    ORGANISATION,
    STEP,
    USER_ID,
    Flow,
)
from authenticators.server.http import ApiError, read_form
from authenticators.server.oidc.endpoints import AUTHORIZE, BROWSER_COOKIE, with_issuer
from authenticators.server.oidc.models import Authentication
from authenticators.server.oidc.server import EmuRequest
from authenticators.server.pages.render import render
from authenticators.server.pages.strings import LANGUAGES, notice_text, pick_language, text
from authenticators.server.stages import (
    choose,
    fail,
    methods_offered,
    start_step,
)
from authenticators.server.steps.base import OutcomeKind, StepContext

MAX_ATTEMPTS = 5
# Failures after which "try again" (choose a method again) makes sense.
RETRY_FAILURES = {
    "locked",
    "expired",
    "too_many_attempts",
    "method_not_available",
    "insufficient_level",
    "no_password",
    "unknown_authenticator",
    "rejected_by_user",
    "not_approved",
    "parallel_session",
    "bad_signature",
    "bad_binding",
    "malformed",
}

Action = Callable[[Services, Flow, dict[str, str]], Response | None]


def _urls(flow: Flow) -> dict[str, str]:
    base = f"/login/{flow.id}"
    return {
        "action": f"{base}/{_ACTION_OF_STAGE.get(flow.stage, 'cancel')}",
        "cancel": f"{base}/cancel",
        "restart": f"{base}/restart" if flow.stage in (METHOD, USER_ID) else f"{base}/methods",
    }


_ACTION_OF_STAGE = {
    USER_ID: "user-id",
    METHOD: "method",
    STEP: "step",
    ORGANISATION: "organisation",
    "cpr": "cpr",
}


def _session_lost(lang: str, status: int = 400, reason: str = "session_lost") -> Response:
    return render(
        "error.html",
        lang,
        status=status,
        error=reason,
        description=text(reason, lang),
        session_error=True,
    )


def _load(services: Services, request: Request) -> tuple[Flow | None, str]:
    flow_id = str(request.path_params.get("flow", ""))
    flow = services.flows.get(flow_id)
    lang = flow.lang if flow else pick_language(request.headers.get("accept-language"))
    if flow is None or not flow.check_browser(request.cookies.get(BROWSER_COOKIE)):
        return None, lang
    return flow, lang


# -- GET: draw the stage ---------------------------------------------------------------------


async def page(request: Request) -> Response:
    services = services_of(request)
    wanted = request.query_params.get("lang")
    return await on_loop(_page, services, request, wanted)


def _page(services: Services, request: Request, wanted: str | None) -> Response:
    flow, lang = _load(services, request)
    if flow is None:
        return _session_lost(lang)
    if wanted in LANGUAGES and wanted != flow.lang:
        flow.lang = wanted
        services.flows.save(flow)
    return draw(services, flow)


def draw(services: Services, flow: Flow) -> Response:
    lang = flow.lang
    notice = notice_text(flow.notice, flow.kind, lang) if flow.notice else None
    common: dict[str, Any] = {"flow": flow, "notice": notice, **_urls(flow)}
    if flow.stage == USER_ID:
        return render("user_id.html", lang, user_id=flow.user_id, **common)
    if flow.stage == METHOD:
        assert flow.user_id
        methods = methods_offered(services, flow)
        return render("methods.html", lang, methods=methods, **common)
    if flow.stage == STEP:
        assert flow.kind
        step = services.steps[flow.kind]
        try:
            shown = step.page(StepContext(services, flow, lang))
        except ProtocolError as exc:  # the authenticator went away during the login
            if exc.code is not ErrorCode.UNKNOWN_AUTHENTICATOR:
                raise
            fail(flow, "unknown_authenticator")
            services.flows.save(flow)
            return draw(services, flow)
        return render(shown.template, lang, **{**common, **shown.context})
    if flow.stage == ORGANISATION:
        return render("organisation.html", lang, organisations=_organisations(flow), **common)
    if flow.stage == "cpr":
        return render("cpr.html", lang, **common)
    reason = flow.failure or "malformed"
    return render(
        "failed.html",
        lang,
        status=200,
        reason=reason,
        message=text(reason, lang),
        can_retry=reason in RETRY_FAILURES and flow.user_id is not None,
        **common,
    )


def _organisations(flow: Flow) -> list[dict[str, Any]]:
    return list(flow.step_data.get("organisations", []))


# -- POST: act and redirect --------------------------------------------------------------------


def _form_action(action: Action) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        services = services_of(request)
        try:
            form = dict(await read_form(request, services.config.body_limit))
        except ApiError as exc:
            lang = pick_language(request.headers.get("accept-language"))
            return _session_lost(lang, exc.status, "bad_form")

        def work() -> Response:
            flow, lang = _load(services, request)
            if flow is None:
                return _session_lost(
                    lang,
                    403 if services.flows.get(str(request.path_params.get("flow", ""))) else 400,
                )
            if not flow.check_csrf(form.get("csrf")):
                return _session_lost(lang, 403, "bad_form")
            flow.notice = None
            response = action(services, flow, form)
            if response is not None:
                return response
            services.flows.save(flow)
            return RedirectResponse(f"/login/{flow.id}", status_code=303)

        if action is act_step and not _quick_step(services, request):
            return await off_loop(work)  # the step may check a password: slow by design
        return await on_loop(_in_one_transaction, services, work)

    return endpoint


def _in_one_transaction(services: Services, work: Callable[[], Response]) -> Response:
    """A quick action's reads and writes, committed once: the flow, the login, the code."""
    with services.store.transaction():
        return work()


def _quick_step(services: Services, request: Request) -> bool:
    """Whether the flow's step answers without slow work (declared by the step: ``quick``)."""
    flow = services.flows.get(str(request.path_params.get("flow", "")))
    if flow is None or flow.kind is None:
        return True  # no step to run: the action only draws a refusal
    step = services.steps.get(flow.kind)
    return step is None or bool(getattr(step, "quick", False))


def act_user_id(services: Services, flow: Flow, form: dict[str, str]) -> Response | None:
    if flow.stage != USER_ID:
        return None
    user_id = form.get("user_id", "").strip()
    if not user_id:
        flow.notice = "user_id_missing"
        return None
    try:
        identity = services.identities.get(user_id)
    except CoreError:
        flow.notice = "unknown_user"
        flow.user_id = user_id[:64]
        return None
    if flow.hint_uuid and identity.uuid != flow.hint_uuid:
        flow.notice = "hint_mismatch"
        return None
    flow.user_id = identity.user_id
    flow.stage = METHOD
    if not methods_offered(services, flow):
        fail(flow, "no_methods")
    return None


def act_method(services: Services, flow: Flow, form: dict[str, str]) -> Response | None:
    if flow.stage != METHOD:
        return None
    chosen = form.get("method", "")
    offered = {m["value"]: m for m in methods_offered(services, flow)}
    if chosen not in offered:
        flow.notice = "method_missing"
        return None
    choose(services, flow, offered[chosen])
    return None


def act_step(services: Services, flow: Flow, form: dict[str, str]) -> Response | None:
    if flow.stage != STEP or flow.kind not in services.steps:
        return None
    step = services.steps[flow.kind]
    outcome = step.submit(StepContext(services, flow, flow.lang), form)
    if outcome.kind is OutcomeKind.STAY:
        flow.notice = outcome.reason or None
        return None
    if outcome.kind is OutcomeKind.DENIED:
        return finish(services, flow, None)
    if outcome.kind is OutcomeKind.RETRY:
        flow.attempts += 1
        if flow.attempts >= MAX_ATTEMPTS:
            fail(flow, "too_many_attempts")
            return None
        if outcome.restart:
            start_step(services, flow)
        flow.notice = outcome.reason
        return None
    if outcome.kind is OutcomeKind.FAILED:
        fail(flow, outcome.reason, outcome.detail)
        return None
    assert outcome.result is not None
    return _authenticated(services, flow, outcome.result)


def _authenticated(services: Services, flow: Flow, result: LoginResult) -> Response | None:
    assert result.level is not None
    auth = Authentication(
        identity_uuid=result.identity.uuid,
        user_id=result.identity.user_id,
        acr=result.level.acr,
        level=result.level.value,
        amr=result.amr,
        auth_time=services.oidc_clock.now(),
    )
    if flow.broker is not None:  # a broker's CPR match comes first (server/brokers/flows.py)
        from authenticators.server.brokers.flows import CPR, needs_cpr

        asked = needs_cpr(services, flow, result.identity)
        if isinstance(asked, Response):
            return asked
        if asked:
            flow.authentication = auth.to_json()
            flow.stage = CPR
            return None
    return _for_company(services, flow, auth)


def _for_company(services: Services, flow: Flow, auth: Authentication) -> Response | None:
    """A business login goes on to the company (chosen, or the only one); others finish."""
    if not flow.business:
        return finish(services, flow, auth)
    memberships = services.organisations.memberships(auth.identity_uuid)
    if flow.hint_cvr:
        memberships = [m for m in memberships if m.cvr == flow.hint_cvr]
        if not memberships:
            fail(flow, "organisation_not_member")
            return None
    if not memberships and flow.broker_data.get("business_optional"):
        return finish(services, flow, auth)  # business_optional: a private login will do
    if not memberships:
        fail(flow, "no_organisation")
        return None
    if len(memberships) == 1:
        return finish(services, flow, auth.with_organisation(memberships[0], Level.BUSINESS.acr))
    flow.authentication = auth.to_json()
    flow.step_data = {"organisations": [m.to_dict() for m in memberships]}
    flow.stage = ORGANISATION
    return None


def act_cpr(services: Services, flow: Flow, form: dict[str, str]) -> Response | None:
    """The CPR number a broker's service asked for, matched with the person's MitID."""
    from authenticators.server.brokers.flows import CPR, check_cpr

    if flow.stage != CPR or flow.authentication is None:
        return None
    auth = Authentication.from_json(flow.authentication)
    identity = services.identities.by_uuid(auth.identity_uuid)
    matched = check_cpr(services, flow, identity, form.get("cpr", "")[:32])
    if isinstance(matched, Response):
        return matched
    if not matched:
        flow.notice = "cpr_mismatch"
        return None
    return _for_company(services, flow, auth)


def act_organisation(services: Services, flow: Flow, form: dict[str, str]) -> Response | None:
    if flow.stage != ORGANISATION or flow.authentication is None:
        return None
    chosen = [m for m in _organisations(flow) if m["cvr"] == form.get("cvr")]
    if not chosen:
        flow.notice = "organisation_missing"
        return None
    membership = Membership(chosen[0]["cvr"], chosen[0]["org_name"], tuple(chosen[0]["roles"]))
    auth = Authentication.from_json(flow.authentication)
    return finish(services, flow, auth.with_organisation(membership, Level.BUSINESS.acr))


def _drop_transaction(services: Services, flow: Flow) -> None:
    """The person left the step: its login will get no answer (an app push is taken back)."""
    if flow.stage == STEP and flow.transaction_id:
        services.login.abandon(flow.transaction_id, "the person left the login page")


def act_restart(services: Services, flow: Flow, form: dict[str, str]) -> Response | None:
    """Back to the user ID (or, with a uuid hint, to the choice of method)."""
    if flow.stage == DONE:
        return None
    _drop_transaction(services, flow)
    flow.kind = flow.authenticator_id = flow.transaction_id = None
    flow.failure, flow.failure_detail, flow.step_data = None, "", {}
    if flow.hint_uuid and flow.user_id:
        flow.stage = METHOD
    else:
        flow.stage, flow.user_id = USER_ID, None
    return None


def act_methods(services: Services, flow: Flow, form: dict[str, str]) -> Response | None:
    """Back to the choice of method, for the same person."""
    if flow.stage == DONE or flow.user_id is None:
        return act_restart(services, flow, form)
    _drop_transaction(services, flow)
    flow.kind = flow.authenticator_id = flow.transaction_id = None
    flow.failure, flow.failure_detail, flow.step_data = None, "", {}
    flow.stage = METHOD
    if not methods_offered(services, flow):
        fail(flow, "no_methods")
    return None


def act_cancel(services: Services, flow: Flow, form: dict[str, str]) -> Response | None:
    """The person gives up: back to the service with ``access_denied``."""
    _drop_transaction(services, flow)
    return finish(services, flow, None)


def finish(services: Services, flow: Flow, auth: Authentication | None) -> Response:
    """Answer the service: the flow's finisher, or for OIDC the code (or access_denied)."""
    if flow.finisher != OIDC:
        services.flows.delete(flow.id)
        flow.stage = DONE
        return services.finishers[flow.finisher](services, flow, auth)
    return _finish_oidc(services, flow, auth)


def _finish_oidc(services: Services, flow: Flow, auth: Authentication | None) -> Response:
    """Issue the code (or access_denied) through Authlib and send the browser back."""
    server = services.authorization_server
    issuer: str | None = services.config.issuer_url  # named in the response (RFC 9207)
    uri = services.config.issuer_url + AUTHORIZE
    if flow.broker is not None:  # a broker dialect's issuer: its server, its claims
        from authenticators.server.brokers.server import finishing

        server, uri, auth = finishing(services, flow, auth)
        issuer = None
    elif auth is not None and auth.session_id is None:
        # A new login: the browser's login session from now on (single sign-on).
        auth = services.grants.start_session(flow.browser, auth, services.config.session_lifetime)
    oreq = EmuRequest("GET", uri, {}, query=flow.params)
    services.flows.delete(flow.id)
    flow.stage = DONE
    # Authlib's get_consent_grant and create_authorization_response in one: the request is
    # checked once (the two would check it twice), and an error without a redirect URI (the
    # client removed meanwhile) gets our page rather than JSON.
    oreq.user = auth
    try:
        grant = server.get_authorization_grant(oreq)
        grant.validate_no_multiple_request_parameter(oreq)
        redirect_uri = grant.validate_consent_request()
        response = server.handle_response(*grant.create_authorization_response(redirect_uri, auth))
    except OAuth2Error as error:
        error.state = oreq.payload.state
        if error.redirect_uri:
            return _see_other(with_issuer(server.handle_error_response(oreq, error), issuer))
        return render(
            "error.html",
            flow.lang,
            status=400,
            error=error.error,
            description=error.get_error_description() or "",
            session_error=False,
        )
    grant.execute_hook("after_authorization_response", response)
    return _see_other(with_issuer(response, issuer))


def _see_other(response: Response) -> Response:
    """After a form post the browser must GET the service's redirect URI: 303, not 302."""
    if response.status_code == 302:
        response.status_code = 303
    response.headers["Cache-Control"] = "no-store"
    return response


def routes() -> list[BaseRoute]:
    actions: dict[str, Action] = {
        "user-id": act_user_id,
        "method": act_method,
        "step": act_step,
        "organisation": act_organisation,
        "cpr": act_cpr,
        "restart": act_restart,
        "methods": act_methods,
        "cancel": act_cancel,
    }
    found: list[BaseRoute] = [Route("/login/{flow}", page, methods=["GET"])]
    for name, action in actions.items():
        found.append(Route(f"/login/{{flow}}/{name}", _form_action(action), methods=["POST"]))
    return found
