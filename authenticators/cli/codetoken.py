"""``mitid-emu codeviser …``: the commands every code token kind shares, built once per kind."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

import click

from authenticators import registry
from authenticators.cli._common import (
    Env,
    UserError,
    emit_json,
    pass_env,
    refuse,
    refuse_if_linked,
    user_errors,
    write_private,
)
from authenticators.clock import Clock, FrozenClock
from authenticators.codeviser.device import CodeTokenHolder
from authenticators.codeviser.plugin import CodeTokenOptions, CodeTokenPlugin
from authenticators.codeviser.seeds import (
    SeedImport,
    parse_otpauth,
    read_pskc,
    seed_warning,
    to_otpauth,
    write_pskc,
)
from authenticators.codeviser.verifier import CheckResult
from authenticators.core.audit import AuditEvent, AuditLog
from authenticators.digits import is_digits
from authenticators.otp import Algorithm, OtpParams
from authenticators.protocol import Reason
from firmware_sim.otp_token import Display, seven_segment

AT_HELP = "Act as if the time were this Unix time (seconds), instead of now."


def code_plugin(kind: str) -> CodeTokenPlugin:
    plugin = registry.get(kind)
    assert isinstance(plugin, CodeTokenPlugin)
    return plugin


def clock_at(env: Env, at: float | None) -> Clock:
    if at is None:
        return env.clock
    if at < 0:
        raise UserError("--at must be a Unix time of 0 or later")
    return FrozenClock(at)


def show_display(kind: str, name: str, serial: str, display: Display, battery: int) -> None:
    assert display.code is not None
    click.echo(f"{kind} {name} (serial {serial})")
    click.echo(seven_segment(display.code))
    click.echo(
        f"Code {display.code}: valid for {display.seconds_left:.0f} s more; "
        f"the display blanks in {display.lit_for:.0f} s; battery {battery} presses"
    )


def code_token_group(kind: str, title: str) -> click.Group:
    """The ``new/import/export/code/verify/resync/list/delete`` group for one code token kind."""

    @click.group(name=kind, help=title)
    def group() -> None:
        pass

    @group.command("new")
    @click.option("--name", required=True, help="A name for the token (letters, digits, . _ -).")
    @click.option(
        "--algorithm",
        type=click.Choice([a.value for a in Algorithm], case_sensitive=False),
        default="SHA1",
        show_default=True,
    )
    @click.option("--digits", type=click.Choice(["6", "8"]), default="6", show_default=True)
    @click.option("--period", type=click.Choice(["30", "60"]), default="30", show_default=True)
    @click.option("--drift-ppm", type=float, default=0.0, help="Make the token's clock drift.")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    @pass_env
    @user_errors
    def new(
        env: Env,
        name: str,
        algorithm: str,
        digits: str,
        period: str,
        drift_ppm: float,
        as_json: bool,
    ) -> None:
        """Make a new token with a fresh random seed."""
        if abs(drift_ppm) > 1000:
            raise UserError("--drift-ppm must be between -1000 and 1000")
        plugin = code_plugin(kind)
        params = OtpParams(Algorithm.parse(algorithm), int(digits), int(period))
        wanted = CodeTokenOptions(name, params=params, drift_ppm=drift_ppm)
        plugin.enroll(env.store(), env.clock, wanted)
        record = plugin.tokens(env.store()).get(name)
        _report(
            as_json, record.summary(env.clock.now()), f"created {kind} {name} ({record.serial})"
        )

    @group.command("import")
    @click.argument("source")
    @click.option("--name", required=True, help="A name for the imported token.")
    @click.option("--password", help="Password of a protected PSKC file.")
    @click.option("--serial", help="Which key of a PSKC file holding several.")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    @pass_env
    @user_errors
    def import_(
        env: Env, source: str, name: str, password: str | None, serial: str | None, as_json: bool
    ) -> None:
        """Import a seed from an otpauth:// URI or a PSKC (RFC 6030) file."""
        plugin = code_plugin(kind)
        seed = _read_source(source, password, serial)
        record = plugin.create(env.store(), env.clock, name=name, source=seed)
        warning = seed_warning(record.seed)
        if warning is not None:
            click.echo(warning, err=True)
        _report(
            as_json, record.summary(env.clock.now()), f"imported {kind} {name} ({record.serial})"
        )

    @group.command("export")
    @click.argument("name")
    @click.option("--uri", "as_uri", is_flag=True, help="Print the seed as an otpauth:// URI.")
    @click.option(
        "--pskc",
        "pskc_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write a PSKC file.",
    )
    @click.option("--password", help="Encrypt the PSKC file's secrets with this password.")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    @pass_env
    @user_errors
    def export(
        env: Env,
        name: str,
        as_uri: bool,
        pskc_file: Path | None,
        password: str | None,
        as_json: bool,
    ) -> None:
        """Export a token's seed (it is a secret: handle the output with care)."""
        if as_uri == (pskc_file is not None):
            raise UserError("give exactly one of --uri or --pskc FILE")
        if password is not None and pskc_file is None:
            raise UserError("--password goes with --pskc")
        record = code_plugin(kind).tokens(env.store()).get(name)
        if as_uri:
            uri = to_otpauth(record.seed, record.params, name, "MitID", record.serial)
            _report(as_json, {"name": name, "uri": uri}, uri)
            return
        assert pskc_file is not None
        data = write_pskc([SeedImport(record.seed, record.params, record.serial, name)], password)
        write_private(pskc_file, data)
        _report(as_json, {"name": name, "pskc": str(pskc_file)}, f"wrote {pskc_file}")

    @group.command("code")
    @click.argument("name")
    @click.option("--at", type=float, help=AT_HELP)
    @click.option("--watch", is_flag=True, help="Keep pressing and showing codes until Ctrl-C.")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    @pass_env
    @user_errors
    def code(env: Env, name: str, at: float | None, watch: bool, as_json: bool) -> None:
        """Press the button and show the code, as the display draws it."""
        plugin = code_plugin(kind)
        clock = clock_at(env, at)
        holder = plugin.authenticator(env.store(), name, clock)
        if watch:
            _watch(holder, kind, name, clock, as_json)
            return
        _show_press(holder, kind, name, as_json)

    @group.command("verify")
    @click.argument("name")
    @click.argument("code")
    @click.option("--at", type=float, help=AT_HELP)
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    @pass_env
    @user_errors
    def verify(env: Env, name: str, code: str, at: float | None, as_json: bool) -> None:
        """Check a code (exit 0 accepted, 1 refused with the reason, 2 usage error)."""
        plugin = code_plugin(kind)
        digits = plugin.tokens(env.store()).get(name).params.digits
        if not is_digits(code, digits):
            raise UserError(
                f"a {kind} code is exactly {digits} digits 0-9; got {len(code)} characters"
            )
        now = clock_at(env, at).now()
        result = plugin.verify_code(env.store(), name, code, now)
        _audit(env, "code_verified", kind, name, result, now)
        _verdict(result, as_json, name)

    @group.command("resync")
    @click.argument("name")
    @click.argument("code1")
    @click.argument("code2")
    @click.option("--at", type=float, help=AT_HELP)
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    @pass_env
    @user_errors
    def resync(
        env: Env, name: str, code1: str, code2: str, at: float | None, as_json: bool
    ) -> None:
        """Find a drifted token again from two consecutive codes."""
        plugin = code_plugin(kind)
        digits = plugin.tokens(env.store()).get(name).params.digits
        for given in (code1, code2):
            if not is_digits(given, digits):
                raise UserError(f"a {kind} code is exactly {digits} digits 0-9")
        now = clock_at(env, at).now()
        result = plugin.resync(env.store(), name, code1, code2, now)
        _audit(env, "token_resynced", kind, name, result, now)
        _verdict(result, as_json, name)

    @group.command("list")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    @pass_env
    @user_errors
    def list_(env: Env, as_json: bool) -> None:
        """List the tokens of this kind."""
        now = env.clock.now()
        records = code_plugin(kind).tokens(env.store()).list()
        if as_json:
            emit_json([r.summary(now) for r in records])
            return
        if not records:
            click.echo(f"no {kind} tokens yet; make one with `mitid-emu {kind} new --name NAME`")
        for r in records:
            blocked = " (blocked)" if r.state.locked(now) else ""
            click.echo(
                f"{r.name}\t{r.serial}\t{r.params.algorithm.value}/{r.params.digits}/"
                f"{r.params.period}s{blocked}"
            )

    @group.command("delete")
    @click.argument("name")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    @pass_env
    @user_errors
    def delete(env: Env, name: str, as_json: bool) -> None:
        """Delete a token (its seed is gone for good); not while an identity uses it."""
        store = env.store()
        with store.transaction():
            refuse_if_linked(env, kind, name)
            code_plugin(kind).tokens(store).delete(name)
        _report(as_json, {"deleted": name}, f"deleted {kind} {name}")

    return group


