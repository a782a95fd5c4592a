"""The app's control API: pending app logins, and approving or rejecting one as a phone held to
the login screen would (it reads the frames the screen shows, then signs with the app's key)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from authenticators.app.answer import Answer
from authenticators.app.apps import AppRecord, AppStatus
from authenticators.app.device import Phone
from authenticators.app.errors import AppRefusal
from authenticators.app.inbox import SessionStatus, StateExchange
from authenticators.core.errors import CoreError
from authenticators.protocol import ProtocolError
from authenticators.server.api import (
    Endpoint,
    object_schema,
    off_loop,
    on_loop,
    path_param,
)
from authenticators.server.context import Services
from authenticators.server.http import ApiError
from authenticators.server.steps.app.screen import (
    VIEWS,
    app_plugin,
    json_response,
    refusal_response,
)

# -- the control API: pending app logins, approve, reject ----------------------------------------


async def list_logins(request: Request, services: Services) -> Response:
    def work() -> list[dict[str, Any]]:
        exchange = StateExchange(services.store)
        now = services.clock.now()
        found = []
        with services.store.read():
            for transaction_id, identity_uuid in exchange.open_logins(now):
                session = exchange.session(transaction_id)
                challenge = session.challenge
                try:  # the core's side of the login: whose it is, the level asked for
                    user_id = services.identities.by_uuid(identity_uuid).user_id
                    level = services.login.pending(transaction_id).level
                except CoreError:
                    continue  # the person or the login is gone
                found.append(
                    {
                        "transaction_id": session.transaction_id,
                        "status": session.status.value,
                        "user_id": user_id,
                        "level": level.value,
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

    return json_response({"logins": await on_loop(work)})


def answering_phone(services: Services, transaction_id: str, app_id: str | None) -> Phone:
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


def _answerjson_response(answer: Answer) -> dict[str, Any]:
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
    fields = await APPROVE.fields(request, services)
    app_id = fields.text("app_id", max_length=64)
    pin = fields.text("pin", max_length=16)
    biometrics = fields.flag("biometrics")
    bind = fields.text("bind", max_length=8) or "qr"
    if bind not in VIEWS:
        raise ApiError(400, "invalid_request", "field 'bind' must be 'qr' or 'code'")

    def work() -> dict[str, Any]:
        phone = answering_phone(services, transaction_id, app_id)
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
        return _answerjson_response(answer)

    def quick_work() -> dict[str, Any]:
        with services.store.transaction():  # looking at the screen and answering: one commit
            return work()

    try:
        if pin is not None:  # the PIN is checked with scrypt: slow by design
            return json_response(await off_loop(work))
        return json_response(await on_loop(quick_work))
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

    return json_response(await on_loop(work))


async def reject(request: Request, services: Services) -> Response:
    transaction_id = path_param(request, "transaction_id")
    fields = await REJECT.fields(request, services)
    app_id = fields.text("app_id", max_length=64)

    def work() -> dict[str, Any]:
        phone = answering_phone(services, transaction_id, app_id)
        return _answerjson_response(phone.reject(transaction_id))

    try:
        return json_response(await on_loop(work))
    except AppRefusal as exc:
        return refusal_response(exc)


_TRANSACTION = {"transaction_id": {"type": "string", "minLength": 1, "maxLength": 64}}
_APP_ID = {"type": "string", "maxLength": 64}

APPROVE = Endpoint(
    "POST",
    "/emulator/app/logins/{transaction_id}/approve",
    approve,
    "Approve as a phone held to the login screen (or typing its code)",
    body=object_schema(
        {
            "app_id": _APP_ID,
            "pin": {"type": "string", "pattern": "^[0-9]{6}$"},
            "biometrics": {"type": "boolean"},
            "bind": {"type": "string", "enum": list(VIEWS)},
        }
    ),
    ok="approved",
    errors=(400, 401, 404, 409, 413, 415),
    params=_TRANSACTION,
)
REJECT = Endpoint(
    "POST",
    "/emulator/app/logins/{transaction_id}/reject",
    reject,
    "Reject in the app (the service gets access_denied)",
    body=object_schema({"app_id": _APP_ID}),
    ok="rejected",
    errors=(400, 401, 404, 409, 413, 415),
    params=_TRANSACTION,
)
ENDPOINTS = [
    Endpoint(
        "GET",
        "/emulator/app/logins",
        list_logins,
        "Open app logins: pending, or answered and not yet collected",
    ),
    APPROVE,
    REJECT,
    Endpoint(
        "POST",
        "/emulator/app/logins/{transaction_id}/cancel",
        cancel,
        "End an open app login, as if the person had left the login page",
        ok="cancelled",
        errors=(401, 404, 409),
        params=_TRANSACTION,
    ),
]
