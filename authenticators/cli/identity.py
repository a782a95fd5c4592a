"""``mitid-emu identity …``: the people who log in."""

from __future__ import annotations

import sys

import click

from authenticators.cli._common import Env, UserError, emit_json, pass_env, user_errors
from authenticators.core.identities import Identity, IdentityRepository


def _repo(env: Env) -> IdentityRepository:
    return IdentityRepository(env.store(), env.clock)


def _ask_password(given: str | None) -> str | None:
    """The given password, or one typed at a terminal; None when nobody is there to ask."""
    if given is not None:
        return given
    if not sys.stdin.isatty():
        return None
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


def _describe(identity: Identity) -> str:
    lines = [
        f"user ID:   {identity.user_id}",
        f"name:      {identity.name}",
        f"uuid:      {identity.uuid}",
        f"born:      {identity.birthdate or '-'}",
        f"CPR:       {'set' if identity.cpr else '-'}",
        f"password:  {'set' if identity.has_password else 'none'}",
    ]
    methods = ", ".join(f"{k} {i}" for k, i in identity.authenticators) or "none"
    lines.append(f"methods:   {methods}")
    return "\n".join(lines)


@click.group()
def identity() -> None:
    """Create and inspect identities (the people who log in)."""


@identity.command("create")
@click.option("--user-id", required=True, help="The MitID user ID the person types.")
@click.option("--name", required=True, help="The person's full name.")
@click.option("--password", help="Password (asked for at a terminal when left out).")
@click.option("--birthdate", help="Birth date, YYYY-MM-DD.")
@click.option("--cpr", help="A test CPR number, DDMMYY-SSSS.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_env
@user_errors
def create(
    env: Env,
    user_id: str,
    name: str,
    password: str | None,
    birthdate: str | None,
    cpr: str | None,
    as_json: bool,
) -> None:
    """Create an identity."""
    created = _repo(env).create(
        user_id, name, birthdate=birthdate, cpr=cpr, password=_ask_password(password)
    )
    if as_json:
        emit_json(created.to_dict())
    else:
        click.echo(f"created identity {created.user_id} ({created.uuid})")


@identity.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_env
@user_errors
def list_(env: Env, as_json: bool) -> None:
    """List identities."""
    found = _repo(env).list()
    if as_json:
        emit_json([i.to_dict() for i in found])
        return
    if not found:
        click.echo("no identities yet; create one with `mitid-emu identity create`")
    for i in found:
        methods = ", ".join(k for k, _ in i.authenticators) or "no methods"
        click.echo(f"{i.user_id}\t{i.name}\t{methods}")


@identity.command("show")
@click.argument("user_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (with the CPR number).")
@pass_env
@user_errors
def show(env: Env, user_id: str, as_json: bool) -> None:
    """Show one identity."""
    found = _repo(env).get(user_id)
    if as_json:
        emit_json(found.to_dict(with_cpr=True))
    else:
        click.echo(_describe(found))


@identity.command("delete")
@click.argument("user_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_env
@user_errors
def delete(env: Env, user_id: str, as_json: bool) -> None:
    """Delete an identity (its authenticators stay, unlinked)."""
    _repo(env).delete(user_id)
    if as_json:
        emit_json({"deleted": user_id})
    else:
        click.echo(f"deleted identity {user_id}")


@identity.command("password")
@click.argument("user_id")
@click.option("--password", help="The new password (asked for at a terminal when left out).")
@pass_env
@user_errors
def password(env: Env, user_id: str, password: str | None) -> None:
    """Set an identity's password."""
    new = _ask_password(password)
    if new is None:
        raise UserError("give the new password with --password (no terminal to ask at)")
    _repo(env).set_password(user_id, new)
    click.echo(f"password of {user_id} set")


@identity.command("add-authenticator")
@click.argument("user_id")
@click.argument("kind")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_env
@user_errors
def add_authenticator(env: Env, user_id: str, kind: str, name: str, as_json: bool) -> None:
    """Give an identity an authenticator of KIND named NAME."""
    if kind == "app":
        _check_app_active(env, name)
    _repo(env).add_authenticator(user_id, kind, name)
    if as_json:
        emit_json({"user_id": user_id, "kind": kind, "id": name})
    else:
        click.echo(f"{user_id} can now log in with {kind} {name}")


def _check_app_active(env: Env, app_id: str) -> None:
    """A removed (deactivated) app comes back through `app activate`, which links it again."""
    from authenticators import registry
    from authenticators.app.apps import AppStatus

    apps = getattr(registry.get("app"), "apps", None)
    if apps is None:
        return
    record = apps(env.store()).get(app_id)
    if record.status is AppStatus.DEACTIVATED:
        raise UserError(
            f"app {app_id} is deactivated; `mitid-emu app activate {app_id}` brings it back "
            "to its owner"
        )


@identity.command("remove-authenticator")
@click.argument("user_id")
@click.argument("kind")
@click.argument("name")
@pass_env
@user_errors
def remove_authenticator(env: Env, user_id: str, kind: str, name: str) -> None:
    """Take an authenticator away from an identity."""
    _repo(env).remove_authenticator(user_id, kind, name)
    click.echo(f"{user_id} no longer has {kind} {name}")
