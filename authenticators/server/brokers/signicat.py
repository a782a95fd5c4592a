"""Signicat: the eID Hub (``/brokers/signicat/auth/open``) and the legacy Enterprise dialect
(``/brokers/signicat/oidc``).

eID Hub: ``acr_values=idp:mitid``, scopes ``idp-id nin mitid-extra``; claims ``idp_id``, ``nin``
(only after a CPR match), ``nin_type``, ``nin_issuing_country``, ``mitid_*``; the ID token adds
``amr: ["external"]``, ``idp``, ``sid``, ``transaction_id``. Legacy: ``acr_values=
urn:signicat:oidc:method:mitid`` (``…:mitid-cpr`` asks for the CPR match), ``sub`` the MitID UUID,
``signicat.national_id``, ``auth_token_id``.
Unconfirmed and chosen here: ``acr_values`` may name the level after the IdP
(``idp:mitid urn:grn:authn:dk:mitid:high``), ``login_hint=uuid:…`` names the person, the
reference text is ``login_hint=message:<base64>``, a cancel is ``access_denied``; and, as options
(``serve --broker-option signicat.NAME=VALUE``), booleans as the strings ``"true"``/``"false"``
(``booleans=json``: JSON booleans) and the cancel's description.
"""

from __future__ import annotations

import base64
import hashlib
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
    reference_body,
    shown,
    simulation_of,
    uuid_of,
)

if TYPE_CHECKING:
    from authenticators.server.brokers.state import BrokerClient

LEVELS = {level.acr: level for level in (Level.LOW, Level.SUBSTANTIAL, Level.HIGH)}


