"""The MitID app step: push the login to the person's app, show the QR frames, wait for the answer.

Choosing the app pushes the login (the core's ``begin``) and opens its login screen: two QR frames
alternating every half second, each with half of a channel-binding value, and a 4-digit code for
people who cannot scan. The page animates the frames with a small script (served here, so the
page's ``script-src 'self'`` allows it) and polls ``/login/{flow}/app/status``; once the app has
answered, the script sends the form and the server completes the login. Without scripts, the
page shows one frame and a link to look again, and the person presses "continue" after approving.

The control API lists pending app logins and approves or rejects them as a phone held to the
screen would (it reads the frames the screen shows, then signs with the app's key), and serves
the phone's side of the exchange over HTTP under ``/emulator/app/`` for an app whose key lives
elsewhere (``mitid-emu app watch --server``).
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from authenticators import registry
from authenticators.app.answer import Answer
from authenticators.app.apps import AppRecord, AppStatus, parse_level
from authenticators.app.device import Phone
from authenticators.app.errors import AppRefusal
from authenticators.app.inbox import SessionStatus, StateExchange
from authenticators.app.pin import hash_pin, pin_problem
from authenticators.app.plugin import AppPlugin
from authenticators.app.policy import FRAME_INTERVAL
from authenticators.app.screen import LoginScreen
from authenticators.core.errors import CoreError
from authenticators.ct import bytes_eq
from authenticators.protocol import ProtocolError, Reason
from authenticators.server.api import admin_endpoint, off_loop, on_loop, path_param, services_of
from authenticators.server.context import Services
from authenticators.server.flows import STEP, Flow
from authenticators.server.http import ApiError, Fields, read_json
from authenticators.server.steps.base import Outcome, StepContext, StepPage, begin_login

KIND = "app"
SCRIPT = Path(__file__).resolve().parents[2] / "pages" / "static" / "app_step.js"
SCRIPT_URL = "/static/app-step.js"
POLL_MS = 1000
VIEWS = ("qr", "code")


def app_plugin() -> AppPlugin:
    plugin = registry.get(KIND)
    assert isinstance(plugin, AppPlugin)
    return plugin


def _json(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers={"Cache-Control": "no-store"})


def refusal_response(exc: AppRefusal) -> JSONResponse:
    """What the app refused (wrong PIN, blocked, answered, expired): 409 with the reason."""
    return _json(
        {"error": "refused", "error_description": exc.message, "reason": exc.reason.value}, 409
    )


def _supersede(services: Services, flow: Flow) -> None:
    """A new app login from the browser that started the person's open one takes its place
    (one at a time per person: it would be refused as parallel until the old one expired)."""
    assert flow.user_id
    now = services.clock.now()
    StateExchange(services.store)  # the table exists
    with services.store.read() as conn:
        rows = conn.execute(
            "SELECT a.transaction_id FROM app_logins a"
            " JOIN identities i ON i.uuid = a.identity_uuid"
            " WHERE i.user_id = ? AND a.status IN (?, ?) AND a.expires_at > ?",
            (flow.user_id, SessionStatus.PENDING.value, SessionStatus.ANSWERED.value, now),
        ).fetchall()
    for row in rows:
        owner = services.flows.with_transaction(row["transaction_id"])
        if (
            owner is not None
            and owner.id != flow.id
            and bytes_eq(owner.browser.encode("ascii"), flow.browser.encode("ascii"))
        ):
            services.login.abandon(
                row["transaction_id"], "a new login from the same browser took its place"
            )


# -- the login screen as the page shows it -------------------------------------------------------


def _resume(services: Services, transaction_id: str) -> LoginScreen:
    pending = services.login.pending(transaction_id)
    return LoginScreen.resume(
        services.store,
        services.clock,
        pending.challenge,
        level=pending.level,
        policy=app_plugin().policy,
    )


def screen_status(services: Services, flow: Flow, *, rotate: bool = True) -> dict[str, Any]:
    """What the page shows and polls: the state of the login and the frames on the screen.

    One read in the common case; a fresh binding value, when one is due, is shown inside the
    write lock after reading again, so two polls at once rotate once.
    """
    assert flow.transaction_id
    with services.store.read():
        screen = _resume(services, flow.transaction_id)
        current = screen.current
        due = current is not None and (
            services.clock.now() - current.shown_at >= screen.policy.rotate_every
        )
        if not (rotate and due):
            return _status(services, flow, screen)
    with services.store.transaction():
        screen = _resume(services, flow.transaction_id)
        screen.refresh()
        return _status(services, flow, screen)


def _status(services: Services, flow: Flow, screen: LoginScreen) -> dict[str, Any]:
    session = screen.session()
    now = services.clock.now()
    if session.status is SessionStatus.ANSWERED:
        status = "answered"
    elif session.status is not SessionStatus.PENDING:
        status = "closed"
    elif session.expired(now):
        status = "expired"
    else:
        status = "pending"
    current = screen.current
    frames = [frame.payload() for frame in current.frames()] if current else []
    base = f"/login/{flow.id}/app/qr"
    png = [f"{base}/{current.update}/{part}.png" for part in (1, 2)] if current else []
    shown = screen.frame()
    return {
        "status": status,
        "update": current.update if current else None,
        "frames": frames,
        "png": png,
        "part": shown.part if shown else None,
        "code": current.code if current else None,
        "scanned": screen.bound() is not None,
        "binding_required": session.binding_required,
        "pin_required": session.pin_required,
        "expires_in": max(0.0, round(session.expires_at - now, 1)),
        "frame_ms": int(FRAME_INTERVAL * 1000),
        "poll_ms": POLL_MS,
    }


@lru_cache(maxsize=64)
def _png(payload: str) -> bytes:
    from authenticators.app.channel import render_png

    return render_png(payload, scale=5)


# -- the step ------------------------------------------------------------------------------------


class AppStep:
    """Push, show the screen, complete with the app's signed answer."""

    # Its PIN is hashed (slowly) before its own transaction: with an identity, it enrolls after
    # the identity's transaction, so that no writer waits for the hash.
    enrolls_outside_transaction = True

    # No password: start, page and submit are a few store queries and a signature check.
    quick = True

    def __repr__(self) -> str:
        return "AppStep()"

    def start(self, ctx: StepContext) -> None:
        flow = ctx.flow
        assert flow.user_id
        services = ctx.services
        _supersede(services, flow)
        challenge = begin_login(ctx, KIND)
        screen = LoginScreen(
            services.store,
            services.clock,
            challenge,
            level=ctx.level,
            policy=app_plugin().policy,
        )
        screen.open()
        flow.step_data = {"view": "qr"}

    def page(self, ctx: StepContext) -> StepPage:
        flow = ctx.flow
        assert flow.transaction_id
        try:
            status = screen_status(ctx.services, flow)
        except (CoreError, ProtocolError):
            status = {"status": "closed", "frames": [], "png": [], "code": None, "part": None}
        part = status.get("part") or 1
        png = status["png"]
        return StepPage(
            "steps/app.html",
            {
                "view": flow.step_data.get("view", "qr"),
                "app": status,
                "current_png": png[part - 1] if png else None,
                "poll_url": f"/login/{flow.id}/app/status",
                "refresh_url": f"/login/{flow.id}",
                "script_url": SCRIPT_URL,
                "transaction_id": flow.transaction_id,
                "app_id": flow.authenticator_id or "",
            },
        )

    def submit(self, ctx: StepContext, form: Mapping[str, str]) -> Outcome:
        flow = ctx.flow
        assert flow.transaction_id
        view = form.get("view")
        if view in VIEWS:
            flow.step_data["view"] = view
            return Outcome.stay()
        services = ctx.services
        try:
            screen = _resume(services, flow.transaction_id)
        except (CoreError, ProtocolError):
            return Outcome.failed("expired")
        response = screen.poll()
        if response is None:
            if not screen.challenge.expired(services.clock.now()):
                return Outcome.stay("app_waiting")
            response = screen.timeout_response()
        result = services.login.complete(flow.transaction_id, response)
        if result.ok:
            return Outcome.done(result)
        reason = result.verdict.reason
        if reason is Reason.REJECTED_BY_USER:
            return Outcome.denied(reason.value)
        return Outcome.failed(reason.value, result.verdict.detail)

    # -- enrollment ----------------------------------------------------------------------------

    def enroll_fields(self, kind: str) -> dict[str, Any]:
        return {
            "pin": {
                "type": "string",
                "pattern": "^[0-9]{6}$",
                "description": "the app's PIN (default: made up and returned once)",
            },
            "level": {"type": "string", "enum": ["substantial", "high"]},
            "biometrics": {"type": "boolean"},
            "app_id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"},
            "public_key": {
                "type": "string",
                "maxLength": 400,
                "description": "a phone elsewhere: its P-256 public key (SubjectPublicKeyInfo "
                "DER, base64); the server keeps no key or PIN for it",
            },
        }

    def enroll(self, services: Services, kind: str, user_id: str, fields: Fields) -> dict[str, Any]:
        pin = fields.text("pin", max_length=16)
        level = parse_level(fields.text("level", max_length=16) or "substantial")
        biometrics = fields.flag("biometrics")
        app_id = fields.text("app_id", max_length=64)
        encoded = fields.text("public_key", max_length=400)
        plugin = app_plugin()
        options: dict[str, Any] = {"level": level, "biometrics": biometrics, "app_id": app_id}
        made_pin = None
        if encoded is not None:
            if pin is not None:
                raise ApiError(
                    400, "invalid_request", "give 'pin' or 'public_key': the phone keeps its PIN"
                )
            try:
                options["public_key"] = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                raise ApiError(400, "invalid_request", "field 'public_key' is not base64") from None
        else:
            if pin is None:
                made_pin = pin = f"{secrets.randbelow(10**6):06d}"
            options["pin"] = pin
            if pin_problem(pin) is None:
                options["pin_hash"] = hash_pin(pin)  # slow: before the write lock
        plugin.apps(services.store)  # the tables exist before the transaction that may roll back
        with services.store.transaction():
            identity = services.identities.get(user_id)
            enrollment = plugin.enroll(
                services.store, services.clock, owner=identity.uuid, **options
            )
            services.identities.add_authenticator(user_id, KIND, enrollment.authenticator_id)
        record = plugin.apps(services.store).get(enrollment.authenticator_id)
        result: dict[str, Any] = {"kind": KIND, "id": record.app_id, **record.summary()}
        result["phone"] = "remote" if encoded is not None else "emulator"
        if made_pin is not None:
            result["pin"] = made_pin
        return result

    # -- routes --------------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        a = admin_endpoint
        return [
            Route(SCRIPT_URL, script, methods=["GET"]),
            Route("/login/{flow}/app/status", poll, methods=["GET"]),
            Route("/login/{flow}/app/qr/{update:int}/{part:int}.png", qr_png, methods=["GET"]),
            Route("/emulator/app/logins", a(list_logins), methods=["GET"]),
            Route("/emulator/app/logins/{transaction_id}/approve", a(approve), methods=["POST"]),
            Route("/emulator/app/logins/{transaction_id}/reject", a(reject), methods=["POST"]),
            Route("/emulator/app/logins/{transaction_id}/cancel", a(cancel), methods=["POST"]),
            Route("/emulator/app/apps/{app_id}/inbox", a(phone_inbox), methods=["GET"]),
            Route(
                "/emulator/app/apps/{app_id}/requests/{transaction_id}",
                a(phone_request),
                methods=["GET"],
            ),
            Route(
                "/emulator/app/apps/{app_id}/requests/{transaction_id}/scan",
                a(phone_scan),
                methods=["POST"],
            ),
            Route(
                "/emulator/app/apps/{app_id}/requests/{transaction_id}/screen",
                a(phone_screen),
                methods=["GET"],
            ),
            Route("/emulator/app/answers", a(phone_answer), methods=["POST"]),
        ]

    def openapi_paths(self) -> dict[str, Any]:
        return openapi_paths()


