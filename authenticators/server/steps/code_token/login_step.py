"""The code tokens' step: the code and the password, judged together by the core; and enrolling
a code token for an identity (the control API's enroll call)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.routing import BaseRoute

from authenticators import registry
from authenticators.codeviser.device import response_for_code
from authenticators.codeviser.plugin import CodeTokenOptions, CodeTokenPlugin
from authenticators.codeviser.seeds import parse_otpauth, seed_warning, to_otpauth
from authenticators.core.errors import CoreError
from authenticators.otp import Algorithm, OtpParams
from authenticators.protocol import ProtocolError, Reason
from authenticators.server.api import Endpoint
from authenticators.server.context import Services
from authenticators.server.http import ApiError, Fields
from authenticators.server.steps.base import (
    Outcome,
    StepContext,
    StepPage,
    begin_login,
    free_name,
    outcome_of,
    password_of,
)

KINDS = ("codeviser", "kodeoplaeser")
# Refusals the person can put right on the same page (a new transaction each time).
RETRYABLE = frozenset({Reason.WRONG_CODE, Reason.WRONG_PASSWORD, Reason.REPLAYED, Reason.MALFORMED})


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
        password = password_of(form)
        if password is None:
            return Outcome.retry("password_missing", restart=False)
        service = ctx.services.login
        try:
            challenge = service.pending(flow.transaction_id).challenge
        except CoreError:
            return Outcome.failed("expired")
        response = response_for_code(challenge, flow.authenticator_id, code)
        result = service.complete(flow.transaction_id, response, password)
        return outcome_of(result, retry=RETRYABLE)

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
        name = fields.text("name", max_length=64) or free_name(
            user_id, plugin.kind, plugin.tokens(services.store).exists
        )
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
                wanted = CodeTokenOptions(name, params=params, drift_ppm=drift)
                plugin.enroll(services.store, services.clock, wanted)
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

    def routes(self) -> list[BaseRoute]:
        return []

    def endpoints(self) -> list[Endpoint]:
        from authenticators.server.steps.code_token.control import ENDPOINTS

        return ENDPOINTS


def _message(exc: Exception) -> str:
    return getattr(exc, "message", None) or str(exc)


step = CodeTokenStep()