def _read_source(source: str, password: str | None, serial: str | None) -> SeedImport:
    if source.startswith("otpauth:"):
        if password is not None or serial is not None:
            raise UserError("--password and --serial are for PSKC files, not URIs")
        return parse_otpauth(source)
    path = Path(source)
    if not path.is_file():
        raise UserError(f"{source!r} is neither an otpauth:// URI nor a readable PSKC file")
    seeds = read_pskc(path, password)
    if serial is not None:
        chosen = [s for s in seeds if s.serial == serial]
        if not chosen:
            known = ", ".join(s.serial or "?" for s in seeds)
            raise UserError(f"no key with serial {serial!r} in {source}; it holds: {known}")
        return chosen[0]
    if len(seeds) > 1:
        known = ", ".join(s.serial or "?" for s in seeds)
        raise UserError(f"{source} holds {len(seeds)} keys ({known}); pick one with --serial")
    return seeds[0]


def _show_press(holder: CodeTokenHolder, kind: str, name: str, as_json: bool) -> None:
    _print_display(holder, kind, name, holder.press(), as_json)


def _watch(holder: CodeTokenHolder, kind: str, name: str, clock: Clock, as_json: bool) -> None:
    """Redraw whenever the code changes, pressing again when the display blanks or goes stale."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    shown: str | None = None
    try:
        while True:
            display = holder.look()
            if display.blank or holder.stale():
                display = holder.press()
            if display.code != shown:
                _print_display(holder, kind, name, display, as_json)
                shown = display.code
            clock.sleep(1.0)
    except KeyboardInterrupt:
        return


def _print_display(
    holder: CodeTokenHolder, kind: str, name: str, display: Display, as_json: bool
) -> None:
    record = holder.tokens.get(name)
    battery = int(record.hardware.get("battery", 0))
    if as_json:
        emit_json(
            {
                "name": name,
                "serial": record.serial,
                "code": display.code,
                "seconds_left": round(display.seconds_left, 3),
                "display_lit_for": round(display.lit_for, 3),
                "battery": battery,
            }
        )
    else:
        show_display(kind, name, record.serial, display, battery)
        sys.stdout.flush()


def _report(as_json: bool, data: dict[str, Any], text: str) -> None:
    if as_json:
        emit_json(data)
    else:
        click.echo(text)


def _audit(env: Env, event: str, kind: str, name: str, result: CheckResult, now: float) -> None:
    AuditLog(env.store()).record(
        AuditEvent(now, event, None, kind, name, None, result.reason.value, None, result.detail)
    )


def _verdict(result: CheckResult, as_json: bool, name: str) -> None:
    ok = result.reason is Reason.OK
    if as_json:
        emit_json(
            {
                "name": name,
                "ok": ok,
                "reason": result.reason.value,
                "detail": result.detail,
                "step": result.step,
            }
        )
    elif ok:
        click.echo(f"accepted ({result.detail})" if result.detail else "accepted")
    if not ok:
        refuse(f"refused: {result.reason.value}" + (f" ({result.detail})" if result.detail else ""))


codeviser = code_token_group("codeviser", "Code display (kodeviser): a time-based code token.")
