"""Signaturgruppen's broker (NEB): ``/brokers/signaturgruppen/op``.

MitID is chosen with ``idp_values=mitid|mitid_erhverv`` and tuned by the ``idp_params`` JSON;
the ID token is short (``idp``, ``identity_type``, ``neb_sid``, ``transaction_id``, NSIS URIs,
``amr``, ``mitid.uuid``) and the rest comes from userinfo under dotted names by scope. A cancel is
``access_denied`` with ``error_description=mitid_user_aborted``; an unknown IdP or broken
``idp_params`` is an error page (no redirect), as the broker shows.
Unconfirmed and chosen here: RS256 (the JWKS says so), ``mitid.age``/``mitid.has_cpr`` as
strings; and, as options (``serve --broker-option signaturgruppen.NAME=VALUE``), ``amr`` as a list
of the core's values (``amr=string``: the first alone) and that a plain ``cpr_hint`` is taken as an
encrypted one would be (``cpr_hint=refuse``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from authenticators.protocol import Level
from authenticators.server.brokers.base import (
    SIMULATION_PARAM,
    BrokerError,
    BrokerRequest,
    Dialect,
    Paths,
    Person,
    action_of,
    cpr_of,
    reference_body,
    shown,
    simulation_of,
    uuid_of,
)

if TYPE_CHECKING:
    from authenticators.server.brokers.state import BrokerClient

IDPS = ("mitid", "mitid_erhverv")
SCOPES = ("openid", "mitid", "ssn", "nemlogin", "nemid.pid", "profile")
# As the broker's documented token spells them: the level right after .../nsis/.
NSIS = "https://data.gov.dk/concept/core/nsis"
LEVELS = {"low": Level.LOW, "substantial": Level.SUBSTANTIAL, "high": Level.HIGH}
AMR_NAMES = {"pwd": "password"}


def _idp_params(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise BrokerError(
            "invalid_request", "idp_params is not a JSON object (URL-encoded).", redirect=False
        )
    for idp, value in data.items():
        if idp not in IDPS or not isinstance(value, dict):
            raise BrokerError(
                "invalid_request",
                f"idp_params '{shown(str(idp))}' is not an object for mitid or mitid_erhverv.",
                redirect=False,
            )
    return data


def _text(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BrokerError("invalid_request", f"idp_params mitid.{name} must be a string.")
    return value


class Signaturgruppen(Dialect):
    def parse(self, data: Mapping[str, str]) -> BrokerRequest:
        idps = (data.get("idp_values") or "mitid").split()
        unknown = [i for i in idps if i not in IDPS]
        if unknown:
            raise BrokerError(
                "invalid_request",
                f"Unknown idp_values '{shown(unknown[0])}'; this client may use mitid, "
                "mitid_erhverv.",
                redirect=False,
            )
        params = _idp_params(data["idp_params"]) if data.get("idp_params") else {}
        mitid: dict[str, Any] = params.get("mitid", {})
        erhverv: dict[str, Any] = params.get("mitid_erhverv", {})
        options: dict[str, Any] = {}
        if (text := _text(mitid, "reference_text")) is not None:
            options["reference_text"] = reference_body(text)
        if (hint := _text(mitid, "uuid_hint")) is not None:
            options["hint_uuid"] = uuid_of(hint, "idp_params mitid.uuid_hint")
        if (cpr := _text(mitid, "cpr_hint")) is not None:
            if self.choice("cpr_hint") == "refuse":
                raise BrokerError(
                    "invalid_request",
                    "idp_params mitid.cpr_hint is taken only encrypted or over the back channel.",
                )
            options["cpr_hint"] = cpr_of(cpr, "idp_params mitid.cpr_hint")
        if (action := _text(mitid, "action_text")) is not None:
            options["action"] = action_of(action)
        level = Level.SUBSTANTIAL
        if (loa := _text(mitid, "loa_value")) is not None:
            if loa.lower() not in LEVELS:
                raise BrokerError(
                    "invalid_request", "idp_params mitid.loa_value is low, substantial or high."
                )
            level = LEVELS[loa.lower()]
        business = "mitid_erhverv" in idps
        optional = business and ("mitid" in idps or erhverv.get("allow_private") is True)
        if business:
            level = Level.SUBSTANTIAL  # MitID Erhverv logins reach at most substantial
        words = (data.get(SIMULATION_PARAM) or "").split()
        simulation = None
        if words[:1] == ["no-ui"]:
            simulation = simulation_of(" ".join(words), options.get("hint_uuid"))
        elif words[:1] == ["ui"]:
            for word in words[1:]:
                if word.startswith("uuid:"):
                    options["hint_uuid"] = uuid_of(word[5:], "simulation 'uuid:'")
        elif words:
            raise BrokerError("invalid_request", "simulation is 'ui' or 'no-ui' and the person.")
        return BrokerRequest(
            level=Level.BUSINESS if business and not optional else level,
            business=business,
            business_optional=optional,
            cpr_match="ssn" in (data.get("scope") or "").split() and "cpr_hint" not in options,
            simulation=simulation,
            **options,
        )

    def _amr(self, amr: tuple[str, ...]) -> list[str] | str:
        names = [AMR_NAMES.get(a, a) for a in amr]
        return names[0] if self.choice("amr") == "string" and names else names

    def _sub(self, person: Person) -> str:
        return str(person.pseudonym("signaturgruppen"))

    def id_token_claims(
        self, person: Person, scopes: set[str], now: float, client: BrokerClient | None
    ) -> dict[str, Any]:
        auth = person.auth
        nsis = person.reached.value.capitalize()
        claims: dict[str, Any] = {
            "sub": self._sub(person),
            "auth_time": int(auth.auth_time),
            "idp": "mitid_erhverv" if auth.business else "mitid",
            "identity_type": "professional" if auth.business else "private",
            "neb_sid": person.detail("session_id"),
            "transaction_id": person.detail("transaction_id"),
            "session_expiry": int(auth.auth_time) + 3600,
            "loa": f"{NSIS}/{nsis}",
            "ial": f"{NSIS}/{'High' if nsis == 'High' else 'Substantial'}",
            "aal": f"{NSIS}/{nsis}",
            "amr": self._amr(auth.amr),
        }
        if auth.business:
            claims["loip"] = "baseline"
            claims["nemlogin.persistent_professional_id"] = person.professional_uuid()
        else:
            claims["mitid.uuid"] = person.identity.uuid
        return claims

    def userinfo_claims(
        self, person: Person, scopes: set[str], now: float, client: BrokerClient | None
    ) -> dict[str, Any]:
        identity, auth = person.identity, person.auth
        claims: dict[str, Any] = {"sub": self._sub(person)}
        if "mitid" in scopes and not auth.business:
            claims["mitid.uuid"] = identity.uuid
            if identity.birthdate:
                claims["mitid.date_of_birth"] = identity.birthdate
                claims["mitid.age"] = str(person.age(now))
            claims["mitid.has_cpr"] = "true" if identity.cpr else "false"
            claims["mitid.identity_name"] = (
                "NAVNE & ADRESSEBESKYTTET" if person.protected else identity.name
            )
            claims["mitid.transaction_id"] = person.detail("transaction_id")
        if "ssn" in scopes and identity.cpr:
            claims["dk.cpr"] = identity.cpr
        if "nemlogin" in scopes and auth.business:
            claims["nemlogin.name"] = identity.name
            claims["nemlogin.given_name"] = person.given_name
            claims["nemlogin.family_name"] = person.family_name
            if identity.birthdate:
                claims["nemlogin.date_of_birth"] = identity.birthdate
            claims["nemlogin.cvr"] = auth.cvr
            claims["nemlogin.org_name"] = auth.org_name
            claims["nemlogin.persistent_professional_id"] = person.professional_uuid()
            claims["nemlogin.cpr_uuid"] = identity.uuid
            if "ssn" in scopes and identity.cpr:
                claims["nemlogin.cpr"] = identity.cpr
            claims["nemlogin.auth_to_repr"] = person.signatory
        return claims


dialect = Signaturgruppen(
    name="signaturgruppen",
    title="Signaturgruppen broker (NEB)",
    mounts=("signaturgruppen",),
    base="/op",
    paths=Paths(
        authorize="/connect/authorize",
        token="/connect/token",  # noqa: S106 - a path
        userinfo="/connect/userinfo",
        jwks="/.well-known/openid-configuration/jwks",
        end_session="/connect/endsession",
    ),
    scopes=SCOPES,
    claims=(
        "iss",
        "sub",
        "aud",
        "nonce",
        "iat",
        "exp",
        "auth_time",
        "idp",
        "identity_type",
        "neb_sid",
        "transaction_id",
        "session_expiry",
        "loa",
        "ial",
        "aal",
        "amr",
        "loip",
        "mitid.uuid",
        "mitid.date_of_birth",
        "mitid.age",
        "mitid.has_cpr",
        "mitid.identity_name",
        "mitid.transaction_id",
        "dk.cpr",
        "nemlogin.name",
        "nemlogin.given_name",
        "nemlogin.family_name",
        "nemlogin.date_of_birth",
        "nemlogin.cvr",
        "nemlogin.org_name",
        "nemlogin.persistent_professional_id",
        "nemlogin.cpr_uuid",
        "nemlogin.cpr",
        "nemlogin.auth_to_repr",
    ),
    id_token_lifetime=300,
    access_token_lifetime=3600,
    cancel_error="access_denied",
    cancel_description="mitid_user_aborted",
    extra_discovery={"idp_values_supported": list(IDPS)},
    choices={
        "amr": ("list", ("list", "string")),
        "cpr_hint": ("plain", ("plain", "refuse")),
    },
)
