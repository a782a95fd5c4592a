"""``mitid-emu keys``: the login server's ID token signing keys."""

from __future__ import annotations

import click

from authenticators.cli._common import Env, emit_json, pass_env, user_errors


@click.group()
def keys() -> None:
    """The login server's signing keys (RS256, kept in the state)."""


@keys.command("rotate")
@click.option(
    "--keep",
    "keep_seconds",
    type=click.FloatRange(0, 366 * 86400),
    default=3660.0,
    show_default=True,
    help="Keep the old key published this long (at least the token lifetime).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_env
@user_errors
def rotate(env: Env, keep_seconds: float, as_json: bool) -> None:
    """Make a new signing key; the old one stays in the JWKS until its tokens have expired.

    A running server picks the new key up within a few seconds.
    """
    from authenticators.server.keys import KeyStore

    store = KeyStore(env.store(), env.clock)
    store.ensure_active()
    kid = store.rotate(keep_published=keep_seconds)
    if as_json:
        emit_json({"active": kid, "keys": [k.to_dict() for k in store.list()]})
        return
    click.echo(f"new signing key {kid}; the old one stays published for {keep_seconds:.0f} s")


@keys.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_env
@user_errors
def list_(env: Env, as_json: bool) -> None:
    """List the signing keys and whether each is active or only published."""
    from authenticators.server.keys import KeyStore

    found = KeyStore(env.store(), env.clock).list()
    if as_json:
        emit_json([k.to_dict() for k in found])
        return
    if not found:
        click.echo("no signing keys yet; `mitid-emu serve` or `mitid-emu keys rotate` makes one")
    for key in found:
        state = "active" if key.active else f"published until {key.publish_until:.0f}"
        click.echo(f"{key.kid}\t{key.alg}\t{state}")
