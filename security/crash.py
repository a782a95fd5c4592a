"""Crash consistency: SIGKILL a ``chip serve`` process and a verifying process at random moments.

One state directory, two processes writing to it, as in real use: ``mitid-emu chip serve`` (the
simulated chip over UDP, its state in the store) and a verifier (a process checking code-token
codes through :meth:`CodeTokenPlugin.verify_code`, one per line on its stdin). This module
drives both with a mix of operations — assertions and new credentials on the chip, right and
replayed codes at the verifier — and now and then SIGKILLs one of them (or both) in the middle of
an operation, checks the database, and starts it again. It checks that:

- the sign counter strictly increased across every restart (every acknowledged counter is
  higher than every one acknowledged before it);
- no code-token step was accepted twice;
- the state database passes SQLite's integrity check after every kill;
- nothing already acknowledged was lost: every credential the chip acknowledged still signs,
  and the stored token state remembers every step the verifier acknowledged.

``python -m security.crash [--operations N]`` runs it and prints the report.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

T0 = 1_700_000_000.0
CODE_TOKEN_NAME = "crash"  # noqa: S105 - a token name, not a secret
RP = {"id": "crash.example", "name": "Crash Test"}
CDH = hashlib.sha256(b"crash consistency").digest()
KILL_CHANCE = 1 / 20  # per operation
CHIP_TIMEOUT = 0.5  # seconds to wait for a UDP answer
START_TIMEOUT = 30.0


@dataclass
class CrashReport:
    operations: int = 0
    chip_operations: int = 0
    verify_operations: int = 0
    chip_kills: int = 0
    verifier_kills: int = 0
    integrity_checks: int = 0
    interrupted: int = 0  # operations killed before they were acknowledged
    counters: list[int] = field(default_factory=list, repr=False)
    accepted_steps: set[int] = field(default_factory=set, repr=False)
    credentials: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        return (
            f"{self.operations} operations ({self.chip_operations} chip, "
            f"{self.verify_operations} verify), {self.chip_kills} chip and "
            f"{self.verifier_kills} verifier SIGKILLs ({self.interrupted} mid-operation), "
            f"{self.integrity_checks} integrity checks, "
            f"{len(self.counters)} counters acknowledged, {len(self.accepted_steps)} steps "
            f"accepted: {'ok' if self.ok else 'FAIL'}"
        )


# -- the verifying process --------------------------------------------------------------------


def verifier_main(state_dir: str) -> None:
    """The child: verify ``CODE NOW`` lines, answer ``REASON STEP`` once committed."""
    from authenticators.codeviser.plugin import CodeTokenPlugin
    from authenticators.store import Store

    store = Store(state_dir)
    plugin = CodeTokenPlugin()
    out = sys.stdout
    out.write("ready\n")
    out.flush()
    for line in sys.stdin:
        code, now = line.split()
        result = plugin.verify_code(store, CODE_TOKEN_NAME, code, float(now))
        out.write(f"{result.reason.value} {result.step}\n")
        out.flush()


class Verifier:
    """The verifying process as the driver sees it."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        process = subprocess.Popen(
            [sys.executable, "-m", "security.crash", "--verifier", str(self.state_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            raise RuntimeError("the verifying process did not start")
        self.process = process

    def kill(self) -> None:
        if self.process is not None:
            _kill(self.process)
            self.process = None

    def send(self, code: str, now: float) -> None:
        assert self.process is not None
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(f"{code} {now!r}\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    def answer(self) -> tuple[str, int | None] | None:
        """The answer to the last request, or None when the process died first."""
        assert self.process is not None
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.endswith("\n"):
            return None
        reason, step = line.split()
        return reason, None if step == "None" else int(step)


# -- the chip process -------------------------------------------------------------------------


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ChipProcess:
    """``mitid-emu chip serve`` on free UDP ports, with a python-fido2 client over UDP."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.port = _free_udp_port()
        self.reply = _free_udp_port()
        self.process: subprocess.Popen[str] | None = None
        self.ctap: Any = None
        self._sock: socket.socket | None = None

    def start(self) -> None:
        from fido2.ctap2.base import Ctap2
        from fido2.hid import CtapHidDevice

        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "authenticators.cli",
                "--state",
                str(self.state_dir),
                "chip",
                "serve",
                "--udp",
                str(self.port),
                "--reply-port",
                str(self.reply),
                "--presence",
                "always",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert process.stdout is not None
        if "listening" not in _readline(process.stdout, START_TIMEOUT):
            _kill(process)
            raise RuntimeError("chip serve did not start")
        self.process = process
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", self.reply))
        sock.settimeout(CHIP_TIMEOUT)
        self._sock = sock
        device = CtapHidDevice(_descriptor(), _UdpConnection(sock, self.port))
        self.ctap = Ctap2(device)

    def kill(self) -> None:
        if self.process is not None:
            _kill(self.process)
            self.process = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self.ctap = None

    def make_credential(self) -> tuple[bytes, int]:
        response = self.ctap.make_credential(
            CDH,
            RP,
            {"id": secrets.token_bytes(8), "name": "crash", "displayName": "Crash"},
            [{"type": "public-key", "alg": -7}],
            options={"rk": True},
        )
        data = response.auth_data.credential_data
        return bytes(data.credential_id), int(response.auth_data.counter)

    def assert_with(self, credential_id: bytes) -> int:
        response = self.ctap.get_assertion(
            RP["id"], CDH, [{"type": "public-key", "id": credential_id}]
        )
        return int(response.auth_data.counter)


def _descriptor() -> Any:
    from fido2.hid.base import HidDescriptor

    return HidDescriptor("udp", 0x1209, 0x000A, 64, 64, "crash test chip", None)


def _udp_connection_class() -> type:
    from fido2.hid.base import CtapHidConnection

    class UdpConnection(CtapHidConnection):
        def __init__(self, sock: socket.socket, port: int) -> None:
            self.sock = sock
            self.token = ("127.0.0.1", port)

        def read_packet(self) -> bytes:
            data, _ = self.sock.recvfrom(1024)
            return bytes(data)

        def write_packet(self, data: bytes) -> None:
            self.sock.sendto(data, self.token)

        def close(self) -> None:
            pass

    return UdpConnection


def _UdpConnection(sock: socket.socket, port: int) -> Any:
    return _udp_connection_class()(sock, port)


def _readline(stream: IO[str], timeout: float) -> str:
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return lines[0] if lines else ""


def _kill(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


class _Latency:
    """How long an operation usually takes, so kills can be aimed inside one."""

    def __init__(self, guess: float) -> None:
        self.value = guess

    def record(self, seconds: float) -> None:
        self.value = 0.8 * self.value + 0.2 * seconds

    def moment(self, rng: random.Random) -> float:
        """A random moment from the start of an operation to a little after its usual end."""
        return rng.uniform(0.0, 1.2 * self.value)


def _kill_later(kill: Any, delay: float) -> threading.Timer:
    timer = threading.Timer(delay, kill)
    timer.start()
    return timer


# -- the driver -------------------------------------------------------------------------------


def run(
    state_dir: Path, operations: int = 500, seed: int | None = None, log: Any = None
) -> CrashReport:
    """Drive both processes through ``operations`` operations with random SIGKILLs."""
    from authenticators.clock import FrozenClock
    from authenticators.codeviser.plugin import CodeTokenPlugin
    from authenticators.codeviser.seeds import SeedImport
    from authenticators.otp import OtpKey, OtpParams
    from authenticators.store import Store

    started = time.monotonic()
    seed = secrets.randbits(32) if seed is None else seed
    rng = random.Random(seed)  # the schedule only; reproducible from the seed
    report = CrashReport()

    def problem(text: str) -> None:
        report.problems.append(f"{text} (schedule seed {seed})")

    token_seed = secrets.token_bytes(20)
    params = OtpParams()
    key = OtpKey(token_seed, params)
    store = Store(state_dir)
    CodeTokenPlugin().create(
        store, FrozenClock(T0), name=CODE_TOKEN_NAME, source=SeedImport(token_seed, params)
    )
    store.close()

    chip = ChipProcess(state_dir)
    verifier = Verifier(state_dir)
    chip.start()
    verifier.start()
    credentials: list[bytes] = []
    chip_latency, verify_latency = _Latency(0.004), _Latency(0.002)
    step = params.step(T0)
    last_counter = 0

    def check_integrity() -> None:
        checker = Store(state_dir)
        try:
            report.integrity_checks += 1
            if not checker.integrity_check():
                problem("the state database failed its integrity check")
        finally:
            checker.close()

    def acknowledged_counter(counter: int, what: str) -> None:
        nonlocal last_counter
        if counter <= last_counter:
            problem(f"{what}: counter {counter} after {last_counter} was acknowledged")
        last_counter = max(last_counter, counter)
        report.counters.append(counter)

    def restart_chip() -> None:
        chip.kill()
        report.chip_kills += 1
        check_integrity()
        chip.start()
        for credential in credentials:  # nothing acknowledged may be lost
            try:
                acknowledged_counter(chip.assert_with(credential), "after a restart")
            except Exception as exc:
                problem(f"an acknowledged credential no longer signs: {type(exc).__name__}")
            report.operations += 1
            report.chip_operations += 1

    def restart_verifier() -> None:
        verifier.kill()
        report.verifier_kills += 1
        check_integrity()
        remembered = CodeTokenPlugin().tokens(Store(state_dir)).get(CODE_TOKEN_NAME).state.last_step
        if report.accepted_steps and (
            remembered is None or remembered < max(report.accepted_steps)
        ):
            problem(f"the token state forgot accepted step {max(report.accepted_steps)}")
        verifier.start()

    def chip_operation() -> None:
        kill = rng.random() < KILL_CHANCE
        timer = _kill_later(chip.kill, chip_latency.moment(rng)) if kill else None
        began = time.monotonic()
        try:
            if not credentials or (len(credentials) < 5 and rng.random() < 0.02):
                credential, counter = chip.make_credential()
                credentials.append(credential)
                report.credentials += 1
                acknowledged_counter(counter, "makeCredential")
            else:
                acknowledged_counter(chip.assert_with(rng.choice(credentials)), "getAssertion")
        except Exception:
            if not kill:
                raise
            report.interrupted += 1
        finally:
            if timer is not None:
                timer.join()
            else:
                chip_latency.record(time.monotonic() - began)
        report.operations += 1
        report.chip_operations += 1
        if kill:
            restart_chip()

    def verify(code: str, now: float) -> tuple[str, int | None] | None:
        kill = rng.random() < KILL_CHANCE
        began = time.monotonic()
        verifier.send(code, now)
        if kill:
            time.sleep(verify_latency.moment(rng))
            assert verifier.process is not None
            verifier.process.send_signal(signal.SIGKILL)
        answer = verifier.answer()
        if not kill:
            verify_latency.record(time.monotonic() - began)
        report.interrupted += answer is None
        report.operations += 1
        report.verify_operations += 1
        if kill:
            restart_verifier()
        if answer is not None and answer[0] == "ok":
            assert answer[1] is not None
            if answer[1] in report.accepted_steps:
                problem(f"step {answer[1]} was accepted twice")
            report.accepted_steps.add(answer[1])
        return answer

    try:
        while report.operations < operations:
            if rng.random() < 0.5:
                chip_operation()
            else:
                step += 1
                now = params.step_start(step) + 1.0
                code = key.code(step)
                for _ in range(rng.choice((1, 1, 2, 3))):  # the same code again is a replay
                    verify(code, now)
                if rng.random() < 0.1:
                    wrong = f"{(int(code) + 1) % 10**6:06d}"
                    verify(wrong, now)
                if rng.random() < KILL_CHANCE / 2:  # both at once, between operations
                    chip.kill()
                    restart_verifier()
                    report.chip_kills += 1
                    chip.start()
        if log is not None:
            log(report.summary())
    finally:
        chip.kill()
        verifier.kill()
    check_integrity()
    counters = report.counters
    if counters != sorted(counters) or len(set(counters)) != len(counters):
        problem("the acknowledged counters are not strictly increasing")
    report.seconds = time.monotonic() - started
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m security.crash", description=__doc__)
    parser.add_argument("--operations", type=int, default=500)
    parser.add_argument("--seed", type=int, default=None, help="the kill schedule's seed")
    parser.add_argument("--verifier", metavar="STATE_DIR", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.verifier:
        verifier_main(args.verifier)
        return 0
    import tempfile

    with tempfile.TemporaryDirectory(prefix="crash-") as scratch:
        report = run(Path(scratch), args.operations, args.seed)
    print(report.summary())
    for text in report.problems:
        print(f"  {text}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
