"""The login server's JSON endpoints: the emulator control API and the OIDC endpoints.

An input is one HTTP request, written as text::

    METHOD PATH[?QUERY]
    CONTENT-TYPE
    BODY...

(a method starting with ``-`` sends no admin token). It goes to the ASGI app in this process
(no socket), one app for every input, whose state starts with an identity holding every kind,
a public client, a pending code-token login and a pending app login.

Rules: no answer is a 5xx; on the JSON paths (``/emulator``, ``/token``, ``/userinfo``,
``/jwks``, ``/.well-known``) every answer is a JSON body, and every refusal a JSON object with
``error``; no exception escapes the app; no request takes longer than :data:`DEADLINE`.
``/emulator/reset``, ``/emulator/keys/rotate`` and deletions of the fixtures are left alone
(they would wipe what later inputs use, or spend a second on an RSA key per input); everything
else is fair game, the clock included (it is put back after every input that touches it).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import json
import shutil
import tempfile
import threading
from dataclasses import dataclass
from typing import Any

import httpx

from security.fuzz import FuzzFailure

DEADLINE = 10.0  # seconds: a request taking longer is a hang
T0 = 1_700_000_000.0
ADMIN = "fuzz-admin-token-" + "0" * 16
REDIRECT = "http://127.0.0.1:9/callback"
BASE = "http://127.0.0.1:8080"
JSON_PREFIXES = ("/emulator", "/token", "/userinfo", "/jwks", "/.well-known")
LEFT_ALONE = ("/emulator/reset", "/emulator/keys/rotate")
#: The fixture's names: a DELETE naming one is left alone, so later inputs find them.
FIXTURE_NAMES = ("alice", "fuzz", "12345678")


class AppTransport(httpx.BaseTransport):
    """Synchronous requests straight into an ASGI app, on an event loop of its own thread.

    ``timeout`` bounds each request; the app's exceptions are raised to the caller.
    """

    def __init__(self, app: Any, timeout: float = DEADLINE) -> None:
        self._inner = httpx.ASGITransport(app=app, raise_app_exceptions=True)
        self._timeout = timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="fuzz-asgi", daemon=True
        )
        self._thread.start()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> httpx.Response:
            response = await self._inner.handle_async_request(request)
            body = await response.aread()
            return httpx.Response(
                response.status_code, headers=response.headers, content=body, request=request
            )

        future = asyncio.run_coroutine_threadsafe(send(), self._loop)
        try:
            return future.result(timeout=self._timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            message = f"{request.method} {request.url.path}: no answer in {self._timeout} s"
            raise Hang(message) from None


class Hang(FuzzFailure):
    """A request that got no answer in time."""


@dataclass
class Fixture:
    """The app, a client for it, and the names the seed requests use."""

    client: httpx.Client
    transaction: str  # a pending app login's transaction ID
    flow: str  # a login flow at its code-token step


_FIXTURE: Fixture | None = None


def fixture() -> Fixture:
    global _FIXTURE
    if _FIXTURE is None:
        _FIXTURE = _build()
    return _FIXTURE


def _build() -> Fixture:
    from authenticators.server.app import create_app, prepare_state
    from authenticators.server.config import ServerConfig
    from authenticators.server.testing import BrowserLogin, Page, authorization_request

    state = tempfile.mkdtemp(prefix="fuzz-server-")
    atexit.register(shutil.rmtree, state, True)
    config = ServerConfig(
        state_dir=state, host="127.0.0.1", port=8080, admin_token=ADMIN, password_workers=-1
    )
    prepare_state(config)
    app = create_app(config)
    client = httpx.Client(transport=AppTransport(app), base_url=BASE, follow_redirects=False)
    admin = {"Authorization": f"Bearer {ADMIN}"}

    def call(method: str, path: str, body: Any = None) -> Any:
        response = client.request(method, path, json=body, headers=admin)
        if response.status_code >= 400:
            raise RuntimeError(f"fixture {method} {path}: {response.status_code} {response.text}")
        return response.json()

    call("POST", "/emulator/clock", {"freeze": True, "at": T0})
    call(
        "POST",
        "/emulator/identities",
        {
            "user_id": "alice",
            "name": "Alice Fuzz",
            "password": "alice-password",
            "cpr": "010203-1234",
            "authenticators": [
                {"kind": "codeviser", "name": "alice-cv"},
                {"kind": "kodeoplaeser", "name": "alice-ko"},
                {"kind": "app", "app_id": "alice-app", "pin": "246810", "level": "high"},
                {"kind": "chip", "name": "alice-chip"},
            ],
            "organisations": [{"cvr": "12345678", "name": "Fuzz ApS", "roles": ["admin"]}],
        },
    )
    call(
        "POST",
        "/emulator/clients",
        {"client_id": "fuzz", "redirect_uris": [REDIRECT], "public": True},
    )
    # A login that waits at the code-token step, and an app login that waits for the phone.
    browser = BrowserLogin(BASE)
    browser.http.close()
    browser.http = client
    flows = []
    for kind in ("codeviser", "app"):
        page = browser.open(authorization_request(BASE, "fuzz", REDIRECT).url)
        assert isinstance(page, Page), page
        page = browser.submit(page, user_id="alice")
        assert isinstance(page, Page), page
        assert page.form is not None, page
        method = next(m for m in page.form.choices["method"] if m.startswith(kind + ":"))
        page = browser.submit(page, method=method)
        assert isinstance(page, Page), page
        flows.append(page.url.split("/login/", 1)[1].split("/")[0].split("?")[0])
    logins = call("GET", "/emulator/app/logins")["logins"]
    transaction = str(logins[0]["transaction_id"]) if logins else "none"
    return Fixture(client, transaction, flows[0])


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    content_type: str
    body: bytes
    admin: bool

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


def parse(data: bytes) -> Request | None:
    """The request an input stands for, or None when it cannot be sent at all."""
    head, _, rest = data.partition(b"\n")
    content_type, _, body = rest.partition(b"\n")
    try:
        line = head.decode("ascii").strip()
        ctype = content_type.decode("latin-1").strip()
    except UnicodeDecodeError:
        return None
    method, _, target = line.partition(" ")
    admin = not method.startswith("-")
    method = method.lstrip("-").upper()
    if not method.isalpha() or len(method) > 10 or not target.startswith("/"):
        return None
    if any(ord(ch) < 0x21 or ord(ch) > 0x7E for ch in target) or "#" in target:
        return None
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in ctype):
        return None
    return Request(method, target, ctype, body, admin)


def _send(fix: Fixture, request: Request) -> Any:
    headers: dict[bytes, bytes] = {}
    if request.admin:
        headers[b"Authorization"] = f"Bearer {ADMIN}".encode("ascii")
    if request.content_type:
        headers[b"Content-Type"] = request.content_type.encode("latin-1")
    try:
        url = httpx.URL(BASE + request.target)
    except httpx.InvalidURL:
        return None  # not a request any client could send
    return fix.client.request(request.method, url, content=request.body or None, headers=headers)


def one_input(data: bytes) -> None:
    request = parse(data)
    if request is None or request.path.rstrip("/").startswith(LEFT_ALONE):
        return
    if request.method == "DELETE" and any(name in request.path for name in FIXTURE_NAMES):
        return
    fix = fixture()
    # Fill the names the seeds use with the fixture's own.
    request = Request(
        request.method,
        request.target.replace("{transaction_id}", fix.transaction).replace("{flow}", fix.flow),
        request.content_type,
        request.body,
        request.admin,
    )
    try:
        response = _send(fix, request)
        if response is None:
            return
    finally:
        if "clock" in request.path:
            fix.client.post(
                "/emulator/clock",
                json={"freeze": True, "at": T0},
                headers={"Authorization": f"Bearer {ADMIN}"},
            )
    check(request, response.status_code, response.headers.get("content-type", ""), response.content)


def check(request: Request, status: int, content_type: str, body: bytes) -> None:
    where = f"{request.method} {request.path}"
    if status >= 500:
        raise FuzzFailure(f"{where}: {status} {body[:200]!r}")
    if not request.path.startswith(JSON_PREFIXES) or request.method == "HEAD":
        return
    if not content_type.startswith("application/json"):
        raise FuzzFailure(f"{where}: {status} with {content_type!r}, not JSON: {body[:200]!r}")
    try:
        answer = json.loads(body)
    except ValueError:
        raise FuzzFailure(f"{where}: {status} with a body that is not JSON") from None
    if status >= 400 and not (isinstance(answer, dict) and isinstance(answer.get("error"), str)):
        raise FuzzFailure(f"{where}: {status} without an 'error': {body[:200]!r}")
