"""``mitid-emu app …``: the MitID app on the phone, and its step of ``mitid-emu login``."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import click

from authenticators import registry
from authenticators.app.answer import Answer
from authenticators.app.apps import AppRecord, AppStatus, parse_level
from authenticators.app.channel import render_terminal
from authenticators.app.device import Phone, ScanResult, render_phone
from authenticators.app.errors import AppRefusal
from authenticators.app.http_exchange import ADMIN_TOKEN_ENV, SERVER_ENV, HttpExchange
from authenticators.app.inbox import AppExchange, PushRequest, StateExchange
from authenticators.app.pin import pin_problem
from authenticators.app.plugin import AppOptions, AppPlugin
from authenticators.app.screen import LoginScreen
from authenticators.cli._common import Env, UserError, emit_json, pass_env, refuse, user_errors
from authenticators.cli.login import LoginStep
from authenticators.core.identities import IdentityRepository
from authenticators.protocol import ErrorCode, ProtocolError, Response

P = ParamSpec("P")
R = TypeVar("R")

QR_DIR_ENV = "MITID_EMU_APP_QR_DIR"
WATCH_INTERVAL = 0.1


def app_plugin() -> AppPlugin:
    plugin = registry.get("app")
    assert isinstance(plugin, AppPlugin)
    return plugin


def refusals(func: Callable[P, R]) -> Callable[P, R]:
    """What the app refuses (wrong PIN, blocked, expired, answered): the reason, exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except AppRefusal as exc:
            refuse(f"Refused: {exc.reason.value} ({exc.message})")

    return wrapper


def _identities(env: Env) -> IdentityRepository:
    return IdentityRepository(env.store(), env.clock)


def _owner_name(env: Env, record: AppRecord) -> str:
    return _identities(env).owner("app", record.app_id) or "-"


_SERVER_KEY = "mitid_emu_app_server"


def _server() -> HttpExchange | None:
    """The login server the phone talks to (``--server``), or None: the state is shared."""
    found: HttpExchange | None = click.get_current_context().meta.get(_SERVER_KEY)
    return found


def _exchange(env: Env) -> AppExchange:
    server = _server()
    return server if server is not None else StateExchange(env.store())


def _phone(env: Env, app_id: str) -> Phone:
    plugin = app_plugin()
    return Phone(env.store(), app_id, env.clock, policy=plugin.policy, exchange=_exchange(env))


def _inbox(phone: Phone) -> list[PushRequest]:
    """A phone's pushes; with --server, an app the server does not know has none."""
    try:
        return phone.inbox()
    except ProtocolError as exc:
        if _server() is not None and exc.code is ErrorCode.UNKNOWN_AUTHENTICATOR:
            return []
        raise


def _pick(env: Env, app_id: str | None, transaction_id: str | None) -> tuple[Phone, PushRequest]:
    """The phone and push a command is about: named, or the only one waiting."""
    if app_id is not None:
        phone = _phone(env, app_id)
        return phone, phone.request(transaction_id)
    waiting: list[tuple[Phone, PushRequest]] = []
    for record in app_plugin().apps(env.store()).list():
        if record.status is AppStatus.DEACTIVATED:
            continue
        phone = _phone(env, record.app_id)
        waiting += [
            (phone, request)
            for request in _inbox(phone)
            if transaction_id is None or request.transaction_id == transaction_id
        ]
    if not waiting:
        raise UserError(
            "no app has a pending request; start a login with `mitid-emu login --method app`"
        )
    if len(waiting) > 1:
        apps = ", ".join(sorted({phone.app_id for phone, _ in waiting}))
        raise UserError(f"several requests are waiting (apps {apps}); choose one with --app")
    return waiting[0]


def _ask_pin(given: str | None) -> str:
    if given is not None:
        return given
    if not sys.stdin.isatty():
        raise UserError("give the app's 6-digit PIN with --pin (no terminal to ask at)")
    return str(click.prompt("Choose a 6-digit PIN", hide_input=True, confirmation_prompt=True))


