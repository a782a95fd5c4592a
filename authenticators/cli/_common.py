"""What every command shares: the state handle, the clock, errors as exit codes, JSON output."""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

import click

from authenticators.clock import Clock
from authenticators.digits import is_digits
from authenticators.protocol import ProtocolError
from authenticators.store import Store, StoreError

P = ParamSpec("P")
R = TypeVar("R")

EXIT_REFUSED = 1
EXIT_USAGE = 2


if TYPE_CHECKING:
    _ParamType = click.ParamType[str, Any]
else:  # not subscriptable at run time before click 8.2
    _ParamType = click.ParamType


class CodeType(_ParamType):
    """A code a person types (from a code token, the app's screen): ASCII digits 0-9 around
    optional spaces, exactly ``digits`` of them when given."""

    name = "code"

    def __init__(self, digits: int | None = None) -> None:
        self.digits = digits

    def __repr__(self) -> str:
        return f"CodeType({self.digits})"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        if not is_digits(text, self.digits):
            if self.digits is None:
                self.fail("a code is digits 0-9 only", param, ctx)
            self.fail(f"a code is exactly {self.digits} digits 0-9", param, ctx)
        return text


class UserError(click.UsageError):
    """A mistake by the person at the terminal: one line, exit code 2, no traceback."""

    exit_code = EXIT_USAGE

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


class Env:
    """The root group's context object: where state lives and which clock to use.

    The clock is by default the emulator's clock kept in the state, the one a login server on
    the same state uses (and moves, through its control API), so a code shown here is the code
    the server expects.
    """

    def __init__(self, state_dir: Path | None = None, clock: Clock | None = None) -> None:
        self.state_dir = state_dir
        self.clock: Clock = clock if clock is not None else EmulatorClock(self)
        self._store: Store | None = None

    def __repr__(self) -> str:
        return f"Env(state_dir={self.state_dir!r})"

    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.state_dir)
        return self._store


class EmulatorClock:
    """The emulator's clock of the state (real time, moved or frozen by a login server)."""

    def __init__(self, env: Env) -> None:
        self._env = env
        self._clock: Clock | None = None

    def __repr__(self) -> str:
        return "EmulatorClock()"

    def _state_clock(self) -> Clock:
        if self._clock is None:
            from authenticators.server.state_clock import StateClock

            self._clock = StateClock(self._env.store())
        return self._clock

    def now(self) -> float:
        return self._state_clock().now()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


pass_env = click.make_pass_decorator(Env, ensure=True)


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the library's error hierarchies into one-line messages with exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (ProtocolError, StoreError) as exc:
            raise UserError(exc.message) from None
        except _extra_errors() as exc:
            raise UserError(getattr(exc, "message", str(exc))) from None
        except OSError as exc:
            if exc.filename is None:
                raise
            # a path the person gave that the system will not take (too long, not a directory…)
            raise UserError(f"cannot use {exc.filename}: {exc.strerror or exc}") from None

    return wrapper


def refuse_if_linked(env: Env, kind: str, name: str) -> None:
    """A token an identity logs in with is not deleted from under it: say how to unlink it."""
    from authenticators.core.identities import IdentityRepository

    owner = IdentityRepository(env.store(), env.clock).owner(kind, name)
    if owner is not None:
        raise UserError(
            f"{kind} {name} belongs to {owner}; take it away first with "
            f"`mitid-emu identity remove-authenticator {owner} {kind} {name}`"
        )


def write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner may read (mode 0600), as the state and WAVs are."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)  # an existing file keeps its mode otherwise
            handle.write(data)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None


def _extra_errors() -> tuple[type[Exception], ...]:
    from authenticators.core.errors import CoreError

    return (CoreError,)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def refuse(message: str) -> NoReturn:
    """A refused verification or login: the reason on stderr, exit code 1."""
    click.echo(message, err=True)
    sys.exit(EXIT_REFUSED)
