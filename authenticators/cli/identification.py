"""``mitid-emu identification …``: the identification app (register a MitID with a passport and
a face, enrol more identifiers) and ``identification ra …``, the same at a citizen service desk."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from authenticators.cli._common import Env, UserError, emit_json, pass_env, refuse, user_errors
from authenticators.cli.passport import default_mrz, passport_errors, passport_uri, sims
from authenticators.identification.face import FaceOutcome, FaceVerifier
from authenticators.identification.proofing import (
    IdentificationService,
    Proof,
    ProofingRefused,
)

P = ParamSpec("P")
R = TypeVar("R")

KINDS = ["codeviser", "kodeoplaeser", "chip", "app"]


def refusals(func: Callable[P, R]) -> Callable[P, R]:
    """A refused proofing: the reason on stderr, exit code 1; nothing was created."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ProofingRefused as exc:
            refuse(f"Refused: {exc.reason.value}: {exc.message}. Nothing was created.")

    return wrapper


def proofing_options(func: Callable[P, R]) -> Callable[P, R]:
    for option in reversed(
        [
            click.option(
                "--passport",
                "passport_ref",
                required=True,
                metavar="NAME|URI",
                help="A simulated passport's name, or passport:sim:NAME or pcsc:READER.",
            ),
            click.option(
                "--face",
                "face_file",
                required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                help="The face the camera sees (PNG or JPEG), compared with the chip's photo.",
            ),
            click.option("--mrz", help="The MRZ lines (default: scanned from the data page)."),
            click.option(
                "--face-outcome",
                type=click.Choice([o.value for o in FaceOutcome]),
                help="Script the face check's outcome instead of comparing the images.",
            ),
            click.option("--json", "as_json", is_flag=True, help="Print JSON."),
        ]
    ):
        func = option(func)
    return func


def _service(env: Env, face_outcome: str | None, operator: str | None) -> IdentificationService:
    from authenticators.passport.transport import open_transport

    repo = sims(env)
    scripted = FaceOutcome(face_outcome) if face_outcome else None
    return IdentificationService(
        env.store(),
        env.clock,
        open_passport=lambda uri: open_transport(uri, repo.chip),
        trusted_cscas=repo.cscas,
        face=FaceVerifier(scripted),
        channel="ra" if operator else "app",
        operator=operator,
    )


def _prove(
    env: Env,
    service: IdentificationService,
    passport_ref: str,
    face_file: Path,
    mrz: str | None,
    *,
    purpose: str,
    user_id: str,
    cpr: str | None = None,
) -> Proof:
    uri = passport_uri(passport_ref)
    text = mrz or default_mrz(sims(env), uri)
    return service.prove(
        uri, text, face_file.read_bytes(), cpr=cpr, purpose=purpose, user_id=user_id
    )


def _ask_pin(given: str | None) -> str:
    if given is not None:
        return given
    if not sys.stdin.isatty():
        raise UserError("give the new app's 6-digit PIN with --pin (no terminal to ask at)")
    return str(click.prompt("Choose a 6-digit PIN", hide_input=True, confirmation_prompt=True))


def _register(
    env: Env,
    operator: str | None,
    passport_ref: str,
    face_file: Path,
    mrz: str | None,
    face_outcome: str | None,
    as_json: bool,
    user_id: str,
    pin: str | None,
    cpr: str | None,
) -> None:
    from authenticators.app.pin import pin_problem

    chosen = _ask_pin(pin)
    if problem := pin_problem(chosen):
        raise UserError(problem)
    service = _service(env, face_outcome, operator)
    service.check_user_id_free(user_id)
    proof = _prove(
        env, service, passport_ref, face_file, mrz, purpose="register", user_id=user_id, cpr=cpr
    )
    done = service.register(proof, user_id, chosen, cpr=cpr)
    if as_json:
        emit_json(
            {
                "user_id": done.identity.user_id,
                "uuid": done.identity.uuid,
                "name": done.identity.name,
                "birthdate": done.identity.birthdate,
                "ial": "high",
                "app_id": done.app_id,
                "activation_code": done.activation_code,
                "proofing_id": proof.proofing_id,
                "access": proof.access,
            }
        )
        return
    click.echo(f"passport checked: {proof.access}, chip, passive and active authentication")
    click.echo(f"face matches the chip's photo ({proof.face_distance_text()})")
    click.echo(f"registered {done.identity.user_id} ({done.identity.name}) at IAL high")
    click.echo(f"MitID app {done.app_id} enrolled at level high and activated")
    click.echo(f"activation code (would arrive by SMS): {done.activation_code}")