def _hints(data: Mapping[str, str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for word in (data.get("login_hint") or "").split():
        style, _, rest = word.partition(":")
        if style == "uuid":
            options["hint_uuid"] = uuid_of(rest, "login_hint 'uuid:'")
        elif style == "message":
            options["reference_text"] = reference_body(rest)
    return options


def _simulation(data: Mapping[str, str], options: Mapping[str, Any]) -> Any:
    if (data.get(SIMULATION_PARAM) or "").startswith("no-ui"):
        return simulation_of(data[SIMULATION_PARAM], options.get("hint_uuid"))
    return None


class EidHub(Dialect):
    def parse(self, data: Mapping[str, str]) -> BrokerRequest:
        words = (data.get("acr_values") or "idp:mitid").split()
        if words[0] != "idp:mitid":
            raise BrokerError(
                "invalid_request",
                f"acr_values '{shown(words[0])}' names no identity provider this account has; "
                "use idp:mitid.",
            )
        level = Level.SUBSTANTIAL
        for word in words[1:]:
            if word not in LEVELS:
                raise BrokerError("invalid_request", f"acr_values '{shown(word)}' is unknown.")
            level = LEVELS[word]
        options = _hints(data)
        scopes = (data.get("scope") or "").split()
        return BrokerRequest(
            level=level,
            cpr_match="nin" in scopes,
            simulation=_simulation(data, options),
            **options,
        )

    def _truth(self, value: bool) -> str | bool:
        if self.choice("booleans") == "json":
            return value
        return "true" if value else "false"

    def _sub(self, person: Person) -> str:
        digest = hashlib.sha256(f"signicat|{person.identity.uuid}".encode()).digest()
        return base64.b64encode(digest[:24]).decode("ascii")

    def id_token_claims(
        self, person: Person, scopes: set[str], now: float, client: BrokerClient | None
    ) -> dict[str, Any]:
        return {
            "sub": self._sub(person),
            "auth_time": int(person.auth.auth_time),
            "amr": ["external"],
            "idp": "mitid",
            "sid": person.detail("session_id"),
            "transaction_id": person.detail("transaction_id"),
        }

    def userinfo_claims(
        self, person: Person, scopes: set[str], now: float, client: BrokerClient | None
    ) -> dict[str, Any]:
        identity = person.identity
        claims: dict[str, Any] = {"sub": self._sub(person)}
        if "idp-id" in scopes:
            claims["idp_id"] = identity.uuid
            claims["idp_issuer"] = "MitID"
        if "profile" in scopes:
            claims["name"] = identity.name
            claims["given_name"] = person.given_name
            claims["family_name"] = person.family_name
            if identity.birthdate:
                claims["birthdate"] = identity.birthdate
        if "nin" in scopes and identity.cpr:
            claims["nin"] = identity.cpr
            claims["nin_type"] = "PERSON"
            claims["nin_issuing_country"] = "DK"
        if "mitid-extra" in scopes:
            level = person.reached.value.upper()
            claims.update(
                {
                    "mitid_has_cpr": self._truth(bool(identity.cpr)),
                    "mitid_cpr_source": person.detail("cpr_source", "database"),
                    "mitid_name_and_address_protection": self._truth(person.protected),
                    "mitid_transaction_id": person.detail("transaction_id"),
                    "mitid_reference_text_body": person.detail("ref_body") or " ",
                    "mitid_loa": level,
                    "mitid_ial": "HIGH" if level == "HIGH" else "SUBSTANTIAL",
                    "mitid_aal": level,
                    "mitid_fal": "HIGH",
                    "mitid_uuid": identity.uuid,
                }
            )
        return claims


class Enterprise(Dialect):
    METHODS = ("urn:signicat:oidc:method:mitid", "urn:signicat:oidc:method:mitid-cpr")

    def parse(self, data: Mapping[str, str]) -> BrokerRequest:
        acr = data.get("acr_values") or self.METHODS[0]
        if acr not in self.METHODS:
            raise BrokerError(
                "invalid_request",
                f"acr_values '{shown(acr)}' is not a method here; use "
                + " or ".join(self.METHODS)
                + ".",
            )
        options = _hints(data)
        return BrokerRequest(
            level=Level.SUBSTANTIAL,
            cpr_match=acr.endswith("mitid-cpr"),
            simulation=_simulation(data, options),
            **options,
        )

    def id_token_claims(
        self, person: Person, scopes: set[str], now: float, client: BrokerClient | None
    ) -> dict[str, Any]:
        return {
            "sub": person.identity.uuid,
            "auth_time": int(person.auth.auth_time),
            "acr": "urn:signicat:oidc:method:mitid",
            **self.userinfo_claims(person, scopes, now, client),
        }

    def userinfo_claims(
        self, person: Person, scopes: set[str], now: float, client: BrokerClient | None
    ) -> dict[str, Any]:
        identity = person.identity
        claims: dict[str, Any] = {"sub": identity.uuid}
        if "profile" in scopes:
            claims["name"] = identity.name
            claims["given_name"] = person.given_name
            claims["family_name"] = person.family_name
            if identity.birthdate:
                claims["birthdate"] = identity.birthdate
        if "signicat.national_id" in scopes and identity.cpr:
            claims["signicat.national_id"] = identity.cpr
        if "mitid" in scopes:
            claims["auth_token_id"] = f"mitid:{identity.uuid}"
        return claims


eid_hub = EidHub(
    name="signicat",
    title="Signicat eID Hub",
    mounts=("signicat",),
    base="/auth/open",
    paths=Paths(
        authorize="/connect/authorize",
        token="/connect/token",  # noqa: S106 - a path
        userinfo="/connect/userinfo",
        jwks="/.well-known/openid-configuration/jwks",
    ),
    scopes=("openid", "profile", "idp-id", "nin", "mitid-extra"),
    acr_values=("idp:mitid",),
    claims=(
        "iss",
        "sub",
        "aud",
        "nonce",
        "iat",
        "exp",
        "auth_time",
        "amr",
        "idp",
        "sid",
        "transaction_id",
        "idp_id",
        "idp_issuer",
        "name",
        "given_name",
        "family_name",
        "birthdate",
        "nin",
        "nin_type",
        "nin_issuing_country",
        "mitid_has_cpr",
        "mitid_cpr_source",
        "mitid_name_and_address_protection",
        "mitid_transaction_id",
        "mitid_reference_text_body",
        "mitid_loa",
        "mitid_ial",
        "mitid_aal",
        "mitid_fal",
        "mitid_uuid",
    ),
    id_token_lifetime=3600,
    access_token_lifetime=3600,
    choices={
        "booleans": ("string", ("string", "json")),
        "cancel_description": ("The user cancelled the login.", ()),
    },
)

enterprise = Enterprise(
    name="signicat-enterprise",
    title="Signicat Enterprise (legacy)",
    mounts=("signicat-enterprise",),
    directory="signicat",
    base="/oidc",
    paths=Paths(
        authorize="/authorize",
        token="/token",  # noqa: S106 - a path
        userinfo="/userinfo",
        jwks="/jwks.json",
    ),
    scopes=("openid", "profile", "signicat.national_id", "mitid"),
    acr_values=Enterprise.METHODS,
    claims=(
        "iss",
        "sub",
        "aud",
        "nonce",
        "iat",
        "exp",
        "auth_time",
        "acr",
        "name",
        "given_name",
        "family_name",
        "birthdate",
        "signicat.national_id",
        "auth_token_id",
    ),
)
