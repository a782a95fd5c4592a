"""The OIOSAML 3.0 vocabulary: attribute names, levels, profiles and name IDs (BROKERS.md §4).

The assertion's attributes come from the identity and the finished login, named by URI
(``NameFormat`` uri) with the profile's friendly names, as NemLog-in sends them.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping
from html import escape

from authenticators.core.identities import Identity
from authenticators.protocol import Level
from authenticators.server.oidc.models import Authentication

SPEC_VERSION = "OIO-SAML-3.0"
EID = "https://data.gov.dk/model/core/eid/"
NSIS = "https://data.gov.dk/concept/core/nsis/"
LOA_PREFIX = NSIS + "loa/"
PERSON_PROFILE = "https://data.gov.dk/eid/Person"
PROFESSIONAL_PROFILE = "https://data.gov.dk/eid/Professional"
PERSON_NAME_ID = EID + "person/uuid/"
PROFESSIONAL_NAME_ID = EID + "professional/uuid/"
APP_SWITCH_NS = "https://data.gov.dk/eid/saml/extensions"
BPP_NS = "http://digst.dk/oiosaml/basic_privilege_profile"
# Test identities are taken as proofed at the highest level: the login decides the rest.
IDENTITY_ASSURANCE = "High"

# The words of the three levels, lowest first; a business login is substantial by assurance.
LEVEL_WORDS = {Level.LOW: "Low", Level.SUBSTANTIAL: "Substantial", Level.HIGH: "High"}
LOA_URIS = {LOA_PREFIX + word: level for level, word in LEVEL_WORDS.items()}
PROFILES = (PERSON_PROFILE, PROFESSIONAL_PROFILE)

# FriendlyName -> Name, in the order the assertion lists them.
ATTRIBUTES: dict[str, str] = {
    "SpecVer": "https://data.gov.dk/model/core/specVersion",
    "NsisLevelOfAssurance": NSIS + "loa",
    "IdentityAssuranceLevel": NSIS + "ial",
    "AuthenticationAssuranceLevel": NSIS + "aal",
    "FullName": EID + "fullName",
    "FirstName": EID + "firstName",
    "LastName": EID + "lastName",
    "Cpr": EID + "cprNumber",
    "CprUUID": EID + "cprUuid",
    "DateOfBirth": EID + "dateOfBirth",
    "Age": EID + "age",
    "Cvr": EID + "professional/cvr",
    "OrganizationName": EID + "professional/orgName",
    "Rid": EID + "professional/rid",
    "ProductionUnit": EID + "professional/productionUnit",
    "SeNumber": EID + "professional/seNumber",
    "ProfessionalPersistentUUID": EID + "professional/uuid/persistent",
    "AuthorizedToRepresent": EID + "professional/authorizedToRepresent",
    "Privileges": EID + "privilegesIntermediate",
}


def level_word(level: Level) -> str:
    return "Substantial" if level is Level.BUSINESS else LEVEL_WORDS[level]


def loa_uri(level: Level) -> str:
    return LOA_PREFIX + level_word(level)


def name_id(identity_uuid: str, professional: bool) -> str:
    return (PROFESSIONAL_NAME_ID if professional else PERSON_NAME_ID) + identity_uuid


def _age(birthdate: str, today: dt.date) -> int | None:
    try:
        born = dt.date.fromisoformat(birthdate)
    except ValueError:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _derived_uuid(kind: str, *parts: str) -> str:
    """A stable UUID for what the emulator does not keep (CPR UUID, RID, persistent UUID)."""
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mitid-emulator:{kind}:" + ":".join(parts)))


def privileges(cvr: str, roles: tuple[str, ...]) -> str:
    """The person's roles in the company as an OIO Basic Privilege Profile, base64."""
    items = "".join(f"<Privilege>{escape(role)}</Privilege>" for role in roles)
    xml = (
        f'<bpp:PrivilegeList xmlns:bpp="{BPP_NS}">'
        f'<PrivilegeGroup Scope="urn:dk:gov:saml:cvrNumberIdentifier:{escape(cvr)}">'
        f"{items}</PrivilegeGroup></bpp:PrivilegeList>"
    )
    return base64.b64encode(xml.encode("utf-8")).decode("ascii")


def attributes(identity: Identity, auth: Authentication, today: dt.date) -> Mapping[str, list[str]]:
    """The assertion's attributes by friendly name: person, and professional when business."""
    level = Level(auth.level)
    word = level_word(level)
    first, _, last = identity.name.rpartition(" ")
    values: dict[str, list[str]] = {
        "SpecVer": [SPEC_VERSION],
        "NsisLevelOfAssurance": [word],
        "IdentityAssuranceLevel": [IDENTITY_ASSURANCE],
        "AuthenticationAssuranceLevel": [word],
        "FullName": [identity.name],
        "FirstName": [first or last],
        "LastName": [last],
    }
    if identity.cpr:
        values["Cpr"] = [identity.cpr.replace("-", "")]
        values["CprUUID"] = ["urn:uuid:" + _derived_uuid("cpr", identity.cpr)]
    if identity.birthdate:
        values["DateOfBirth"] = [identity.birthdate]
        age = _age(identity.birthdate, today)
        if age is not None:
            values["Age"] = [str(age)]
    if auth.business and auth.cvr:
        values["Cvr"] = [auth.cvr]
        values["OrganizationName"] = [auth.org_name or auth.cvr]
        values["Rid"] = [str(int(_derived_uuid("rid", auth.cvr, identity.uuid)[:8], 16))]
        values["ProductionUnit"] = [str(1_000_000_000 + int(auth.cvr) % 1_000_000_000)]
        values["SeNumber"] = [auth.cvr]
        values["ProfessionalPersistentUUID"] = [
            "urn:uuid:" + _derived_uuid("professional", auth.cvr, identity.uuid)
        ]
        values["AuthorizedToRepresent"] = [auth.cvr] if auth.roles else []
        if auth.roles:
            values["Privileges"] = [privileges(auth.cvr, auth.roles)]
    return {name: value for name, value in values.items() if value}
