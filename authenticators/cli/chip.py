"""``mitid-emu chip``: security keys — the simulated chip and real ones — through the HAL.

Every command that talks to a token takes a device URI: ``sim:`` (the simulated chip whose
state lives in --state), ``sim:NAME`` (another one), ``udp://127.0.0.1:8111`` (``chip serve``
in another process), ``hid:auto`` or ``hid:/dev/hidrawN`` (a real key).
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import click

from authenticators.cli._common import (
    Env,
    UserError,
    emit_json,
    pass_env,
    refuse,
    refuse_if_linked,
    user_errors,
)

if TYPE_CHECKING:
    from authenticators.cli.login import LoginStep
    from authenticators.hal import HalDevice
    from authenticators.protocol import Response

P = ParamSpec("P")
R = TypeVar("R")

PIN_ENV = "MITID_EMU_CHIP_PIN"
DEVICE_HELP = "Device URI: sim:, sim:NAME, udp://127.0.0.1:8111, hid:auto or hid:PATH."


def device_errors(func: Callable[P, R]) -> Callable[P, R]:
    """HAL and token errors as one line naming the device, exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from authenticators.chip.errors import ChipHostError
        from authenticators.hal import HalError

        try:
            return func(*args, **kwargs)
        except (HalError, ChipHostError) as exc:
            raise UserError(exc.message) from None

    return wrapper


def _touch_prompt() -> None:
    click.echo("Touch your security key (it is blinking) …", err=True)


def _open(env: Env, uri: str) -> HalDevice:
    from authenticators.hal import open_device

    return open_device(uri, store=env.store(), clock=env.clock)


def _ask_pin(given: str | None, prompt: str = "PIN") -> str:
    """The PIN given on the line or in the environment, else typed at a terminal."""
    if given is not None:
        return given
    if not sys.stdin.isatty():
        raise UserError(f"give the PIN with --pin or ${PIN_ENV} (no terminal to ask at)")
    return str(click.prompt(prompt, hide_input=True, err=True))


pin_option = click.option(
    "--pin", envvar=PIN_ENV, help=f"The token's PIN (or ${PIN_ENV}; asked for at a terminal)."
)
device_option = click.option("--device", "uri", default="sim:", show_default=True, help=DEVICE_HELP)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group()
def chip() -> None:
    """The USB chip: FIDO security keys (simulated or real) through device URIs."""


@chip.command()
@click.option(
    "--udp",
    "port",
    type=click.IntRange(0, 65535),
    default=8111,
    show_default=True,
    help="UDP port the token listens on (127.0.0.1; 0 picks a free one).",
)
@click.option(
    "--reply-port",
    type=click.IntRange(1, 65535),
    default=7112,
    show_default=True,
    help="UDP port on 127.0.0.1 the token sends its answers to.",
)
@click.option(
    "--presence",
    default="always",
    show_default=True,
    help="Who touches the button: always, never, or delay:MS.",
)
@click.option(
    "--model",
    "model_name",
    default="mitid-chip",
    show_default=True,
    help="The key model: what getInfo reports and how the key behaves (see `chip list`).",
)
@click.option(
    "--strict-channels",
    is_flag=True,
    help="Spec-strict CTAPHID channels: only broadcast INIT opens one; a power cycle drops all.",
)
@pass_env
@user_errors
def serve(
    env: Env, port: int, reply_port: int, presence: str, model_name: str, strict_channels: bool
) -> None:
    """Run a simulated chip over UDP (SoloKeys simulator convention) until stopped.

    State (keys, PIN, credentials, signature counter) lives in --state and survives restarts.
    """
    from firmware_sim.chip import ChipDevice, StoreBackend, parse_policy
    from firmware_sim.chip.models import model_named
    from firmware_sim.udp import UdpServer

    try:
        policy = parse_policy(presence)
        model = model_named(model_name)
    except (ValueError, KeyError) as exc:
        raise UserError(str(exc.args[0])) from None
    store = env.store()
    device = ChipDevice(
        backend=StoreBackend(store),
        clock=env.clock,
        presence=policy,
        model=model,
        strict_channels=strict_channels,
    )
    server = UdpServer(device, port=port, reply_port=reply_port)
    try:
        server.start()
    except OSError as exc:
        device.close()
        raise UserError(f"cannot listen on udp://127.0.0.1:{port}: {exc.strerror}") from None

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    host, bound = server.address
    click.echo(
        f"chip listening on udp://{host}:{bound}, answering to udp://127.0.0.1:{reply_port} "
        f"(model {model.key}, presence {policy.spec}"
        + (", strict channels" if strict_channels else "")
        + "); Ctrl-C to stop"
    )
    try:
        while not stop.wait(0.2):
            pass
    finally:
        server.stop()
        device.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        click.echo("chip stopped; state saved")


