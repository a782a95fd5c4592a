"""The code display (codeviser) and audio code reader (kodeoplaeser) step: code, then password.

The page takes the code the person reads off the token (or hears) and their password; the
browser never sends the code itself to the core: the server turns it into the transaction-bound
proof a MitID client would send (:func:`~authenticators.codeviser.device.response_for_code`).
The control API can press a token's button and read its code, so tests pass the step without a
person.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from authenticators import registry
from authenticators.codeviser.device import response_for_code
from authenticators.codeviser.plugin import CodeTokenPlugin
from authenticators.codeviser.seeds import parse_otpauth, seed_warning, to_otpauth
from authenticators.core.errors import CoreError
from authenticators.otp import Algorithm, OtpParams
from authenticators.protocol import ProtocolError, Reason
from authenticators.server.api import admin_endpoint, off_loop, path_param
from authenticators.server.context import Services
from authenticators.server.http import ApiError, Fields
from authenticators.server.steps.base import Outcome, StepContext, StepPage, begin_login

KINDS = ("codeviser", "kodeoplaeser")
# Refusals the person can put right on the same page (a new transaction each time).
RETRYABLE = {Reason.WRONG_CODE, Reason.WRONG_PASSWORD, Reason.REPLAYED, Reason.MALFORMED}


def code_plugin(kind: str) -> CodeTokenPlugin:
    if kind not in KINDS:
        raise ApiError(
            404, "not_found", f"{kind!r} is not a code token kind; use {' or '.join(KINDS)}"
        )
    plugin = registry.get(kind)
    assert isinstance(plugin, CodeTokenPlugin)
    return plugin


class CodeTokenStep:
    """One step for both code token kinds: they differ only in the amr and the hardware."""

    def __repr__(self) -> str:
        return "CodeTokenStep()"

    # -- the login --------------------------------------------------------------------------

    def start(self, ctx: StepContext) -> None:
        assert ctx.flow.kind
        begin_login(ctx, ctx.flow.kind)

    def page(self, ctx: StepContext) -> StepPage:
        flow = ctx.flow
        assert flow.kind
        assert flow.authenticator_id
        record = code_plugin(flow.kind).tokens(ctx.services.store).get(flow.authenticator_id)
        return StepPage(
            "steps/code_token.html",
            {
                "digits": record.params.digits,
                "serial": record.serial,
                "token_kind": flow.kind,
                "token_id": flow.authenticator_id,
            },
        )

    def submit(self, ctx: StepContext, form: Mapping[str, str]) -> Outcome:
        flow = ctx.flow
        assert flow.kind
        assert flow.authenticator_id
        assert flow.transaction_id
        digits = code_plugin(flow.kind).tokens(ctx.services.store).get(flow.authenticator_id)
        code = "".join(form.get("code", "").split())
        if not (code.isascii() and code.isdigit() and len(code) == digits.params.digits):
            return Outcome.retry("code_format", restart=False)
        password = form.get("password", "")
        if not password:
            return Outcome.retry("password_missing", restart=False)
        service = ctx.services.login
        try:
            challenge = service.pending(flow.transaction_id).challenge
        except CoreError:
            return Outcome.failed("expired")
        response = response_for_code(challenge, flow.authenticator_id, code)
        result = service.complete(flow.transaction_id, response, password)
        if result.ok:
            return Outcome.done(result)
        reason = result.verdict.reason
        if reason in RETRYABLE:
            return Outcome.retry(reason.value)
        return Outcome.failed(reason.value, result.verdict.detail)

    # -- the control API ----------------------------------------------------------------------

    def enroll_fields(self, kind: str) -> dict[str, Any]:
        return {
            "name": {
                "type": "string",
                "maxLength": 64,
                "description": "token name (default: made up)",
            },
            "algorithm": {"type": "string", "enum": ["SHA1", "SHA256", "SHA512"]},
            "digits": {"type": "integer", "enum": [6, 8]},
            "period": {"type": "integer", "enum": [30, 60]},
            "drift_ppm": {"type": "number", "minimum": -1000, "maximum": 1000},
            "otpauth_uri": {"type": "string", "maxLength": 2000, "description": "import this seed"},
        }

    def enroll(self, services: Services, kind: str, user_id: str, fields: Fields) -> dict[str, Any]:
        plugin = code_plugin(kind)
        name = fields.text("name", max_length=64) or _free_name(services, plugin, user_id)
        algorithm = fields.text("algorithm", max_length=10) or "SHA1"
        digits = fields.number("digits")
        period = fields.number("period")
        drift = fields.number("drift_ppm", minimum=-1000, maximum=1000) or 0.0
        uri = fields.text("otpauth_uri", max_length=2000)
        try:
            params = OtpParams(
                Algorithm.parse(algorithm),
                int(digits) if digits is not None else 6,
                int(period) if period is not None else 30,
            )
        except ValueError as exc:
            raise ApiError(400, "invalid_request", str(exc)) from None
        with services.store.transaction():
            services.identities.get(user_id)
            if uri is not None:
                try:
                    source = parse_otpauth(uri)
                except (ValueError, ProtocolError) as exc:
                    raise ApiError(
                        400, "invalid_request", f"otpauth_uri: {_message(exc)}"
                    ) from None
                record = plugin.create(
                    services.store, services.clock, name=name, source=source, drift_ppm=drift
                )
            else:
                plugin.enroll(
                    services.store, services.clock, name=name, params=params, drift_ppm=drift
                )
                record = plugin.tokens(services.store).get(name)
            services.identities.add_authenticator(user_id, kind, name)
        result = {
            "kind": kind,
            "id": name,
            "serial": record.serial,
            "otpauth_uri": to_otpauth(record.seed, record.params, name, "MitID", record.serial),
        }
        warning = seed_warning(record.seed)
        if warning is not None:
            result["warning"] = warning
        return result

    def openapi_paths(self) -> dict[str, Any]:
        name = {"type": "string", "minLength": 1, "maxLength": 64}
        return {
            "/emulator/code-tokens/{kind}/{name}/code": {
                "parameters": [
                    {
                        "name": "kind",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "enum": list(KINDS)},
                    },
                    {"name": "name", "in": "path", "required": True, "schema": name},
                ],
                "get": {
                    "summary": "Press a code token's button and read its code",
                    "responses": {
                        "200": {
                            "description": "the code",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "401": {"description": "no admin token"},
                        "404": {"description": "no such token"},
                    },
                },
            }
        }

    def routes(self) -> list[BaseRoute]:
        return [
            Route(
                "/emulator/code-tokens/{kind}/{name}/code",
                admin_endpoint(current_code),
                methods=["GET"],
            )
        ]


async def current_code(request: Request, services: Services) -> Response:
    """Press the token's button and read the display, at the emulator's (shared) time.

    ``used`` says the verifier has accepted this time step's code already (a login with it would
    be refused as replayed): wait ``seconds_left``, or move the clock on.
    """
    kind = path_param(request, "kind")
    name = path_param(request, "name")
    plugin = code_plugin(kind)

    def press() -> dict[str, Any]:
        holder = plugin.authenticator(services.store, name, services.clock)
        display = holder.press()
        record = plugin.tokens(services.store).get(name)
        last = record.state.last_step
        step = record.params.step(services.clock.now())
        return {
            "kind": kind,
            "name": name,
            "serial": record.serial,
            "code": display.code,
            "seconds_left": round(display.seconds_left, 3),
            "used": last is not None and step <= last,
            "at": services.clock.now(),
        }

    return JSONResponse(await off_loop(press), headers={"Cache-Control": "no-store"})


def _free_name(services: Services, plugin: CodeTokenPlugin, user_id: str) -> str:
    tokens = plugin.tokens(services.store)
    base = "".join(c if c.isalnum() or c in "._-" else "-" for c in user_id)[:40]
    for number in range(1, 1000):
        name = f"{base}-{plugin.kind}-{number}"
        if not tokens.exists(name):
            return name
    raise ApiError(409, "conflict", f"give the {plugin.kind} a name")


def _message(exc: Exception) -> str:
    return getattr(exc, "message", None) or str(exc)


step = CodeTokenStep()
