"""What a person does on each kind's step page, for :class:`~.BrowserLogin`.

Each kind registers a :class:`KindDriver` in the "authenticators.testing" entry-point group: its
``drive`` gets the step page and the options given to ``BrowserLogin.login`` and returns where the
submitted page led (the step pages name what a driver needs in ``data-*`` attributes); its
``enrollment`` says what the pytest plugin's test identity enrolls of the kind.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from authenticators.chip.webauthn import b64
from authenticators.server.testing import BrowserLogin, Callback, Driver, EmulatorError, Page


@dataclass(frozen=True)
class KindDriver:
    """A kind's part of the test client."""

    drive: Driver
    # (user_id, pin) -> the control API's enroll fields for a test identity, "kind" left out
    enrollment: Callable[[str, str], dict[str, Any]]


def attribute(page: Page, name: str) -> str:
    """The value of the first ``name="..."`` attribute on the page."""
    marker = f'{name}="'
    start = page.html.find(marker)
    if start < 0:
        kind = page.form.kind if page.form else "?"
        raise ValueError(f"the {kind} step page has no {name}")
    return page.html[start + len(marker) : page.html.index('"', start + len(marker))]


def drive_code_token(browser: BrowserLogin, page: Page, **options: Any) -> Page | Callback:
    """Type the code (``code=``, or a fresh one read through the control API) and password."""
    assert page.form is not None
    password = options.get("password")
    if password is None:
        raise TypeError("a code token login needs password=")
    code = options.get("code")
    if code is None:
        if browser.emulator is None:
            raise TypeError("give code= or a BrowserLogin with an emulator")
        token = options.get("token") or attribute(page, "data-token")
        code = browser.emulator.fresh_code(page.form.kind, token)
    return browser.submit(page, code=code, password=password)


def _wait_for_answer(browser: BrowserLogin, page: Page, timeout: float) -> None:
    """Poll the page's status, as its script does, until the login is no longer pending."""
    poll_url = attribute(page, "data-poll")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if browser.http.get(poll_url).json().get("status") != "pending":
            return
        time.sleep(0.02)


def drive_app(browser: BrowserLogin, page: Page, **options: Any) -> Page | Callback:
    """Answer in the app through the control API, then continue on the page.

    ``app_action="reject"`` rejects; ``app_action="wait"`` leaves the answer to someone else
    (the ``mitid_app`` fixture, ``mitid-emu app watch``) and waits for it; ``pin=`` approves
    with the PIN (a login at level high needs it); ``bind="code"`` types the 4-digit code
    instead of scanning the QR frames.
    """
    emulator = browser.emulator
    if emulator is None:
        raise TypeError("an app login needs a BrowserLogin with an emulator")
    transaction_id = attribute(page, "data-transaction")
    action = options.get("app_action", "approve")
    if action == "wait":
        _wait_for_answer(browser, page, float(options.get("timeout", 30.0)))
        return browser.submit(page)
    try:
        if action == "reject":
            emulator.app_reject(transaction_id)
        else:
            emulator.app_approve(
                transaction_id, pin=options.get("pin"), bind=options.get("bind", "qr")
            )
    except EmulatorError as exc:
        if exc.status != 409:  # answered already (by the mitid_app fixture, say): go on
            raise
    return browser.submit(page)


def drive_chip(browser: BrowserLogin, page: Page, **options: Any) -> Page | Callback:
    """What a browser does on the chip page: build the client data for its origin, have the
    simulated chip sign it (through the control API: the chip lives in the server's state),
    and send the assertion with the password."""
    password = options.get("password")
    if password is None:
        raise TypeError("a chip login needs password=")
    emulator = browser.emulator
    if emulator is None:
        raise TypeError("a chip login needs a BrowserLogin with an emulator")
    chip = attribute(page, "data-chip")
    rp_id = attribute(page, "data-rp-id")
    challenge = attribute(page, "data-challenge")
    origin = options.get("origin") or _origin(browser.base_url)
    client_data = json.dumps(
        {"type": "webauthn.get", "challenge": challenge, "origin": origin, "crossOrigin": False},
        separators=(",", ":"),
    ).encode()
    digest = base64.urlsafe_b64encode(hashlib.sha256(client_data).digest()).rstrip(b"=")
    signed = emulator.call(
        "POST",
        f"/emulator/chips/{chip}/assert",
        {"client_data_hash": digest.decode("ascii"), "rp_id": rp_id},
    )
    values = {
        "password": password,
        "credential_id": signed["credential_id"],
        "authenticator_data": signed["authenticator_data"],
        "signature": signed["signature"],
        "client_data": b64(client_data),
    }
    if "user_handle" in signed:
        values["user_handle"] = signed["user_handle"]
    return browser.submit(page, **values)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


codeviser = KindDriver(drive_code_token, lambda user_id, pin: {"name": f"{user_id}-cv"})
kodeoplaeser = KindDriver(drive_code_token, lambda user_id, pin: {"name": f"{user_id}-ko"})
app = KindDriver(drive_app, lambda user_id, pin: {"pin": pin, "level": "high"})
chip = KindDriver(drive_chip, lambda user_id, pin: {"name": f"{user_id}-chip"})