@chip.command("list")
@click.option(
    "--udp-port",
    "udp_ports",
    type=click.IntRange(1, 65535),
    multiple=True,
    default=(8111,),
    show_default=True,
    help="UDP ports to look for running simulators on (repeatable).",
)
@click.option(
    "--reply-port",
    type=click.IntRange(1, 65535),
    default=7112,
    show_default=True,
    help="UDP port the simulators answer to.",
)
@json_option
@pass_env
@user_errors
@device_errors
def list_(env: Env, udp_ports: tuple[int, ...], reply_port: int, as_json: bool) -> None:
    """List HID FIDO tokens, simulated chips with state, and running UDP simulators; then the
    key models a simulated chip can be (`chip serve --model`, `sim:?model=`)."""
    from authenticators.hal import list_devices, simulator_models

    found, notes = list_devices(env.store(), udp_ports=udp_ports, reply_port=reply_port)
    models = simulator_models()
    if as_json:
        emit_json({"devices": [d.to_dict() for d in found], "notes": notes, "models": models})
        return
    if not found:
        click.echo("no tokens found; `mitid-emu chip info sim:` makes the simulated chip")
    for item in found:
        click.echo(f"{item.uri}\t{item.kind}\t{item.product or '-'}\t{item.serial or '-'}")
    click.echo("models:")
    for model in models:
        click.echo(f"  {model['name']:<12} {model['summary']}")
    for note in notes:
        click.echo(f"note: {note}", err=True)


@chip.command()
@click.argument("uri")
@json_option
@pass_env
@user_errors
@device_errors
def info(env: Env, uri: str, as_json: bool) -> None:
    """Show what the token at URI is and supports (CTAPHID, getInfo)."""
    from authenticators.chip.host import ChipHost

    with _open(env, uri) as device:
        host = ChipHost(device)
        described = device.describe()
        if host.supports_ctap2():
            i = host.info
            described.update(
                {
                    "versions": list(i.versions),
                    "aaguid": str(i.aaguid),
                    "extensions": list(i.extensions),
                    "options": dict(i.options),
                    "pin_uv_protocols": list(i.pin_uv_protocols),
                    "algorithms": [a.get("alg") for a in i.algorithms],
                    "max_msg_size": i.max_msg_size,
                    "min_pin_length": i.min_pin_length,
                    "remaining_discoverable_credentials": i.remaining_disc_creds,
                    "firmware_version": i.firmware_version,
                }
            )
        else:
            described["versions"] = ["U2F_V2"]
    if as_json:
        emit_json(described)
        return
    for key, value in described.items():
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value) or "-"
        elif isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
        click.echo(f"{key + ':':<36}{value}")


