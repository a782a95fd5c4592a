"""Secrets: canary seeds, keys, PINs and passwords, searched for everywhere they must not be.

Every scenario uses fresh random canaries — a code-token seed, an app PIN and the app's device
key and PIN hash, a chip PIN and the chip's device secrets, a password — and exercises the
library and the CLI around them, good inputs and bad: import, verify, log in, enroll, approve
with the wrong PIN and the right one, set and try a chip PIN. Everything that could carry a
secret out is collected: every log line (all loggers at DEBUG, with tracebacks), every exception
message, the ``repr`` of every object handled, and the output of every CLI command, ``--json``
and not. Then every canary is searched for in every collected text, in each encoding a secret
usually takes (raw, hex, base32, base64, as the PIN's digits standing alone).

The one command whose job is to print a seed, ``codeviser export``, is left out on purpose.
The login server's HTTP responses are one more scenario (:mod:`security.leaks_server`), with
the few responses that carry a secret by design named in its ``BY_DESIGN``: a finding there is
counted as allowed, with the reason, not as a leak.

``python -m security.leaks`` runs it and prints the report.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import secrets
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization

T0 = 1_700_000_000.0


@dataclass
class Canary:
    name: str
    patterns: list[re.Pattern[str]]


def _bytes_forms(data: bytes) -> list[str]:
    b32 = base64.b32encode(data).decode().rstrip("=")
    b64 = base64.b64encode(data).decode().rstrip("=")
    url = base64.urlsafe_b64encode(data).decode().rstrip("=")
    forms = {data.hex(), data.hex().upper(), b32, b32.lower(), b64, url, data.decode("latin-1")}
    return sorted(forms)


def bytes_canary(name: str, data: bytes) -> Canary:
    # A form matches when it appears whole; base64 of a shifted alignment is covered by also
    # searching for the middle of the value.
    forms = _bytes_forms(data) + _bytes_forms(data[1:-1])
    return Canary(name, [re.compile(re.escape(form)) for form in forms if len(form) >= 8])


def text_canary(name: str, text: str) -> Canary:
    """A text secret; digit-only ones count only standing alone (not inside a longer number)."""
    if text.isdigit():
        return Canary(name, [re.compile(rf"(?<!\d){re.escape(text)}(?!\d)")])
    return Canary(name, [re.compile(re.escape(text))])


@dataclass
class LeakReport:
    texts: int = 0
    characters: int = 0
    scenarios: list[str] = field(default_factory=list)
    canaries: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def summary(self) -> str:
        return (
            f"{len(self.canaries)} canaries searched in {self.texts} texts "
            f"({self.characters:,} characters) from {len(self.scenarios)} scenarios: "
            f"{'ok' if self.ok else f'{len(self.findings)} LEAKS'}"
            + (f"; {len(self.allowed)} by design" if self.allowed else "")
        )


class Collector(logging.Handler):
    """Every text a secret could leave through, with where it came from."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[tuple[str, str]] = []
        self.scenario = ""
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def add(self, where: str, text: object) -> None:
        self.texts.append((f"{self.scenario}: {where}", str(text)))

    def emit(self, record: logging.LogRecord) -> None:
        self.add(f"log {record.name}", self.format(record))

    def seen(self, where: str, *objects: object) -> None:
        """The repr and str of objects handled along the way."""
        for obj in objects:
            self.add(f"{where} repr", repr(obj))
            self.add(f"{where} str", str(obj))

    @contextmanager
    def expect_error(self, where: str) -> Iterator[None]:
        """Run a step that may fail; its exception message and traceback are collected."""
        try:
            yield
        except Exception as exc:
            self.add(f"{where} exception", f"{type(exc).__name__}: {exc}")
            self.add(f"{where} traceback", "".join(traceback.format_exception(exc)))


@contextmanager
def capture() -> Iterator[Collector]:
    collector = Collector()
    root = logging.getLogger()
    level = root.level
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    try:
        yield collector
    finally:
        root.removeHandler(collector)
        root.setLevel(level)


# -- scenarios --------------------------------------------------------------------------------


