"""``mitid-emu chip``: the simulated FIDO security key."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from authenticators.cli._common import Env, UserError, pass_env, user_errors


@click.group()
def chip() -> None:
    """The USB chip: a simulated CTAP 2.1 security key."""


@chip.command()
@click.option(
    "--udp",
    "port",
    type=click.IntRange(1, 65535),
    default=8111,
    show_default=True,
    help="UDP port the token listens on (127.0.0.1).",
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
@pass_env
@user_errors
def serve(env: Env, port: int, reply_port: int, presence: str) -> None:
    """Run a simulated chip over UDP (SoloKeys simulator convention) until stopped.

    State (keys, PIN, credentials, signature counter) lives in --state and survives restarts.
    """
    from firmware_sim.chip import ChipDevice, StoreBackend, parse_policy
    from firmware_sim.udp import UdpServer

    try:
        policy = parse_policy(presence)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    store = env.store()
    device = ChipDevice(backend=StoreBackend(store), clock=env.clock, presence=policy)
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
        f"(presence {policy.spec}); Ctrl-C to stop"
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
