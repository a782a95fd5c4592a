"""``mitid-emu login``: a whole login in the terminal, as a service provider would run it."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, cast

import click

from authenticators import registry
from authenticators.cli._common import (
    CodeType,
    Env,
    UserError,
    emit_json,
    pass_env,
    refuse,
    user_errors,
)
from authenticators.codeviser.device import response_for_code
from authenticators.codeviser.plugin import CodeTokenPlugin
from authenticators.core.errors import CoreError
from authenticators.core.login import LoginResult, LoginService
from authenticators.protocol import (
    Action,
    Challenge,
    ErrorCode,
    Level,
    ProtocolError,
    Reason,
    ReferenceText,
    Response,
    UserAction,
)


@dataclass
class LoginStep:
    """What a method's step gets: the challenge and everything the person typed on the line."""

    env: Env
    service: LoginService
    challenge: Challenge
    eligible: tuple[str, ...]
    code: str | None
    press: bool
    as_json: bool
    qr_dir: Path | None = None

    @property
    def authenticator_id(self) -> str:
        """The one authenticator this login was sent to (kinds that push use ``eligible``)."""
        return self.eligible[0]

    def say(self, text: str) -> None:
        """Talk to the person; with --json the conversation goes to stderr."""
        click.echo(text, err=self.as_json)


def code_token_step(step: LoginStep) -> Response:
    """Code display / audio code reader: read the code off the display and type it."""
    plugin = registry.get(step.challenge.kind)
    assert isinstance(plugin, CodeTokenPlugin)
    if step.press:
        holder = plugin.authenticator(step.env.store(), step.authenticator_id, step.env.clock)
        step.say(f"Pressing the button of {step.challenge.kind} {step.authenticator_id}.")
        return holder.respond(step.challenge, UserAction.PRESS_BUTTON)
    digits = plugin.tokens(step.env.store()).get(step.authenticator_id).params.digits
    code = step.code
    if code is None:
        code = str(
            click.prompt(
                f"Code from your {step.challenge.kind} ({digits} digits)",
                value_proc=lambda text: CodeType(digits).convert(text, None, None),
                err=step.as_json,
            )
        )
    return response_for_code(step.challenge, step.authenticator_id, code)


def step_for(kind: str) -> Callable[[LoginStep], Response] | None:
    """The kind's part of the conversation (its "authenticators.cli_login" entry point)."""
    step = registry.facet(registry.CLI_LOGIN_GROUP, kind)
    if step is None:
        return None
    if not callable(step):
        raise TypeError(f"the login step of {kind!r} is not callable")
    return cast("Callable[[LoginStep], Response]", step)


