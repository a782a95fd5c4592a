"""Self-service pages: the identification app in a browser. Register a MitID with a simulated
passport and a face, add an identifier, or see your identifiers (after proofing again).

``/self-service`` and ``/self-service/{register,enroll,identifiers}``: a form each (Danish, or
English with ``?lang=en``), posted as multipart (the face may be an uploaded image) or url-encoded
(the camera then sees the passport's holder). The same proofing as ``mitid-emu identification``
runs, with every step in the audit trail; a refusal shows its reason and creates nothing.
"""

from __future__ import annotations

import email.parser
import email.policy
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from authenticators.ct import bytes_eq
from authenticators.server.api import off_loop, services_of
from authenticators.server.http import ApiError, media_type, read_body, read_form
from authenticators.server.pages.render import render
from authenticators.server.pages.strings import LANGUAGES
from authenticators.server.pages.strings import text as base_text

ACTIONS = ("register", "enroll", "identifiers")
KINDS = ("codeviser", "kodeoplaeser", "app")
COOKIE = "mitid_self_service"
FORM_LIMIT = 2 * 1024 * 1024  # an uploaded photo

STRINGS: dict[str, dict[str, str]] = {
    "ss_title": {"da": "MitID selvbetjening (emulator)", "en": "MitID self-service (emulator)"},
    "ss_intro": {
        "da": "Få MitID med dit pas og en ansigtsscanning, tilføj et id-middel, eller se dine.",
        "en": "Get MitID with your passport and a face scan, add an identifier, or see yours.",
    },
    "ss_register": {"da": "Få MitID", "en": "Get MitID"},
    "ss_enroll": {"da": "Tilføj et id-middel", "en": "Add an identifier"},
    "ss_identifiers": {"da": "Dine id-midler", "en": "Your identifiers"},
    "ss_help_register": {
        "da": "Pasets chip læses og kontrolleres, og dit ansigt sammenlignes med pasets foto.",
        "en": "The passport's chip is read and checked, and your face compared with its photo.",
    },
    "ss_help_enroll": {
        "da": "Bevis igen, hvem du er, med dit pas og dit ansigt.",
        "en": "Prove again who you are with your passport and your face.",
    },
    "ss_help_identifiers": {
        "da": "Bevis, hvem du er, med dit pas og dit ansigt.",
        "en": "Prove who you are with your passport and your face.",
    },
    "ss_passport": {
        "da": "Pas (navn på det simulerede pas)",
        "en": "Passport (simulated, by name)",
    },
    "ss_kind": {"da": "Id-middel", "en": "Identifier"},
    "ss_pin": {"da": "PIN til appen (6 cifre)", "en": "The app's PIN (6 digits)"},
    "ss_face": {"da": "Ansigtsscanning", "en": "Face scan"},
    "ss_face_holder": {"da": "Kameraet ser pasets indehaver", "en": "The camera sees the holder"},
    "ss_face_upload": {"da": "Et billede, jeg uploader", "en": "A picture I upload"},
    "ss_refused": {"da": "Afvist", "en": "Refused"},
    "ss_done_register": {"da": "Du har fået MitID", "en": "You have MitID"},
    "ss_done_enroll": {"da": "Id-midlet er tilføjet", "en": "The identifier is added"},
    "ss_done_identifiers": {"da": "Dine id-midler", "en": "Your identifiers"},
    "ss_user_id": {"da": "Bruger-ID", "en": "User ID"},
    "ss_name": {"da": "Navn", "en": "Name"},
    "ss_ial": {"da": "Identitetssikring", "en": "Identity assurance"},
    "ss_app": {"da": "MitID app", "en": "MitID app"},
    "ss_activation_code": {
        "da": "Aktiveringskode (ville komme som SMS)",
        "en": "Activation code (would arrive by SMS)",
    },
    "ss_added": {"da": "Tilføjet", "en": "Added"},
    "ss_identifier": {"da": "Id-middel", "en": "Identifier"},
}


def _t(lang: str) -> Any:
    def t(key: str, **values: object) -> str:
        entry = STRINGS.get(key)
        if entry is None:
            return base_text(key, lang, **values)
        return entry.get(lang, entry["da"]).format(**values)

    return t


def _lang(request: Request) -> str:
    wanted = request.query_params.get("lang", "da")
    return wanted if wanted in LANGUAGES else "da"


def _page(request: Request, action: str | None, *, status: int = 200, **context: Any) -> Response:
    lang = _lang(request)
    csrf = request.cookies.get(COOKIE) or secrets.token_urlsafe(24)
    response = render(
        "self_service.html",
        lang,
        status=status,
        t=_t(lang),
        action=action,
        csrf=csrf,
        kinds=KINDS,
        values=context.pop("values", {}),
        refused=context.pop("refused", None),
        done=context.pop("done", None),
        **context,
    )
    response.set_cookie(COOKIE, csrf, httponly=True, samesite="strict", path="/self-service")
    return response


async def index(request: Request) -> Response:
    return _page(request, None)


async def form(request: Request) -> Response:
    action = request.path_params["action"]
    if action not in ACTIONS:
        return _page(request, None, status=404)
    return _page(request, action)