# -- the page's own routes (the browser's cookie, not the admin token) ---------------------------


async def script(request: Request) -> Response:
    return Response(
        _script_text(),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


@lru_cache(maxsize=1)
def _script_text() -> str:
    return SCRIPT.read_text(encoding="utf-8")


def _browser_flow(services: Services, request: Request) -> Flow | None:
    from authenticators.server.oidc.endpoints import BROWSER_COOKIE

    flow = services.flows.get(str(request.path_params.get("flow", "")))
    if flow is None or not flow.check_browser(request.cookies.get(BROWSER_COOKIE)):
        return None
    if flow.stage != STEP or flow.kind != KIND or not flow.transaction_id:
        return None
    return flow


async def poll(request: Request) -> Response:
    """The page's poll: pending, answered, expired or closed, and the frames shown now."""
    services = services_of(request)

    def work() -> Response:
        flow = _browser_flow(services, request)
        if flow is None:
            return _json({"status": "gone"}, 404)
        try:
            return _json(screen_status(services, flow))
        except (CoreError, ProtocolError):
            return _json({"status": "closed"})

    return await on_loop(work)


async def qr_png(request: Request) -> Response:
    """One QR frame of one update of the flow's login screen, as a PNG."""
    services = services_of(request)
    update = int(request.path_params["update"])
    part = int(request.path_params["part"])

    def work() -> Response:
        flow = _browser_flow(services, request)
        if flow is None or part not in (1, 2):
            return Response(status_code=404, headers={"Cache-Control": "no-store"})
        assert flow.transaction_id
        try:
            session = StateExchange(services.store).session(flow.transaction_id)
        except ProtocolError:
            return Response(status_code=404, headers={"Cache-Control": "no-store"})
        for shown in session.screen.updates:
            if shown.update == update:
                payload = shown.frames()[part - 1].payload()
                return Response(
                    _png(payload), media_type="image/png", headers={"Cache-Control": "no-store"}
                )
        return Response(status_code=404, headers={"Cache-Control": "no-store"})

    return await on_loop(work)


# -- the control API: pending app logins, approve, reject ----------------------------------------


async def list_logins(request: Request, services: Services) -> Response:
    def work() -> list[dict[str, Any]]:
        exchange = StateExchange(services.store)
        now = services.clock.now()
        with services.store.read() as conn:
            rows = conn.execute(
                "SELECT a.transaction_id, i.user_id, t.requested_level FROM app_logins a"
                " JOIN identities i ON i.uuid = a.identity_uuid"
                " JOIN login_transactions t ON t.id = a.transaction_id"
                " WHERE a.status IN (?, ?) AND a.expires_at > ? ORDER BY a.created_at",
                (SessionStatus.PENDING.value, SessionStatus.ANSWERED.value, now),
            ).fetchall()
        found = []
        for row in rows:
            session = exchange.session(row["transaction_id"])
            challenge = session.challenge
            found.append(
                {
                    "transaction_id": session.transaction_id,
                    "status": session.status.value,
                    "user_id": row["user_id"],
                    "level": row["requested_level"],
                    "apps": list(session.apps),
                    "service_provider": challenge.service_provider,
                    "reference_text": {
                        "header": challenge.reference_text.header.value,
                        "body": challenge.reference_text.body,
                    },
                    "shown": session.shown,
                    "binding_required": session.binding_required,
                    "pin_required": session.pin_required,
                    "scanned": session.screen.scanned is not None,
                    "expires_in": max(0.0, round(session.expires_at - now, 1)),
                }
            )
        return found

    return _json({"logins": await on_loop(work)})


def _answering_phone(services: Services, transaction_id: str, app_id: str | None) -> Phone:
    """The phone that answers: the one named, else the first active app with its key here."""
    exchange = StateExchange(services.store)
    try:
        session = exchange.session(transaction_id)
    except ProtocolError:
        raise ApiError(404, "not_found", f"no app login {transaction_id!r}") from None
    plugin = app_plugin()
    apps = plugin.apps(services.store)
    if app_id is not None:
        if app_id not in session.apps:
            raise ApiError(
                404, "not_found", f"login {transaction_id} was not pushed to app {app_id!r}"
            )
        candidates: list[AppRecord] = apps.find([app_id])
    else:
        candidates = [r for r in apps.find(session.apps) if r.status is AppStatus.ACTIVE]
    for record in candidates:
        try:
            apps.phone(record.app_id)
        except ProtocolError:
            continue
        return Phone(
            services.store, record.app_id, services.clock, policy=plugin.policy, exchange=exchange
        )
    raise ApiError(
        409,
        "conflict",
        "no app this login was pushed to has its key in the emulator (a phone elsewhere "
        "answers with `mitid-emu app watch --server URL`)",
    )


def _answer_json(answer: Answer) -> dict[str, Any]:
    return {
        "transaction_id": answer.transaction_id,
        "app_id": answer.app_id,
        "decision": answer.decision.value,
        "bind_method": answer.bind_method.value,
        "update": answer.update,
        "uv": answer.uv.value,
    }


async def approve(request: Request, services: Services) -> Response:
    """Approve as the person would: hold the phone to the screen (or type its code), swipe,
    and give the PIN when the login needs it."""
    transaction_id = path_param(request, "transaction_id")
    fields = Fields(
        await read_json(request, services.config.body_limit),
        {"app_id", "pin", "biometrics", "bind"},
    )
    app_id = fields.text("app_id", max_length=64)
    pin = fields.text("pin", max_length=16)
    biometrics = fields.flag("biometrics")
    bind = fields.text("bind", max_length=8) or "qr"
    if bind not in VIEWS:
        raise ApiError(400, "invalid_request", "field 'bind' must be 'qr' or 'code'")

    def work() -> dict[str, Any]:
        phone = _answering_phone(services, transaction_id, app_id)
        session = StateExchange(services.store).session(transaction_id)
        code = None
        if session.binding_required and session.screen.current is not None:
            if bind == "code":
                code = session.screen.current.code
            else:
                phone.look_at_screen(session.screen, transaction_id)
        answer = phone.approve(
            pin=pin, code=code, biometrics=biometrics, transaction_id=transaction_id
        )
        return _answer_json(answer)

    def quick_work() -> dict[str, Any]:
        with services.store.transaction():  # looking at the screen and answering: one commit
            return work()

    try:
        if pin is not None:  # the PIN is checked with scrypt: slow by design
            return _json(await off_loop(work))
        return _json(await on_loop(quick_work))
    except AppRefusal as exc:
        return refusal_response(exc)


async def cancel(request: Request, services: Services) -> Response:
    """End an open app login (pending, or answered and never collected) as if the person
    had left the login page: the phone can no longer answer, a new login is not parallel."""
    transaction_id = path_param(request, "transaction_id")

    def work() -> dict[str, Any]:
        try:
            session = StateExchange(services.store).session(transaction_id)
        except ProtocolError:
            raise ApiError(404, "not_found", f"no app login {transaction_id!r}") from None
        if session.status not in (SessionStatus.PENDING, SessionStatus.ANSWERED):
            raise ApiError(409, "conflict", f"app login {transaction_id} is {session.status.value}")
        services.login.abandon(transaction_id, "cancelled through the control API")
        return {"transaction_id": transaction_id, "status": "cancelled"}

    return _json(await on_loop(work))


async def reject(request: Request, services: Services) -> Response:
    transaction_id = path_param(request, "transaction_id")
    fields = Fields(await read_json(request, services.config.body_limit), {"app_id"})
    app_id = fields.text("app_id", max_length=64)

    def work() -> dict[str, Any]:
        phone = _answering_phone(services, transaction_id, app_id)
        return _answer_json(phone.reject(transaction_id))

    try:
        return _json(await on_loop(work))
    except AppRefusal as exc:
        return refusal_response(exc)


# -- the phone's side over HTTP (AppExchange) -----------------------------------------------------


def _known_app(services: Services, app_id: str) -> None:
    app_plugin().apps(services.store).get(app_id)


async def phone_inbox(request: Request, services: Services) -> Response:
    app_id = path_param(request, "app_id")

    def work() -> dict[str, Any]:
        _known_app(services, app_id)
        requests = StateExchange(services.store).inbox(app_id, services.clock.now())
        return {"requests": [r.to_wire() for r in requests]}

    return _json(await on_loop(work))


async def phone_request(request: Request, services: Services) -> Response:
    app_id = path_param(request, "app_id")
    transaction_id = path_param(request, "transaction_id")

    def work() -> dict[str, Any]:
        _known_app(services, app_id)
        exchange = StateExchange(services.store)
        return exchange.request(transaction_id, app_id, services.clock.now()).to_wire()

    try:
        return _json(await on_loop(work))
    except AppRefusal as exc:
        return refusal_response(exc)


async def phone_scan(request: Request, services: Services) -> Response:
    app_id = path_param(request, "app_id")
    transaction_id = path_param(request, "transaction_id")
    fields = Fields(await read_json(request, services.config.body_limit), {"update"})
    update = fields.number("update", minimum=0, maximum=2**31 - 1)
    if update is None or update != int(update):
        raise ApiError(400, "invalid_request", "field 'update' must be a counter of 0 or more")

    def work() -> dict[str, Any]:
        _known_app(services, app_id)
        exchange = StateExchange(services.store)
        exchange.report_scan(transaction_id, app_id, int(update), services.clock.now())
        return {"scanned": int(update)}

    return _json(await on_loop(work))


async def phone_screen(request: Request, services: Services) -> Response:
    """What a phone held to the login screen reads: the frames of the update shown now."""
    app_id = path_param(request, "app_id")
    transaction_id = path_param(request, "transaction_id")

    def work() -> dict[str, Any]:
        _known_app(services, app_id)
        exchange = StateExchange(services.store)
        exchange.request(transaction_id, app_id, services.clock.now())
        current = exchange.session(transaction_id).screen.current
        frames = [f.payload() for f in current.frames()] if current else []
        return {"update": current.update if current else None, "frames": frames}

    try:
        return _json(await on_loop(work))
    except AppRefusal as exc:
        return refusal_response(exc)


async def phone_answer(request: Request, services: Services) -> Response:
    data = await read_json(request, services.config.body_limit)
    try:
        answer = Answer.from_dict(data)
    except (KeyError, TypeError, ValueError):
        raise ApiError(400, "invalid_request", "the body is not an app answer") from None
    if len(answer.signature) > 80 or len(answer.bind) > 128:
        raise ApiError(400, "invalid_request", "the body is not an app answer")

    def work() -> dict[str, Any]:
        _known_app(services, answer.app_id)
        StateExchange(services.store).submit(answer, services.clock.now())
        return {"accepted": answer.transaction_id}

    try:
        return _json(await on_loop(work))
    except AppRefusal as exc:
        return refusal_response(exc)


# -- the OpenAPI description -----------------------------------------------------------------------


def _ok(description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {}}}}


