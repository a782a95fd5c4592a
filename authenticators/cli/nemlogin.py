"""``mitid-emu nemlogin``: the SAML service providers the NemLog-in IdP knows."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from authenticators.cli._common import Env, UserError, emit_json, pass_env, user_errors

if TYPE_CHECKING:
    from authenticators.server.nemlogin.providers import ProviderRegistry

MAX_METADATA = 256 * 1024


def _registry(env: Env) -> ProviderRegistry:
    from authenticators.server.nemlogin.providers import ProviderRegistry

    return ProviderRegistry(env.store(), env.clock)


def _read(source: str) -> str:
    """The metadata from a file or an http(s) URL."""
    if source.startswith(("http://", "https://")):
        import httpx

        try:
            response = httpx.get(source, timeout=10.0, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise UserError(f"could not fetch {source}: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise UserError(f"could not fetch {source}: HTTP {response.status_code}")
        if len(response.content) > MAX_METADATA:
            raise UserError(f"the metadata at {source} is over {MAX_METADATA // 1024} KiB")
        return response.text
    path = Path(source)
    try:
        if path.stat().st_size > MAX_METADATA:
            raise UserError(f"{source} is over {MAX_METADATA // 1024} KiB")
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {source}: {getattr(exc, 'strerror', None) or exc}") from None


@click.group()
def nemlogin() -> None:
    """The NemLog-in (OIOSAML 3) IdP: its service providers."""


@nemlogin.group()
def sp() -> None:
    """SAML service providers: add from metadata, list, remove."""


@sp.command("add")
@click.argument("source")
@click.option("--name", help="The name the login pages show (default: from the metadata).")
@click.option(
    "--simulate", is_flag=True, help="Allow the no-UI test path for this SP (never in production)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_env
@user_errors
def add(env: Env, source: str, name: str | None, simulate: bool, as_json: bool) -> None:
    """Register (or replace) the SP whose metadata is in SOURCE, a file or a URL."""
    from authenticators.server.nemlogin.errors import SamlError

    xml = _read(source)
    try:
        found = _registry(env).add(xml, name=name, simulate=simulate)
    except SamlError as exc:
        raise UserError(exc.message) from None
    if as_json:
        emit_json(found.to_dict())
        return
    click.echo(f"added service provider {found.entity_id} ({found.name})")


@sp.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_env
@user_errors
def list_(env: Env, as_json: bool) -> None:
    """List the registered SPs."""
    found = _registry(env).list()
    if as_json:
        emit_json([s.to_dict() for s in found])
        return
    if not found:
        click.echo("no service providers yet; add one with `mitid-emu nemlogin sp add FILE|URL`")
    for item in found:
        acs = " ".join(e.location for e in item.acs)
        click.echo(f"{item.entity_id}\t{item.name}\t{acs}")


@sp.command("remove")
@click.argument("entity_id")
@pass_env
@user_errors
def remove(env: Env, entity_id: str) -> None:
    """Remove an SP: its AuthnRequests are refused from now on."""
    from authenticators.server.nemlogin.errors import SamlError

    try:
        _registry(env).remove(entity_id)
    except SamlError as exc:
        raise UserError(exc.message) from None
    click.echo(f"removed service provider {entity_id}")
