"""The phone's side of an app login over HTTP: an :class:`AppExchange` served by a login server.

A phone whose key and PIN live in another state than the login server's (``mitid-emu app
enroll --server``) asks the server for its pushes, reports the QR frames it read and hands in
its signed answer through the emulator control API under ``/emulator/app/``. The server's clock
decides what is open and what has expired; the ``now`` the protocol passes is not sent.
"""

from __future__ import annotations

import base64
import threading
import time
from typing import Any
from urllib.parse import quote

import httpx

from authenticators.app.answer import Answer
from authenticators.app.errors import AppRefusal
from authenticators.app.inbox import PushRequest
from authenticators.protocol import ErrorCode, ProtocolError, Reason

SERVER_ENV = "MITID_EMU_SERVER"
ADMIN_TOKEN_ENV = "MITID_EMU_ADMIN_TOKEN"  # noqa: S105 - the name of a variable


def _segment(text: str) -> str:
    return quote(text, safe="")


class HttpExchange:
    """:class:`~authenticators.app.inbox.AppExchange` over a login server's control API."""

    def __init__(
        self,
        base_url: str,
        admin_token: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {admin_token}"},
            timeout=timeout,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"HttpExchange({self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HttpExchange:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the calls -------------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            response = self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise ProtocolError(
                ErrorCode.DEVICE_ERROR,
                f"cannot reach the login server at {self.base_url}: {type(exc).__name__}",
            ) from None
        try:
            data = response.json()
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        if response.status_code >= 400:
            description = str(data.get("error_description") or response.reason_phrase)
            reason = data.get("reason")
            refusal = _reason(reason) if response.status_code == 409 else None
            if refusal is not None:
                raise AppRefusal(refusal, description)
            if response.status_code == 401:
                description = "the login server refused the admin token (--admin-token)"
            code = {
                404: ErrorCode.UNKNOWN_AUTHENTICATOR,
                409: ErrorCode.CONFLICT,
            }.get(response.status_code, ErrorCode.INVALID_ARGUMENT)
            if data.get("error") == "not_found" and "request" in description:
                code = ErrorCode.INVALID_ARGUMENT
            raise ProtocolError(code, description)
        return data

    def inbox(self, app_id: str, now: float) -> list[PushRequest]:
        data = self._call("GET", f"/emulator/app/apps/{_segment(app_id)}/inbox")
        return [_request(item) for item in data.get("requests", [])]

    def request(self, transaction_id: str, app_id: str, now: float) -> PushRequest:
        data = self._call(
            "GET",
            f"/emulator/app/apps/{_segment(app_id)}/requests/{_segment(transaction_id)}",
        )
        return _request(data)

    def report_scan(self, transaction_id: str, app_id: str, update: int, now: float) -> None:
        self._call(
            "POST",
            f"/emulator/app/apps/{_segment(app_id)}/requests/{_segment(transaction_id)}/scan",
            {"update": update},
        )

    def submit(self, answer: Answer, now: float) -> None:
        self._call("POST", "/emulator/app/answers", answer.to_dict())

    def screen(self, transaction_id: str, app_id: str) -> list[str]:
        """What a phone held to the login screen reads: the QR frames' payloads shown now."""
        data = self._call(
            "GET",
            f"/emulator/app/apps/{_segment(app_id)}/requests/{_segment(transaction_id)}/screen",
        )
        return [str(p) for p in data.get("frames", [])]

    def clock(self) -> ServerClock:
        """The server's clock: what it judges an answer's time against."""
        return ServerClock(self)

    def register(
        self,
        user_id: str,
        app_id: str,
        public_key: bytes,
        *,
        level: str,
        biometrics: bool,
    ) -> dict[str, Any]:
        """Register an app's public key with the server (its key and PIN stay on the phone)."""
        result: dict[str, Any] = self._call(
            "POST",
            f"/emulator/identities/{_segment(user_id)}/authenticators",
            {
                "kind": "app",
                "app_id": app_id,
                "public_key": base64.b64encode(public_key).decode("ascii"),
                "level": level,
                "biometrics": biometrics,
            },
        )
        return result


class ServerClock:
    """A :class:`~authenticators.clock.Clock` that tells the login server's time (its control
    API's ``GET /emulator/clock``), read again after ``refresh`` seconds: a phone signs with the
    time of the server that judges it, whatever this machine's clock says."""

    def __init__(self, exchange: HttpExchange, refresh: float = 1.0) -> None:
        self._exchange = exchange
        self.refresh = refresh
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen_at: float | None = None
        self._read_at = float("-inf")

    def __repr__(self) -> str:
        return f"ServerClock({self._exchange.base_url!r})"

    def _read(self) -> None:
        before = time.time()
        data = self._exchange._call("GET", "/emulator/clock")
        after = time.time()
        try:
            now = float(data["now"])
        except (KeyError, TypeError, ValueError):
            raise ProtocolError(
                ErrorCode.DEVICE_ERROR, "the login server did not tell its time"
            ) from None
        self._frozen_at = now if data.get("frozen") is True else None
        self._offset = now - (before + after) / 2
        self._read_at = time.monotonic()

    def now(self) -> float:
        with self._lock:
            if time.monotonic() - self._read_at >= self.refresh:
                self._read()
            if self._frozen_at is not None:
                return self._frozen_at
            return time.time() + self._offset

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def _reason(value: Any) -> Reason | None:
    try:
        return Reason(value)
    except ValueError:
        return None


def _request(data: Any) -> PushRequest:
    try:
        return PushRequest.from_wire(data)
    except (KeyError, TypeError, ValueError, ProtocolError):
        raise ProtocolError(
            ErrorCode.DEVICE_ERROR, "the login server sent a push this app cannot read"
        ) from None
