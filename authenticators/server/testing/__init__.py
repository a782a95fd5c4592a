"""Driving the server from tests: the control API as a client, and a browser made of httpx.

:class:`Emulator` calls the control API; :class:`BrowserLogin` goes through the login pages as a
person would (forms, cookies, redirects), with a small driver per kind for the step (a kind
registers ``drive(browser, page, **options)`` in the "authenticators.testing" entry-point group;
ours are in :mod:`authenticators.server.testing.drivers`). Both are what the pytest plugin, the
demo and the benchmark use; no production module imports this package.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx

from authenticators import registry

if TYPE_CHECKING:
    from authenticators.server.testing.drivers import KindDriver


class EmulatorError(Exception):
    """The control API refused a call; ``error`` and ``description`` say why."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{status} {error}: {description}")
        self.status = status
        self.error = error
        self.description = description


class Emulator:
    """A client of the emulator control API (``/emulator/``)."""

    def __init__(self, base_url: str, admin_token: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {admin_token}"},
            timeout=timeout,
        )

    def __repr__(self) -> str:
        return f"Emulator({self.base_url!r})"

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, body: Any = None, **params: str | None) -> Any:
        response = self.http.request(
            method, path, json=body, params={k: v for k, v in params.items() if v is not None}
        )
        if response.status_code >= 400:
            try:
                data = response.json()
            except ValueError:
                data = {"error": "http_error", "error_description": response.text[:200]}
            raise EmulatorError(
                response.status_code, data.get("error", "?"), data.get("error_description", "")
            )
        return response.json()

    # -- identities and authenticators --

    def create_identity(
        self,
        user_id: str,
        name: str,
        *,
        password: str | None = None,
        cpr: str | None = None,
        birthdate: str | None = None,
        authenticators: list[dict[str, Any]] | None = None,
        organisations: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"user_id": user_id, "name": name}
        for key, value in (
            ("password", password),
            ("cpr", cpr),
            ("birthdate", birthdate),
            ("authenticators", authenticators),
            ("organisations", organisations),
        ):
            if value is not None:
                body[key] = value
        result: dict[str, Any] = self.call("POST", "/emulator/identities", body)
        return result

    def identity(self, user_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.call("GET", f"/emulator/identities/{user_id}")
        return result

    def delete_identity(self, user_id: str) -> None:
        self.call("DELETE", f"/emulator/identities/{user_id}")

    def enroll(self, user_id: str, kind: str, **fields: Any) -> dict[str, Any]:
        result: dict[str, Any] = self.call(
            "POST", f"/emulator/identities/{user_id}/authenticators", {"kind": kind, **fields}
        )
        return result

    # -- passports and the identification app --

    def create_passport(
        self, surname: str, given_names: str, birth: str, **options: Any
    ) -> dict[str, Any]:
        """A simulated passport (options: name, nationality, sex, expired, clone, tampered,
        expired_signer); its summary with ``name``, ``uri`` and ``mrz``."""
        body = {"surname": surname, "given_names": given_names, "birth": birth, **options}
        result: dict[str, Any] = self.call("POST", "/emulator/passports", body)
        return result

    def register_with_passport(
        self, passport: str, user_id: str, pin: str, **options: Any
    ) -> dict[str, Any]:
        """The identification app: proof with the passport and a face (``face_of`` defaults to
        the passport's holder, ``face`` is a base64 image), then a new identity and app."""
        body: dict[str, Any] = {"passport": passport, "user_id": user_id, "pin": pin, **options}
        if "face" not in body:
            body.setdefault("face_of", passport)
        result: dict[str, Any] = self.call("POST", "/emulator/identification/register", body)
        return result

    def enroll_with_passport(
        self, passport: str, user_id: str, kind: str, **options: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"passport": passport, "user_id": user_id, "kind": kind, **options}
        if "face" not in body:
            body.setdefault("face_of", passport)
        result: dict[str, Any] = self.call("POST", "/emulator/identification/enroll", body)
        return result

    def current_code(self, kind: str, name: str) -> str:
        """Press a code token's button and read the code it shows."""
        return str(self.call("GET", f"/emulator/code-tokens/{kind}/{name}/code")["code"])

    def fresh_code(self, kind: str, name: str) -> str:
        """A code the verifier has not accepted yet: if this time step's code was used, move
        the emulator's clock on to the next step (instead of waiting for it)."""
        shown = self.call("GET", f"/emulator/code-tokens/{kind}/{name}/code")
        if shown["used"]:
            self.clock(advance=float(shown["seconds_left"]) + 0.5)
            shown = self.call("GET", f"/emulator/code-tokens/{kind}/{name}/code")
        return str(shown["code"])

    # -- companies --

    def create_organisation(self, cvr: str, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self.call(
            "POST", "/emulator/organisations", {"cvr": cvr, "name": name}
        )
        return result

    def add_membership(self, user_id: str, cvr: str, roles: list[str] | None = None) -> None:
        self.call(
            "PUT", f"/emulator/identities/{user_id}/organisations/{cvr}", {"roles": roles or []}
        )

    # -- clients, clock, logins, reset --

    def add_client(
        self,
        client_id: str,
        redirect_uris: list[str],
        *,
        public: bool = True,
        client_secret: str | None = None,
        name: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "client_id": client_id,
            "redirect_uris": redirect_uris,
            "public": public,
        }
        if client_secret is not None:
            body["client_secret"] = client_secret
        if name is not None:
            body["name"] = name
        result: dict[str, Any] = self.call("POST", "/emulator/clients", body)
        return result

    def add_nemlogin_sp(
        self, metadata: str, *, name: str | None = None, simulate: bool = False
    ) -> dict[str, Any]:
        """Register a SAML service provider with the NemLog-in IdP from its metadata."""
        body: dict[str, Any] = {"metadata": metadata, "simulate": simulate}
        if name is not None:
            body["name"] = name
        result: dict[str, Any] = self.call("POST", "/emulator/nemlogin/sps", body)
        return result

    def nemlogin_sps(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.call("GET", "/emulator/nemlogin/sps")[
            "service_providers"
        ]
        return result

    def remove_nemlogin_sp(self, entity_id: str) -> None:
        self.call("DELETE", "/emulator/nemlogin/sps", entity_id=entity_id)

    def nemlogin_metadata(self) -> str:
        """The NemLog-in IdP's metadata (no admin token needed)."""
        return self.http.get("/nemlogin/saml/metadata").text

    def clock(self, **change: Any) -> dict[str, Any]:
        """Read the clock, or change it: ``freeze=True``, ``at=...``, ``advance=...``."""
        if not change:
            result: dict[str, Any] = self.call("GET", "/emulator/clock")
            return result
        result = self.call("POST", "/emulator/clock", change)
        return result

    def pending_logins(self, kind: str | None = None) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.call("GET", "/emulator/logins", kind=kind)["logins"]
        return result

    def reset(self) -> None:
        self.call("POST", "/emulator/reset")

    # -- the app --

    def app_logins(self) -> list[dict[str, Any]]:
        """Pending app logins: what the apps are asked to approve."""
        result: list[dict[str, Any]] = self.call("GET", "/emulator/app/logins")["logins"]
        return result

    def app_approve(
        self,
        transaction_id: str,
        *,
        app_id: str | None = None,
        pin: str | None = None,
        biometrics: bool = False,
        bind: str = "qr",
    ) -> dict[str, Any]:
        """Approve in the app, as a phone held to the login screen (``bind="code"``: typing
        the code it shows instead)."""
        body: dict[str, Any] = {"bind": bind}
        if app_id is not None:
            body["app_id"] = app_id
        if pin is not None:
            body["pin"] = pin
        if biometrics:
            body["biometrics"] = True
        result: dict[str, Any] = self.call(
            "POST", f"/emulator/app/logins/{transaction_id}/approve", body
        )
        return result

    def app_reject(self, transaction_id: str, *, app_id: str | None = None) -> dict[str, Any]:
        body = {"app_id": app_id} if app_id is not None else {}
        result: dict[str, Any] = self.call(
            "POST", f"/emulator/app/logins/{transaction_id}/reject", body
        )
        return result


# -- a browser made of httpx --------------------------------------------------------------------


@dataclass
class Form:
    action: str
    stage: str
    kind: str
    fields: dict[str, str] = field(default_factory=dict)
    choices: dict[str, list[str]] = field(default_factory=dict)


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.alerts: list[str] = []
        self.reason: str | None = None
        self._in_alert = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(
                Form(a.get("action", ""), a.get("data-stage", ""), a.get("data-kind", ""))
            )
        elif tag == "input" and self.forms:
            form = self.forms[-1]
            name = a.get("name", "")
            if a.get("type") == "radio":
                form.choices.setdefault(name, []).append(a.get("value", ""))
            elif a.get("type") == "hidden":
                form.fields[name] = a.get("value", "")
        elif tag == "div" and "alert" in a.get("class", ""):
            self._in_alert += 1
            self.alerts.append("")
            if a.get("data-reason"):
                self.reason = a["data-reason"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self._in_alert:
            self._in_alert -= 1

    def handle_data(self, data: str) -> None:
        if self._in_alert and self.alerts:
            self.alerts[-1] += data


@dataclass
class Page:
    url: str
    status: int
    html: str
    form: Form | None
    alerts: list[str]
    reason: str | None

    @property
    def stage(self) -> str:
        return self.form.stage if self.form else ""

    @property
    def notice(self) -> str:
        return " ".join(" ".join(a.split()) for a in self.alerts)


class LoginFailed(Exception):
    """The login pages ended on a failure page (``reason``) instead of the service."""

    def __init__(self, page: Page) -> None:
        super().__init__(f"login failed: {page.reason or page.stage}: {page.notice}")
        self.page = page
        self.reason = page.reason


@dataclass(frozen=True)
class Callback:
    """Where the login pages sent the browser back to: the service's redirect URI, or (a
    SAML service) the form the page posts to its assertion consumer service."""

    url: str
    form: dict[str, str] | None = None

    @property
    def params(self) -> dict[str, str]:
        if self.form is not None:
            return dict(self.form)
        return {k: v[0] for k, v in parse_qs(urlsplit(self.url).query).items()}

    @property
    def code(self) -> str | None:
        return self.params.get("code")

    @property
    def error(self) -> str | None:
        return self.params.get("error")


Driver = Callable[..., "Page | Callback"]


class BrowserLogin:
    """Goes through the login pages with forms and cookies, as a browser would."""

    def __init__(self, base_url: str, emulator: Emulator | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.emulator = emulator
        self.http = httpx.Client(base_url=self.base_url, follow_redirects=False, timeout=30.0)

    def __repr__(self) -> str:
        return f"BrowserLogin({self.base_url!r})"

    def close(self) -> None:
        self.http.close()

    def _follow(self, response: httpx.Response) -> Page | Callback:
        while response.is_redirect:
            target = urljoin(str(response.url), response.headers["location"])
            if not target.startswith(self.base_url + "/"):
                return Callback(target)
            response = self.http.get(target)
        parser = _PageParser()
        parser.feed(response.text)
        form = next((f for f in parser.forms if f.stage), None)
        if form is not None and form.stage == "saml_post":  # posts itself to the service
            return Callback(form.action, dict(form.fields))
        return Page(
            str(response.url),
            response.status_code,
            response.text,
            form,
            parser.alerts,
            parser.reason,
        )

    def open(self, authorize_url: str) -> Page | Callback:
        return self._follow(self.http.get(authorize_url))

    def submit(self, page: Page, action: str | None = None, **values: str) -> Page | Callback:
        assert page.form is not None, "no form on this page"
        target = action or page.form.action
        data = {**page.form.fields, **values}
        return self._follow(self.http.post(target, data=data))

    def cancel(self, page: Page) -> Callback:
        assert page.form is not None
        flow = page.url.split("/login/", 1)[1].split("?")[0].split("/")[0]
        result = self.submit(page, action=f"/login/{flow}/cancel")
        assert isinstance(result, Callback), result
        return result

    def login(
        self,
        authorize_url: str,
        user_id: str,
        *,
        kind: str = "codeviser",
        authenticator_id: str | None = None,
        cvr: str | None = None,
        **options: Any,
    ) -> Callback:
        """The whole login: user ID, method, the kind's step, company; returns the callback.

        Raises :class:`LoginFailed` when it ends on a failure page.
        """
        current = self.open(authorize_url)
        sent_user = steps_done = 0
        for _ in range(12):
            if isinstance(current, Callback):
                return current
            page = current
            if page.form is None or page.stage == "failed":
                raise LoginFailed(page)
            if page.stage == "user_id":
                if sent_user:
                    raise LoginFailed(page)
                sent_user += 1
                current = self.submit(page, user_id=user_id)
            elif page.stage == "method":
                choices = page.form.choices.get("method", [])
                wanted = [c for c in choices if c.split(":", 1)[0] == kind]
                if authenticator_id is not None:
                    wanted = [c for c in wanted if c.split(":", 1)[1] == authenticator_id]
                if not wanted:
                    raise LoginFailed(page)
                current = self.submit(page, method=wanted[0])
            elif page.stage == "step":
                if steps_done and page.reason:
                    raise LoginFailed(page)
                steps_done += 1
                current = driver_for(page.form.kind)(self, page, **options)
            elif page.stage == "cpr":  # a broker's CPR match: ``cpr=`` is what is typed
                if "cpr" not in options or page.notice:
                    raise LoginFailed(page)
                current = self.submit(page, cpr=options["cpr"])
            elif page.stage == "organisation":
                choices = page.form.choices.get("cvr", [])
                current = self.submit(page, cvr=cvr if cvr in choices else choices[0])
            else:
                raise LoginFailed(page)
        raise RuntimeError("the login pages went round in circles")


def kind_drivers() -> dict[str, KindDriver]:
    """Every installed kind's part of the test client (its "authenticators.testing" entry)."""
    from authenticators.server.testing.drivers import KindDriver

    found: dict[str, KindDriver] = {}
    for kind, driver in registry.facets(registry.TESTING_GROUP).items():
        if not isinstance(driver, KindDriver):
            raise TypeError(f"the test driver of {kind!r} is not a KindDriver")
        found[kind] = driver
    return found


def driver_for(kind: str) -> Driver:
    """The kind's browser driver."""
    driver = kind_drivers().get(kind)
    if driver is None:
        raise NotImplementedError(f"no browser driver for the {kind} step")
    return driver.drive


# -- OIDC client side -----------------------------------------------------------------------


@dataclass(frozen=True)
class AuthRequest:
    """An authorization request with fresh state, nonce and PKCE verifier."""

    url: str
    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode("ascii")


def authorization_request(
    issuer: str,
    client_id: str,
    redirect_uri: str,
    *,
    scope: str = "openid",
    path: str = "/authorize",
    **extra: str,
) -> AuthRequest:
    """A fresh request to ``issuer + path`` (``path=""`` when ``issuer`` is the endpoint)."""
    verifier, challenge = pkce_pair()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return AuthRequest(
        f"{issuer.rstrip('/')}{path}?{urlencode(params)}", state, nonce, verifier, redirect_uri
    )