async def _fields(request: Request) -> tuple[dict[str, str], bytes | None]:
    """The posted fields and the uploaded face, from either form encoding."""
    if media_type(request) == "multipart/form-data":
        body = await read_body(request, FORM_LIMIT)
        header = f"Content-Type: {request.headers.get('content-type')}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + body)
        if not message.is_multipart():
            raise ApiError(400, "invalid_request", "a malformed multipart form")
        fields: dict[str, str] = {}
        upload: bytes | None = None
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if not isinstance(name, str) or not isinstance(payload, bytes):
                continue
            if name == "face":
                upload = payload or None
            else:
                try:
                    fields[name] = payload.decode("utf-8")[:200]
                except UnicodeDecodeError:
                    raise ApiError(400, "invalid_request", "a field is not UTF-8") from None
        return fields, upload
    return {k: v[:200] for k, v in await read_form(request, FORM_LIMIT)}, None


async def submit(request: Request) -> Response:
    action = request.path_params["action"]
    if action not in ACTIONS:
        return _page(request, None, status=404)
    services = services_of(request)
    try:
        fields, upload = await _fields(request)
    except ApiError as exc:
        return _page(
            request, action, status=exc.status, refused=_refusal(exc.error, exc.description)
        )
    cookie = request.cookies.get(COOKIE, "")
    if not cookie or not bytes_eq(cookie.encode(), fields.get("csrf", "").encode()):
        return _page(
            request,
            action,
            status=403,
            refused=_refusal("csrf", "the form is stale; reload the page and try again"),
        )
    values = {"passport": fields.get("passport", ""), "user_id": fields.get("user_id", "")}
    try:
        done = await off_loop(_run, services, action, fields, upload)
    except _Refusal as exc:
        return _page(request, action, status=exc.status, values=values, refused=exc.as_dict())
    return _page(request, action, done=done)


class _Refusal(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message

    def as_dict(self) -> dict[str, str]:
        return _refusal(self.reason, self.message)


def _refusal(reason: str, message: str) -> dict[str, str]:
    return {"reason": reason, "message": message}


def _run(
    services: Any, action: str, fields: dict[str, str], upload: bytes | None
) -> list[tuple[str, str]]:
    from authenticators.core.errors import CoreError
    from authenticators.identification.proofing import ProofingRefused
    from authenticators.passport.errors import PassportError
    from authenticators.protocol import ProtocolError
    from authenticators.server.identification import proofing_service, prove

    wanted = {
        "passport": fields.get("passport", "").strip(),
        "user_id": fields.get("user_id", "").strip(),
        "image": upload if fields.get("face_source") == "upload" else None,
        "face_of": None,
        "outcome": None,
        "mrz": None,
        "operator": None,
    }
    if not wanted["passport"] or not wanted["user_id"]:
        raise _Refusal(400, "missing", "give the passport and the user ID")
    if wanted["image"] is None:
        if fields.get("face_source") == "upload":
            raise _Refusal(400, "invalid_image", "choose a picture to upload")
        wanted["face_of"] = wanted["passport"]
    try:
        service = proofing_service(services, wanted)
        if action == "register":
            service.check_user_id_free(wanted["user_id"])
            proof = prove(services, service, wanted, "register", None)
            done = service.register(proof, wanted["user_id"], fields.get("pin", ""))
            return [
                ("user_id", done.identity.user_id),
                ("name", done.identity.name),
                ("ial", "high"),
                ("app", done.app_id),
                ("activation_code", done.activation_code),
            ]
        identity = services.identities.get(wanted["user_id"])
        purpose = "view identifiers" if action == "identifiers" else "enroll"
        proof = prove(services, service, wanted, purpose, None)
        service.check_same_person(proof, wanted["user_id"])
        if action == "identifiers":
            identity = services.identities.get(wanted["user_id"])
            return [("user_id", identity.user_id), ("name", identity.name)] + [
                ("identifier", f"{kind} {ident}") for kind, ident in identity.authenticators
            ]
        kind = fields.get("kind", "")
        if kind not in KINDS:
            raise _Refusal(400, "invalid_kind", f"choose one of {', '.join(KINDS)}")
        options: dict[str, Any] = (
            {"pin": fields.get("pin", "")}
            if kind == "app"
            else {"name": f"{identity.user_id}-{kind}-{secrets.token_hex(2)}"}
        )
        added = service.enroll(proof, wanted["user_id"], kind, options)
        return [("user_id", identity.user_id), ("added", f"{kind} {added}")]
    except ProofingRefused as exc:
        raise _Refusal(422, exc.reason.value, exc.message) from None
    except PassportError as exc:
        raise _Refusal(400, exc.code.value, exc.message) from None
    except (CoreError, ProtocolError) as exc:
        raise _Refusal(400, "invalid_request", exc.message) from None
    except ApiError as exc:
        raise _Refusal(exc.status, exc.error, exc.description) from None


def routes() -> list[BaseRoute]:
    return [
        Route("/self-service", index, methods=["GET"]),
        Route("/self-service/{action}", form, methods=["GET"]),
        Route("/self-service/{action}", submit, methods=["POST"]),
    ]