def _check_pin_format(pin: str | None) -> None:
    if pin is not None and (problem := pin_problem(pin)):
        raise UserError(problem)


APP_OPTION = click.option("--app", "app_id", help="Which app (default: the one with a request).")
TX_OPTION = click.option("--transaction", "transaction_id", help="Which request (login).")
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group()
@click.option(
    "--server",
    envvar=SERVER_ENV,
    help=f"A login server to talk to over HTTP (its issuer URL; ${SERVER_ENV}). The app's key "
    "and PIN stay in this state; enroll it there with `app enroll --server`.",
)
@click.option(
    "--admin-token",
    envvar=ADMIN_TOKEN_ENV,
    help=f"The server's admin token, as `mitid-emu serve` prints it (${ADMIN_TOKEN_ENV}).",
)
@click.pass_context
def app(ctx: click.Context, server: str | None, admin_token: str | None) -> None:
    """The MitID app: enroll, see pushes, scan the QR code, approve or reject, watch as a bot."""
    if server is None:
        return
    if not server.startswith(("http://", "https://")):
        raise UserError(f"--server must be an http:// or https:// URL, not {server!r}")
    if not admin_token:
        raise UserError(f"--server needs --admin-token (or ${ADMIN_TOKEN_ENV})")
    exchange = ctx.with_resource(HttpExchange(server, admin_token))
    ctx.meta[_SERVER_KEY] = exchange
    env = ctx.find_object(Env)
    if env is not None:
        env.clock = exchange.clock()  # the phone signs with the time of the server that judges


@app.command("enroll")
@click.option("--user-id", required=True, help="The identity the app is for.")
@click.option("--pin", help="The app's 6-digit PIN (asked for at a terminal when left out).")
@click.option(
    "--level",
    type=click.Choice(["substantial", "high"]),
    default="substantial",
    show_default=True,
    help="The level the app is enrolled at.",
)
@click.option("--biometrics", is_flag=True, help="Let fingerprint/face stand in for the PIN.")
@JSON_OPTION
@pass_env
@user_errors
def enroll(
    env: Env, user_id: str, pin: str | None, level: str, biometrics: bool, as_json: bool
) -> None:
    """Enroll a new app (device key pair, PIN) for an identity; at most 3 active apps each."""
    _check_pin_format(pin)
    server = _server()
    if server is not None:
        _enroll_remote(env, server, user_id, _ask_pin(pin), level, biometrics, as_json)
        return
    identities = _identities(env)
    identity = identities.get(user_id)
    chosen = _ask_pin(pin)
    _check_pin_format(chosen)
    plugin = app_plugin()
    store = env.store()
    apps = plugin.apps(store)  # the tables exist before the transaction that may roll back
    with store.transaction():
        wanted = AppOptions(
            owner=identity.uuid, pin=chosen, level=parse_level(level), biometrics=biometrics
        )
        enrollment = plugin.enroll(store, env.clock, wanted)
        identities.add_authenticator(user_id, "app", enrollment.authenticator_id)
    record = apps.get(enrollment.authenticator_id)
    if as_json:
        emit_json({**record.summary(), "user_id": identity.user_id})
    else:
        click.echo(f"enrolled app {record.app_id} for {identity.user_id} at level {level}")


def _enroll_remote(
    env: Env,
    server: HttpExchange,
    user_id: str,
    pin: str,
    level: str,
    biometrics: bool,
    as_json: bool,
) -> None:
    """The key and PIN here, the public key at the server: both or neither."""
    _check_pin_format(pin)
    store = env.store()
    apps = app_plugin().apps(store)
    with store.transaction():
        record = apps.enroll(
            user_id, pin, env.clock.now(), level=parse_level(level), biometrics=biometrics
        )
        server.register(
            user_id, record.app_id, record.public_key, level=level, biometrics=biometrics
        )
    if as_json:
        emit_json({**record.summary(), "user_id": user_id, "server": server.base_url})
    else:
        click.echo(
            f"enrolled app {record.app_id} for {user_id} at {server.base_url} at level {level}"
        )


