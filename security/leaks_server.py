"""Secrets over HTTP: the login server's responses searched for canary secrets.

A login server of its own (loopback, a free port, a fresh state) is driven through everything
that handles a secret: identities created with a canary password, a code token imported from a
canary seed, apps enrolled with a canary PIN and without one, a confidential client with a
canary secret, logins through the pages with the code token (wrong code, wrong password, right
ones) and with the app (wrong PIN, right PIN), the token exchange, userinfo, discovery, JWKS,
the control API's listings, and refusals of bad requests. Every response — status, every
header, the body — is collected, with the server's own log; the admin token, the ID token
signing key, the apps' device keys and PIN hashes kept by the server join the canaries.

Three responses carry a secret on purpose, and only those responses may (see
:data:`BY_DESIGN`): the control API's current-code endpoint returns the code (its job), an app
enrolled without a PIN gets one made up and returned once, and a code token's enrollment returns
its ``otpauth://`` URI (the seed) for provisioning. Anywhere else the same value is a leak.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx

if TYPE_CHECKING:
    from authenticators.server.testing import BrowserLogin, Emulator, Page
    from security.leaks import Canaries, Collector

REDIRECT = "http://127.0.0.1:9/callback"

#: (canary name, where the text came from) -> why that response carries it by design.
BY_DESIGN: dict[tuple[str, str], str] = {
    (
        "current code",
        "GET /emulator/code-tokens/codeviser/leak-token/code",
    ): "the control API's current-code endpoint returns the code a test types",
    (
        "made-up app PIN",
        "POST /emulator/identities/frank/authenticators",
    ): "an app enrolled without a PIN gets one made up and returned once",
    (
        "code-token seed",
        "POST /emulator/identities/erin/authenticators",
    ): "a code token's enrollment returns its otpauth:// URI (the seed) for provisioning",
}


def by_design(canary: str, where: str) -> str | None:
    """Why the finding of ``canary`` in ``where`` is no leak, or None when it is one."""
    for (name, place), reason in BY_DESIGN.items():
        if canary.startswith(name) and f"server: {place} response" in where:
            return reason
    return None


def _recorder(out: Collector) -> Callable[[httpx.Response], None]:
    def record(response: httpx.Response) -> None:
        response.read()
        request = response.request
        where = f"{request.method} {request.url.path} response"
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.multi_items())
        out.add(f"{where} headers", f"{response.status_code}\n{headers}")
        try:
            out.add(f"{where} body", response.content.decode("utf-8"))
        except UnicodeDecodeError:  # an image: its bytes as they are
            out.add(f"{where} body", response.content.decode("latin-1"))

    return record


def _text_canary_of_jwk(jwk: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f"signing key {part}", str(jwk[part])) for part in ("d", "p", "q") if part in jwk]


def scenario_server(c: Canaries, out: Collector, state: Path) -> None:
    from authenticators.app.plugin import plugin as app_plugin
    from authenticators.server.config import ServerConfig
    from authenticators.server.runner import ServerThread
    from authenticators.server.testing import BrowserLogin, Emulator
    from security.leaks import bytes_canary, text_canary

    admin = secrets.token_urlsafe(24)
    client_secret = f"cs-{secrets.token_urlsafe(18)}"
    config = ServerConfig(
        state_dir=str(state), host="127.0.0.1", port=0, admin_token=admin, password_workers=-1
    )
    with ServerThread(config) as server:
        c.extra += [text_canary("admin token", admin), text_canary("client secret", client_secret)]
        record = _recorder(out)
        emulator = Emulator(server.url, admin)
        browser = BrowserLogin(server.url, emulator)
        raw = httpx.Client(base_url=server.url, timeout=30.0)
        for client in (emulator.http, browser.http, raw):
            client.event_hooks = {"response": [record]}
        try:
            _drive(c, out, server.url, admin, client_secret, emulator, browser, raw)
        finally:
            emulator.close()
            browser.close()
            raw.close()
        services = server.app.state.services
        store = services.store
        with store.read() as db:
            rows = db.execute("SELECT jwk FROM signing_keys").fetchall()
        for (jwk_text,) in rows:
            for name, value in _text_canary_of_jwk(json.loads(jwk_text)):
                c.extra.append(text_canary(name, value))
        apps = app_plugin.apps(store)
        for app_id in ("leak-app", "leak-app-2"):
            phone = apps.phone(app_id)
            key = phone.signing_key()
            private = key.private_numbers().private_value.to_bytes(32, "big")
            c.extra += [
                bytes_canary(f"app device key ({app_id})", private),
                text_canary(f"app PIN hash ({app_id})", phone.pin_hash.split("$")[-1]),
            ]


def _drive(
    c: Canaries,
    out: Collector,
    url: str,
    admin: str,
    client_secret: str,
    emulator: Emulator,
    browser: BrowserLogin,
    raw: httpx.Client,
) -> None:
    from authenticators.codeviser.seeds import to_otpauth
    from authenticators.otp import OtpParams
    from authenticators.server.testing import (
        Callback,
        EmulatorError,
        Page,
        authorization_request,
    )
    from security.leaks import text_canary

    def refused(where: str, call: Callable[[], object]) -> None:
        try:
            call()
        except EmulatorError as exc:
            out.seen(f"{where} refusal", exc)

    emulator.clock(freeze=True, at=1_700_000_000.0)
    emulator.create_identity("erin", "Erin Leak", password=c.password, cpr="010203-1234")
    uri = to_otpauth(c.seed, OtpParams(), "erin", "Leak Bank", "CV4711")
    emulator.enroll("erin", "codeviser", name="leak-token", otpauth_uri=uri)
    emulator.enroll("erin", "app", app_id="leak-app", pin=c.app_pin, level="high")
    emulator.create_identity("frank", "Frank Leak", password="frank-" + c.password[3:9] + "x")
    made = emulator.enroll("frank", "app", app_id="leak-app-2")
    c.extra.append(text_canary("made-up app PIN", str(made.get("pin", ""))))
    refused("identity again", lambda: emulator.create_identity("erin", "E", password=c.password))
    refused("short password", lambda: emulator.create_identity("gus", "G", password="x"))  # noqa: S106
    refused(
        "bad seed",
        lambda: emulator.enroll("erin", "codeviser", otpauth_uri=uri.replace("secret=", "s=")),
    )
    refused("bad PIN", lambda: emulator.enroll("erin", "app", pin=c.app_pin + "x"))
    emulator.add_client(
        "leak-backend", [REDIRECT], public=False, client_secret=client_secret, name="Leak Bank"
    )
    emulator.add_client("leak-public", [REDIRECT], public=True, name="Leak Bank")
    for path in (
        "/emulator/identities",
        "/emulator/identities/erin",
        "/emulator/identities/frank",
        "/emulator/clients",
        "/emulator/kinds",
        "/emulator/logins",
        "/emulator/app/logins",
        "/emulator/clock",
        "/emulator/openapi.json",
    ):
        emulator.call("GET", path)
    for path in ("/.well-known/openid-configuration", "/jwks", "/health", "/nowhere"):
        raw.get(path)
    raw.get("/emulator/identities", headers={"Authorization": "Bearer " + admin[:-2] + "xx"})
    raw.post(
        "/emulator/identities",
        content=b'{"user_id": "hal", "password": ' + c.password.encode() + b"}",
        headers={"Authorization": f"Bearer {admin}", "Content-Type": "application/json"},
    )

    def step_page(request_url: str, kind: str) -> Page:
        page = browser.open(request_url)
        assert isinstance(page, Page), page
        page = _page(browser.submit(page, user_id="erin"))
        choices = page.form.choices.get("method", []) if page.form else []
        wanted = [choice for choice in choices if choice.startswith(kind + ":")]
        return _page(browser.submit(page, method=wanted[0])) if wanted else page

    # The code token through the pages: wrong code, wrong password, then both right.
    request = authorization_request(url, "leak-public", REDIRECT, scope="openid profile ssn")
    page = step_page(request.url, "codeviser")
    code = emulator.fresh_code("codeviser", "leak-token")
    c.extra.append(text_canary("current code", code))
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    page = _page(browser.submit(page, code=wrong, password=c.password))
    code = emulator.fresh_code("codeviser", "leak-token")
    page = _page(browser.submit(page, code=code, password="wrong-" + c.password))
    emulator.clock(advance=30)
    code = emulator.fresh_code("codeviser", "leak-token")
    c.extra.append(text_canary("current code (next step)", code))
    done = browser.submit(page, code=code, password=c.password)
    if isinstance(done, Callback) and done.code:
        form = {
            "grant_type": "authorization_code",
            "code": done.code,
            "redirect_uri": REDIRECT,
            "client_id": "leak-public",
            "code_verifier": request.code_verifier[:-1] + "A",  # a wrong verifier first
        }
        form["code_verifier"] = request.code_verifier
        tokens = raw.post("/token", data=form)
        form["code_verifier"] = request.code_verifier[:-1] + "A"
        raw.post("/token", data=form)  # the code again, with a wrong verifier
        if tokens.status_code != 200:
            raise AssertionError(f"the token exchange failed: {tokens.text}")
        access = tokens.json()["access_token"]
        raw.get("/userinfo", headers={"Authorization": f"Bearer {access}"})
    else:
        raise AssertionError(f"the code token login did not finish: {done!r}")

    # A confidential client authenticating with a wrong secret and the right one.
    for secret in ("wrong-" + client_secret, client_secret):
        auth = base64.b64encode(f"leak-backend:{secret}".encode()).decode()
        raw.post(
            "/token",
            data={"grant_type": "authorization_code", "code": "nope", "redirect_uri": REDIRECT},
            headers={"Authorization": f"Basic {auth}"},
        )
        raw.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": "nope",
                "redirect_uri": REDIRECT,
                "client_id": "leak-backend",
                "client_secret": secret,
            },
        )

    # The app through the pages at level high: the wrong PIN, then the right one.
    request = authorization_request(
        url, "leak-public", REDIRECT, acr_values="urn:grn:authn:dk:mitid:high"
    )
    page = step_page(request.url, "app")
    transaction = _attribute(page.html, "data-transaction")
    emulator.call("GET", "/emulator/app/apps/leak-app/inbox")
    wrong_pin = f"{(int(c.app_pin) + 1) % 10**6:06d}"
    refused("app wrong PIN", lambda: emulator.app_approve(transaction, pin=wrong_pin))
    emulator.app_logins()
    raw.get(page.url)
    emulator.app_approve(transaction, pin=c.app_pin)
    done = browser.submit(page)
    if not (isinstance(done, Callback) and done.code):
        raise AssertionError(f"the app login did not finish: {done!r}")

    # Bad requests to the OIDC endpoints.
    raw.get("/authorize?" + urlencode({"client_id": "leak-public", "code_challenge": "x" * 43}))
    raw.post("/token", content=c.password.encode(), headers={"Content-Type": "text/plain"})
    raw.get("/userinfo", headers={"Authorization": f"Bearer {c.password}"})


def _page(result: object) -> Page:
    from authenticators.server.testing import Page

    if not isinstance(result, Page):
        raise AssertionError(f"expected a login page, got {result!r}")
    return result


def _attribute(html: str, name: str) -> str:
    marker = f'{name}="'
    start = html.find(marker)
    if start < 0:
        return ""
    return html[start + len(marker) : html.index('"', start + len(marker))]
