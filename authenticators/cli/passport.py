"""``mitid-emu passport …``: simulated passports (issue, list, read and check), and serving one to
PC/SC programs through vpcd."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import click

from authenticators.cli._common import Env, UserError, emit_json, pass_env, user_errors
from authenticators.passport.errors import PassportError
from authenticators.passport.sims import SimPassports

P = ParamSpec("P")
R = TypeVar("R")

JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def passport_errors(func: Callable[P, R]) -> Callable[P, R]:
    """The reader's and the simulator's errors as one line and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except PassportError as exc:
            raise UserError(exc.message) from None

    return wrapper


def sims(env: Env) -> SimPassports:
    return SimPassports(env.store(), env.clock)


def passport_uri(name_or_uri: str) -> str:
    """``NAME`` is the simulated passport of that name; a URI is taken as it is."""
    return name_or_uri if ":" in name_or_uri else f"passport:sim:{name_or_uri}"


def page_path(env: Env, name: str) -> Path:
    return env.store().directory / "passports" / f"{name}.png"


@click.group()
def passport() -> None:
    """Simulated ePassports (ICAO 9303): issue them, read and check their chips, serve them."""


@passport.command("new")
@click.option("--name", help="What to call it (default: given name and surname).")
@click.option("--surname", required=True)
@click.option("--given-names", required=True)
@click.option("--birth", required=True, help="Birth date, YYYY-MM-DD.")
@click.option("--nationality", default="DNK", show_default=True, help="ISO 3166 alpha-3.")
@click.option("--sex", type=click.Choice(["M", "F", "X"]), default="X", show_default=True)
@click.option(
    "--photo",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The holder's photo (PNG or JPEG; default: a synthetic face for the name).",
)
@click.option(
    "--aa",
    "active_authentication",
    type=click.Choice(["ecdsa", "rsa"]),
    default="ecdsa",
    show_default=True,
    help="Active Authentication: ECDSA P-256, or RSA 2048 with ISO/IEC 9796-2 signatures.",
)
@click.option("--expired", is_flag=True, help="A passport past its expiry date.")
@click.option("--clone", is_flag=True, help="Its files on a chip without the issuer's keys.")
@click.option("--tampered", is_flag=True, help="DG1 changed after EF.SOD was signed.")
@click.option("--expired-signer", is_flag=True, help="Signed by an expired document signer.")
@click.option("--page", type=click.Path(dir_okay=False, path_type=Path), help="Data page PNG.")
@JSON_OPTION
@pass_env
@user_errors
@passport_errors
def new(
    env: Env,
    name: str | None,
    surname: str,
    given_names: str,
    birth: str,
    nationality: str,
    sex: str,
    photo: Path | None,
    active_authentication: str,
    expired: bool,
    clone: bool,
    tampered: bool,
    expired_signer: bool,
    page: Path | None,
    as_json: bool,
) -> None:
    """Issue a passport: chip with BAC, PACE, AA, CA and a signed EF.SOD, and its data page."""
    from firmware_sim.passport import datapage, faces

    try:
        born = dt.date.fromisoformat(birth)
    except ValueError:
        raise UserError(f"invalid birth date {birth!r}: use YYYY-MM-DD") from None
    chosen = name or "-".join(f"{given_names.split()[0]} {surname}".lower().split())
    image = photo.read_bytes() if photo else faces.face(f"{given_names} {surname} {birth}")
    made = sims(env).new(
        chosen,
        surname=surname,
        given_names=given_names,
        birth=born,
        nationality=nationality,
        sex="<" if sex == "X" else sex,
        photo=image,
        expired=expired,
        clone=clone,
        tampered=tampered,
        expired_signer=expired_signer,
        active_authentication=active_authentication,
    )
    target = page or page_path(env, made.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(datapage.render(made.passport))
    if as_json:
        emit_json({**made.summary(), "page": str(target)})
        return
    click.echo(f"issued passport {made.name} ({made.passport.document_number})")
    click.echo(f"chip: {made.summary()['uri']}")
    click.echo(f"data page: {target}")
    for line in made.passport.mrz:
        click.echo(line)


@passport.command("list")
@JSON_OPTION
@pass_env
@user_errors
def list_(env: Env, as_json: bool) -> None:
    """List simulated passports."""
    rows = [p.summary() for p in sims(env).list()]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("no passports; make one with `mitid-emu passport new`")
    for row in rows:
        flags = f" [{', '.join(row['flags'])}]" if row["flags"] else ""
        click.echo(
            f"{row['name']}  {row['given_names']} {row['surname']}  {row['issuing_state']} "
            f"until {row['expiry']}{flags}"
        )


@passport.command("show")
@click.argument("name")
@JSON_OPTION
@pass_env
@user_errors
@passport_errors
def show(env: Env, name: str, as_json: bool) -> None:
    """The printed data of a simulated passport, with its MRZ."""
    summary = sims(env).get(name).summary()
    if as_json:
        emit_json(summary)
        return
    for key in (
        "name",
        "surname",
        "given_names",
        "birth",
        "nationality",
        "document_number",
        "can",
    ):
        click.echo(f"{key + ':':17}{summary[key]}")
    click.echo(f"{'expiry:':17}{summary['expiry']}")
    click.echo(f"{'uri:':17}{summary['uri']}")
    for line in summary["mrz"]:
        click.echo(line)


@passport.command("delete")
@click.argument("name")
@pass_env
@user_errors
@passport_errors
def delete(env: Env, name: str) -> None:
    """Delete a simulated passport."""
    sims(env).delete(name)
    click.echo(f"deleted passport {name}")


@passport.command("read")
@click.argument("passport_ref", metavar="NAME|URI")
@click.option("--mrz", help="The MRZ's two lines (default: scanned from the simulated page).")
@click.option("--bac", is_flag=True, help="Use BAC even when the chip offers PACE.")
@click.option("--can", help="Open the chip by PACE with its card access number instead.")
@click.option(
    "--csca",
    "csca_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Another CSCA certificate to trust (PEM or DER); the state's countries are trusted.",
)
@click.option("--face-out", type=click.Path(dir_okay=False, path_type=Path), help="Save DG2.")
@JSON_OPTION
@pass_env
@user_errors
@passport_errors
def read(
    env: Env,
    passport_ref: str,
    mrz: str | None,
    bac: bool,
    can: str | None,
    csca_files: tuple[Path, ...],
    face_out: Path | None,
    as_json: bool,
) -> None:
    """Read a passport's chip as an inspection system does and check it (PA, CA, AA)."""
    from authenticators.passport.check import read_passport
    from authenticators.passport.lds import parse_mrz
    from authenticators.passport.transport import open_transport

    repo = sims(env)
    uri = passport_uri(passport_ref)
    if can is not None and (bac or not can.isdigit() or len(can) != 6):
        raise UserError("a CAN is six digits, and it works only with PACE (not with --bac)")
    text = mrz or default_mrz(repo, uri)
    printed = parse_mrz(text)
    steps: list[dict[str, object]] = []

    def on_step(step: str, ok: bool, detail: str) -> None:
        steps.append({"step": step, "ok": ok, "detail": detail})
        if not as_json:
            click.echo(f"{'ok  ' if ok else 'FAIL'} {step}: {detail}")

    transport = open_transport(uri, repo.chip)
    try:
        result = read_passport(
            transport,
            printed.information,
            cscas=[*repo.cscas(), *(p.read_bytes() for p in csca_files)],
            now=dt.datetime.fromtimestamp(env.clock.now(), dt.UTC),
            on_step=on_step,
            pace=not bac,
            can=can,
        )
    except PassportError as exc:
        if as_json:
            emit_json(
                {"ok": False, "error": exc.code.value, "message": exc.message, "steps": steps}
            )
        from authenticators.cli._common import refuse

        refuse(f"Refused: {exc.code.value} ({exc.message})")
    finally:
        transport.close()
    if face_out:
        face_out.write_bytes(result.face_image)
    if as_json:
        emit_json(
            {
                "ok": True,
                "access": result.access,
                "name": result.mrz.name,
                "issuing_state": result.mrz.issuing_state,
                "expiry": result.mrz.expiry_date().isoformat(),
                "groups": list(result.groups),
                "steps": steps,
            }
        )
    else:
        click.echo(
            f"{result.mrz.name}, {result.mrz.issuing_state}, valid until {result.mrz.expiry_date()}"
        )


def default_mrz(repo: SimPassports, uri: str) -> str:
    """The MRZ as the camera scans it from a simulated passport's data page."""
    if not uri.startswith("passport:sim:"):
        raise UserError("give the MRZ with --mrz (only a simulated passport's page is at hand)")
    return "".join(repo.get(uri.removeprefix("passport:sim:")).passport.mrz)


def _vpcd_address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        raise UserError(f"--vpcd is HOST:PORT, not {text!r}") from None
    if not host or not 0 < number < 65536:
        raise UserError(f"--vpcd is HOST:PORT, not {text!r}")
    return host, number


@passport.command("serve")
@click.argument("name")
@click.option(
    "--vpcd",
    "vpcd_address",
    default="127.0.0.1:35963",
    show_default=True,
    help="Where vsmartcard's vpcd (inside pcscd) waits for a card.",
)
@pass_env
@user_errors
@passport_errors
def serve(env: Env, name: str, vpcd_address: str) -> None:
    """Hold a simulated passport in the virtual PC/SC reader (pcscd + vpcd) until Ctrl-C."""
    import signal
    import threading
    from types import FrameType

    from firmware_sim.passport.vpcd import VpcdCard

    host, port = _vpcd_address(vpcd_address)
    card = VpcdCard(sims(env).chip(name), host, port)
    try:
        sock = card.connect()
    except OSError as exc:
        raise UserError(
            f"cannot reach vpcd at {host}:{port} ({exc.strerror or exc}); is pcscd running "
            "with vsmartcard-vpcd installed?"
        ) from None

    def on_signal(signum: int, frame: FrameType | None) -> None:
        card.stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    click.echo(
        f"passport {name} is in the virtual reader (vpcd {host}:{port}); Ctrl-C to take it out"
    )
    worker = threading.Thread(target=card.serve, args=(sock,), daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.2)
    finally:
        card.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo(f"passport {name} taken out after {card.commands} commands")
