"""What the app step's page, its poll and the control API share: the login screen, read from the
state as the page shows it, and the app's refusals as JSON."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from starlette.responses import JSONResponse

from authenticators import registry
from authenticators.app.errors import AppRefusal
from authenticators.app.inbox import SessionStatus
from authenticators.app.plugin import AppPlugin
from authenticators.app.policy import FRAME_INTERVAL
from authenticators.app.screen import LoginScreen
from authenticators.server.context import Services
from authenticators.server.flows import Flow

KIND = "app"
POLL_MS = 1000
VIEWS = ("qr", "code")


def app_plugin() -> AppPlugin:
    plugin = registry.get(KIND)
    assert isinstance(plugin, AppPlugin)
    return plugin


def json_response(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers={"Cache-Control": "no-store"})


def refusal_response(exc: AppRefusal) -> JSONResponse:
    """What the app refused (wrong PIN, blocked, answered, expired): 409 with the reason."""
    return json_response(
        {"error": "refused", "error_description": exc.message, "reason": exc.reason.value}, 409
    )


# -- the login screen as the page shows it -------------------------------------------------------


def resume(services: Services, transaction_id: str) -> LoginScreen:
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
        screen = resume(services, flow.transaction_id)
        current = screen.current
        due = current is not None and (
            services.clock.now() - current.shown_at >= screen.policy.rotate_every
        )
        if not (rotate and due):
            return _status(services, flow, screen)
    with services.store.transaction():
        screen = resume(services, flow.transaction_id)
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
def png(payload: str) -> bytes:
    from authenticators.app.channel import render_png

    return render_png(payload, scale=5)
