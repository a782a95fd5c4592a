"""pytest fixtures for testing a service's MitID login against the local login server.

Installed with the package (entry point ``pytest11``), so a project that depends on
mitid-emulator gets these fixtures without any import:

``mitid_server``
    The login server, started once per test session on a free loopback port with a fresh state
    directory (``.url``, ``.admin_token``, ``.emulator``); stopped at the end.
``mitid_emulator``
    A client of the emulator control API (:class:`~authenticators.server.testing.Emulator`).
``mitid_client``
    A fresh public OIDC client (PKCE) registered for the test: ``.client_id``,
    ``.redirect_uri``, ``.issuer``, ``.authorization_request()``.
``mitid_identity``
    A fresh identity with a password, a CPR number, a code display and an audio code reader.
``mitid_code_display``
    The identity's code display: ``.code()`` presses its button and reads the code.
``mitid_browser``
    Goes through the login pages as a browser would:
    ``.login(url, user_id, kind=..., password=...)`` returns the callback (``.code``,
    ``.params``), reading codes through the control API.

Heavy imports happen inside the fixtures, so loading the plugin costs a test run nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from authenticators.server.runner import ServerThread
    from authenticators.server.testing import AuthRequest, BrowserLogin, Emulator

_counter = itertools.count(1)
PASSWORD = "mitid-test-password"  # noqa: S105 - a test identity's password


def _unique(prefix: str) -> str:
    import secrets

    return f"{prefix}-{next(_counter)}-{secrets.token_hex(3)}"


@dataclass
class MitIDServer:
    thread: ServerThread
    emulator: Emulator

    @property
    def url(self) -> str:
        return self.thread.url

    @property
    def admin_token(self) -> str:
        return self.thread.admin_token


@dataclass(frozen=True)
class MitIDClient:
    client_id: str
    redirect_uri: str
    issuer: str
    client_secret: str | None = None

    def authorization_request(self, scope: str = "openid", **extra: str) -> AuthRequest:
        """A fresh authorization URL with state, nonce and a PKCE pair."""
        from authenticators.server.testing import authorization_request

        return authorization_request(
            self.issuer, self.client_id, self.redirect_uri, scope=scope, **extra
        )


@dataclass(frozen=True)
class MitIDIdentity:
    user_id: str
    uuid: str
    name: str
    password: str = field(repr=False)
    cpr: str
    authenticators: dict[str, str]


@dataclass(frozen=True)
class CodeDisplay:
    kind: str
    name: str
    emulator: Emulator

    def code(self) -> str:
        """Press the button and read the display."""
        return self.emulator.current_code(self.kind, self.name)


@pytest.fixture(scope="session")
def mitid_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MitIDServer]:
    from authenticators.server.config import ServerConfig
    from authenticators.server.runner import ServerThread
    from authenticators.server.testing import Emulator

    state = tmp_path_factory.mktemp("mitid-emulator-state")
    thread = ServerThread(ServerConfig(state_dir=str(state), port=0)).start()
    emulator = Emulator(thread.url, thread.admin_token)
    try:
        yield MitIDServer(thread, emulator)
    finally:
        emulator.close()
        thread.stop()


@pytest.fixture
def mitid_emulator(mitid_server: MitIDServer) -> Emulator:
    return mitid_server.emulator


@pytest.fixture
def mitid_client(mitid_server: MitIDServer) -> MitIDClient:
    client_id = _unique("client")
    redirect_uri = f"http://127.0.0.1:9/{client_id}/callback"
    mitid_server.emulator.add_client(client_id, [redirect_uri], public=True, name="Test Service")
    return MitIDClient(client_id, redirect_uri, mitid_server.url)


@pytest.fixture
def mitid_identity(mitid_server: MitIDServer) -> MitIDIdentity:
    user_id = _unique("user")
    created: dict[str, Any] = mitid_server.emulator.create_identity(
        user_id,
        "Test Person",
        password=PASSWORD,
        cpr="010190-1234",
        authenticators=[
            {"kind": "codeviser", "name": f"{user_id}-cv"},
            {"kind": "kodeoplaeser", "name": f"{user_id}-ko"},
        ],
    )
    return MitIDIdentity(
        user_id,
        created["uuid"],
        created["name"],
        PASSWORD,
        created["cpr"],
        {a["kind"]: a["id"] for a in created["enrolled"]},
    )


@pytest.fixture
def mitid_code_display(mitid_server: MitIDServer, mitid_identity: MitIDIdentity) -> CodeDisplay:
    return CodeDisplay(
        "codeviser", mitid_identity.authenticators["codeviser"], mitid_server.emulator
    )


@pytest.fixture
def mitid_browser(mitid_server: MitIDServer) -> Iterator[BrowserLogin]:
    from authenticators.server.testing import BrowserLogin

    browser = BrowserLogin(mitid_server.url, mitid_server.emulator)
    try:
        yield browser
    finally:
        browser.close()
