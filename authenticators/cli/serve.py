"""``mitid-emu serve``: the local login server (OIDC provider, login pages, control API)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode

import click

from authenticators.cli._common import Env, UserError, pass_env, user_errors

EXAMPLE_CLIENT = "example"
EXAMPLE_REDIRECTS = ("http://127.0.0.1:8000/callback", "http://localhost:8000/callback")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0: pick a free one).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="Worker processes sharing the state (default: one per core).",
)
@click.option("--issuer", help="The issuer URL, when not http://HOST:PORT.")
@click.option(
    "--admin-token",
    envvar="MITID_EMU_ADMIN_TOKEN",
    help="The control API's bearer token (default: kept in the state).",
)
@click.option(
    "--clients",
    "clients_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A TOML or JSON file of OIDC clients to register at start.",
)
@click.option(
    "--level",
    "default_level",
    default="substantial",
    show_default=True,
    type=click.Choice(["low", "substantial", "high", "business"]),
    help="The level asked for when a client sends no acr_values.",
)
@click.option(
    "--oidc-clock",
    default="real",
    show_default=True,
    type=click.Choice(["real", "emulator"]),
    help="What token, code and session times follow: real time, or the emulator's clock.",
)
@click.option(
    "--cors-origin",
    "cors_origins",
    multiple=True,
    metavar="ORIGIN",
    help="Also let pages on ORIGIN (scheme://host[:port]) call the OIDC endpoints; "
    "clients' redirect URI origins always may.",
)
@click.option(
    "--nemlogin-entity-id",
    metavar="URI",
    help="The NemLog-in (SAML) IdP's entityID (default: the issuer URL + /nemlogin).",
)
@pass_env
@user_errors
def serve(
    env: Env,
    host: str,
    port: int,
    workers: int | None,
    issuer: str | None,
    admin_token: str | None,
    clients_file: Path | None,
    default_level: str,
    oidc_clock: str,
    cors_origins: tuple[str, ...],
    nemlogin_entity_id: str | None,
) -> None:
    """Run the login server until Ctrl-C: a local MitID broker for OIDC clients.

    It prints its issuer URL, an example client and the admin token of the emulator control API
    (under /emulator/, described by /emulator/openapi.json).
    """
    from authenticators.server.clients import ClientError, ClientRegistry
    from authenticators.server.config import ServerConfig
    from authenticators.server.runner import PortInUse, WorkerFailed, check_port, free_port
    from authenticators.server.runner import serve as run

    if host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("127."):
        raise UserError(
            f"the emulator listens on loopback only; {host!r} is not a loopback address"
        )
    if admin_token is not None and len(admin_token) < 16:
        raise UserError("--admin-token needs at least 16 characters")
    if clients_file is not None and not clients_file.is_file():
        raise UserError(f"--clients {clients_file}: no such file")
    if port == 0:
        port = free_port(host)
    try:
        check_port(host, port)
    except PortInUse:
        raise UserError(
            f"port {port} on {host} is in use; stop what listens there, "
            "or pick another with --port (--port 0 takes a free one)"
        ) from None
    store = env.store()
    config = ServerConfig(
        state_dir=str(store.directory),
        host=host,
        port=port,
        issuer=issuer or "",
        admin_token=admin_token,
        clients_file=str(clients_file.resolve()) if clients_file else None,
        default_level=default_level,
        oidc_clock=oidc_clock,
        cors_origins=_origins(cors_origins),
        nemlogin_entity_id=nemlogin_entity_id or "",
    )
    from authenticators.server.app import prepare_state

    try:
        token = prepare_state(config, store)
        registry = ClientRegistry(store, env.clock)
        if not registry.list():
            registry.add(EXAMPLE_CLIENT, EXAMPLE_REDIRECTS, name="Example client", public=True)
        clients = registry.list()
    except ClientError as exc:
        raise UserError(exc.message) from None
    count = workers or os.cpu_count() or 1
    issuer_url = config.issuer_url
    click.echo(f"MitID emulator login server: {issuer_url}  ({count} worker{'s' * (count > 1)})")
    click.echo(f"  discovery:   {issuer_url}/.well-known/openid-configuration")
    click.echo(
        f"  control API: {issuer_url}/emulator/  (OpenAPI: {issuer_url}/emulator/openapi.json)"
    )
    click.echo(f"  admin token: {token}")
    click.echo(f"  state:       {store.directory}")
    for client in clients[:5]:
        kind = "public, PKCE" if client.public else "confidential"
        click.echo(
            f"  client:      {client.client_id} ({kind}) -> {', '.join(client.redirect_uris)}"
        )
    example = clients[0]
    query = urlencode(
        {
            "response_type": "code",
            "client_id": example.client_id,
            "redirect_uri": example.redirect_uris[0],
            "scope": "openid",
            "state": "STATE",
            "nonce": "NONCE",
            "code_challenge": "CHALLENGE",
            "code_challenge_method": "S256",
        }
    )
    click.echo(f"  e.g.         {issuer_url}/authorize?{query}")
    from authenticators.server.brokers.control import issuers

    for broker in issuers(issuer_url):
        click.echo(f"  broker:      {broker['issuer']}  ({broker['title']})")
    nemlogin_id = config.nemlogin_entity_id or f"{issuer_url}/nemlogin"
    click.echo(f"  NemLog-in:   {issuer_url}/nemlogin/saml/metadata  (SAML IdP {nemlogin_id})")
    click.echo("Press Ctrl-C to stop.", nl=True)
    try:
        run(replace(config, admin_token=None), count)
    except WorkerFailed as exc:
        raise UserError(str(exc)) from None


def _origins(given: tuple[str, ...]) -> tuple[str, ...]:
    from authenticators.server.oidc.cors import origin_of

    origins = []
    for value in given:
        origin = origin_of(value)
        if origin is None or origin != value.rstrip("/").lower():
            raise UserError(f"--cors-origin {value!r} is not an origin like https://app.example")
        origins.append(origin)
    return tuple(origins)