@chip.command()
@device_option
@click.option("--name", help="Name of the enrollment (default: the device URI).")
@click.option("--rp-id", default="mitid.dk", show_default=True, help="The relying party ID.")
@click.option("--user-id", help="Also give this identity the chip (identity add-authenticator).")
@click.option("--resident", is_flag=True, help="Make a discoverable (resident) credential.")
@click.option("--uv", is_flag=True, help="Require the PIN at every login (user verification).")
@pin_option
@json_option
@pass_env
@user_errors
@device_errors
def register(
    env: Env,
    uri: str,
    name: str | None,
    rp_id: str,
    user_id: str | None,
    resident: bool,
    uv: bool,
    pin: str | None,
    as_json: bool,
) -> None:
    """Register a credential on the token and enroll it for logins."""
    from authenticators.chip.enroll import enroll
    from authenticators.core.identities import IdentityRepository

    store = env.store()
    identities = IdentityRepository(store, env.clock)
    user_name = "mitid-user"
    handle = None
    if user_id is not None:
        identity = identities.get(user_id)  # fail before touching the token
        user_name, handle = identity.user_id, identity.uuid.encode()
    record = enroll(
        store,
        env.clock,
        uri=uri,
        name=name,
        rp_id=rp_id,
        user_name=user_name,
        user_handle=handle,
        pin=_ask_pin(pin) if uv else pin,
        resident=resident,
        uv=uv,
        on_touch_needed=_touch_prompt,
    )
    if user_id is not None:
        identities.add_authenticator(user_id, "chip", record.name)
    if as_json:
        emit_json({**record.to_dict(), "user_id": user_id})
        return
    att = record.attestation
    click.echo(f"enrolled chip {record.name} on {record.uri} for {record.rp_id}")
    click.echo(f"credential: {record.credential_id.hex()[:32]}…")
    click.echo(f"AAGUID:     {record.aaguid}")
    click.echo(f"attestation: {att['format']}, {att['status']} ({att['detail']})")
    if user_id is not None:
        click.echo(f"{user_id} can now log in with chip {record.name}")
    else:
        click.echo(
            f"link it with `mitid-emu identity add-authenticator USER_ID chip {record.name}`"
        )


@chip.command()
@click.argument("name")
@pin_option
@json_option
@pass_env
@user_errors
@device_errors
def authenticate(env: Env, name: str, pin: str | None, as_json: bool) -> None:
    """Sign in with enrolled chip NAME and verify the assertion (counter committed).

    Exits 0 when the assertion verifies, 1 when it is refused (e.g. counter_regression).
    """
    from authenticators.chip.plugin import plugin
    from authenticators.protocol import Challenge, ReferenceText, UserAction

    store = env.store()
    record = plugin.records(store).get(name)
    challenge = Challenge.issue(
        "chip", "mitid-emu chip authenticate", ReferenceText(), env.clock, 60.0
    )
    holder = plugin.authenticator(
        store,
        name,
        env.clock,
        pin=_ask_pin(pin) if record.uv_required else None,
        on_touch_needed=_touch_prompt,
    )
    response = holder.respond(challenge, UserAction.TOUCH)
    with store.transaction():
        enrollment = plugin.load(store, name)
        verdict = plugin.verifier().verify(enrollment, challenge, response, env.clock.now())
        plugin.save_state(store, enrollment, verdict)
    counter = verdict.state["sign_count"] if verdict.state else None
    if as_json:
        emit_json(
            {
                "name": name,
                "ok": verdict.ok,
                "reason": verdict.reason.value,
                "detail": verdict.detail,
                "sign_count": counter,
            }
        )
    if not verdict.ok:
        refuse(f"refused: {verdict.reason.value} ({verdict.detail})")
    if not as_json:
        click.echo(f"assertion from chip {name} verified; signature counter {counter}")


@chip.command()
@json_option
@pass_env
@user_errors
def enrolled(env: Env, as_json: bool) -> None:
    """List the enrolled chips (what logins check assertions against)."""
    from authenticators.chip.records import ChipRepository

    records = ChipRepository(env.store()).list()
    if as_json:
        emit_json([r.to_dict() for r in records])
        return
    if not records:
        click.echo("no chips enrolled; register one with `mitid-emu chip register --device sim:`")
    for r in records:
        click.echo(
            f"{r.name}\t{r.uri}\t{r.rp_id}\tcounter {r.sign_count}\t{r.attestation['status']}"
        )


@chip.command()
@click.argument("name")
@pass_env
@user_errors
def delete(env: Env, name: str) -> None:
    """Forget enrolled chip NAME (its credential stays on the token); not while it is in use."""
    from authenticators.chip.records import ChipRepository

    store = env.store()
    with store.transaction():
        refuse_if_linked(env, "chip", name)
        ChipRepository(store).delete(name)
    click.echo(f"forgot chip {name}")