@app.command("list")
@click.option("--user-id", help="Only this identity's apps.")
@JSON_OPTION
@pass_env
@user_errors
def list_(env: Env, user_id: str | None, as_json: bool) -> None:
    """List apps: id, owner, level, status."""
    owner = _identities(env).get(user_id).uuid if user_id else None
    records = app_plugin().apps(env.store()).list(owner)
    rows = [{**r.summary(), "user_id": _owner_name(env, r)} for r in records]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("no apps; enroll one with `mitid-emu app enroll --user-id ID`")
    for row in rows:
        bio = ", biometrics" if row["biometrics"] else ""
        click.echo(
            f"{row['app_id']:<14} {row['user_id']:<16} {row['level']:<12} {row['status']}{bio}"
        )


@app.command("remove")
@click.argument("app_id")
@pass_env
@user_errors
def remove(env: Env, app_id: str) -> None:
    """Deactivate an app: it gets no more pushes and no longer counts towards the 3."""
    store = env.store()
    identities = _identities(env)
    apps = app_plugin().apps(store)
    with store.transaction():
        owner = identities.owner("app", app_id)
        apps.deactivate(app_id, env.clock.now())
        if owner is not None:
            identities.remove_authenticator(owner, "app", app_id)
    click.echo(f"deactivated app {app_id}")


@app.command("activate")
@click.argument("app_id")
@click.option("--pin", help="Set a new 6-digit PIN while at it.")
@pass_env
@user_errors
def activate(env: Env, app_id: str, pin: str | None) -> None:
    """Activate a blocked or deactivated app again (a deactivated one needs room among the 3)."""
    _check_pin_format(pin)
    store = env.store()
    identities = _identities(env)
    apps = app_plugin().apps(store)
    with store.transaction():
        before = apps.get(app_id)
        apps.activate(app_id, env.clock.now(), pin=pin)
        if before.status is AppStatus.DEACTIVATED and identities.owner("app", app_id) is None:
            identity = identities.by_uuid(before.owner)
            identities.add_authenticator(identity.user_id, "app", app_id)
    click.echo(f"activated app {app_id}")


@app.command("inbox")
@APP_OPTION
@JSON_OPTION
@pass_env
@user_errors
def inbox(env: Env, app_id: str | None, as_json: bool) -> None:
    """The pending requests (pushes) of one app or of all apps."""
    if app_id is not None:
        ids = [_phone(env, app_id).app_id]
    else:
        records = app_plugin().apps(env.store()).list()
        ids = [r.app_id for r in records if r.status is not AppStatus.DEACTIVATED]
    now = env.clock.now()
    found = [request for i in ids for request in _inbox(_phone(env, i))]
    if as_json:
        emit_json([request.to_dict(now) for request in found])
        return
    if not found:
        click.echo("no pending requests")
    for request in found:
        data = request.to_dict(now)
        click.echo(
            f"{data['transaction_id']}  app {data['app_id']}  {data['service_provider']}  "
            f"[{data['header']}] {data['body']}  (expires in {data['expires_in']:.0f} s)"
        )


@app.command("show")
@APP_OPTION
@TX_OPTION
@JSON_OPTION
@pass_env
@user_errors
def show(env: Env, app_id: str | None, transaction_id: str | None, as_json: bool) -> None:
    """Draw what the phone shows: service provider, header and body, in a box."""
    phone, request = _pick(env, app_id, transaction_id)
    view = phone.view(request.transaction_id)
    if as_json:
        emit_json(view.to_dict())
    else:
        click.echo(render_phone(view))


@app.command("scan")
@click.option(
    "--png",
    "pngs",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A PNG of a QR frame (repeat for both frames).",
)
@click.option("--payload", "payloads", multiple=True, help="A frame's text (repeatable).")
@APP_OPTION
@TX_OPTION
@pass_env
@user_errors
@refusals
def scan(
    env: Env,
    pngs: tuple[Path, ...],
    payloads: tuple[str, ...],
    app_id: str | None,
    transaction_id: str | None,
) -> None:
    """Scan QR frames of the login screen: both frames of one update bind the login."""
    if bool(pngs) == bool(payloads):
        raise UserError("give --png FILE or --payload TEXT (either may be repeated)")
    phone, request = _pick(env, app_id, transaction_id)
    if pngs:
        result = phone.scan_pngs(pngs, request.transaction_id)
    else:
        result = phone.scan_payloads(payloads, request.transaction_id)
    click.echo(_scan_message(result))


