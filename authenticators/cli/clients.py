"""``mitid-emu clients``: the OIDC clients (services) the login server knows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from authenticators.cli._common import Env, UserError, emit_json, pass_env, user_errors

if TYPE_CHECKING:
    from authenticators.server.clients import ClientRegistry, OIDCClient


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
@click.option(
    "--broker",
    help="Register the client at a broker dialect's issuer (idura, criipto, signaturgruppen, "
    "signicat, signicat-enterprise) instead of the generic one.",
)
@click.option("--simulate", is_flag=True, help="With --broker: the client may use the no-UI path.")
@click.option(
    "--long-claims",
    is_flag=True,
    help="With --broker idura: the long claim names (dk:gov:saml:attribute:…).",
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
    broker: str | None,
    simulate: bool,
    long_claims: bool,
    as_json: bool,
) -> None:
    """Register a client; a confidential client's secret is printed once."""
    from authenticators.server.clients import ClientError

    if broker is None and (simulate or long_claims):
        raise UserError("--simulate and --long-claims go with --broker NAME")
    try:
        client: OIDCClient
        if broker is None:
            client, made = _registry(env).add(
                client_id,
                redirect_uris,
                name=name,
                public=public,
                secret=secret,
                scopes=scopes or None,
            )
        else:
            client, made = _add_at_broker(
                env,
                broker,
                client_id,
                redirect_uris,
                name=name,
                public=public,
                secret=secret,
                scopes=scopes or None,
                simulate=simulate,
                long_claims=long_claims,
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
    where = f" at {broker}" if broker else ""
    click.echo(f"added {kind} client {client.client_id}{where}")
    if "client_secret" in data:
        click.echo(f"client secret: {data['client_secret']}")


def _broker_clients(env: Env, broker: str) -> tuple[str, list[OIDCClient]]:
    """The dialect's name for a mount name, and its clients."""
    from authenticators.server import brokers
    from authenticators.server.brokers.state import BrokerClients

    try:
        dialect = brokers.get(broker)
    except KeyError:
        known = ", ".join(brokers.mounts())
        raise UserError(f"unknown broker {broker!r}; known brokers: {known}") from None
    return dialect.name, list(BrokerClients(env.store(), env.clock).list(dialect.name))


def _add_at_broker(
    env: Env, broker: str, client_id: str, redirect_uris: tuple[str, ...], **options: Any
) -> tuple[OIDCClient, str | None]:
    from authenticators.server import brokers
    from authenticators.server.brokers.state import BrokerClients

    name, _ = _broker_clients(env, broker)
    dialect = brokers.get(name)
    return BrokerClients(env.store(), env.clock).add(
        dialect.name, client_id, redirect_uris, supported_scopes=dialect.scopes, **options
    )


@clients.command("list")
@click.option("--broker", help="List a broker dialect's clients instead (see `add --broker`).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_env
@user_errors
def list_(env: Env, broker: str | None, as_json: bool) -> None:
    """List the clients (never their secrets)."""
    found: list[OIDCClient] = (
        _registry(env).list() if broker is None else list(_broker_clients(env, broker)[1])
    )
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
@click.option("--broker", help="Remove a broker dialect's client.")
@pass_env
@user_errors
def remove(env: Env, client_id: str, broker: str | None) -> None:
    """Remove a client; its codes and tokens stop working."""
    from authenticators.server.clients import ClientError

    try:
        if broker is None:
            _registry(env).remove(client_id)
        else:
            name, _ = _broker_clients(env, broker)
            from authenticators.server.brokers.state import BrokerClients

            BrokerClients(env.store(), env.clock).remove(name, client_id)
    except ClientError as exc:
        raise UserError(exc.message) from None
    click.echo(f"removed client {client_id}")