@chip.command()
@device_option
@click.option("--yes", is_flag=True, help="Do not ask; wipe the token.")
@pass_env
@user_errors
@device_errors
def reset(env: Env, uri: str, yes: bool) -> None:
    """Factory-reset the token: every credential and the PIN are gone.

    A real key allows this only within 10 seconds of being plugged in, and asks for a touch.
    """
    from authenticators.chip.host import ChipHost

    if not yes:
        if not sys.stdin.isatty():
            raise UserError("add --yes to reset the token (no terminal to ask at)")
        click.confirm(f"Wipe every credential and the PIN on {uri}?", abort=True, err=True)
    with _open(env, uri) as device:
        ChipHost(device, _touch_prompt).reset()
    click.echo(f"{uri} reset: no credentials, no PIN")


@chip.group()
def pin() -> None:
    """Set or change the token's PIN."""


@pin.command("set")
@device_option
@click.option("--pin", "new_pin", envvar=PIN_ENV, help="The new PIN (asked for at a terminal).")
@pass_env
@user_errors
@device_errors
def pin_set(env: Env, uri: str, new_pin: str | None) -> None:
    """Set a PIN on a token that has none."""
    from authenticators.chip.host import ChipHost

    value = _ask_pin(new_pin, "New PIN")
    with _open(env, uri) as device:
        ChipHost(device).set_pin(value)
    click.echo(f"PIN set on {uri}")


@pin.command("change")
@device_option
@pin_option
@click.option("--new-pin", help="The new PIN (asked for at a terminal).")
@pass_env
@user_errors
@device_errors
def pin_change(env: Env, uri: str, pin: str | None, new_pin: str | None) -> None:
    """Change the token's PIN."""
    from authenticators.chip.host import ChipHost

    old = _ask_pin(pin, "Current PIN")
    new = _ask_pin(new_pin, "New PIN")
    with _open(env, uri) as device:
        ChipHost(device).change_pin(old, new)
    click.echo(f"PIN changed on {uri}")


@chip.group()
def creds() -> None:
    """The discoverable credentials stored on the token (needs the PIN)."""


@creds.command("list")
@device_option
@pin_option
@json_option
@pass_env
@user_errors
@device_errors
def creds_list(env: Env, uri: str, pin: str | None, as_json: bool) -> None:
    """List the discoverable credentials on the token."""
    from authenticators.chip.host import ChipHost

    value = _ask_pin(pin)
    with _open(env, uri) as device:
        found = ChipHost(device).credentials(value)
    if as_json:
        emit_json([c.to_dict() for c in found])
        return
    if not found:
        click.echo(f"no discoverable credentials on {uri}")
    for c in found:
        click.echo(f"{c.credential_id.hex()}\t{c.rp_id}\t{c.user_name or '-'}")


@creds.command("delete")
@click.argument("credential_id")
@device_option
@pin_option
@pass_env
@user_errors
@device_errors
def creds_delete(env: Env, credential_id: str, uri: str, pin: str | None) -> None:
    """Delete the discoverable credential CREDENTIAL_ID (hex, from `creds list`)."""
    from authenticators.chip.host import ChipHost

    try:
        raw_id = bytes.fromhex(credential_id)
    except ValueError:
        raise UserError(
            f"credential ID {credential_id!r} is not hex; copy it from `chip creds list`"
        ) from None
    value = _ask_pin(pin)
    with _open(env, uri) as device:
        ChipHost(device).delete_credential(value, raw_id)
    click.echo(f"deleted credential {credential_id[:16]}… from {uri}")


