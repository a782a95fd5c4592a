"""Moving a login flow on: the methods it offers, starting a kind's step, failing.

Shared by the login pages and the authorization endpoint, which starts the step itself when
the service named the person (``login_hint=uuid:…``) and only one of their methods will do.
"""

from __future__ import annotations

from authenticators.core.errors import CoreError
from authenticators.protocol import Level
from authenticators.server.context import Services
from authenticators.server.flows import FAILED, METHOD, STEP, Flow
from authenticators.server.steps.base import StepContext, StepFailed


def methods_offered(services: Services, flow: Flow) -> list[dict[str, str]]:
    """The person's methods that reach the level asked for, as the choice page lists them."""
    assert flow.user_id
    try:
        held = services.login.methods(flow.user_id, Level(flow.level))
    except CoreError:
        return []
    return [
        {"kind": kind, "id": auth_id, "value": f"{kind}:{auth_id}"}
        for kind, auth_id in held
        if kind in services.steps
    ]


def fail(flow: Flow, reason: str, detail: str = "") -> None:
    flow.stage = FAILED
    flow.failure = reason
    flow.failure_detail = detail


def start_step(services: Services, flow: Flow) -> None:
    """Begin the chosen kind's step (a code to ask for, an app push, a WebAuthn challenge)."""
    assert flow.kind
    step = services.steps[flow.kind]
    flow.step_data = {}
    try:
        step.start(StepContext(services, flow, flow.lang))
    except StepFailed as exc:
        fail(flow, exc.reason, exc.detail)
        return
    flow.stage = STEP


def choose(services: Services, flow: Flow, method: dict[str, str]) -> None:
    """Take one of :func:`methods_offered` and start its step."""
    flow.kind, flow.authenticator_id = method["kind"], method["id"]
    flow.attempts = 0
    start_step(services, flow)


def start_the_only_method(services: Services, flow: Flow) -> bool:
    """At the choice of method with one method to choose: start it; with none: fail with
    ``no_methods``. Whether the flow changed."""
    if flow.stage != METHOD or flow.user_id is None:
        return False
    offered = methods_offered(services, flow)
    if not offered:
        fail(flow, "no_methods")
        return True
    if len(offered) != 1:
        return False
    choose(services, flow, offered[0])
    return True
