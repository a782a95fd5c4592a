"""The app step: push the login, show the login screen, complete with the app's signed answer;
and enrolling an app for an identity (the control API's enroll call)."""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Mapping
from typing import Any

from starlette.routing import BaseRoute

from authenticators.app.apps import parse_level
from authenticators.app.inbox import StateExchange
from authenticators.app.pin import hash_pin, pin_problem
from authenticators.app.screen import LoginScreen
from authenticators.core.errors import CoreError
from authenticators.ct import bytes_eq
from authenticators.protocol import ProtocolError, Reason
from authenticators.server.api import (
    Endpoint,
)
from authenticators.server.context import Services
from authenticators.server.flows import Flow
from authenticators.server.http import ApiError, Fields
from authenticators.server.steps.app import browser, control, phone
from authenticators.server.steps.app.screen import KIND, VIEWS, app_plugin, resume, screen_status
from authenticators.server.steps.base import (
    Outcome,
    StepContext,
    StepPage,
    begin_login,
    outcome_of,
)


def _supersede(services: Services, flow: Flow) -> None:
    """A new app login from the browser that started the person's open one takes its place
    (one at a time per person: it would be refused as parallel until the old one expired)."""
    assert flow.user_id
    try:
        identity = services.identities.get(flow.user_id)
    except CoreError:
        return  # the login's own start says what is wrong
    opened = StateExchange(services.store).open_logins(services.clock.now(), identity.uuid)
    for transaction_id, _identity in opened:
        owner = services.flows.with_transaction(transaction_id)
        if (
            owner is not None
            and owner.id != flow.id
            and bytes_eq(owner.browser.encode("ascii"), flow.browser.encode("ascii"))
        ):
            services.login.abandon(
                transaction_id, "a new login from the same browser took its place"
            )


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
                "script_url": browser.SCRIPT_URL,
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
            screen = resume(services, flow.transaction_id)
        except (CoreError, ProtocolError):
            return Outcome.failed("expired")
        response = screen.poll()
        if response is None:
            if not screen.challenge.expired(services.clock.now()):
                return Outcome.stay("app_waiting")
            response = screen.timeout_response()
        result = services.login.complete(flow.transaction_id, response)
        return outcome_of(result, deny=frozenset({Reason.REJECTED_BY_USER}))

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
            wanted = plugin.enroll_options({"owner": identity.uuid, **options})
            enrollment = plugin.enroll(services.store, services.clock, wanted)
            services.identities.add_authenticator(user_id, KIND, enrollment.authenticator_id)
        record = plugin.apps(services.store).get(enrollment.authenticator_id)
        result: dict[str, Any] = {"kind": KIND, "id": record.app_id, **record.summary()}
        result["phone"] = "remote" if encoded is not None else "emulator"
        if made_pin is not None:
            result["pin"] = made_pin
        return result

    # -- routes --------------------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        return browser.routes()

    def endpoints(self) -> list[Endpoint]:
        return [*control.ENDPOINTS, *phone.ENDPOINTS]


step = AppStep()
