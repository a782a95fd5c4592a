"""``mitid-emu app …`` and ``mitid-emu login --method app``: commands, refusals, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from authenticators.app.apps import AppRepository, AppStatus
from authenticators.app.channel import write_png
from authenticators.app.device import Phone
from authenticators.app.inbox import StateExchange
from authenticators.app.screen import LoginScreen
from authenticators.cli._common import Env
from authenticators.cli.app import QR_DIR_ENV, app
from authenticators.cli.login import login
from authenticators.clock import FrozenClock
from authenticators.core.login import LoginService
from authenticators.protocol import Level, Reason
from authenticators.store import Store
from tests.app.helpers import PIN, USER, begin, enroll
from tests.support import T0, Emu, Result, assert_user_error

COMMANDS = ["enroll", "list", "remove", "activate", "inbox", "show", "scan", "approve", "reject",
            "watch"]  # fmt: skip


class PhoneInHand(FrozenClock):
    """A frozen clock; whenever the login waits, the person with the phone does one thing."""

    def __init__(self, act: Callable[[], None]) -> None:
        super().__init__(T0)
        self.act = act

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        self.act()


def invoke(command: click.Command, state_dir: Path, clock: FrozenClock, *args: str) -> Result:
    runner = CliRunner()
    result = runner.invoke(command, list(args), obj=Env(state_dir=state_dir, clock=clock))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Result(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def alice(emu: Emu) -> Emu:
    emu("identity", "create", "--user-id", USER, "--name", "Alice Test")
    return emu


def enroll_cli(emu: Emu, *extra: str) -> str:
    result = emu("app", "enroll", "--user-id", USER, "--pin", PIN, "--json", *extra)
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)["app_id"])


def snapshot(store: Store) -> list[tuple[object, ...]]:
    """Everything the app keeps, to show a refused command changed nothing."""
    with store.read() as conn:
        tables = ["app_verifier", "app_phone", "app_phone_scans"]
        rows: list[tuple[object, ...]] = []
        for table in tables:
            rows += [tuple(r) for r in conn.execute(f"SELECT * FROM {table}")]  # noqa: S608
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'app_logins'").fetchone():
            rows += [tuple(r) for r in conn.execute("SELECT * FROM app_logins")]
        return rows


@pytest.mark.parametrize("name", COMMANDS)
def test_every_subcommand_has_help(emu: Emu, name: str) -> None:
    result = emu("app", name, "--help")
    assert result.exit_code == 0, result.output
    assert f"Usage: mitid-emu app {name}" in result.stdout


def test_enroll_list_remove_activate(alice: Emu, store: Store) -> None:
    app_id = enroll_cli(alice, "--level", "high", "--biometrics")
    listed = json.loads(alice("app", "list", "--json").stdout)
    assert listed == [
        {**listed[0], "app_id": app_id, "user_id": USER, "level": "high", "status": "active",
         "biometrics": True}
    ]  # fmt: skip
    assert PIN not in alice("app", "list").stdout
    assert app_id in alice("app", "list", "--user-id", USER).stdout
    removed = alice("app", "remove", app_id)
    assert removed.exit_code == 0
    assert "deactivated" in removed.stdout
    shown = json.loads(alice("identity", "show", USER, "--json").stdout)
    assert shown["authenticators"] == []
    assert alice("app", "activate", app_id).exit_code == 0
    assert AppRepository(store).get(app_id).status is AppStatus.ACTIVE
    shown = json.loads(alice("identity", "show", USER, "--json").stdout)
    assert shown["authenticators"] == [{"kind": "app", "id": app_id}]


def test_the_fourth_app_is_refused_and_nothing_changes(alice: Emu, store: Store) -> None:
    for _ in range(3):
        enroll_cli(alice)
    before = snapshot(store)
    result = alice("app", "enroll", "--user-id", USER, "--pin", PIN)
    assert_user_error(result, "3 active apps", "app remove")
    assert snapshot(store) == before


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["app", "enroll", "--user-id", "ghost", "--pin", PIN], ["no identity", "ghost"]),
        (["app", "enroll", "--user-id", USER, "--pin", "12345"], ["6 digits"]),
        (["app", "enroll", "--user-id", USER, "--pin", "１２３４５６"], ["6 digits"]),
        (["app", "enroll", "--user-id", USER], ["--pin"]),
        (["app", "enroll", "--user-id", USER, "--pin", PIN, "--level", "low"], ["low"]),
        (["app", "remove", "ghost"], ["no app", "ghost"]),
        (["app", "activate", "ghost"], ["no app", "ghost"]),
        (["app", "approve", "--app", "ghost"], ["no app", "ghost"]),
        (["app", "show"], ["no app has a pending request"]),
        (["app", "list", "--user-id", "ghost"], ["no identity"]),
        (["app", "watch", "--once"], ["--auto-approve"]),
        (["app", "watch", "--auto-approve", "--auto-reject"], ["not both"]),
        (["app", "watch", "--auto-approve", "--pin", "1"], ["6 digits"]),
    ],
)
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    alice: Emu, store: Store, args: list[str], words: list[str]
) -> None:
    AppRepository(store)
    before = snapshot(store)
    assert_user_error(alice(*args), *words)
    assert snapshot(store) == before


@pytest.fixture
def pending(state_dir: Path, clock: FrozenClock) -> tuple[LoginService, str, LoginScreen]:
    """An app and a desktop login showing its QR frames, at the frozen time."""
    service = LoginService(Store(state_dir), clock)
    service.identities.create(USER, "Alice Test")
    app_id = enroll(service)
    challenge = begin(service)
    screen = LoginScreen(service.store, clock, challenge)
    screen.open()
    return service, app_id, screen


def test_inbox_show_scan_approve(
    state_dir: Path, clock: FrozenClock, pending: tuple[LoginService, str, LoginScreen]
) -> None:
    service, app_id, screen = pending
    tx = screen.transaction_id
    inbox = invoke(app, state_dir, clock, "inbox", "--json")
    assert [r["transaction_id"] for r in json.loads(inbox.stdout)] == [tx]
    assert tx in invoke(app, state_dir, clock, "inbox").stdout
    shown = invoke(app, state_dir, clock, "show")
    assert "Demo Bank" in shown.stdout
    assert "LOG_ON" in shown.stdout
    assert "Scan the QR code" in shown.stdout
    refused = invoke(app, state_dir, clock, "approve")
    assert_user_error(refused, "scan the QR code")
    assert screen.current is not None
    one, two = (f.payload() for f in screen.current.frames())
    first = invoke(app, state_dir, clock, "scan", "--payload", one)
    assert "now scan frame 2" in first.stdout
    second = invoke(app, state_dir, clock, "scan", "--payload", two, "--app", app_id)
    assert "may approve" in second.stdout
    approved = invoke(app, state_dir, clock, "approve", "--json")
    assert approved.exit_code == 0, approved.output
    assert json.loads(approved.stdout)["decision"] == "approve"
    assert "sig" not in approved.stdout
    response = screen.poll()
    assert response is not None
    assert service.complete(tx, response).ok
    again = invoke(app, state_dir, clock, "approve", "--transaction", tx, "--app", app_id)
    assert again.exit_code == 1
    assert "replayed" in again.stderr


def test_scan_png_files(
    state_dir: Path, clock: FrozenClock, pending: tuple[LoginService, str, LoginScreen],
    tmp_path: Path,
) -> None:  # fmt: skip
    _, _, screen = pending
    assert screen.current is not None
    paths = []
    for frame in screen.current.frames():
        paths.append(tmp_path / f"f{frame.part}.png")
        write_png(paths[-1], frame.payload())
    result = invoke(app, state_dir, clock, "scan", "--png", str(paths[0]), "--png", str(paths[1]))
    assert result.exit_code == 0, result.output
    assert "may approve" in result.stdout


def test_unreadable_scans_are_exit_2_and_change_nothing(
    state_dir: Path, clock: FrozenClock, pending: tuple[LoginService, str, LoginScreen],
    tmp_path: Path,
) -> None:  # fmt: skip
    service, _, screen = pending
    assert screen.current is not None
    good = screen.current.frames()[0].payload()
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    before = snapshot(service.store)
    cases = [
        (["scan", "--png", str(junk)], "cannot read"),
        (["scan", "--png", str(tmp_path / "none.png")], "cannot read"),
        (["scan", "--payload", "hello"], "not a MitID QR frame"),
        (["scan", "--payload", good, "--payload", '{"v":1}'], "not a MitID QR frame"),
        (["scan"], "--png FILE or --payload"),
        (["approve", "--pin", "12"], "6 digits"),
        (["approve", "--code", "12a4"], "4 digits"),
    ]
    for args, words in cases:
        assert_user_error(invoke(app, state_dir, clock, *args), words)
    assert snapshot(service.store) == before


def test_a_wrong_pin_is_refused_with_exit_1_and_counts(state_dir: Path, clock: FrozenClock) -> None:
    service = LoginService(Store(state_dir), clock)
    service.identities.create(USER, "Alice Test")
    app_id = enroll(service, level=Level.HIGH)
    challenge = begin(service, level=Level.HIGH, extra={"mobile": True})
    LoginScreen(service.store, clock, challenge, level=Level.HIGH).open()
    assert_user_error(invoke(app, state_dir, clock, "approve"), "needs the app's PIN")
    for left in ("2 tries", "1 try"):
        result = invoke(app, state_dir, clock, "approve", "--pin", "000000")
        assert result.exit_code == 1
        assert f"wrong_pin (wrong PIN; {left} left)" in result.stderr
        assert "000000" not in result.output
    blocked = invoke(app, state_dir, clock, "approve", "--pin", "000000")
    assert blocked.exit_code == 1
    assert "locked" in blocked.stderr
    assert "activate" in blocked.stderr
    assert AppRepository(service.store).get(app_id).status is AppStatus.BLOCKED
    assert invoke(app, state_dir, clock, "activate", app_id).exit_code == 0
    assert invoke(app, state_dir, clock, "approve", "--pin", PIN).exit_code == 0


def test_watch_answers_a_push_by_reading_the_screen_pngs(
    state_dir: Path, clock: FrozenClock, tmp_path: Path
) -> None:
    service = LoginService(Store(state_dir), clock)
    service.identities.create(USER, "Alice Test")
    enroll(service)
    challenge = begin(service)
    screen = LoginScreen(service.store, clock, challenge, qr_dir=tmp_path / "qr")
    screen.open()
    result = invoke(app, state_dir, clock, "watch", "--auto-approve", "--once")
    assert result.exit_code == 0, result.output
    assert "Demo Bank" in result.stdout
    assert "approved login" in result.stdout
    response = screen.poll()
    assert response is not None
    assert response.payload["bind_method"] == "qr"
    assert service.complete(challenge.transaction_id, response).ok


def test_watch_may_reject_and_gives_up_at_its_timeout(
    state_dir: Path, clock: FrozenClock, pending: tuple[LoginService, str, LoginScreen]
) -> None:
    service, _, screen = pending
    result = invoke(app, state_dir, clock, "watch", "--auto-reject", "--once")
    assert result.exit_code == 0, result.output
    response = screen.poll()
    assert response is not None
    verdict = service.complete(screen.transaction_id, response).verdict
    assert verdict.reason is Reason.REJECTED_BY_USER
    idle = invoke(app, state_dir, clock, "watch", "--auto-approve", "--once", "--timeout", "5")
    assert idle.exit_code == 1
    assert "no request came within 5 s" in idle.stderr


# -- mitid-emu login --method app, in process -----------------------------------------------------


def login_with(state_dir: Path, act: Callable[[Phone, StateExchange], None], *args: str) -> Result:
    """Run the login command while a person holds the phone and does ``act`` when it waits."""
    store = Store(state_dir)
    holder: dict[str, Phone] = {}

    def step() -> None:
        exchange = StateExchange(store)
        held = holder.setdefault("phone", Phone(store, app_id, clock))
        if held.inbox():
            act(held, exchange)

    clock = PhoneInHand(step)
    service = LoginService(store, clock)
    service.identities.create(USER, "Alice Test")
    app_id = enroll(service)
    return invoke(login, state_dir, clock, "--user-id", USER, "--method", "app", *args)


def look_and_approve(held: Phone, exchange: StateExchange) -> None:
    request = held.request()
    if request.shown:
        held.look_at_screen(exchange.session(request.transaction_id).screen)
        held.approve()


def test_login_with_the_app_approved(state_dir: Path) -> None:
    result = login_with(state_dir, look_and_approve)
    assert result.exit_code == 0, result.output
    assert "QR update 0: frame 1 {" in result.stdout
    assert "Cannot scan? Type code" in result.stdout
    assert "Login accepted: Alice Test" in result.stdout
    assert "amr:   code_app" in result.stdout


def test_login_with_the_app_json_and_png_frames(
    state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(QR_DIR_ENV, str(tmp_path / "qr"))
    result = login_with(state_dir, look_and_approve, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"]
    assert data["amr"] == ["code_app"]
    assert "QR frame PNG:" in result.stderr
    assert len(list((tmp_path / "qr").glob("*.png"))) == 2


def test_login_with_the_app_png_frames_by_option(state_dir: Path, tmp_path: Path) -> None:
    result = login_with(state_dir, look_and_approve, "--qr-dir", str(tmp_path / "qr"))
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "qr").glob("*.png"))) == 2


def test_a_mobile_login_is_approved_without_scanning(state_dir: Path) -> None:
    def approve_unscanned(held: Phone, _: StateExchange) -> None:
        if held.request().shown:
            held.approve()

    result = login_with(state_dir, approve_unscanned, "--mobile")
    assert result.exit_code == 0, result.output
    assert "Login accepted" in result.stdout
    # The phone refuses the same unscanned approval of a desktop login.
    desktop = login_with(state_dir.parent / "desktop", approve_unscanned)
    assert "scan the QR code on the login screen first" in desktop.stderr
    assert "Login accepted" not in desktop.stdout


def test_app_options_are_for_app_logins(emu: Emu) -> None:
    result = emu("login", "--user-id", "x", "--method", "codeviser", "--mobile")
    assert result.exit_code == 2
    assert "for app logins" in result.stderr


def test_login_with_the_app_rejected(state_dir: Path) -> None:
    result = login_with(state_dir, lambda held, _: held.reject())
    assert result.exit_code == 1
    assert "Login refused: rejected_by_user" in result.stderr


@pytest.mark.slow
def test_login_with_no_answer_expires(state_dir: Path) -> None:
    result = login_with(state_dir, lambda held, _: None)
    assert result.exit_code == 1
    assert "Login refused: expired" in result.stderr


def test_a_parallel_login_is_refused_with_exit_1(state_dir: Path, clock: FrozenClock) -> None:
    service = LoginService(Store(state_dir), clock)
    service.identities.create(USER, "Alice Test")
    enroll(service)
    begin(service)
    result = invoke(login, state_dir, clock, "--user-id", USER, "--method", "app")
    assert result.exit_code == 1
    assert "parallel_session" in result.stderr


def test_a_reference_text_over_130_characters_is_exit_2(
    state_dir: Path, clock: FrozenClock
) -> None:
    service = LoginService(Store(state_dir), clock)
    service.identities.create(USER, "Alice Test")
    enroll(service)
    before = snapshot(service.store)
    result = invoke(
        login, state_dir, clock, "--user-id", USER, "--method", "app",
        "--reference-text", "x" * 131,
    )  # fmt: skip
    assert_user_error(result, "131 characters", "130")
    assert snapshot(service.store) == before


# -- two terminals -------------------------------------------------------------------------------


@pytest.mark.slow
def test_two_processes_complete_a_login_through_the_state(alice: Emu, tmp_path: Path) -> None:
    enroll_cli(alice)
    env = {
        **os.environ,
        "MITID_EMU_STATE": str(alice.state_dir),
        QR_DIR_ENV: str(tmp_path / "qr"),
    }
    command = [sys.executable, "-m", "authenticators.cli", "app", "watch", "--auto-approve",
               "--once", "--timeout", "60"]  # fmt: skip
    watcher = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "authenticators.cli", "login", "--user-id", USER,
             "--method", "app", "--service-provider", "Demo Bank"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        out, err = watcher.communicate(timeout=30)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Login accepted: Alice Test" in proc.stdout
    assert "QR frame PNG:" in proc.stdout
    assert watcher.returncode == 0, err.decode()
    assert "Demo Bank" in out.decode()
    assert "approved login" in out.decode()
    assert time.monotonic() - started < 30
