"""The control API's passports and identification app: issue simulated passports, and register a
MitID or enrol an identifier by proofing with one, as ``mitid-emu identification`` does.

``GET|POST /emulator/passports``, ``GET|DELETE /emulator/passports/{name}``,
``POST /emulator/identification/register`` and ``POST /emulator/identification/enroll``. The face
the camera sees is an image (``face``, base64, at most the body limit) or ``face_of``: a fresh
camera shot of the holder of the named passport. A refused proofing is a 422 with ``reason``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from authenticators.server import api
from authenticators.server.api import Endpoint, Schema, object_schema, off_loop, path_param
from authenticators.server.context import Services
from authenticators.server.http import ApiError, Fields

KINDS = ("codeviser", "kodeoplaeser", "chip", "app")


def _json(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers={"Cache-Control": "no-store"})


def _sims(services: Services) -> Any:
    from authenticators.passport.sims import SimPassports

    return SimPassports(services.store, services.clock)


def _passport_error(exc: Exception) -> ApiError:
    from authenticators.passport.errors import PassportErrorCode

    code = getattr(exc, "code", None)
    if code is PassportErrorCode.UNKNOWN_PASSPORT:
        return ApiError(404, "not_found", str(exc))
    return ApiError(400, "invalid_request", str(exc))


def _guarded(work: Any) -> Any:
    """Run ``work`` turning the passport and proofing errors into the API's."""
    from authenticators.identification.proofing import ProofingRefused
    from authenticators.passport.errors import PassportError

    def run() -> Any:
        try:
            return work()
        except PassportError as exc:
            raise _passport_error(exc) from None
        except ProofingRefused as exc:
            raise _Refused(exc.reason.value, exc.message) from None

    return run


