"""Fixtures for the app: a login service with one identity, and an app enrolled for it."""

from __future__ import annotations

import pytest

from authenticators.clock import FrozenClock
from authenticators.core.login import LoginService
from authenticators.store import Store
from tests.app.helpers import USER, enroll


@pytest.fixture
def service(store: Store, clock: FrozenClock) -> LoginService:
    svc = LoginService(store, clock)
    svc.identities.create(USER, "Alice Test")
    svc.identities.create("bob", "Bob Test")
    return svc


@pytest.fixture
def app_id(service: LoginService) -> str:
    return enroll(service)
