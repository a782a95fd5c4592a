"""Every command answers --help, and the tree holds the commands the README promises."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from authenticators.cli import cli


def walk(
    group: click.Group, ctx: click.Context, prefix: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    found = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        path = (*prefix, name)
        found.append(path)
        if isinstance(command, click.Group):
            found.extend(walk(command, ctx, path))
    return found


COMMANDS = walk(cli, click.Context(cli))


def test_the_tree_has_the_foundation_commands() -> None:
    for path in [
        ("identity", "create"),
        ("identity", "add-authenticator"),
        ("login",),
        ("codeviser", "new"),
        ("codeviser", "import"),
        ("codeviser", "export"),
        ("codeviser", "code"),
        ("codeviser", "verify"),
        ("codeviser", "resync"),
        ("codeviser", "list"),
        ("codeviser", "delete"),
    ]:
        assert path in COMMANDS


@pytest.mark.parametrize("path", [(), *COMMANDS], ids=lambda p: " ".join(p) or "mitid-emu")
def test_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="mitid-emu")
    assert result.exit_code == 0, result.output
    assert "Usage: mitid-emu" in result.output
    assert "Show this message and exit." in result.output