@click.command()
@click.option("--user-id", required=True, help="Who logs in.")
@click.option("--method", "kind", required=True, help="The authenticator kind, e.g. codeviser.")
@click.option("--authenticator", "authenticator_id", help="Which one, when there are several.")
@click.option("--service-provider", default="Demo Service", show_default=True)
@click.option("--reference-text", default="Log on to Demo Service", show_default=True)
@click.option(
    "--action",
    type=click.Choice([a.value for a in Action], case_sensitive=False),
    default="LOG_ON",
    show_default=True,
    help="The reference text's header.",
)
@click.option(
    "--level",
    type=click.Choice(["low", "substantial", "high"]),
    default="substantial",
    show_default=True,
    help="The NSIS level the service asks for.",
)
@click.option("--code", type=CodeType(), help="The code (asked for when left out).")
@click.option("--password", help="The password (asked for when left out).")
@click.option("--press", is_flag=True, help="Let the emulated token press its own button.")
@click.option(
    "--mobile",
    is_flag=True,
    help="An app login started on the phone itself: no QR channel binding.",
)
@click.option(
    "--qr-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write the app login's QR frames as PNG files here.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_env
@user_errors
def login(
    env: Env,
    user_id: str,
    kind: str,
    authenticator_id: str | None,
    service_provider: str,
    reference_text: str,
    action: str,
    level: str,
    code: str | None,
    password: str | None,
    press: bool,
    mobile: bool,
    qr_dir: Path | None,
    as_json: bool,
) -> None:
    """Log in as a service provider would: challenge, the method's step, password, verdict.

    Exits 0 when the login succeeds, 1 when it is refused (the reason printed), 2 on a usage error.
    """
    plugin = registry.get(kind)
    run_step = step_for(kind)
    if run_step is None:
        raise UserError(f"`mitid-emu login` cannot drive a {kind} yet")
    if code is not None and press:
        raise UserError("give --code or --press, not both")
    if (mobile or qr_dir is not None) and kind != "app":
        raise UserError("--mobile and --qr-dir are for app logins (--method app)")
    if qr_dir is not None:
        try:
            qr_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"--qr-dir {qr_dir}: {exc.strerror or exc}") from None
    ref = ReferenceText.parse(reference_text, action)
    service = LoginService(env.store(), env.clock)
    try:
        challenge = service.begin(
            user_id,
            kind,
            service_provider=service_provider,
            reference_text=ref,
            authenticator_id=authenticator_id,
            level=Level(level),
            extra={"mobile": True} if mobile else None,
        )
    except ProtocolError as exc:
        if exc.code is ErrorCode.PARALLEL_SESSION:
            _refused_before(as_json, Reason.PARALLEL_SESSION.value, exc.message, user_id, kind)
        _refused_before(as_json, exc.code.value, exc.message, user_id, kind, usage=True)
    except CoreError as exc:
        _refused_before(as_json, exc.code.value, exc.message, user_id, kind, usage=True)
    eligible = service.pending(challenge.transaction_id).eligible
    chosen = ", ".join(eligible)
    step = LoginStep(env, service, challenge, eligible, code, press, as_json, qr_dir)
    step.say(f"Service provider: {challenge.service_provider}")
    step.say(f"Reference text:   [{ref.header.value}] {ref.body}")
    step.say(
        f"Transaction:      {challenge.transaction_id} (expires in "
        f"{challenge.expires_at - challenge.issued_at:.0f} s)"
    )
    step.say(f"User ID:          {user_id}, with {kind} {chosen}")
    try:
        with _terminate_as_exit():
            response = run_step(step)
    except BaseException:  # a device error, Ctrl-C, SIGTERM, a bad entry: no answer comes
        service.abandon(challenge.transaction_id)
        raise
    if plugin.needs_password and password is None:
        password = _ask_password(as_json)
    result = service.complete(challenge.transaction_id, response, password)
    _print_result(result, as_json)


EXIT_TERMINATED = 128 + signal.SIGTERM


@contextlib.contextmanager
def _terminate_as_exit() -> Iterator[None]:
    """While a login waits, SIGTERM unwinds it as Ctrl-C does, so the login is closed and
    does not hold up the person's next one."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(EXIT_TERMINATED)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _refused_before(
    as_json: bool,
    reason: str,
    detail: str,
    user_id: str,
    kind: str,
    *,
    usage: bool = False,
) -> NoReturn:
    """A login refused before it started: with --json still one JSON object on stdout."""
    if as_json:
        emit_json(
            {"ok": False, "reason": reason, "detail": detail, "user_id": user_id, "kind": kind}
        )
    if usage:
        raise UserError(detail)
    refuse(f"Login refused: {reason} ({detail})")


def _ask_password(as_json: bool) -> str:
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        if not line:
            raise UserError("give the password with --password (no terminal to ask at)")
        return line.rstrip("\n")
    return str(click.prompt("Password", hide_input=True, err=as_json))


def _print_result(result: LoginResult, as_json: bool) -> None:
    if as_json:
        emit_json(result.to_dict())
    if result.ok:
        assert result.level is not None
        if not as_json:
            click.echo(f"Login accepted: {result.identity.name} ({result.identity.uuid})")
            click.echo(f"amr:   {', '.join(result.amr)}")
            click.echo(f"level: {result.level.value} ({result.level.acr})")
            click.echo(f"loa:   {result.level.loa}")
        return
    detail = f" ({result.verdict.detail})" if result.verdict.detail else ""
    refuse(f"Login refused: {result.verdict.reason.value}{detail}")
