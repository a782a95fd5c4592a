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
    A fresh identity with a password, a CPR number and one authenticator of every installed kind
    with a test driver: a code display, an audio code reader, a MitID app enrolled at level high
    (``.app_pin``) and a simulated chip (``sim:NAME``, RP ID ``localhost``); ``.authenticators``
    maps each kind to its id.
``mitid_app``
    The identity's app, approving every login pushed to it in the background, as a phone held
    to the screen would (``.approved`` lists the logins; ``.decision = "reject"`` rejects
    instead, ``.pause()``/``.resume()`` hold it). ``mitid_browser.login(url, user_id,
    kind="app", app_action="wait")`` waits for it as the page's script does.
``mitid_code_display``
    The identity's code display: ``.code()`` presses its button and reads the code.
``mitid_client`` also takes a broker's name through indirect parametrization
    (``@pytest.mark.parametrize("mitid_client", ["signaturgruppen"], indirect=True)``): the client
    is then registered at that broker's issuer.
``mitid_broker_client``
    A factory: ``mitid_broker_client(broker="idura", simulate=False, long_claims=False,
    public=True)`` registers a fresh client at that broker's issuer (``idura``, ``criipto``,
    ``signaturgruppen``, ``signicat``, ``signicat-enterprise``) and returns it with ``.issuer``,
    ``.authorize_endpoint`` and ``.authorization_request(scope, **params)``.
``mitid_browser``
    Goes through the login pages as a browser would:
    ``.login(url, user_id, kind=..., password=...)`` returns the callback (``.code``,
    ``.params``), reading codes through the control API.

``mitid_passport``
    A fresh simulated ePassport (Danish, valid, genuine chip) issued through the control API:
    a dict with ``name``, ``uri`` (``passport:sim:NAME``), ``mrz``, ``document_number``, ….
``mitid_registered_identity``
    A person who got their MitID with the identification app: proofed with ``mitid_passport``
    and a camera shot of its holder, registered at IAL high with a MitID app enrolled at level
    high (``.app_pin``; ``.authenticators["app"]``), ``.passport`` the passport's name.

``nemlogin_sp``
    A fresh OIOSAML 3 service provider (pysaml2's SP client, see
    :class:`~authenticators.server.nemlogin.testing.OIOSAMLServiceProvider`) registered with
    the server's NemLog-in IdP and allowed to simulate: ``.login_url()`` gives a signed
    AuthnRequest, ``mitid_browser.login(url, …).params["SAMLResponse"]`` the response, and
    ``.validate(response, request_id)`` checks it as the reference SP does.

Heavy imports happen inside the fixtures, so loading the plugin costs a test run nothing.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from authenticators.server.nemlogin.testing import OIOSAMLServiceProvider
    from authenticators.server.runner import ServerThread
    from authenticators.server.testing import AuthRequest, BrowserLogin, Emulator

_counter = itertools.count(1)
PASSWORD = "mitid-test-password"  # noqa: S105 - a test identity's password
APP_PIN = "246810"  # the test identity's app PIN
APP_POLL = 0.02


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
    app_pin: str = field(default=APP_PIN, repr=False)


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
def mitid_client(
    request: pytest.FixtureRequest,
    mitid_server: MitIDServer,
    mitid_broker_client: Callable[..., MitIDBrokerClient],
) -> MitIDClient:
    """A public client of the generic issuer, or of a broker's when parametrized with its name
    (``@pytest.mark.parametrize("mitid_client", ["idura"], indirect=True)``)."""
    broker: str | None = getattr(request, "param", None)
    if broker is not None:
        return mitid_broker_client(broker)
    client_id = _unique("client")
    redirect_uri = f"http://127.0.0.1:9/{client_id}/callback"
    mitid_server.emulator.add_client(client_id, [redirect_uri], public=True, name="Test Service")
    return MitIDClient(client_id, redirect_uri, mitid_server.url)


@dataclass(frozen=True)
class MitIDBrokerClient(MitIDClient):
    """A client of a broker dialect's issuer (``.broker``), whose authorize path is its own."""

    broker: str = "idura"
    authorize_endpoint: str = ""

    def authorization_request(self, scope: str = "openid", **extra: str) -> AuthRequest:
        """A fresh authorization URL at the broker's endpoint, with state, nonce and PKCE."""
        from authenticators.server.testing import authorization_request

        return authorization_request(
            self.authorize_endpoint,
            self.client_id,
            self.redirect_uri,
            scope=scope,
            path="",
            **extra,
        )


@pytest.fixture
def mitid_broker_client(mitid_server: MitIDServer) -> Callable[..., MitIDBrokerClient]:
    def make(
        broker: str = "idura",
        *,
        simulate: bool = False,
        long_claims: bool = False,
        public: bool = True,
        scopes: list[str] | None = None,
    ) -> MitIDBrokerClient:
        client_id = _unique(f"{broker}-client")
        redirect_uri = f"http://127.0.0.1:9/{client_id}/callback"
        body: dict[str, Any] = {
            "client_id": client_id,
            "redirect_uris": [redirect_uri],
            "public": public,
            "name": "Test Service",
            "simulate": simulate,
            "long_claims": long_claims,
        }
        if scopes is not None:
            body["scopes"] = scopes
        made = mitid_server.emulator.call("POST", f"/emulator/brokers/{broker}/clients", body)
        issuer = next(
            b["issuer"]
            for b in mitid_server.emulator.call("GET", "/emulator/brokers")["brokers"]
            if b["broker"] == broker
        )
        import httpx

        document = httpx.get(issuer + "/.well-known/openid-configuration").json()
        return MitIDBrokerClient(
            client_id,
            redirect_uri,
            issuer,
            made.get("client_secret"),
            broker=broker,
            authorize_endpoint=document["authorization_endpoint"],
        )

    return make