def _enroll(
    env: Env,
    operator: str | None,
    passport_ref: str,
    face_file: Path,
    mrz: str | None,
    face_outcome: str | None,
    as_json: bool,
    user_id: str,
    kind: str,
    name: str | None,
    device: str | None,
    pin: str | None,
) -> None:
    options: dict[str, Any] = {}
    if kind in ("codeviser", "kodeoplaeser"):
        options["name"] = name or f"{user_id}-{kind}"
    elif kind == "chip":
        if not device:
            raise UserError("a chip needs --device URI (for example sim:NAME)")
        options.update(uri=device, name=name)
    else:
        options["pin"] = _ask_pin(pin)
    service = _service(env, face_outcome, operator)
    service.identities.get(user_id)
    proof = _prove(
        env, service, passport_ref, face_file, mrz, purpose=f"enroll {kind}", user_id=user_id
    )
    authenticator_id = service.enroll(proof, user_id, kind, options)
    if as_json:
        emit_json(
            {
                "user_id": user_id,
                "kind": kind,
                "id": authenticator_id,
                "proofing_id": proof.proofing_id,
            }
        )
        return
    click.echo(
        f"proofed {user_id} again with the passport and face; enrolled {kind} {authenticator_id}"
    )


def _enroll_options(func: Callable[P, R]) -> Callable[P, R]:
    for option in reversed(
        [
            click.option("--user-id", required=True, help="The identity to add an identifier to."),
            click.option("--kind", type=click.Choice(KINDS), required=True),
            click.option("--name", help="The new token's name (code tokens, chip)."),
            click.option("--device", help="The chip's device URI (kind chip), e.g. sim:key1."),
            click.option("--pin", help="The new app's 6-digit PIN (kind app)."),
        ]
    ):
        func = option(func)
    return func


def _register_options(func: Callable[P, R]) -> Callable[P, R]:
    for option in reversed(
        [
            click.option("--user-id", required=True, help="The MitID user ID to register."),
            click.option("--pin", help="The app's 6-digit PIN (asked for at a terminal)."),
            click.option("--cpr", help="A CPR number (needed with a foreign passport)."),
        ]
    ):
        func = option(func)
    return func


@click.group()
def identification() -> None:
    """The identification app: a MitID from a passport and a face scan, and more identifiers."""


@identification.command("register")
@proofing_options
@_register_options
@pass_env
@user_errors
@passport_errors
@refusals
def register(env: Env, /, **options: Any) -> None:
    """Prove who you are with your passport and face; get a MitID (identity at IAL high and an
    activated MitID app)."""
    _register(env, None, **options)


@identification.command("enroll")
@proofing_options
@_enroll_options
@pass_env
@user_errors
@passport_errors
@refusals
def enroll(env: Env, /, **options: Any) -> None:
    """Prove who you are again and add an identifier (code display, audio reader, chip, app)."""
    _enroll(env, None, **options)


@identification.group("ra")
def ra() -> None:
    """The RA app: the same with a registration-authority employee at a service desk."""


@ra.command("register")
@click.option("--operator", required=True, help="The RA employee's ID (in the audit trail).")
@proofing_options
@_register_options
@pass_env
@user_errors
@passport_errors
@refusals
def ra_register(env: Env, /, operator: str, **options: Any) -> None:
    """Register a MitID for the person at the desk."""
    _register(env, operator, **options)


@ra.command("enroll")
@click.option("--operator", required=True, help="The RA employee's ID (in the audit trail).")
@proofing_options
@_enroll_options
@pass_env
@user_errors
@passport_errors
@refusals
def ra_enroll(env: Env, /, operator: str, **options: Any) -> None:
    """Add an identifier for the person at the desk."""
    _enroll(env, operator, **options)