def _scan_message(result: ScanResult) -> str:
    if result.complete:
        return f"scanned both frames of update {result.update}: the app may approve now"
    missing = 2 if result.frames == (1,) else 1
    return f"read frame {result.frames[0]} of update {result.update}; now scan frame {missing}"


@app.command("approve")
@click.option("--pin", help="The app's PIN (needed at level high, or when the policy says so).")
@click.option("--code", help="The 4-digit code the login screen shows, instead of scanning.")
@click.option("--biometrics", is_flag=True, help="Use biometrics instead of the PIN.")
@APP_OPTION
@TX_OPTION
@JSON_OPTION
@pass_env
@user_errors
@refusals
def approve(
    env: Env,
    pin: str | None,
    code: str | None,
    biometrics: bool,
    app_id: str | None,
    transaction_id: str | None,
    as_json: bool,
) -> None:
    """Swipe to approve the pending request (signed with the app's key)."""
    phone, request = _pick(env, app_id, transaction_id)
    answer = phone.approve(
        pin=pin, code=code, biometrics=biometrics, transaction_id=request.transaction_id
    )
    _answered(answer, as_json)


@app.command("reject")
@APP_OPTION
@TX_OPTION
@JSON_OPTION
@pass_env
@user_errors
@refusals
def reject(env: Env, app_id: str | None, transaction_id: str | None, as_json: bool) -> None:
    """Reject the pending request (signed too: the login is refused as rejected_by_user)."""
    phone, request = _pick(env, app_id, transaction_id)
    _answered(phone.reject(request.transaction_id), as_json)


def _answered(answer: Answer, as_json: bool) -> None:
    if as_json:
        data = answer.to_dict()
        data.pop("sig")
        data.pop("bind")
        emit_json(data)
        return
    verb = "approved" if answer.decision.value == "approve" else "rejected"
    click.echo(
        f"{verb} login {answer.transaction_id} with app {answer.app_id}; "
        "the waiting login finishes it"
    )


@app.command("watch")
@click.option("--auto-approve", is_flag=True, help="Approve every request that comes.")
@click.option("--auto-reject", is_flag=True, help="Reject every request that comes.")
@click.option("--pin", help="The PIN to approve with, when a login needs it.")
@click.option("--once", is_flag=True, help="Stop after answering one request.")
@APP_OPTION
@click.option("--user-id", help="Only this identity's apps.")
@click.option("--timeout", type=float, help="Give up after this many seconds (exit 1).")
@pass_env
@user_errors
@refusals
def watch(
    env: Env,
    auto_approve: bool,
    auto_reject: bool,
    pin: str | None,
    once: bool,
    app_id: str | None,
    user_id: str | None,
    timeout: float | None,
) -> None:
    """Answer pushes as they come, as a bot for CI: it scans the login screen's QR frames
    itself, as a phone held to the screen would, then approves or rejects."""
    if auto_approve and auto_reject:
        raise UserError("give --auto-approve or --auto-reject, not both")
    if once and not (auto_approve or auto_reject):
        raise UserError("--once needs --auto-approve or --auto-reject")
    _check_pin_format(pin)
    if timeout is not None and timeout <= 0:
        raise UserError("--timeout must be more than 0 seconds")
    owner = _identities(env).get(user_id).uuid if user_id else None
    if app_id is not None:
        _phone(env, app_id)
    clock = env.clock
    deadline = None if timeout is None else clock.monotonic() + timeout
    seen: set[tuple[str, str]] = set()
    server = _server()
    exchange = StateExchange(env.store())
    where = f" at {server.base_url}" if server is not None else ""
    click.echo(f"watching for app requests{where}…", err=True)
    while deadline is None or clock.monotonic() < deadline:
        for phone in _watched(env, app_id, owner):
            for request in _inbox(phone):
                key = (phone.app_id, request.transaction_id)
                if key not in seen:
                    seen.add(key)
                    click.echo(render_phone(phone.view(request.transaction_id)))
                if not (auto_approve or auto_reject) or not request.shown:
                    continue
                if auto_reject:
                    answer = phone.reject(request.transaction_id)
                else:
                    if request.binding_required:
                        tx = request.transaction_id
                        if server is not None:
                            seen_frames = phone.scan_payloads(server.screen(tx, phone.app_id), tx)
                        else:
                            seen_frames = phone.look_at_screen(exchange.session(tx).screen, tx)
                        if not seen_frames.complete:
                            continue
                    answer = phone.approve(pin=pin, transaction_id=request.transaction_id)
                _answered(answer, False)
                if once:
                    return
        clock.sleep(WATCH_INTERVAL)
    refuse(f"no request came within {timeout:g} s")


