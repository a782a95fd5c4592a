"""What brokers add on top of a MitID login: the CPR match (and its prefill), before the answer.

When the service asks for the CPR number (Idura and Signaturgruppen scope ``ssn``, Signicat
``nin`` or ``…:mitid-cpr``), the broker asks the person for it after the login and matches it
with the person's MitID: at most three tries, within 15 minutes of the login; then the broker's
error goes back to the service. A CPR number the service gave (``sub:`` at Idura,
``cpr_hint`` at Signaturgruppen) is matched without asking (``prefilled``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import Response

from authenticators.core.identities import Identity
from authenticators.ct import bytes_eq

if TYPE_CHECKING:
    from authenticators.server.context import Services
    from authenticators.server.flows import Flow

CPR = "cpr"  # the stage that asks for the CPR number
MAX_TRIES = 3
WINDOW = 15 * 60
EXCEEDED = "Cpr Match exceeded. Only 3 tries is allowed within a session"


def _same(given: str, cpr: str | None) -> bool:
    digits = given.replace("-", "").strip()
    return cpr is not None and bytes_eq(digits.encode(), cpr.replace("-", "").encode())


def needs_cpr(services: Services, flow: Flow, identity: Identity) -> Response | bool:
    """After the login: whether to ask for the CPR number (True), go on (False), or refuse."""
    data = flow.broker_data
    if data.get("cpr_done"):
        return False
    hint = data.get("cpr_hint")
    if hint:
        if not _same(str(hint), identity.cpr):
            return refuse(services, flow, "The CPR number given does not match the person.")
        data.update(cpr_done=True, cpr_source="prefilled")
        return False
    if not data.get("cpr_match"):
        return False
    entered = data.get("cpr_entered")  # the no-UI path: the emulator types it
    if data.get("simulated"):
        if entered is not None and not _same(str(entered), identity.cpr):
            return refuse(services, flow, "The CPR number does not match the person.")
        data.update(cpr_done=True, cpr_source="user")
        return False
    return True


def check_cpr(services: Services, flow: Flow, identity: Identity, given: str) -> Response | bool:
    """The person typed a CPR number: matched (True), try again (False), or the refusal."""
    data = flow.broker_data
    now = services.oidc_clock.now()
    started = float(data.setdefault("cpr_started", now))
    tries = int(data.get("cpr_tries", 0)) + 1
    data["cpr_tries"] = tries
    if now - started > WINDOW:
        return refuse(services, flow, "Cpr Match expired: more than 15 minutes since the login")
    if _same(given, identity.cpr):
        data.update(cpr_done=True, cpr_source="user")
        return True
    if tries >= MAX_TRIES:
        return refuse(services, flow, EXCEEDED)
    return False


def refuse(services: Services, flow: Flow, description: str) -> Response:
    """Back to the service with the broker's error (``access_denied``) and the reason."""
    from authenticators.server.brokers.server import error_redirect

    services.flows.delete(flow.id)
    state = dict(flow.params).get("state")
    response = error_redirect(flow.redirect_uri, "access_denied", description, state)
    response.status_code = 303
    return response