def _err(*codes: int) -> dict[str, Any]:
    error = {"$ref": "#/components/schemas/Error"}
    return {
        str(code): {"description": "refused", "content": {"application/json": {"schema": error}}}
        for code in codes
    }


def _param(name: str, max_length: int = 64) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1, "maxLength": max_length},
    }


def _body(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
    }
    if required:
        schema["required"] = required
    return {"required": False, "content": {"application/json": {"schema": schema}}}


def openapi_paths() -> dict[str, Any]:
    tx = _param("transaction_id", 64)
    app = _param("app_id")
    pin = {"type": "string", "pattern": "^[0-9]{6}$"}
    app_id = {"type": "string", "maxLength": 64}
    return {
        "/emulator/app/logins": {
            "get": {
                "summary": "Open app logins: pending, or answered and not yet collected",
                "responses": {"200": _ok(), **_err(401)},
            }
        },
        "/emulator/app/logins/{transaction_id}/approve": {
            "parameters": [tx],
            "post": {
                "summary": "Approve as a phone held to the login screen (or typing its code)",
                "requestBody": _body(
                    {
                        "app_id": app_id,
                        "pin": pin,
                        "biometrics": {"type": "boolean"},
                        "bind": {"type": "string", "enum": list(VIEWS)},
                    }
                ),
                "responses": {"200": _ok("approved"), **_err(400, 401, 404, 409, 413, 415)},
            },
        },
        "/emulator/app/logins/{transaction_id}/reject": {
            "parameters": [tx],
            "post": {
                "summary": "Reject in the app (the service gets access_denied)",
                "requestBody": _body({"app_id": app_id}),
                "responses": {"200": _ok("rejected"), **_err(400, 401, 404, 409, 413, 415)},
            },
        },
        "/emulator/app/logins/{transaction_id}/cancel": {
            "parameters": [tx],
            "post": {
                "summary": "End an open app login, as if the person had left the login page",
                "responses": {"200": _ok("cancelled"), **_err(401, 404, 409)},
            },
        },
        "/emulator/app/apps/{app_id}/inbox": {
            "parameters": [app],
            "get": {
                "summary": "A phone's pushes (the app's side over HTTP)",
                "responses": {"200": _ok(), **_err(401, 404)},
            },
        },
        "/emulator/app/apps/{app_id}/requests/{transaction_id}": {
            "parameters": [app, tx],
            "get": {
                "summary": "One push to one phone",
                "responses": {"200": _ok(), **_err(400, 401, 404, 409)},
            },
        },
        "/emulator/app/apps/{app_id}/requests/{transaction_id}/scan": {
            "parameters": [app, tx],
            "post": {
                "summary": "The phone has read both QR frames of an update",
                "requestBody": _body(
                    {"update": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}},
                    ["update"],
                ),
                "responses": {"200": _ok(), **_err(400, 401, 404, 413, 415)},
            },
        },
        "/emulator/app/apps/{app_id}/requests/{transaction_id}/screen": {
            "parameters": [app, tx],
            "get": {
                "summary": "What a phone held to the login screen reads: the frames shown now",
                "responses": {"200": _ok(), **_err(400, 401, 404, 409)},
            },
        },
        "/emulator/app/answers": {
            "post": {
                "summary": "A phone's signed answer",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "responses": {"200": _ok("accepted"), **_err(400, 401, 404, 409, 413, 415)},
            }
        },
    }


step = AppStep()
