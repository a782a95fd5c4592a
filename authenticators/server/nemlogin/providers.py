"""Service providers registered from their SAML metadata: add, list, remove.

The metadata is parsed by pysaml2 (through defusedxml: no DTDs, no entities) and kept as
given; what a login needs (assertion consumer services, logout endpoints, certificates, the
encryption algorithm asked for) is read out once, at registration.
"""

from __future__ import annotations

import json
import secrets
import warnings
from dataclasses import dataclass, field
from typing import Any

from authenticators.clock import Clock
from authenticators.server.nemlogin.errors import SamlError, SamlErrorCode
from authenticators.store import Schema, Store

SCHEMA = Schema(
    "nemlogin_sps",
    [
        """
        CREATE TABLE nemlogin_sps (
            entity_id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            metadata TEXT NOT NULL,
            summary TEXT NOT NULL,
            simulate INTEGER NOT NULL DEFAULT 0,
            added_at REAL NOT NULL,
            revision TEXT NOT NULL
        )
        """
    ],
)

MAX_METADATA = 256 * 1024
BINDING_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
BINDING_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
AES256_CBC = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
AES128_GCM = "http://www.w3.org/2009/xmlenc11#aes128-gcm"
AES256_GCM = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
# Data encryption algorithms an SP may ask for, and the session key xmlsec1 makes for each.
DATA_ENCRYPTION = {AES256_CBC: "aes-256", AES256_GCM: "aes-256", AES128_GCM: "aes-128"}


@dataclass(frozen=True)
class Endpoint:
    binding: str
    location: str
    index: int | None = None
    default: bool = False
    response_location: str | None = None


@dataclass(frozen=True)
class ServiceProvider:
    entity_id: str
    name: str
    acs: tuple[Endpoint, ...]
    slo: tuple[Endpoint, ...]
    signing_certs: tuple[str, ...] = field(repr=False)
    encryption_certs: tuple[str, ...] = field(repr=False)
    encryption: str = AES256_CBC
    simulate: bool = False
    metadata: str = field(default="", repr=False)

    def acs_for(self, url: str | None, index: int | None) -> Endpoint | None:
        """The HTTP-POST consumer the request names (URL or index), or the default one."""
        posts = [e for e in self.acs if e.binding == BINDING_POST]
        if url is not None:
            return next((e for e in posts if e.location == url), None)
        if index is not None:
            return next((e for e in posts if e.index == index), None)
        defaults = [e for e in posts if e.default]
        candidates = defaults or posts
        return candidates[0] if candidates else None

    def slo_redirect(self) -> Endpoint | None:
        return next((e for e in self.slo if e.binding == BINDING_REDIRECT), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity_id": self.entity_id,
            "name": self.name,
            "assertion_consumer_services": [e.location for e in self.acs],
            "single_logout_services": [e.location for e in self.slo],
            "encryption": self.encryption,
            "simulate": self.simulate,
        }


def _summary(sp: ServiceProvider) -> str:
    return json.dumps(
        {
            "acs": [e.__dict__ for e in sp.acs],
            "slo": [e.__dict__ for e in sp.slo],
            "signing_certs": sp.signing_certs,
            "encryption_certs": sp.encryption_certs,
            "encryption": sp.encryption,
        }
    )


def _from_row(row: Any) -> ServiceProvider:
    data = json.loads(row["summary"])
    return ServiceProvider(
        entity_id=row["entity_id"],
        name=row["name"],
        acs=tuple(Endpoint(**e) for e in data["acs"]),
        slo=tuple(Endpoint(**e) for e in data["slo"]),
        signing_certs=tuple(data["signing_certs"]),
        encryption_certs=tuple(data["encryption_certs"]),
        encryption=data["encryption"],
        simulate=bool(row["simulate"]),
        metadata=row["metadata"],
    )


def _bad(message: str) -> SamlError:
    return SamlError(SamlErrorCode.BAD_METADATA, message)


def _endpoints(found: list[dict[str, Any]]) -> tuple[Endpoint, ...]:
    result = []
    for item in found:
        index = item.get("index")
        result.append(
            Endpoint(
                binding=str(item.get("binding", "")),
                location=str(item.get("location", "")),
                index=int(index) if index is not None and str(index).isdigit() else None,
                default=str(item.get("is_default", "")).lower() == "true",
                response_location=item.get("response_location"),
            )
        )
    return tuple(result)


def _certs(descriptor: dict[str, Any], use: str) -> tuple[str, ...]:
    certs = []
    for kd in descriptor.get("key_descriptor", []):
        if kd.get("use") not in (use, None):
            continue
        for x509_data in kd.get("key_info", {}).get("x509_data", []):
            text = x509_data.get("x509_certificate", {}).get("text", "")
            certs.append("".join(text.split()))
    return tuple(c for c in certs if c)


