"""Helpers for the app tests: an identity with apps, a login pushed to them, a phone at hand."""

from __future__ import annotations

from typing import Any

from authenticators.app.device import Phone
from authenticators.app.plugin import AppOptions, AppPlugin
from authenticators.app.plugin import plugin as app_plugin
from authenticators.app.screen import LoginScreen
from authenticators.core.login import LoginResult, LoginService
from authenticators.protocol import Action, Challenge, Level, ReferenceText

PIN = "123456"
USER = "alice"
REF = ReferenceText(Action.LOG_ON, "Log on to Demo Bank")
SP = "Demo Bank"


def plugin() -> AppPlugin:
    return app_plugin


def enroll(
    service: LoginService,
    *,
    user: str = USER,
    level: Level = Level.SUBSTANTIAL,
    pin: str = PIN,
    biometrics: bool = False,
) -> str:
    """Enroll an app for ``user`` and link it, as `mitid-emu app enroll` does."""
    identity = service.identities.get(user)
    app_plugin.apps(service.store)  # tables first: a failed enrollment must not undo them
    with service.store.transaction():
        enrollment = app_plugin.enroll(
            service.store,
            service.clock,
            AppOptions(owner=identity.uuid, pin=pin, level=level, biometrics=biometrics),
        )
        service.identities.add_authenticator(user, "app", enrollment.authenticator_id)
    return enrollment.authenticator_id


def begin(
    service: LoginService,
    *,
    user: str = USER,
    level: Level = Level.SUBSTANTIAL,
    extra: dict[str, Any] | None = None,
    reference: ReferenceText = REF,
) -> Challenge:
    return service.begin(
        user,
        "app",
        service_provider=SP,
        reference_text=reference,
        level=level,
        extra=extra,
    )


def open_screen(
    service: LoginService, challenge: Challenge, level: Level = Level.SUBSTANTIAL
) -> LoginScreen:
    screen = LoginScreen(service.store, service.clock, challenge, level=level)
    screen.open()
    return screen


def phone(service: LoginService, app_id: str) -> Phone:
    return Phone(service.store, app_id, service.clock)


def scan_screen(held: Phone, screen: LoginScreen) -> None:
    result = held.look_at_screen(screen.session().screen, screen.transaction_id)
    assert result.complete


def approve_login(
    service: LoginService,
    app_id: str,
    *,
    level: Level = Level.SUBSTANTIAL,
    pin: str | None = None,
    extra: dict[str, Any] | None = None,
) -> LoginResult:
    """A whole desktop login: push, screen, scan, approve, verify."""
    challenge = begin(service, level=level, extra=extra)
    screen = open_screen(service, challenge, level)
    held = phone(service, app_id)
    if screen.binding:
        scan_screen(held, screen)
    held.approve(pin=pin, transaction_id=challenge.transaction_id)
    response = screen.poll()
    assert response is not None
    return service.complete(challenge.transaction_id, response)
