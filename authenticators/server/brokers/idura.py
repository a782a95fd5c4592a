"""Idura Verify (formerly Criipto Verify): ``/brokers/idura``, also ``/brokers/criipto``.

Level by exactly one ``acr_values``; the space-separated ``login_hint`` vocabulary; flat claim
names (or the long SAML-style ones, a per-client option); ``sub`` a per-tenant pseudonym in braces.
Unconfirmed and chosen here: the order of the four levels in ``authenticationmethod``
(loA, IAL, AAL, FAL), its authenticator names, that an unknown or second acr value is
``invalid_request``; and, as options (``serve --broker-option idura.NAME=VALUE``), that unknown
``login_hint`` words are ignored (``unknown_login_hint=refuse``) and the cancel's description.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from authenticators.protocol import Action, Level
from authenticators.server.brokers.base import (
    SIMULATION_PARAM,
    BrokerError,
    BrokerRequest,
    Dialect,
    Paths,
    Person,
    action_of,
    cpr_of,
    epoch_ms,
    iso_utc,
    reference_body,
    shown,
    simulation_of,
    uuid_of,
)

if TYPE_CHECKING:
    from authenticators.server.brokers.state import BrokerClient

ACR_VALUES = tuple(
    level.acr for level in (Level.LOW, Level.SUBSTANTIAL, Level.HIGH, Level.BUSINESS)
)
SCOPES = ("openid", "ssn", "address", "email", "phone", "birthdate")
METHOD_NAMES = {"app": "app", "codeviser": "code_token", "kodeoplaeser": "code_reader"}
# Words that change nothing in a local login (app switching, controlled transfer, …).
IGNORED = ("appswitch", "dk", "scope", "mobile")
# action:login is the header LOG_ON.
ACTIONS = {"login": Action.LOG_ON}

LONG_NAMES = {
    "nameidentifier": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier",
    "loA": "dk:gov:saml:attribute:LoA",
    "ial": "dk:gov:saml:attribute:IAL",
    "aal": "dk:gov:saml:attribute:AAL",
    "fal": "dk:gov:saml:attribute:FAL",
    "uuid": "dk:gov:saml:attribute:UUID",
    "cvrNumberIdentifier": "dk:gov:saml:attribute:CvrNumberIdentifier",
    "refTextHeader": "dk:gov:saml:attribute:RefTextHeader",
    "refTextBody": "dk:gov:saml:attribute:RefTextBody",
    "2.5.4.10": "urn:oid:2.5.4.10",
}


class Idura(Dialect):
    def parse(self, data: Mapping[str, str]) -> BrokerRequest:
        acr = (data.get("acr_values") or Level.SUBSTANTIAL.acr).split()
        if len(acr) != 1:
            raise BrokerError(
                "invalid_request", "Send exactly one acr_values value for MitID (got several)."
            )
        if acr[0] not in ACR_VALUES:
            raise BrokerError(
                "invalid_request",
                f"acr_values '{shown(acr[0])}' is not a MitID value; use one of "
                + ", ".join(ACR_VALUES)
                + ".",
            )
        level = Level.from_acr(acr[0])
        business = level is Level.BUSINESS
        options: dict[str, Any] = {}
        optional = False
        for word in (data.get("login_hint") or "").split():
            style, _, rest = word.partition(":")
            if style == "message":
                options["reference_text"] = reference_body(rest)
            elif style == "uuid":
                options["hint_uuid"] = uuid_of(rest, "login_hint 'uuid:'")
            elif style == "sub":
                options["cpr_hint"] = cpr_of(rest, "login_hint 'sub:'")
            elif word == "business":
                business = True
            elif word == "business_optional":
                business = optional = True
            elif style == "vatid":
                cvr = rest[2:] if rest.upper().startswith("DK") else ""
                if not (len(cvr) == 8 and cvr.isdigit()):
                    raise BrokerError("invalid_request", "login_hint 'vatid:' takes DK<CVR>.")
                options["hint_cvr"] = cvr
                business = True
            elif style == "action":
                options["action"] = ACTIONS.get(rest.lower()) or action_of(rest)
            elif style not in IGNORED and self.choice("unknown_login_hint") == "refuse":
                raise BrokerError(
                    "invalid_request", f"login_hint word '{shown(style)}' is not known."
                )
        if business and not optional:
            level = Level.BUSINESS
        simulation = None
        if data.get(SIMULATION_PARAM, "").startswith("no-ui"):
            simulation = simulation_of(data[SIMULATION_PARAM], options.get("hint_uuid"))
        return BrokerRequest(
            level=level,
            business=business,
            business_optional=optional,
            cpr_match="ssn" in (data.get("scope") or "").split() and "cpr_hint" not in options,
            simulation=simulation,
            **options,
        )

    def id_token_claims(
        self, person: Person, scopes: set[str], now: float, client: BrokerClient | None
    ) -> dict[str, Any]:
        identity, auth = person.identity, person.auth
        reached = person.reached
        ial = Level.HIGH if reached is Level.HIGH else Level.SUBSTANTIAL
        levels = [reached.value.upper(), ial.value.upper(), reached.value.upper(), "HIGH"]
        pseudonym = person.pseudonym("idura")  # per tenant: one issuer here, one pseudonym
        method = METHOD_NAMES.get(person.detail("kind"), "pwd" if reached is Level.LOW else "chip")
        claims: dict[str, Any] = {
            "identityscheme": "dkmitid",
            "authenticationtype": auth.acr,
            "authenticationmethod": ":".join([method, str(epoch_ms(auth.auth_time)), *levels]),
            "authenticationinstant": iso_utc(auth.auth_time),
            "nameidentifier": pseudonym.hex,
            "sub": "{" + str(pseudonym) + "}",
            "sessionindex": person.detail("session_id"),
            "loA": levels[0],
            "ial": levels[1],
            "aal": levels[2],
            "fal": levels[3],
        }
        signatory = person.signatory
        if auth.business and not signatory:
            claims["uuid"] = person.professional_uuid()
            claims["employee"] = "true"
        else:
            claims["uuid"] = identity.uuid
            if "ssn" in scopes and identity.cpr:
                claims["cprNumberIdentifier"] = identity.cpr
            if identity.birthdate:
                claims["birthdate"] = claims["dateofbirth"] = identity.birthdate
                claims["age"] = str(person.age(now))
        if auth.business:
            claims["cvrNumberIdentifier"] = auth.cvr
            claims["2.5.4.10"] = auth.org_name
            if signatory:
                claims["companySignatory"] = "true"
        claims["name"] = identity.name
        if person.detail("ref_body"):
            claims["refTextHeader"] = person.detail("ref_header")
            claims["refTextBody"] = person.detail("ref_body")
        claims["country"] = "DK"
        if client is not None and client.long_claims:
            claims = {LONG_NAMES.get(name, name): value for name, value in claims.items()}
        return claims

    def userinfo_claims(
        self, person: Person, scopes: set[str], now: float, client: BrokerClient | None
    ) -> dict[str, Any]:
        return self.id_token_claims(person, scopes, now, client)


dialect = Idura(
    name="idura",
    title="Idura Verify (Criipto)",
    mounts=("idura", "criipto"),
    base="",
    paths=Paths(
        authorize="/oauth2/authorize",
        token="/oauth2/token",  # noqa: S106 - a path
        userinfo="/oauth2/userinfo",
        jwks="/.well-known/jwks",
        par="/oauth2/par",
    ),
    scopes=SCOPES,
    acr_values=ACR_VALUES,
    claims=(
        "iss",
        "aud",
        "nonce",
        "iat",
        "exp",
        "identityscheme",
        "authenticationtype",
        "authenticationmethod",
        "authenticationinstant",
        "nameidentifier",
        "sub",
        "sessionindex",
        "loA",
        "ial",
        "aal",
        "fal",
        "uuid",
        "cprNumberIdentifier",
        "birthdate",
        "dateofbirth",
        "age",
        "name",
        "refTextHeader",
        "refTextBody",
        "country",
        "cvrNumberIdentifier",
        "2.5.4.10",
        "employee",
        "companySignatory",
    ),
    id_token_lifetime=18000,
    access_token_lifetime=1200,
    cancel_error="access_denied",
    cancel_description="mitid_user_cancelled",
    choices={
        "cancel_description": ("mitid_user_cancelled", ()),
        "unknown_login_hint": ("ignore", ("ignore", "refuse")),
    },
)
