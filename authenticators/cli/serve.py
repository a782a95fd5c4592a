"""``mitid-emu serve``: the local login server (OIDC provider, login pages, control API)."""

from __future__ import annotations

import ipaddress
import os
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from authenticators.cli._common import Env, UserError, pass_env, user_errors

if TYPE_CHECKING:
    from authenticators.server.clients import OIDCClient
    from authenticators.server.config import ServerConfig


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (0.0.0.0: every interface, as in a container; warns).",
)
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
@click.option(
    "--issuer",
    metavar="URL",
    help="The externally visible issuer URL, when not http://HOST:PORT (e.g. http://mitid:8080).",
)
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
    "--broker-option",
    "broker_options",
    multiple=True,
    metavar="DIALECT.NAME=VALUE",
    help="A broker dialect's choice where its broker's documentation is not definite "
    "(e.g. idura.unknown_login_hint=refuse; see the README).",
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
    broker_options: tuple[str, ...],
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

    if not _loopback(host):
        click.echo(
            f"warning: listening on {host}, reachable from other machines; this is an emulator "
            "for tests, where anyone who reaches it logs in as any test identity",
            err=True,
        )
    if issuer is not None and not _issuer_ok(issuer):
        raise UserError(f"--issuer {issuer!r} is not a URL like http://mitid:8080")
    if admin_token is not None and len(admin_token) < 16:
        raise UserError("--admin-token needs at least 16 characters")
    _check_broker_options(broker_options)
    if clients_file is not None and not clients_file.is_file():
        raise UserError(f"--clients {clients_file}: no such file")
    try:
        if port == 0:
            port = free_port(host)
        check_port(host, port)
    except PortInUse:
        raise UserError(
            f"port {port} on {host} is in use; stop what listens there, "
            "or pick another with --port (--port 0 takes a free one)"
        ) from None
    except OSError as exc:
        raise UserError(f"cannot listen on {host}: {exc.strerror or exc}") from None
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
        broker_options=broker_options,
        nemlogin_entity_id=nemlogin_entity_id or "",
    )
    from authenticators.server.app import prepare_state
    from authenticators.server.start import EXAMPLE_CLIENT, EXAMPLE_REDIRECTS

    try:
        token = prepare_state(config, store)
        registry = ClientRegistry(store, env.clock)
        if not registry.list():
            registry.add(EXAMPLE_CLIENT, EXAMPLE_REDIRECTS, name="Example client", public=True)
        clients = registry.list()
    except ClientError as exc:
        raise UserError(exc.message) from None
    count = workers or os.cpu_count() or 1
    banner = _banner(config, count, token, str(store.directory), clients)
    threading.Thread(target=_announce, args=(config, banner), daemon=True).start()
    try:
        run(replace(config, admin_token=None), count)
    except WorkerFailed as exc:
        raise UserError(str(exc)) from None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _issuer_ok(issuer: str) -> bool:
    parts = urlsplit(issuer)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and not parts.query
        and not parts.fragment
    )


def _banner(
    config: ServerConfig, count: int, token: str, state: str, clients: list[OIDCClient]
) -> list[str]:
    """What to use, every URL ready to open as printed; the issuers from the one list."""
    from authenticators.server.start import LOGIN_PATH, issuers

    base = config.issuer_url
    lines = [
        f"MitID emulator login server: {base}  ({count} worker{'s' * (count > 1)})",
        f"  start page:  {base}/",
    ]
    for issuer in issuers(config):
        lines.append(f"  {issuer.label + ':':<12} {issuer.url}  ({issuer.title})")
    lines += [
        f"  control API: {base}/emulator/openapi.json",
        f"  admin token: {token}",
        f"  state:       {state}",
    ]
    for client in clients[:5]:
        kind = "public, PKCE" if client.public else "confidential"
        lines.append(
            f"  client:      {client.client_id} ({kind}) -> {', '.join(client.redirect_uris)}"
        )
    if any(client.public for client in clients):
        lines.append(f"  log in:      {base}{LOGIN_PATH}  (as the example client, in a browser)")
    lines.append("Press Ctrl-C to stop.")
    return lines


def _announce(config: ServerConfig, banner: list[str], timeout: float = 60.0) -> None:
    """Print the banner once the server answers: its URLs work from the moment they show."""
    import httpx

    host = "127.0.0.1" if config.host in ("0.0.0.0", "") else config.host  # noqa: S104
    host = "::1" if host == "::" else host
    url = f"http://{f'[{host}]' if ':' in host else host}:{config.port}/health"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    else:
        return
    click.echo("\n".join(banner))
    sys.stdout.flush()


def _check_broker_options(given: tuple[str, ...]) -> None:
    from authenticators.server.brokers import mounts
    from authenticators.server.brokers.base import parse_options

    try:
        parse_options(given, mounts())
    except ValueError as exc:
        raise UserError(f"--broker-option: {exc}") from None


def _origins(given: tuple[str, ...]) -> tuple[str, ...]:
    from authenticators.server.oidc.cors import origin_of

    origins = []
    for value in given:
        origin = origin_of(value)
        if origin is None or origin != value.rstrip("/").lower():
            raise UserError(f"--cors-origin {value!r} is not an origin like https://app.example")
        origins.append(origin)
    return tuple(origins)