class _Refused(ApiError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(422, "proofing_refused", message)
        self.reason = reason


async def _call(work: Any, status: int = 200) -> Response:
    try:
        return _json(await off_loop(_guarded(work)), status)
    except _Refused as exc:
        body = {"error": exc.error, "error_description": exc.description, "reason": exc.reason}
        return _json(body, exc.status)


# -- passports -------------------------------------------------------------------------------


async def list_passports(request: Request, services: Services) -> Response:
    return await _call(lambda: {"passports": [p.summary() for p in _sims(services).list()]})


async def create_passport(request: Request, services: Services) -> Response:
    fields = await CREATE_PASSPORT.fields(request, services)
    surname = fields.req_text("surname", max_length=100)
    given = fields.req_text("given_names", max_length=100)
    birth_text = fields.req_text("birth", max_length=10)
    name = fields.text("name", max_length=64)
    nationality = fields.text("nationality", max_length=3) or "DNK"
    sex = fields.text("sex", max_length=1) or "X"
    if sex not in ("M", "F", "X"):
        raise ApiError(400, "invalid_request", "field 'sex' is M, F or X")
    try:
        birth = dt.date.fromisoformat(birth_text)
    except ValueError:
        raise ApiError(400, "invalid_request", "field 'birth' is a date, YYYY-MM-DD") from None
    flags = {f: fields.flag(f) for f in ("expired", "clone", "tampered", "expired_signer")}

    def work() -> dict[str, Any]:
        from firmware_sim.passport import faces

        chosen = name or "-".join(f"{(given.split() or ['x'])[0]} {surname}".lower().split())
        made = _sims(services).new(
            chosen,
            surname=surname,
            given_names=given,
            birth=birth,
            nationality=nationality,
            sex="<" if sex == "X" else sex,
            photo=faces.face(f"{given} {surname} {birth_text}"),
            **flags,
        )
        summary: dict[str, Any] = made.summary()
        return summary

    return await _call(work, 201)


async def get_passport(request: Request, services: Services) -> Response:
    name = path_param(request, "name")
    return await _call(lambda: _sims(services).get(name).summary())


async def delete_passport(request: Request, services: Services) -> Response:
    name = path_param(request, "name")

    def work() -> dict[str, Any]:
        _sims(services).delete(name)
        return {"deleted": name}

    return await _call(work)


# -- the identification app ------------------------------------------------------------------


def _proofing(fields: Fields, services: Services) -> dict[str, Any]:
    from authenticators.identification.face import FaceOutcome

    outcome = fields.text("face_outcome", max_length=32)
    if outcome is not None and outcome not in {o.value for o in FaceOutcome}:
        raise ApiError(400, "invalid_request", "field 'face_outcome' is not a face outcome")
    face = fields.text("face", max_length=services.config.body_limit)
    face_of = fields.text("face_of", max_length=64)
    if (face is None) == (face_of is None):
        raise ApiError(400, "invalid_request", "give 'face' (base64 image) or 'face_of'")
    image: bytes | None = None
    if face is not None:
        try:
            image = base64.b64decode(face, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, "invalid_request", "field 'face' is not base64") from None
    return {
        "passport": fields.req_text("passport", max_length=80),
        "user_id": fields.req_text("user_id", max_length=64),
        "image": image,
        "face_of": face_of,
        "outcome": outcome,
        "mrz": fields.text("mrz", max_length=100),
        "operator": fields.text("operator", max_length=64),
    }


def proofing_service(services: Services, request: dict[str, Any]) -> Any:
    from authenticators.identification.face import FaceOutcome, FaceVerifier
    from authenticators.identification.proofing import IdentificationService
    from authenticators.passport.transport import open_transport

    sims = _sims(services)
    outcome = request["outcome"]
    return IdentificationService(
        services.store,
        services.clock,
        open_passport=lambda u: open_transport(u, sims.chip),
        trusted_cscas=sims.cscas,
        face=FaceVerifier(FaceOutcome(outcome) if outcome else None),
        channel="ra" if request["operator"] else "app",
        operator=request["operator"],
    )


def prove(
    services: Services, service: Any, request: dict[str, Any], purpose: str, cpr: str | None
) -> Any:
    from firmware_sim.passport import faces

    sims = _sims(services)
    ref = request["passport"]
    uri = ref if ":" in ref else f"passport:sim:{ref}"
    image = request["image"]
    if image is None:
        image = faces.camera_shot(sims.get(request["face_of"]).passport.holder.photo)
    mrz = request["mrz"]
    if mrz is None:
        if not uri.startswith("passport:sim:"):
            raise ApiError(400, "invalid_request", "field 'mrz' is needed for this passport")
        mrz = "".join(sims.get(uri.removeprefix("passport:sim:")).passport.mrz)
    return service.prove(uri, mrz, image, cpr=cpr, purpose=purpose, user_id=request["user_id"])


async def register(request: Request, services: Services) -> Response:
    fields = await REGISTER.fields(request, services)
    wanted = _proofing(fields, services)
    pin = fields.req_text("pin", max_length=16)
    cpr = fields.text("cpr", max_length=16)

    def work() -> dict[str, Any]:
        from authenticators.app.pin import pin_problem

        if problem := pin_problem(pin):
            raise ApiError(400, "invalid_request", problem)
        service = proofing_service(services, wanted)
        service.check_user_id_free(wanted["user_id"])
        proof = prove(services, service, wanted, "register", cpr)
        done = service.register(proof, wanted["user_id"], pin, cpr=cpr)
        return {
            "user_id": done.identity.user_id,
            "uuid": done.identity.uuid,
            "name": done.identity.name,
            "birthdate": done.identity.birthdate,
            "ial": "high",
            "app_id": done.app_id,
            "activation_code": done.activation_code,
            "proofing_id": proof.proofing_id,
        }

    return await _call(work, 201)


async def enroll(request: Request, services: Services) -> Response:
    fields = await ENROLL.fields(request, services)
    wanted = _proofing(fields, services)
    kind = fields.req_text("kind", max_length=32)
    if kind not in KINDS:
        raise ApiError(
            400, "invalid_request", "field 'kind' is codeviser, kodeoplaeser, chip or app"
        )
    options: dict[str, Any] = {}
    name = fields.text("name", max_length=64)
    if kind in ("codeviser", "kodeoplaeser"):
        options["name"] = name or f"{wanted['user_id']}-{kind}"
    elif kind == "chip":
        options["uri"] = fields.req_text("device", max_length=200)
        options["name"] = name
    else:
        options["pin"] = fields.req_text("pin", max_length=16)

    def work() -> dict[str, Any]:
        services.identities.get(wanted["user_id"])
        service = proofing_service(services, wanted)
        proof = prove(services, service, wanted, f"enroll {kind}", None)
        found = service.enroll(proof, wanted["user_id"], kind, options)
        return {
            "user_id": wanted["user_id"],
            "kind": kind,
            "id": found,
            "proofing_id": proof.proofing_id,
        }

    return await _call(work, 201)


# -- the declarations: routes and the OpenAPI document are made from them ----------------------

_NAME: Schema = {
    "type": "string",
    "minLength": 1,
    "maxLength": 64,
    "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
}
_PROOFING: dict[str, Schema] = {
    "passport": {"type": "string", "minLength": 1, "maxLength": 80},
    "user_id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$"},
    "face": {"type": "string", "format": "byte"},
    "face_of": {"type": "string", "minLength": 1, "maxLength": 64},
    "face_outcome": {
        "type": "string",
        "enum": ["match", "no_match", "no_liveness", "presentation_attack"],
    },
    "mrz": {"type": "string", "minLength": 88, "maxLength": 88},
    "operator": {"type": "string", "minLength": 1, "maxLength": 64},
}
_PIN: Schema = {"type": "string", "pattern": "^[0-9]{6}$"}
# A refused proofing is a 422 with the reason beside the error.
_PROOFING_ERRORS = (400, 401, 404, 409, 422)

