"""The phone: what the MitID app shows, the QR frames it scans, and the answer it signs.

The phone reads its own half of the state only (private key, PIN hash, what it has scanned) and
talks to the login server through an :class:`~authenticators.app.inbox.AppExchange`. The PIN is
checked on the phone, as the app does; a wrong one counts, and at the limit the app blocks
itself until it is activated again.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from authenticators.app.answer import Answer, BindMethod, Decision, UserVerification, sign_answer
from authenticators.app.apps import AppRecord, AppRepository, AppStatus
from authenticators.app.channel import (
    ChannelError,
    Frame,
    code_problem,
    parse_frame,
    scan_frame_png,
)
from authenticators.app.errors import AppRefusal
from authenticators.app.inbox import AppExchange, PushRequest, ScreenState, StateExchange
from authenticators.app.pin import check_pin, pin_problem
from authenticators.app.policy import AppPolicy
from authenticators.clock import Clock
from authenticators.protocol import (
    Challenge,
    ErrorCode,
    ProtocolError,
    Reason,
    Response,
    UserAction,
)
from authenticators.store import Store

BOX_WIDTH = 44


@dataclass(frozen=True)
class ScanResult:
    """After one scan: the update read so far and whether both of its frames are in."""

    update: int | None
    complete: bool
    frames: tuple[int, ...]


@dataclass(frozen=True)
class PhoneView:
    """Exactly what the app shows for one push."""

    app_id: str
    transaction_id: str
    service_provider: str
    header: str
    body: str
    expires_in: float
    binding: str
    pin_required: bool

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def render_phone(view: PhoneView, width: int = BOX_WIDTH) -> str:
    """The phone's screen in a box: service provider, header, body, then what to do."""
    inner = width - 4
    lines = [f"MitID · {view.app_id}", "", view.service_provider, "", view.header]
    lines += textwrap.wrap(view.body, inner) or [""]
    lines += ["", _binding_hint(view.binding)]
    if view.pin_required:
        lines.append("Needs your PIN to approve")
    lines += [f"Expires in {view.expires_in:.0f} s", "", "< reject      swipe to approve >"]
    out = ["┌" + "─" * (width - 2) + "┐"]
    for line in lines:
        for part in textwrap.wrap(line, inner) or [""]:
            out.append(f"│ {part:<{inner}} │")
    out.append("└" + "─" * (width - 2) + "┘")
    return "\n".join(out)


def _binding_hint(binding: str) -> str:
    return {
        "scan": "Scan the QR code on the login screen",
        "scanned": "QR code scanned",
        "waiting": "Waiting for the login screen",
        "none": "No QR code needed",
    }.get(binding, binding)


