"""Claims in the style MitID brokers use (DESIGN.md section 4).

``sub`` and ``uuid`` are the identity's UUID; ``cprNumberIdentifier`` only with the ``ssn`` scope;
``loa``, ``aal`` and ``ial`` are NSIS URIs; business logins add ``cvr``, ``org_name`` and ``roles``.
"""

from __future__ import annotations

from typing import Any

from authenticators.core.identities import Identity
from authenticators.protocol import Level
from authenticators.server.oidc.models import Authentication

NSIS = "https://data.gov.dk/concept/core/nsis"
SSN_SCOPE = "ssn"
# Test identities are taken as proofed at the highest level, so the login decides the assurance.
IDENTITY_ASSURANCE = "High"

CLAIMS_SUPPORTED = (
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "sub",
    "uuid",
    "name",
    "birthdate",
    "cprNumberIdentifier",
    "loa",
    "aal",
    "ial",
    "cvr",
    "org_name",
    "roles",
)


def nsis_name(level: Level) -> str:
    return "Substantial" if level is Level.BUSINESS else level.value.capitalize()


def user_claims(identity: Identity, auth: Authentication, scope: str) -> dict[str, Any]:
    """The claims of the ID token (beyond iss/aud/exp/...) and of userinfo."""
    scopes = set(scope.split())
    level = Level(auth.level)
    reached = nsis_name(level)
    claims: dict[str, Any] = {
        "sub": identity.uuid,
        "uuid": identity.uuid,
        "name": identity.name,
        "loa": f"{NSIS}/loa/{reached}",
        "aal": f"{NSIS}/aal/{reached}",
        "ial": f"{NSIS}/ial/{IDENTITY_ASSURANCE}",
        "amr": list(auth.amr),
        "acr": auth.acr,
        "auth_time": int(auth.auth_time),
    }
    if identity.birthdate:
        claims["birthdate"] = identity.birthdate
    if SSN_SCOPE in scopes and identity.cpr:
        claims["cprNumberIdentifier"] = identity.cpr
    if auth.business:
        claims["cvr"] = auth.cvr
        claims["org_name"] = auth.org_name
        claims["roles"] = list(auth.roles)
    return claims