@dataclass
class Canaries:
    seed: bytes = field(default_factory=lambda: secrets.token_bytes(20))
    app_pin: str = field(default_factory=lambda: f"{secrets.randbelow(10**6):06d}")
    chip_pin: str = field(default_factory=lambda: f"chip-{secrets.token_hex(6)}")
    password: str = field(default_factory=lambda: f"pw-{secrets.token_urlsafe(12)}")
    extra: list[Canary] = field(default_factory=list)

    def all(self) -> list[Canary]:
        return [
            bytes_canary("code-token seed", self.seed),
            text_canary("app PIN", self.app_pin),
            text_canary("chip PIN", self.chip_pin),
            bytes_canary("chip PIN hash", hashlib.sha256(self.chip_pin.encode()).digest()[:16]),
            text_canary("password", self.password),
            *self.extra,
        ]


def _wrong_digits(right: str) -> str:
    return f"{(int(right) + 1) % 10 ** len(right):0{len(right)}d}"


def scenario_codeviser(c: Canaries, out: Collector, state: Path) -> None:
    from authenticators.clock import FrozenClock
    from authenticators.codeviser.device import response_for_code
    from authenticators.codeviser.plugin import CodeTokenPlugin
    from authenticators.codeviser.seeds import (
        parse_otpauth,
        read_pskc,
        to_otpauth,
        write_pskc,
    )
    from authenticators.core.login import LoginService
    from authenticators.otp import OtpParams
    from authenticators.protocol import Action, ReferenceText
    from authenticators.store import Store

    store = Store(state)
    clock = FrozenClock(T0)
    uri = to_otpauth(c.seed, OtpParams(), "alice", "Leak Bank", "CV0001")
    source = parse_otpauth(uri)
    plugin = CodeTokenPlugin()
    record = plugin.create(store, clock, name="leaky", source=source)
    out.seen("codeviser import", source, record, record.key(), record.state, record.enrollment())
    with out.expect_error("otpauth with a bad parameter"):
        parse_otpauth(uri.replace("digits=6", "digits=seven"))
    with out.expect_error("otpauth with a bad secret"):
        parse_otpauth(uri.replace("secret=", "secret=1"))
    protected = write_pskc([source], password=c.password)
    with out.expect_error("PSKC with the wrong password"):
        read_pskc(protected, password="not the password")  # noqa: S106
    with out.expect_error("PSKC without a password"):
        read_pskc(protected)
    with out.expect_error("PSKC damaged"):
        read_pskc(protected[: len(protected) // 2])
    key = record.key()
    code = key.code(OtpParams().step(T0))
    for given in (_wrong_digits(code), code, code, "12345x"):
        out.seen("codeviser verify", plugin.verify_code(store, "leaky", given, T0))
    service = LoginService(store, clock)
    service.identities.create("alice", "Alice Leak", password=c.password)
    service.identities.add_authenticator("alice", "codeviser", "leaky")
    out.seen("identity", service.identities.get("alice"))
    for given in (_wrong_digits(code), key.code(OtpParams().step(T0) + 1)):
        challenge = service.begin(
            "alice", "codeviser", service_provider="Leak Bank", reference_text=ReferenceText()
        )
        response = response_for_code(challenge, "leaky", given)
        result = service.complete(challenge.transaction_id, response, c.password)
        out.seen("codeviser login", challenge, response, result, result.verdict)
        out.add("codeviser login to_dict", result.to_dict())
    with out.expect_error("login with an unknown method"):
        service.begin(
            "alice", "app", service_provider="Leak Bank", reference_text=ReferenceText(Action.SIGN)
        )
    store.close()


def scenario_app(c: Canaries, out: Collector, state: Path) -> None:
    from authenticators.app.plugin import AppOptions
    from authenticators.app.plugin import plugin as app_plugin
    from authenticators.app.screen import LoginScreen
    from authenticators.clock import FrozenClock
    from authenticators.core.login import LoginService
    from authenticators.protocol import Level, ReferenceText
    from authenticators.store import Store

    store = Store(state)
    clock = FrozenClock(T0)
    service = LoginService(store, clock)
    service.identities.create("bob", "Bob Leak")
    identity = service.identities.get("bob")
    apps = app_plugin.apps(store)
    with store.transaction():
        enrollment = app_plugin.enroll(
            store, clock, AppOptions(owner=identity.uuid, pin=c.app_pin, level=Level.HIGH)
        )
        service.identities.add_authenticator("bob", "app", enrollment.authenticator_id)
    app_id = enrollment.authenticator_id
    phone_secrets = apps.phone(app_id)
    key = phone_secrets.signing_key()
    private = key.private_numbers().private_value.to_bytes(32, "big")
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    digest = base64.b64decode(phone_secrets.pin_hash.split("$")[-1])
    c.extra += [
        bytes_canary("app device key", private),
        bytes_canary("app device key (DER)", der[-40:]),
        bytes_canary("app PIN hash", digest),
        text_canary("app PIN hash (encoded)", phone_secrets.pin_hash.split("$")[-1]),
    ]
    out.seen("app enroll", enrollment, apps.get(app_id), phone_secrets)
    for pin in (_wrong_digits(c.app_pin), c.app_pin):
        challenge = service.begin(
            "bob",
            "app",
            service_provider="Leak Bank",
            reference_text=ReferenceText(),
            level=Level.HIGH,
        )
        screen = LoginScreen(store, clock, challenge, level=Level.HIGH)
        update = screen.open()
        phone = app_plugin.authenticator(store, app_id, clock)
        out.seen("app screen", screen, update, phone, phone.view())
        with out.expect_error("app approve"):
            answer = phone.approve(pin=pin, code=update.code if update else None)
            out.seen("app answer", answer)
        response = screen.poll() or screen.timeout_response()
        clock.advance(1)
        result = service.complete(challenge.transaction_id, response)
        out.seen("app login", response, result, result.verdict)
        out.add("app login to_dict", result.to_dict())
        clock.advance(200)
    with out.expect_error("app PIN malformed"):
        app_plugin.apps(store).phone(app_id)
        app_plugin.authenticator(store, app_id, clock).approve(pin=c.app_pin + "x")
    store.close()


def scenario_chip(c: Canaries, out: Collector, state: Path) -> None:
    from fido2.ctap2.base import Ctap2
    from fido2.ctap2.pin import ClientPin
    from fido2.hid import CtapHidDevice
    from fido2.hid.base import CtapHidConnection, HidDescriptor

    from authenticators.clock import FrozenClock
    from authenticators.store import Store
    from firmware_sim.chip import ChipDevice, StoreBackend

    device = ChipDevice(backend=StoreBackend(Store(state)), clock=FrozenClock(T0))
    c.extra += [
        bytes_canary("chip wrap key", device.state.wrap_key),
        bytes_canary("chip hmac-secret key", device.state.cred_random_key),
    ]
    connection = device.connect()

    class Sim(CtapHidConnection):
        def read_packet(self) -> bytes:
            return connection.read_packet(10.0)

        def write_packet(self, data: bytes) -> None:
            connection.write_packet(data)

        def close(self) -> None:
            connection.close()

    hid = CtapHidDevice(HidDescriptor("sim:", 0x1209, 0x000A, 64, 64, "leak", None), Sim())
    ctap = Ctap2(hid)
    client_pin = ClientPin(ctap)
    client_pin.set_pin(c.chip_pin)
    with out.expect_error("chip wrong PIN"):
        client_pin.get_pin_token("not-" + c.chip_pin)
    token = client_pin.get_pin_token(
        c.chip_pin, ClientPin.PERMISSION.MAKE_CREDENTIAL, "leak.example"
    )
    out.seen("chip", device, device.state, device.client_pin, device.client_pin.token, ctap.info)
    with out.expect_error("chip change PIN with the wrong one"):
        client_pin.change_pin("wrong-" + c.chip_pin, c.chip_pin + "-new")
    del token
    hid.close()
    device.close()


def scenario_cli(c: Canaries, out: Collector, state: Path) -> None:
    from click.testing import CliRunner

    from authenticators.cli import cli
    from authenticators.codeviser.seeds import SeedImport, to_otpauth, write_pskc
    from authenticators.otp import OtpParams

    runner = CliRunner()
    uri = to_otpauth(c.seed, OtpParams(), "carol", "Leak Bank")

    def emu(*args: str) -> None:
        result = runner.invoke(cli, ["--state", str(state), *args], prog_name="mitid-emu")
        where = "mitid-emu " + " ".join(a if len(a) < 30 else a[:12] + "…" for a in args)
        out.add(f"{where} output", result.output)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            out.add(f"{where} exception", repr(result.exception))
            out.add(f"{where} traceback", "".join(traceback.format_exception(result.exception)))

    pskc = state.parent / "leak.pskc"
    pskc.write_bytes(write_pskc([SeedImport(c.seed, OtpParams(), serial="CV9")], c.password))
    emu(
        "identity",
        "create",
        "--user-id",
        "carol",
        "--name",
        "Carol Leak",
        "--password",
        c.password,
        "--json",
    )
    emu("identity", "create", "--user-id", "dave", "--name", "Dave", "--password", "x", "--json")
    emu("codeviser", "import", "--name", "t1", "--json", uri)
    emu("codeviser", "import", "--name", "t2", uri.replace("digits=6", "digits=x"))
    emu("codeviser", "import", "--name", "t3", "--password", "wrong-password", str(pskc))
    emu("codeviser", "import", "--name", "t4", "--password", c.password, "--json", str(pskc))
    emu("codeviser", "list", "--json")
    emu("codeviser", "list")
    emu("codeviser", "verify", "t1", "000000", "--json")
    emu("codeviser", "verify", "t1", "12345x")
    emu("identity", "add-authenticator", "carol", "codeviser", "t1")
    emu("identity", "show", "carol", "--json")
    emu("identity", "list", "--json")
    emu(
        "login",
        "--user-id",
        "carol",
        "--method",
        "codeviser",
        "--code",
        "000000",
        "--password",
        c.password,
        "--json",
    )
    emu(
        "login",
        "--user-id",
        "carol",
        "--method",
        "codeviser",
        "--press",
        "--password",
        c.password,
        "--json",
    )
    emu(
        "login",
        "--user-id",
        "carol",
        "--method",
        "codeviser",
        "--press",
        "--password",
        "wrong-" + c.password,
    )
    emu("app", "enroll", "--user-id", "carol", "--pin", c.app_pin, "--json")
    emu("app", "enroll", "--user-id", "carol", "--pin", c.app_pin + "1")
    emu("app", "list", "--json")
    emu("app", "list")
    emu("audit", "--json")


def scenario_server(c: Canaries, out: Collector, state: Path) -> None:
    from security.leaks_server import scenario_server as run_server

    run_server(c, out, state)


SCENARIOS: dict[str, Callable[[Canaries, Collector, Path], None]] = {
    "codeviser": scenario_codeviser,
    "app": scenario_app,
    "chip": scenario_chip,
    "cli": scenario_cli,
    "server": scenario_server,
}


def search(
    canaries: list[Canary],
    texts: list[tuple[str, str]],
    allowed: Callable[[str, str], str | None] | None = None,
    excused: list[str] | None = None,
) -> list[str]:
    """Every canary found in every text; one that ``allowed`` gives a reason for goes to
    ``excused`` (with the reason) instead."""
    findings = []
    for where, text in texts:
        for canary in canaries:
            for pattern in canary.patterns:
                if pattern.search(text):
                    reason = allowed(canary.name, where) if allowed else None
                    if reason is None:
                        findings.append(f"{canary.name} in {where}")
                    elif excused is not None:
                        excused.append(f"{canary.name} in {where} ({reason})")
                    break
    return findings


def run(scenarios: list[str] | None = None) -> LeakReport:
    canaries = Canaries()
    report = LeakReport()
    with tempfile.TemporaryDirectory(prefix="leaks-") as scratch, capture() as out:
        for name in scenarios or list(SCENARIOS):
            out.scenario = name
            state = Path(scratch) / name / "state"
            state.mkdir(parents=True)
            try:
                SCENARIOS[name](canaries, out, state)
            except Exception as exc:  # a scenario that breaks is a finding too
                out.add("scenario exception", "".join(traceback.format_exception(exc)))
                report.findings.append(f"scenario {name} failed: {type(exc).__name__}: {exc}")
            report.scenarios.append(name)
        texts = list(out.texts)
    every = canaries.all()
    report.canaries = [canary.name for canary in every]
    report.texts = len(texts)
    report.characters = sum(len(text) for _, text in texts)
    from security.leaks_server import by_design

    report.findings += search(every, texts, by_design, report.allowed)
    return report


def main(argv: list[str] | None = None) -> int:
    report = run(argv or None)
    print(report.summary())
    for finding in report.findings:
        print(f"  {finding}")
    for allowed in report.allowed:
        print(f"  by design: {allowed}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
