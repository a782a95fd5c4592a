"""The ``mitid-emu`` command line: thin, it calls the library and holds no logic."""

from __future__ import annotations

import errno
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from authenticators import __version__, registry
from authenticators.cli._common import Env, UserError
from authenticators.store import STATE_ENV

# name -> "module:attribute"; loaded only when the command runs or help lists it. Each kind's
# own group (`mitid-emu codeviser ...`) comes from the "authenticators.cli" entry points.
_COMMANDS = {
    "identity": "authenticators.cli.identity:identity",
    "login": "authenticators.cli.login:login",
    "audit": "authenticators.cli.audit:audit",
    "serve": "authenticators.cli.serve:serve",
    "keys": "authenticators.cli.keys:keys",
    "clients": "authenticators.cli.clients:clients",
    "nemlogin": "authenticators.cli.nemlogin:nemlogin",
    "passport": "authenticators.cli.passport:passport",
    "identification": "authenticators.cli.identification:identification",
}


class LazyGroup(click.Group):
    """Imports each subcommand's module on first use, so start-up stays fast as commands grow.

    Besides its own commands it offers one group per installed kind that registers one.
    """

    def __init__(self, *args: object, lazy: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = {*super().list_commands(ctx), *self._lazy, *registry.names(registry.CLI_GROUP)}
        return sorted(name for name in names if self.get_command(ctx, name) is not None)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._lazy:
            module_name, attr = self._lazy[cmd_name].split(":")
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                return None  # a command whose module this installation does not have
            command = getattr(module, attr)
            assert isinstance(command, click.Command)
            _accept_state(command)
            return command
        if cmd_name in registry.names(registry.CLI_GROUP):
            kind_command = registry.facet(registry.CLI_GROUP, cmd_name)
            if kind_command is None:
                return None
            if not isinstance(kind_command, click.Command):
                raise TypeError(f"the CLI entry point of {cmd_name!r} is not a click command")
            _accept_state(kind_command)
            return kind_command
        return super().get_command(ctx, cmd_name)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """As click's, but every error is one line, and Ctrl-C exits 130 ("interrupted"),
        apart from exit code 1, which means refused."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as exc:
            click.echo(f"Error: {_one_line(exc)}", err=True)
            sys.exit(exc.exit_code)
        except (click.Abort, KeyboardInterrupt):
            click.echo("interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


def _one_line(exc: click.ClickException) -> str:
    message = " ".join(exc.format_message().split())
    if isinstance(exc, click.UsageError) and not isinstance(exc, UserError) and exc.ctx:
        return f"{message} (see `{exc.ctx.command_path} --help`)"
    return message


def _set_state(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is None:
        return
    env = ctx.find_object(Env)
    if env is not None:
        env.state_dir = _state_path(ctx, param, value)


def _state_path(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    if value is None:
        return None
    if not value.strip():
        raise click.BadParameter("is empty; give a directory", ctx, param)
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise click.BadParameter(f"{value} is not a directory", ctx, param)
    return path


def _accept_state(command: click.Command) -> None:
    """Let ``--state DIR`` also follow the subcommand (``mitid-emu login … --state DIR``)."""
    if not any(param.name == "state_after" for param in command.params):
        command.params.append(
            click.Option(
                ["--state", "state_after"],
                expose_value=False,
                callback=_set_state,
                is_eager=True,
                hidden=True,
            )
        )
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _accept_state(sub)


@click.group(
    cls=LazyGroup, lazy=_COMMANDS, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option(
    "--state",
    "state_dir",
    envvar=STATE_ENV,
    callback=_state_path,
    help=f"Directory holding the emulator's state (default: the user data dir; ${STATE_ENV}); "
    "it may also follow the command.",
)
@click.version_option(__version__, prog_name="mitid-emu")
@click.pass_context
def cli(ctx: click.Context, state_dir: Path | None) -> None:
    """Emulate the MitID authenticators: code display, audio code reader, chip and app.

    Exit codes: 0 done, 1 refused (the reason printed), 2 usage error, 130 interrupted.
    """
    ctx.obj = Env(state_dir=state_dir)


def main() -> None:
    cli(prog_name="mitid-emu")