@chip.command()
@click.option("--device", "uri", help=DEVICE_HELP)
@click.option(
    "--each-model",
    is_flag=True,
    help="Instead of --device: a fresh simulated chip of every key model, each in a throw-away "
    "state, with the destructive checks; says which checks apply to each.",
)
@click.option(
    "--allow-reset",
    is_flag=True,
    help="Run the destructive checks too (reset, PIN, stored credentials): wipes the token.",
)
@click.option("--area", "areas", multiple=True, help="Only these areas (repeatable).")
@click.option(
    "--junit",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the results as JUnit XML to FILE.",
)
@json_option
@pass_env
@user_errors
@device_errors
def selftest(
    env: Env,
    uri: str | None,
    each_model: bool,
    allow_reset: bool,
    areas: tuple[str, ...],
    junit: Path | None,
    as_json: bool,
) -> None:
    """Run the QA battery against a token: CTAPHID, U2F, CTAP2, PIN, credential management,
    extensions and reset. Each check passes, fails or is skipped with its reason.

    Exits 0 when nothing failed, 1 when a check failed, 2 when the device cannot be used.
    """
    from authenticators.chip.selftest import AREAS, CheckResult, Outcome, run_selftest
    from authenticators.chip.selftest import junit as junit_xml

    unknown = [a for a in areas if a not in AREAS]
    if unknown:
        raise UserError(f"unknown area {unknown[0]!r}; areas: {', '.join(AREAS)}")
    marks = {Outcome.PASSED: "PASS", Outcome.FAILED: "FAIL", Outcome.SKIPPED: "SKIP"}

    def show(result: CheckResult) -> None:
        if not as_json:
            click.echo(f"{marks[result.outcome]}  {result.id:<36} {result.message}")

    if each_model == (uri is not None):
        raise UserError("give either --device URI or --each-model")
    if uri is None:
        _selftest_each_model(env, areas, junit, as_json)
        return
    with _open(env, uri) as device:
        if not as_json:
            click.echo(
                f"self-test of {uri} ({device.product or 'unnamed'})"
                + ("" if allow_reset else "; destructive checks skipped (--allow-reset)")
            )
        report = run_selftest(
            device,
            allow_reset=allow_reset,
            areas=areas,
            on_result=show,
            on_touch_needed=None if device.simulated else _touch_prompt,
        )
    if junit is not None:
        try:
            junit_xml.write(report, junit)
        except OSError as exc:
            raise UserError(f"cannot write {junit}: {exc.strerror}") from None
    if as_json:
        emit_json(report.to_dict())
    else:
        click.echo(report.summary())
        if junit is not None:
            click.echo(f"JUnit XML written to {junit}")
    if not report.ok:
        sys.exit(1)


def _selftest_each_model(
    env: Env, areas: tuple[str, ...], junit: Path | None, as_json: bool
) -> None:
    """The battery against a fresh simulated chip of each key model; skipped checks are the
    ones that do not apply to that model (its getInfo does not offer what they test)."""
    from authenticators.chip.selftest import Outcome, run_selftest
    from authenticators.hal import model_names, open_device
    from authenticators.store import Store

    if junit is not None:
        raise UserError("--junit goes with --device (one report per file)")
    reports = {}
    for name in model_names():
        with tempfile.TemporaryDirectory(prefix="mitid-selftest-") as state:
            store = Store(Path(state))
            try:
                with open_device(f"sim:selftest?model={name}", store=store, clock=env.clock) as dev:
                    report = run_selftest(dev, allow_reset=True, areas=areas)
            finally:
                store.close()
        reports[name] = report
        if not as_json:
            applies = len(report.results) - report.count(Outcome.SKIPPED)
            click.echo(
                f"{name:<12} {applies} checks apply: {report.count(Outcome.PASSED)} passed, "
                f"{report.count(Outcome.FAILED)} failed; {report.count(Outcome.SKIPPED)} "
                "do not apply"
            )
            for result in report.results:
                if result.outcome is Outcome.FAILED:
                    click.echo(f"  FAIL  {result.id:<36} {result.message}")
    if as_json:
        emit_json({"models": {name: r.to_dict() for name, r in reports.items()}})
    if not all(r.ok for r in reports.values()):
        sys.exit(1)


def login_step(step: LoginStep) -> Response:
    """``mitid-emu login --method chip``: the enrolled token signs the login's challenge."""
    from authenticators.chip.errors import ChipHostError
    from authenticators.chip.plugin import plugin
    from authenticators.hal import HalError
    from authenticators.protocol import UserAction

    store = step.env.store()
    record = plugin.records(store).get(step.authenticator_id)
    real = record.uri.startswith("hid:")
    if real:
        step.say(f"Touch your security key ({record.uri}) when it blinks.")
    else:
        step.say(f"Chip {record.name} on {record.uri} signs (its simulated button is pressed).")
    pin_value = _ask_pin(os.environ.get(PIN_ENV)) if record.uv_required else None
    holder = plugin.authenticator(
        store,
        record.name,
        step.env.clock,
        pin=pin_value,
        on_touch_needed=(lambda: step.say("… waiting for a touch")) if real else None,
    )
    try:
        return holder.respond(step.challenge, UserAction.TOUCH)
    except (HalError, ChipHostError) as exc:
        raise UserError(exc.message) from None
