"""Benchmark: an app approval round trip, against a bare ECDSA P-256 sign + verify.

Measured in one run, so the ratio compares like with like:

* floor — a bare ECDSA P-256 sign + verify with ``cryptography``;
* in process, without the store — the core issues the challenge, pushes it to an in-memory
  inbox, the phone signs its approval over what the user saw (with the channel binding read
  from the QR frames), the login side adds the binding it showed and the verifier judges it;
  target at most 2x the floor;
* with the store — the whole login through the state: ``LoginService.begin`` (push, parallel
  check), the login screen publishing its frames, the phone reading them and approving,
  the login side taking the answer and ``LoginService.complete`` (verdict, replay state and
  audit committed), for reference.

Logins at level substantial without the PIN (the PIN's scrypt hash is slow on purpose).
Run: ``python bench/bench_app.py [--seconds S]``. Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import deque
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from authenticators.app.answer import BindMethod, Decision, sign_answer
from authenticators.app.apps import AppRepository
from authenticators.app.channel import FrameCollector, new_binding_value
from authenticators.app.device import Phone
from authenticators.app.inbox import ScreenUpdate, StateExchange
from authenticators.app.screen import LoginScreen
from authenticators.app.verifier import AppVerifier
from authenticators.clock import SystemClock
from authenticators.core.login import LoginService
from authenticators.protocol import Action, Challenge, ReferenceText
from authenticators.store import Store

REF = ReferenceText(Action.LOG_ON, "Log on to Demo Bank")
ECDSA = ec.ECDSA(hashes.SHA256())


def measure(fn: Callable[[], object], seconds: float) -> float:
    """Seconds per call, over batches until ``seconds`` have passed."""
    count = 0
    start = time.perf_counter()
    while True:
        for _ in range(50):
            fn()
        count += 50
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return elapsed / count


def floor_round(key: ec.EllipticCurvePrivateKey) -> Callable[[], object]:
    public = key.public_key()
    message = b"x" * 300  # about the size of the signed answer

    def run() -> None:
        public.verify(key.sign(message, ECDSA), message, ECDSA)

    return run


def in_memory_round(store: Store, app_id: str) -> Callable[[], object]:
    """Push, sign, verify: the same code paths as a login, with the inbox in memory."""
    apps = AppRepository(store)
    key = apps.phone(app_id).signing_key()
    enrollment = apps.get(app_id).enrollment()
    verifier = AppVerifier()
    clock = SystemClock()
    inbox: deque[tuple[Challenge, ScreenUpdate]] = deque()

    def run() -> None:
        # The core: a challenge, pushed; the screen: a binding value in two frames.
        challenge = Challenge.issue("app", "Demo Bank", REF, clock)
        inbox.append((challenge, ScreenUpdate(0, new_binding_value(), challenge.issued_at)))
        # The phone: reads both frames, signs its approval.
        pushed, update = inbox.popleft()
        frames = FrameCollector()
        for frame in update.frames():
            value = frames.add(frame)
        assert value is not None
        answer = sign_answer(
            key,
            pushed,
            app_id,
            Decision.APPROVE,
            bind_method=BindMethod.QR,
            bind=value.hex(),
            update=update.update,
            now=clock.now(),
        )
        # The login side adds what it showed; the verifier judges.
        response = answer.response("app", update.value)
        verdict = verifier.verify(enrollment, pushed, response, clock.now())
        assert verdict.ok, verdict

    return run


def store_round(service: LoginService, app_id: str) -> Callable[[], object]:
    phone = Phone(service.store, app_id, service.clock)
    exchange = StateExchange(service.store)

    def run() -> None:
        challenge = service.begin(
            "bench.user", "app", service_provider="Demo Bank", reference_text=REF
        )
        screen = LoginScreen(service.store, service.clock, challenge)
        screen.open()
        phone.look_at_screen(exchange.session(challenge.transaction_id).screen)
        phone.approve(transaction_id=challenge.transaction_id)
        response = screen.poll()
        assert response is not None
        result = service.complete(challenge.transaction_id, response)
        assert result.ok, result.verdict

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    seconds = parser.parse_args().seconds
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(tmp)
        service = LoginService(store, SystemClock())
        identity = service.identities.create("bench.user", "Bench User")
        app_id = AppRepository(store).enroll(identity.uuid, "123456", time.time()).app_id
        service.identities.add_authenticator("bench.user", "app", app_id)
        key = ec.generate_private_key(ec.SECP256R1())

        # Interleaved rounds, best of each: a busy machine slows both alike, or neither.
        rounds = 5
        floors, memories, stores = [], [], []
        for _ in range(rounds):
            floors.append(measure(floor_round(key), seconds / rounds))
            memories.append(measure(in_memory_round(store, app_id), seconds / rounds))
            stores.append(measure(store_round(service, app_id), seconds / rounds))
        floor, memory, stored = min(floors), min(memories), min(stores)
        print(f"bare ECDSA P-256 sign + verify:         {1 / floor:10,.0f} /s  (floor)")
        print(
            f"approve round trip, in process:         {1 / memory:10,.0f} /s  "
            f"{memory / floor:.2f}x the floor's time (target <= 2x)"
        )
        print(
            f"approve round trip, through the store:  {1 / stored:10,.0f} /s  "
            f"{stored / floor:.2f}x the floor's time, {stored * 1e3:.2f} ms each"
        )
        store.close()


if __name__ == "__main__":
    main()