CREATE_PASSPORT = Endpoint(
    "POST",
    "/emulator/passports",
    create_passport,
    "Issue a simulated passport (chip, signed EF.SOD, data page)",
    body=object_schema(
        {
            "name": _NAME,
            "surname": {"type": "string", "minLength": 1, "maxLength": 100},
            "given_names": {"type": "string", "minLength": 1, "maxLength": 100},
            "birth": {"type": "string", "format": "date"},
            "nationality": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "sex": {"type": "string", "enum": ["M", "F", "X"]},
            **{f: {"type": "boolean"} for f in ("expired", "clone", "tampered", "expired_signer")},
        },
        ["surname", "given_names", "birth"],
    ),
    body_required=True,
    ok="created",
    created=True,
    errors=(400, 401),
)
REGISTER = Endpoint(
    "POST",
    "/emulator/identification/register",
    register,
    "Register a MitID by proofing with a passport and a face (identity at IAL high, app)",
    body=object_schema(
        {
            **_PROOFING,
            "pin": _PIN,
            "cpr": {"type": "string", "pattern": "^[0-9]{6}-?[0-9]{4}$"},
        },
        ["passport", "user_id", "pin"],
    ),
    body_required=True,
    ok="created",
    created=True,
    errors=_PROOFING_ERRORS,
)
ENROLL = Endpoint(
    "POST",
    "/emulator/identification/enroll",
    enroll,
    "Proof the person again with their passport and face, then add an identifier",
    body=object_schema(
        {
            **_PROOFING,
            "kind": {"type": "string", "enum": list(KINDS)},
            "name": {"type": "string", "minLength": 1, "maxLength": 64},
            "device": {"type": "string", "minLength": 1, "maxLength": 200},
            "pin": _PIN,
        },
        ["passport", "user_id", "kind"],
    ),
    body_required=True,
    ok="created",
    created=True,
    errors=_PROOFING_ERRORS,
)
ENDPOINTS = [
    Endpoint("GET", "/emulator/passports", list_passports, "List simulated passports"),
    CREATE_PASSPORT,
    Endpoint(
        "GET",
        "/emulator/passports/{name}",
        get_passport,
        "A simulated passport's printed data and MRZ",
        errors=(401, 404),
        params={"name": _NAME},
    ),
    Endpoint(
        "DELETE",
        "/emulator/passports/{name}",
        delete_passport,
        "Delete a simulated passport",
        errors=(401, 404),
        params={"name": _NAME},
    ),
    REGISTER,
    ENROLL,
]


def routes() -> list[BaseRoute]:
    return [endpoint.route() for endpoint in ENDPOINTS]


def openapi_paths() -> dict[str, Schema]:
    return api.openapi_paths(ENDPOINTS)