def _watched(env: Env, app_id: str | None, owner: str | None) -> list[Phone]:
    records = app_plugin().apps(env.store()).list(owner)
    return [
        _phone(env, r.app_id)
        for r in records
        if r.status is AppStatus.ACTIVE and (app_id is None or r.app_id == app_id)
    ]


# -- the login step ------------------------------------------------------------------------------


class _Painter:
    """Draws the login screen in the terminal: QR frames (animated on a terminal) and the code."""

    def __init__(self, step: LoginStep, *, animate: bool) -> None:
        self.step = step
        self.animate = animate
        self.update: int | None = None
        self.frame: tuple[int, int] | None = None
        self.lines = 0
        self.scanned = False

    def tick(self, screen: LoginScreen) -> None:
        current = screen.current
        if current is None or self.scanned:
            return
        if screen.bound() is not None:
            self.scanned = True
            self.clear()
            self.step.say("The app has scanned the QR code: approve in the app.")
            return
        if current.update != self.update:
            self.update = current.update
            if not self.animate:
                one, two = current.frames()
                self.step.say(f"QR update {current.update}: frame 1 {one.payload()}")
                self.step.say(f"QR update {current.update}: frame 2 {two.payload()}")
                for path in screen.png_paths:
                    self.step.say(f"QR frame PNG: {path}")
                self.step.say(f"Cannot scan? Type code {current.code} in the app.")
        frame = screen.frame()
        if not self.animate or frame is None or (current.update, frame.part) == self.frame:
            return
        self.frame = (current.update, frame.part)
        self.clear()
        text = (
            f"Scan with the MitID app (update {current.update}, frame {frame.part}/2) "
            f"— or type code {current.code} in the app\n" + render_terminal(frame.payload())
        )
        click.echo(text, nl=False)
        self.lines = text.count("\n")

    def clear(self) -> None:
        if self.animate and self.lines:
            click.echo(f"\x1b[{self.lines}F\x1b[J", nl=False)
            self.lines = 0


def login_step(step: LoginStep) -> Response:
    """The login screen for an app login: show the QR frames, wait for the phone's answer."""
    plugin = app_plugin()
    env = step.env
    from_env = os.environ.get(QR_DIR_ENV)
    qr_dir = step.qr_dir or (Path(from_env).expanduser() if from_env else None)
    level = step.service.pending(step.challenge.transaction_id).level
    screen = LoginScreen(
        env.store(),
        env.clock,
        step.challenge,
        level=level,
        policy=plugin.policy,
        qr_dir=qr_dir,
    )
    screen.open()
    step.say(
        "Open the MitID app: the request is waiting there (`mitid-emu app show`, "
        "`mitid-emu app approve`)."
    )
    if screen.pin_required:
        step.say("This login needs the app's PIN.")
    painter = _Painter(step, animate=sys.stdout.isatty() and not step.as_json)
    response = screen.wait(on_tick=painter.tick)
    painter.clear()
    if response.payload:
        step.say(f"Answer from app {response.authenticator_id}.")
    return response
