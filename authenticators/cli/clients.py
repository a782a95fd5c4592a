"""``mitid-emu clients``: the OIDC clients (services) the login server knows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from authenticators.cli._common import Env, UserError, emit_json, pass_env, user_errors

if TYPE_CHECKING:
    from authenticators.server.clients import ClientRegistry


def _registry(env: Env) -> ClientRegistry:
    from authenticators.server.clients import ClientRegistry

    return ClientRegistry(env.store(), env.clock)


@click.group()
def clients() -> None:
    """OIDC clients of the login server: add, list, remove."""


@clients.command("add")
@click.argument("client_id")
@click.option(
    "--redirect-uri",
    "redirect_uris",
    multiple=True,
    required=True,
    help="An allowed redirect URI, matched exactly (repeat for more).",
)
@click.option("--public", is_flag=True, help="A public client: no secret, PKCE required.")
@click.option("--secret", help="The client secret (default: a random one, printed once).")
@click.option("--name", help="The name the login pages show (default: the client ID).")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    help="An allowed scope (repeat; default: openid profile ssn mitid_erhverv).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_env
@user_errors
def add(
    env: Env,
    client_id: str,
    redirect_uris: tuple[str, ...],
    public: bool,
    secret: str | None,
    name: str | None,
    scopes: tuple[str, ...],
    as_json: bool,
) -> None:
    """Register a client; a confidential client's secret is printed once."""
    from authenticators.server.clients import ClientError

    try:
        client, made = _registry(env).add(
            client_id,
            redirect_uris,
            name=name,
            public=public,
            secret=secret,
            scopes=scopes or None,
        )
    except ClientError as exc:
        raise UserError(exc.message) from None
    data = client.to_dict()
    if made is not None and secret is None:
        data["client_secret"] = made
    if as_json:
        emit_json(data)
        return
    kind = "public (PKCE)" if client.public else "confidential"
    click.echo(f"added {kind} client {client.client_id}")
    if "client_secret" in data:
        click.echo(f"client secret: {data['client_secret']}")


@clients.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_env
@user_errors
def list_(env: Env, as_json: bool) -> None:
    """List the clients (never their secrets)."""
    found = _registry(env).list()
    if as_json:
        emit_json([c.to_dict() for c in found])
        return
    if not found:
        click.echo("no clients yet; add one with `mitid-emu clients add ID --redirect-uri URI`")
    for client in found:
        kind = "public" if client.public else "confidential"
        click.echo(f"{client.client_id}\t{kind}\t{' '.join(client.redirect_uris)}")


@clients.command("remove")
@click.argument("client_id")
@pass_env
@user_errors
def remove(env: Env, client_id: str) -> None:
    """Remove a client; its codes and tokens stop working."""
    from authenticators.server.clients import ClientError

    try:
        _registry(env).remove(client_id)
    except ClientError as exc:
        raise UserError(exc.message) from None
    click.echo(f"removed client {client_id}")