@pytest.fixture
def mitid_identity(mitid_server: MitIDServer) -> MitIDIdentity:
    from authenticators.server.testing import kind_drivers

    user_id = _unique("user")
    created: dict[str, Any] = mitid_server.emulator.create_identity(
        user_id,
        "Test Person",
        password=PASSWORD,
        cpr="010190-1234",
        authenticators=[
            {"kind": kind, **driver.enrollment(user_id, APP_PIN)}
            for kind, driver in kind_drivers().items()
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


@dataclass(frozen=True)
class RegisteredIdentity:
    user_id: str
    uuid: str
    name: str
    birthdate: str
    passport: str
    activation_code: str = field(repr=False)
    authenticators: dict[str, str] = field(default_factory=dict)
    app_pin: str = field(default=APP_PIN, repr=False)


@pytest.fixture
def mitid_passport(mitid_server: MitIDServer) -> dict[str, Any]:
    name = _unique("passport")
    passport: dict[str, Any] = mitid_server.emulator.create_passport(
        "Jensen", "Test Person", "1990-01-02", name=name, sex="X"
    )
    return passport


@pytest.fixture
def mitid_registered_identity(
    mitid_server: MitIDServer, mitid_passport: dict[str, Any]
) -> RegisteredIdentity:
    user_id = _unique("registered")
    done = mitid_server.emulator.register_with_passport(mitid_passport["name"], user_id, APP_PIN)
    return RegisteredIdentity(
        user_id=done["user_id"],
        uuid=done["uuid"],
        name=done["name"],
        birthdate=done["birthdate"],
        passport=mitid_passport["name"],
        activation_code=done["activation_code"],
        authenticators={"app": done["app_id"]},
    )


@pytest.fixture
def passport(mitid_passport: dict[str, Any]) -> dict[str, Any]:
    """``mitid_passport`` under its short name; a project's own ``passport`` fixture wins."""
    return mitid_passport


@pytest.fixture
def registered_identity(mitid_registered_identity: RegisteredIdentity) -> RegisteredIdentity:
    """``mitid_registered_identity`` under its short name; a project's own fixture wins."""
    return mitid_registered_identity


@pytest.fixture
def mitid_code_display(mitid_server: MitIDServer, mitid_identity: MitIDIdentity) -> CodeDisplay:
    return CodeDisplay(
        "codeviser", mitid_identity.authenticators["codeviser"], mitid_server.emulator
    )


class AppApprover:
    """A phone that answers every login pushed to one app, from a background thread."""

    def __init__(self, emulator: Emulator, app_id: str, pin: str) -> None:
        self.emulator = emulator
        self.app_id = app_id
        self.pin = pin
        self.decision = "approve"
        self.approved: list[str] = []
        self.rejected: list[str] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._paused = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mitid-app", daemon=True)

    def __repr__(self) -> str:
        return f"AppApprover({self.app_id!r}, decision={self.decision!r})"

    def start(self) -> AppApprover:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def pause(self) -> None:
        self._paused.set()

    def resume(self) -> None:
        self._paused.clear()

    def answer_pending(self) -> int:
        """Answer what is waiting now; returns how many logins were answered."""
        from authenticators.server.testing import EmulatorError

        answered = 0
        for login in self.emulator.app_logins():
            if self.app_id not in login["apps"] or not login["shown"]:
                continue
            tx = login["transaction_id"]
            # Listed before the answer is sent: the login it completes may be over before the
            # answer's own response arrives here. Taken off again when the answer is refused.
            answers = self.rejected if self.decision == "reject" else self.approved
            answers.append(tx)
            try:
                if self.decision == "reject":
                    self.emulator.app_reject(tx, app_id=self.app_id)
                else:
                    pin = self.pin if login["pin_required"] else None
                    self.emulator.app_approve(tx, app_id=self.app_id, pin=pin)
                answered += 1
            except EmulatorError as exc:  # answered meanwhile, expired: the next round sees
                answers.remove(tx)
                self.errors.append(f"{tx}: {exc.error}")
            except BaseException:
                answers.remove(tx)
                raise
        return answered

    def _run(self) -> None:
        while not self._stop.wait(APP_POLL):
            if self._paused.is_set():
                continue
            try:
                self.answer_pending()
            except Exception as exc:  # the server went away at the end of the session
                self.errors.append(type(exc).__name__)


@pytest.fixture
def mitid_app(mitid_server: MitIDServer, mitid_identity: MitIDIdentity) -> Iterator[AppApprover]:
    approver = AppApprover(
        mitid_server.emulator, mitid_identity.authenticators["app"], mitid_identity.app_pin
    )
    approver.start()
    try:
        yield approver
    finally:
        approver.stop()


@pytest.fixture
def mitid_browser(mitid_server: MitIDServer) -> Iterator[BrowserLogin]:
    from authenticators.server.testing import BrowserLogin

    browser = BrowserLogin(mitid_server.url, mitid_server.emulator)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def nemlogin_sp(mitid_server: MitIDServer) -> Iterator[OIOSAMLServiceProvider]:
    from authenticators.server.nemlogin.testing import OIOSAMLServiceProvider

    name = _unique("sp")
    base = f"https://{name}.example.test"
    sp = OIOSAMLServiceProvider(
        mitid_server.emulator.nemlogin_metadata(),
        entity_id=f"{base}/saml",
        acs_url=f"{base}/saml/acs",
        slo_url=f"{base}/saml/slo",
    )
    mitid_server.emulator.add_nemlogin_sp(sp.metadata, name="Test Service", simulate=True)
    try:
        yield sp
    finally:
        sp.close()
