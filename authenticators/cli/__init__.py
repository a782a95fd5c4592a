"""The ``mitid-emu`` command line: thin, it calls the library and holds no logic."""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from authenticators import __version__, registry
from authenticators.cli._common import Env
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
            return command
        if cmd_name in registry.names(registry.CLI_GROUP):
            kind_command = registry.facet(registry.CLI_GROUP, cmd_name)
            if kind_command is None:
                return None
            if not isinstance(kind_command, click.Command):
                raise TypeError(f"the CLI entry point of {cmd_name!r} is not a click command")
            return kind_command
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=LazyGroup, lazy=_COMMANDS, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option(
    "--state",
    "state_dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=STATE_ENV,
    help=f"Directory holding the emulator's state (default: the user data dir; ${STATE_ENV}).",
)
@click.version_option(__version__, prog_name="mitid-emu")
@click.pass_context
def cli(ctx: click.Context, state_dir: Path | None) -> None:
    """Emulate the MitID authenticators: code display, audio code reader, chip and app."""
    ctx.obj = Env(state_dir=state_dir)


def main() -> None:
    cli(prog_name="mitid-emu")