def _encryption(descriptor: dict[str, Any]) -> str:
    """The first data encryption algorithm the SP's encryption key lists that we make."""
    for kd in descriptor.get("key_descriptor", []):
        if kd.get("use") not in ("encryption", None):
            continue
        for method in kd.get("encryption_method", []):
            if method.get("algorithm") in DATA_ENCRYPTION:
                return str(method["algorithm"])
    return AES256_CBC


def parse_metadata(xml: str, *, name: str | None = None, simulate: bool = False) -> ServiceProvider:
    """One SP's metadata (an EntityDescriptor with an SPSSODescriptor), checked."""
    if len(xml.encode("utf-8", "surrogatepass")) > MAX_METADATA:
        raise _bad(f"the metadata is over {MAX_METADATA // 1024} KiB")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from saml2.mdstore import InMemoryMetaData

    store = InMemoryMetaData(None, xml, check_validity=False)
    try:
        store.load()
    except Exception as exc:  # pysaml2 and defusedxml raise many kinds
        raise _bad(f"the metadata could not be read: {type(exc).__name__}") from None
    entities = list(store.items())
    if len(entities) != 1:
        raise _bad(f"the metadata describes {len(entities)} entities; give one SP's")
    entity_id, entity = entities[0]
    descriptors = entity.get("spsso_descriptor") or []
    if len(descriptors) != 1:
        raise _bad("the metadata has no SPSSODescriptor: is it an SP's?")
    descriptor = descriptors[0]
    acs = _endpoints(descriptor.get("assertion_consumer_service", []))
    if not any(e.binding == BINDING_POST for e in acs):
        raise _bad("the SP has no AssertionConsumerService with the HTTP-POST binding")
    for endpoint in acs:
        if not endpoint.location.startswith(("https://", "http://")):
            raise _bad(f"an AssertionConsumerService is not an http(s) URL: {endpoint.location!r}")
    signing = _certs(descriptor, "signing")
    if not signing:
        raise _bad("the SP has no signing certificate (its AuthnRequests must be signed)")
    encryption = _certs(descriptor, "encryption")
    if not encryption:
        raise _bad("the SP has no encryption certificate (assertions are always encrypted)")
    return ServiceProvider(
        entity_id=str(entity_id),
        name=name or _display_name(entity) or str(entity_id),
        acs=acs,
        slo=_endpoints(descriptor.get("single_logout_service", [])),
        signing_certs=signing,
        encryption_certs=encryption,
        encryption=_encryption(descriptor),
        simulate=simulate,
        metadata=xml,
    )


def _display_name(entity: dict[str, Any]) -> str | None:
    org = entity.get("organization") or {}
    for key in ("organization_display_name", "organization_name"):
        for item in org.get(key, []):
            if item.get("text"):
                return str(item["text"]).strip()[:200]
    return None


class ProviderRegistry:
    """The registered SPs, in the state."""

    def __init__(self, store: Store, clock: Clock) -> None:
        store.ensure(SCHEMA)
        self.store = store
        self.clock = clock

    def add(self, xml: str, *, name: str | None = None, simulate: bool = False) -> ServiceProvider:
        """Register (or replace) the SP the metadata describes."""
        sp = parse_metadata(xml, name=name, simulate=simulate)
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO nemlogin_sps (entity_id, name, metadata, summary, "
                "simulate, added_at, revision) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    sp.entity_id,
                    sp.name,
                    xml,
                    _summary(sp),
                    int(simulate),
                    self.clock.now(),
                    secrets.token_hex(8),
                ),
            )
        return sp

    def get(self, entity_id: str) -> ServiceProvider | None:
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT * FROM nemlogin_sps WHERE entity_id = ?", (entity_id,)
            ).fetchone()
        return _from_row(row) if row is not None else None

    def list(self) -> list[ServiceProvider]:
        with self.store.read() as conn:
            rows = conn.execute("SELECT * FROM nemlogin_sps ORDER BY added_at").fetchall()
        return [_from_row(r) for r in rows]

    def remove(self, entity_id: str) -> None:
        with self.store.transaction() as conn:
            gone = conn.execute("DELETE FROM nemlogin_sps WHERE entity_id = ?", (entity_id,))
        if gone.rowcount == 0:
            raise SamlError(SamlErrorCode.UNKNOWN_SP, f"no service provider {entity_id!r}")

    def version(self) -> str:
        """Changes whenever an SP is added, replaced or removed."""
        with self.store.read() as conn:
            rows = conn.execute("SELECT revision FROM nemlogin_sps ORDER BY revision").fetchall()
        return ",".join(r["revision"] for r in rows)