class Phone:
    """One app instance in a person's hand."""

    def __init__(
        self,
        store: Store,
        app_id: str,
        clock: Clock,
        *,
        policy: AppPolicy | None = None,
        exchange: AppExchange | None = None,
    ) -> None:
        self.apps = AppRepository(store, policy)
        self.app_id = app_id
        self.clock = clock
        self.exchange: AppExchange = exchange or StateExchange(store)
        self.apps.get(app_id)  # an unknown app is refused up front

    def __repr__(self) -> str:
        return f"Phone({self.app_id!r})"

    def record(self) -> AppRecord:
        return self.apps.get(self.app_id)

    # -- the inbox -------------------------------------------------------------------------------

    def inbox(self) -> list[PushRequest]:
        return self.exchange.inbox(self.app_id, self.clock.now())

    def request(self, transaction_id: str | None = None) -> PushRequest:
        """The named push, or the one waiting when there is exactly one."""
        now = self.clock.now()
        if transaction_id is not None:
            return self.exchange.request(transaction_id, self.app_id, now)
        waiting = self.exchange.inbox(self.app_id, now)
        if not waiting:
            raise ProtocolError(
                ErrorCode.INVALID_ARGUMENT,
                f"app {self.app_id} has no pending request; start a login with "
                "`mitid-emu login --method app`",
            )
        if len(waiting) > 1:
            raise ProtocolError(
                ErrorCode.INVALID_ARGUMENT,
                f"app {self.app_id} has {len(waiting)} pending requests; name one with "
                "--transaction",
            )
        return waiting[0]

    def view(self, transaction_id: str | None = None) -> PhoneView:
        request = self.request(transaction_id)
        challenge = request.challenge
        if not request.binding_required:
            binding = "none"
        elif self._bound(request) is not None:
            binding = "scanned"
        else:
            binding = "scan" if request.shown else "waiting"
        return PhoneView(
            app_id=self.app_id,
            transaction_id=challenge.transaction_id,
            service_provider=challenge.service_provider,
            header=challenge.reference_text.header.value,
            body=challenge.reference_text.body,
            expires_in=max(0.0, request.expires_at - self.clock.now()),
            binding=binding,
            pin_required=request.pin_required,
        )

    # -- scanning --------------------------------------------------------------------------------

    def scan(self, frames: Iterable[Frame], transaction_id: str | None = None) -> ScanResult:
        """Read QR frames off the login screen for the pending request."""
        frames = list(frames)
        request = self.request(transaction_id)
        if not request.binding_required:
            raise ProtocolError(
                ErrorCode.INVALID_ARGUMENT, "this login has no QR code to scan (a mobile login)"
            )
        collector = self.apps.scanned(self.app_id, request.transaction_id)
        value = None
        for frame in frames:
            value = collector.add(frame)
        self.apps.save_scanned(self.app_id, request.transaction_id, collector)
        if value is not None and collector.update is not None:
            self.exchange.report_scan(
                request.transaction_id, self.app_id, collector.update, self.clock.now()
            )
        return ScanResult(collector.update, value is not None, tuple(sorted(collector.halves)))

    def scan_payloads(
        self, payloads: Iterable[str], transaction_id: str | None = None
    ) -> ScanResult:
        frames = [parse_frame(text) for text in payloads]  # all checked before anything changes
        return self.scan(frames, transaction_id)

    def scan_pngs(self, paths: Iterable[Path], transaction_id: str | None = None) -> ScanResult:
        frames = [scan_frame_png(path) for path in paths]
        return self.scan(frames, transaction_id)

    def look_at_screen(self, screen: ScreenState, transaction_id: str | None = None) -> ScanResult:
        """Hold the phone to the login screen: read its PNG frames when it wrote them, else the
        frames it shows."""
        frames: list[Frame] = []
        if screen.png:
            try:
                frames = [scan_frame_png(Path(path)) for path in screen.png]
            except ChannelError:
                frames = []  # caught mid-rotation: read what is shown instead
        if len({frame.update for frame in frames}) != 1 and screen.current is not None:
            frames = list(screen.current.frames())
        if not frames:
            raise ProtocolError(ErrorCode.INVALID_ARGUMENT, "the login screen shows no QR code")
        return self.scan(frames, transaction_id)

    def _bound(self, request: PushRequest) -> tuple[str, int] | None:
        collector = self.apps.scanned(self.app_id, request.transaction_id)
        value = collector.value()
        if value is None or collector.update is None:
            return None
        return value.hex(), collector.update

    # -- answering -------------------------------------------------------------------------------

    def approve(
        self,
        *,
        pin: str | None = None,
        code: str | None = None,
        biometrics: bool = False,
        transaction_id: str | None = None,
    ) -> Answer:
        """Swipe to approve. Desktop logins need the QR frames scanned first, or ``code``."""
        if pin is not None and (problem := pin_problem(pin)):
            raise ProtocolError(ErrorCode.INVALID_ARGUMENT, problem)
        if code is not None and (problem := code_problem(code)):
            raise ProtocolError(ErrorCode.INVALID_ARGUMENT, problem)
        if pin is not None and biometrics:
            raise ProtocolError(ErrorCode.INVALID_ARGUMENT, "use the PIN or biometrics, not both")
        request = self.request(transaction_id)
        record = self._usable()
        if not request.shown:
            raise ProtocolError(
                ErrorCode.INVALID_ARGUMENT,
                "the login screen is not showing this login yet; try again in a moment",
            )
        if code is not None and not request.binding_required:
            raise ProtocolError(
                ErrorCode.INVALID_ARGUMENT, "this login shows no code to type (a mobile login)"
            )
        method, bind, update = BindMethod.NONE, "", None
        if request.binding_required:
            if code is not None:
                method, bind = BindMethod.CODE, code
            elif (bound := self._bound(request)) is not None:
                method, (bind, update) = BindMethod.QR, bound
            else:
                raise ProtocolError(
                    ErrorCode.INVALID_ARGUMENT,
                    "scan the QR code on the login screen first (`mitid-emu app scan`), "
                    "or type the 4-digit code it shows with --code",
                )
        if biometrics and not record.biometrics:
            raise ProtocolError(
                ErrorCode.INVALID_ARGUMENT, f"app {self.app_id} has no biometrics enabled"
            )
        if request.pin_required and pin is None and not biometrics:
            raise ProtocolError(
                ErrorCode.INVALID_ARGUMENT, "this login needs the app's PIN; give --pin"
            )
        uv = UserVerification.NONE
        if pin is not None:
            self._check_pin(pin)
            uv = UserVerification.PIN
        elif biometrics:
            uv = UserVerification.BIOMETRICS
        return self._answer(
            request.challenge, Decision.APPROVE, method=method, bind=bind, update=update, uv=uv
        )

    def reject(self, transaction_id: str | None = None) -> Answer:
        """Reject: signed too, so the verifier knows it was this app's user who said no."""
        request = self.request(transaction_id)
        self._usable()
        return self._answer(request.challenge, Decision.REJECT)

    def respond(self, challenge: Challenge, action: UserAction) -> Response:
        """The device side of the common protocol: approve (after looking at the screen when
        the login shows one) or reject; the login side adds the binding it showed."""
        if action is UserAction.APPROVE:
            answer = self.approve(transaction_id=challenge.transaction_id)
        elif action is UserAction.REJECT:
            answer = self.reject(challenge.transaction_id)
        else:
            raise ProtocolError(
                ErrorCode.UNSUPPORTED_ACTION, "the app knows approve and reject only"
            )
        return answer.response(challenge.kind, None)

    def _usable(self) -> AppRecord:
        record = self.record()
        if record.status is AppStatus.BLOCKED:
            raise AppRefusal(
                Reason.LOCKED,
                f"app {self.app_id} is blocked after too many wrong PINs; activate it again "
                f"with `mitid-emu app activate {self.app_id}`",
            )
        if record.status is AppStatus.DEACTIVATED:
            raise AppRefusal(Reason.UNKNOWN_AUTHENTICATOR, f"app {self.app_id} is deactivated")
        return record

    def _check_pin(self, pin: str) -> None:
        secrets_ = self.apps.phone(self.app_id)
        if check_pin(secrets_.pin_hash, pin):
            if secrets_.pin_failures:
                self.apps.pin_ok(self.app_id)
            return
        failures, blocked = self.apps.pin_failed(self.app_id, self.clock.now())
        if blocked:
            raise AppRefusal(
                Reason.LOCKED,
                f"wrong PIN; app {self.app_id} is blocked now — activate it again with "
                f"`mitid-emu app activate {self.app_id}`",
            )
        left = self.apps.policy.max_pin_failures - failures
        raise AppRefusal(
            Reason.WRONG_PIN, f"wrong PIN; {left} {'try' if left == 1 else 'tries'} left"
        )

    def _answer(
        self,
        challenge: Challenge,
        decision: Decision,
        *,
        method: BindMethod = BindMethod.NONE,
        bind: str = "",
        update: int | None = None,
        uv: UserVerification = UserVerification.NONE,
    ) -> Answer:
        now = self.clock.now()
        key = self.apps.phone(self.app_id).signing_key()
        answer = sign_answer(
            key,
            challenge,
            self.app_id,
            decision,
            bind_method=method,
            bind=bind,
            update=update,
            uv=uv,
            now=now,
        )
        self.exchange.submit(answer, now)
        return answer
