"""The login side of an app login: the screen with its QR frames, and the wait for the phone.

A desktop login screen shows two QR frames in turn (every :data:`FRAME_INTERVAL` seconds), each
with half of the current binding value, and the 4-digit code for people who cannot scan. Every
``rotate_every`` seconds it shows a fresh binding value, until a phone reports that it has read
both frames of one update. When the phone's answer arrives, the screen adds the binding value it
showed for that update and hands the response to the verifier.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from authenticators.app.answer import Answer, BindMethod
from authenticators.app.apps import KIND, AppRepository, AppStatus
from authenticators.app.channel import Frame, new_binding_value, write_png
from authenticators.app.inbox import AppSession, ScreenState, ScreenUpdate, StateExchange
from authenticators.app.policy import FRAME_INTERVAL, AppPolicy
from authenticators.app.verifier import binding_required, pin_required
from authenticators.clock import Clock, FrozenClock
from authenticators.ct import bytes_eq
from authenticators.protocol import Challenge, Level, Response, Verdict
from authenticators.store import Store

MAX_UPDATES_KEPT = 64
POLL_INTERVAL = 0.05


class LoginScreen:
    """One app login's screen and wait, as the login page (or ``mitid-emu login``) runs it."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        challenge: Challenge,
        *,
        level: Level = Level.SUBSTANTIAL,
        policy: AppPolicy | None = None,
        qr_dir: Path | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.challenge = challenge
        self.level = level
        self.policy = policy or AppPolicy()
        self.qr_dir = qr_dir
        self.exchange = StateExchange(store)
        self.binding = binding_required(challenge)
        self.pin_required = pin_required(challenge, self.policy) or level is Level.HIGH
        self._screen = ScreenState()

    def __repr__(self) -> str:
        return f"LoginScreen({self.challenge.transaction_id!r})"

    @classmethod
    def resume(
        cls,
        store: Store,
        clock: Clock,
        challenge: Challenge,
        *,
        level: Level = Level.SUBSTANTIAL,
        policy: AppPolicy | None = None,
    ) -> LoginScreen:
        """The screen of a login opened earlier (by another request or process), as it stands."""
        screen = cls(store, clock, challenge, level=level, policy=policy)
        screen._screen = screen.session().screen
        return screen

    @property
    def transaction_id(self) -> str:
        return self.challenge.transaction_id

    # -- the screen ------------------------------------------------------------------------------

    def open(self) -> ScreenUpdate | None:
        """Start showing the login: the first binding value (desktop) and the PIN requirement."""
        if self.binding:
            self._screen = self._with_update(ScreenState(), 0)
        self.exchange.show(self.transaction_id, self._screen, pin_required=self.pin_required)
        return self._screen.current

    def refresh(self) -> ScreenUpdate | None:
        """Show a fresh binding value when the current one is due, unless a phone has scanned
        the one shown."""
        current = self._screen.current
        if current is None:
            return None
        if self.bound() is not None:
            return current  # a phone has read the screen: it holds still
        if self.clock.now() - current.shown_at >= self.policy.rotate_every:
            self._screen = self._with_update(self._screen, current.update + 1)
            self.exchange.show(self.transaction_id, self._screen)
        return self._screen.current

    def _with_update(self, screen: ScreenState, update: int) -> ScreenState:
        fresh = ScreenUpdate(update, new_binding_value(), self.clock.now())
        png: tuple[str, ...] = ()
        if self.qr_dir is not None:
            png = self._write_png(fresh)
        kept = (*screen.updates, fresh)[-MAX_UPDATES_KEPT:]
        return ScreenState(kept, png, screen.scanned)

    def _write_png(self, update: ScreenUpdate) -> tuple[str, ...]:
        assert self.qr_dir is not None
        self.qr_dir.mkdir(parents=True, exist_ok=True)
        paths = []
        for frame in update.frames():
            path = self.qr_dir / f"{self.transaction_id}-{frame.part}.png"
            write_png(path, frame.payload())
            paths.append(str(path))
        return tuple(paths)

    @property
    def current(self) -> ScreenUpdate | None:
        return self._screen.current

    @property
    def png_paths(self) -> tuple[str, ...]:
        return self._screen.png

    def frame(self) -> Frame | None:
        """The frame on the screen right now: the two alternate every half second."""
        current = self._screen.current
        if current is None:
            return None
        index = int(self.clock.monotonic() / FRAME_INTERVAL) % 2
        return current.frames()[index]

    def scanned(self) -> int | None:
        """The update a phone has read both frames of, if any."""
        return self.session().screen.scanned

    def bound(self) -> ScreenUpdate | None:
        """The update a phone read while it still counted: the login is bound to it."""
        screen = self.session().screen
        if screen.scanned is None or screen.scanned_at is None:
            return None
        for index, update in enumerate(screen.updates):
            if update.update == screen.scanned and self._counts(screen, index, screen.scanned_at):
                return update
        return None

    def session(self) -> AppSession:
        return self.exchange.session(self.transaction_id)

    # -- the answer ------------------------------------------------------------------------------

    def poll(self) -> Response | None:
        """The response for the verifier once a phone has answered (or every app is blocked)."""
        now = self.clock.now()
        answer = self.exchange.take_answer(self.transaction_id, now)
        if answer is not None:
            return answer.response(KIND, self.expected_binding(answer, now))
        session = self.session()
        apps = AppRepository(self.store, self.policy).find(session.apps)
        if apps and all(app.status is AppStatus.BLOCKED for app in apps):
            self.exchange.close(self.transaction_id, now)
            return Response(self.transaction_id, KIND, apps[0].app_id, {})
        return None

    def timeout_response(self) -> Response:
        """What the login side sends when no answer came: the verifier says EXPIRED."""
        self.exchange.close(self.transaction_id, self.clock.now())
        apps = self.session().apps
        return Response(self.transaction_id, KIND, apps[0] if apps else "", {})

    def expected_binding(self, answer: Answer, now: float) -> bytes:
        """The binding value this screen showed for the update the answer refers to.

        An update counts while on the screen and for ``binding_grace`` seconds after; the one a
        phone reported reading while it counted stays good (the screen holds still then). A
        code is matched against every update that counts (each compared in constant time).
        Anything else gets the current value, so a binding read elsewhere fails at the verifier.
        """
        screen = self.session().screen
        if not screen.updates:
            return b""
        bound = self.bound()
        counting = [
            update
            for index, update in enumerate(screen.updates)
            if update == bound or self._counts(screen, index, now)
        ]
        chosen = screen.updates[-1]
        if answer.bind_method is BindMethod.QR:
            for update in counting:
                if update.update == answer.update:
                    chosen = update
        elif answer.bind_method is BindMethod.CODE:
            typed = answer.bind.encode("ascii", "replace")
            for update in counting:
                if bytes_eq(update.code.encode("ascii"), typed):
                    chosen = update
        return chosen.value

    def _counts(self, screen: ScreenState, index: int, at: float) -> bool:
        """Whether update ``index`` was on the screen at ``at``, or left it within the grace."""
        update = screen.updates[index]
        following = screen.updates[index + 1 : index + 2]
        if at < update.shown_at:
            return False
        left_at = following[0].shown_at if following else at
        return at - left_at <= self.policy.binding_grace

    def wait(
        self,
        *,
        poll_interval: float = POLL_INTERVAL,
        on_tick: Callable[[LoginScreen], None] | None = None,
    ) -> Response:
        """Rotate, redraw and poll until a phone answers or the login expires. A wait that is
        interrupted closes the login, so it does not hold up the next one."""
        try:
            while True:
                response = self.poll()
                if response is not None:
                    return response
                if self.challenge.expired(self.clock.now()):
                    return self.timeout_response()
                self.refresh()
                if on_tick is not None:
                    on_tick(self)
                self.clock.sleep(poll_interval)
        except BaseException:
            self.exchange.close(self.transaction_id, self.clock.now())
            raise


def judge_answer(store: Store, challenge: Challenge, answer: Answer, now: float) -> Verdict:
    """What the verifier will say of ``answer`` once the login side takes it, judged now,
    changing nothing: so a phone hears at once that its answer will not do (a mistyped code, a
    clock that is off) and may answer again, instead of hearing "approved" for a failed login."""
    from authenticators import registry

    plugin = registry.get(KIND)
    policy: AppPolicy | None = getattr(plugin, "policy", None)
    screen = LoginScreen.resume(store, FrozenClock(now), challenge, policy=policy)
    response = answer.response(KIND, screen.expected_binding(answer, now))
    enrollment = plugin.load(store, answer.app_id)
    return plugin.verifier().verify(enrollment, challenge, response, now)
