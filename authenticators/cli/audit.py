"""``mitid-emu audit``: the trail of every login and verification attempt."""

from __future__ import annotations

import datetime as dt

import click

from authenticators.cli._common import Env, UserError, emit_json, pass_env, user_errors
from authenticators.core.audit import AuditLog


@click.command()
@click.option("--limit", type=int, default=50, show_default=True, help="How many of the latest.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_env
@user_errors
def audit(env: Env, limit: int, as_json: bool) -> None:
    """Show the latest attempts: who, how, the outcome and why (never a code or password)."""
    if not 1 <= limit <= 10_000:
        raise UserError("--limit must be between 1 and 10000")
    events = AuditLog(env.store()).recent(limit)
    if as_json:
        emit_json(events)
        return
    if not events:
        click.echo("no attempts recorded yet")
    for e in events:
        when = dt.datetime.fromtimestamp(e["at"], dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        who = e["user_id"] or "-"
        what = f"{e['kind'] or '-'} {e['authenticator_id'] or ''}".strip()
        outcome = e["reason"] or ""
        level = f" [{e['level']}]" if e["level"] else ""
        detail = f" ({e['detail']})" if e["detail"] else ""
        click.echo(f"{when}  {e['event']:<15} {who:<16} {what:<24} {outcome}{level}{detail}")
