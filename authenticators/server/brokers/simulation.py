"""The no-UI path: an authorize request that names the person answers with the redirect at once.

As the brokers' paid simulation mode does, for clients marked as allowed to simulate (``clients
add --broker NAME --simulate``) and never for others. It is not a shortcut around the login: the
flow is the one the pages would run, the core begins the same transaction, the emulator's phone
approves the push as a person holding it to the screen would (biometrics when the app has them,
when the login needs more than a swipe), and the step completes with the app's signed answer.
A CPR match is made with the CPR number the request gives, or the one the person holds.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from authenticators.app.errors import AppRefusal
from authenticators.core.errors import CoreError
from authenticators.core.identities import Identity
from authenticators.protocol import ProtocolError
from authenticators.server.api import off_loop
from authenticators.server.brokers.base import Simulation
from authenticators.server.brokers.server import (
    Broker,
    check_request,
    error_redirect,
    new_flow,
)
from authenticators.server.brokers.state import BrokerClient
from authenticators.server.context import Services
from authenticators.server.flows import FAILED, ORGANISATION, STEP, Flow
from authenticators.server.http import ApiError
from authenticators.server.stages import choose, methods_offered


async def simulate(
    broker: Broker, request: Request, pairs: list[tuple[str, str]], cookie: str
) -> Response:
    # Off the loop: a login that needs the password pool or the store's lock may wait.
    return await off_loop(_simulate, broker, request, pairs, cookie)


def _simulate(
    broker: Broker, request: Request, pairs: list[tuple[str, str]], cookie: str
) -> Response:
    checked = check_request(broker, request, pairs)
    if isinstance(checked, Response):
        return checked
    options, grant, oreq = checked
    client: BrokerClient = oreq.client
    state = oreq.payload.data.get("state")
    sim = options.simulation
    if sim is None:
        return error_redirect(
            grant.redirect_uri, "invalid_request", "simulation needs 'no-ui'.", state
        )
    if not client.simulate:
        return error_redirect(
            grant.redirect_uri,
            "unauthorized_client",
            "Simulation is not enabled for this client.",
            state,
        )
    identity = find_person(broker.services, sim)
    if identity is None:
        return error_redirect(
            grant.redirect_uri, "access_denied", "simulation: no such person.", state
        )
    if sim.cpr is not None and sim.cpr != identity.cpr:
        return error_redirect(
            grant.redirect_uri, "access_denied", "simulation: the CPR number does not match.", state
        )
    services = broker.services
    with services.store.transaction():
        flow = new_flow(broker, options, grant, oreq, pairs, cookie, identity.user_id)
        flow.broker_data["simulated"] = True
        if sim.cpr is not None:
            flow.broker_data["cpr_entered"] = sim.cpr
        offered = [m for m in methods_offered(services, flow) if m["kind"] == sim.kind]
        if not offered:
            services.flows.delete(flow.id)
            return error_redirect(
                grant.redirect_uri,
                "access_denied",
                f"simulation: the person has no {sim.kind} that reaches the level.",
                state,
            )
        choose(services, flow, offered[0])
        services.flows.save(flow)
    if flow.stage != STEP or flow.transaction_id is None:
        return _failed(broker, flow, grant.redirect_uri, state)
    try:
        approve_on_phone(broker.services, flow.transaction_id)
    except (ApiError, ProtocolError, CoreError, AppRefusal) as exc:
        services.flows.delete(flow.id)
        message = exc.description if isinstance(exc, ApiError) else exc.message
        return error_redirect(grant.redirect_uri, "access_denied", f"simulation: {message}", state)
    from authenticators.server.login import act_step

    with services.store.transaction():
        response = act_step(services, flow, {})
        if response is None:
            services.flows.save(flow)
    if response is not None:
        return response
    if flow.stage == ORGANISATION:  # a person acting for several companies names one
        services.flows.delete(flow.id)
        return error_redirect(
            grant.redirect_uri,
            "access_denied",
            "simulation: the person acts for several companies; name one (vatid).",
            state,
        )
    return _failed(broker, flow, grant.redirect_uri, state)


def _failed(broker: Broker, flow: Flow, redirect_uri: str, state: str | None) -> Response:
    broker.services.flows.delete(flow.id)
    reason = flow.failure if flow.stage == FAILED else "not_approved"
    return error_redirect(redirect_uri, "access_denied", f"simulation: {reason}", state)


def find_person(services: Services, sim: Simulation) -> Identity | None:
    """The person a simulation names (uuid, user ID or CPR number), or None."""
    identities = services.identities
    try:
        if sim.uuid is not None:
            return identities.by_uuid(sim.uuid)
        if sim.user_id is not None:
            return identities.get(sim.user_id)
    except CoreError:
        return None
    return next((i for i in identities.list() if i.cpr == sim.cpr), None)


def approve_on_phone(services: Services, transaction_id: str) -> None:
    """What ``POST /emulator/app/logins/{tx}/approve`` does: look at the screen, swipe."""
    from authenticators.app.inbox import StateExchange
    from authenticators.server.steps.app.control import answering_phone
    from authenticators.server.steps.app.screen import app_plugin

    with services.store.transaction():
        phone = answering_phone(services, transaction_id, None)
        session = StateExchange(services.store).session(transaction_id)
        if session.binding_required and session.screen.current is not None:
            phone.look_at_screen(session.screen, transaction_id)
        record = app_plugin().apps(services.store).get(phone.app_id)
        phone.approve(
            biometrics=record.biometrics and session.pin_required, transaction_id=transaction_id
        )
