"""Reading what an SP sends: AuthnRequests and LogoutRequests over HTTP-Redirect (or POST).

Every check happens before anything is believed: the size (of the query and of the inflated
XML), the XML itself (pysaml2 parses through defusedxml: no DTD, no entity), the issuer (a
registered SP), the signature (RSA-SHA256 or stronger, over the query string exactly as sent,
or the enveloped signature of a POST), the issue instant, the request's ID (used once), and the
assertion consumer service (one the SP registered).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import warnings
import zlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from authenticators.protocol import Level
from authenticators.server.nemlogin import SLO_PATH, SSO_PATH, oiosaml
from authenticators.server.nemlogin.errors import SamlError, SamlErrorCode
from authenticators.server.nemlogin.idp import IdentityProvider
from authenticators.server.nemlogin.providers import Endpoint, ServiceProvider
from authenticators.store import Schema, Store

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from saml2 import samlp
    from saml2.sigver import SIGNER_ALGS, extract_rsa_key_from_x509_cert, pem_format
    from saml2.validate import valid_instance
    from saml2.xmldsig import SIG_RSA_SHA256, SIG_RSA_SHA384, SIG_RSA_SHA512

SCHEMA = Schema(
    "nemlogin_requests",
    [
        """
        CREATE TABLE nemlogin_requests (
            entity_id TEXT NOT NULL,
            request_id TEXT NOT NULL,
            expires_at REAL NOT NULL,
            PRIMARY KEY (entity_id, request_id)
        )
        """
    ],
)

MAX_ENCODED = 16 * 1024  # the SAMLRequest parameter as sent
MAX_XML = 64 * 1024  # the request once decoded and inflated
SIGNATURE_ALGORITHMS = (SIG_RSA_SHA256, SIG_RSA_SHA384, SIG_RSA_SHA512)
# How old (or how far in the future) a request may be, in seconds, and so how long its ID is kept.
REQUEST_WINDOW = 600
MAX_RELAY_STATE = 800  # SAML says 80 bytes; SPs send more; refuse what is absurd


def _error(code: SamlErrorCode, message: str) -> SamlError:
    return SamlError(code, message)


@dataclass(frozen=True)
class Incoming:
    """A message as it came: the parameters, and the query string's raw parts."""

    params: dict[str, str]
    raw: dict[str, str]
    binding: str  # "redirect" or "post"

    @classmethod
    def from_query(cls, query: bytes) -> Incoming:
        if len(query) > MAX_ENCODED + 4096:
            raise _error(SamlErrorCode.TOO_LARGE, "the query string is too long")
        try:
            text = query.decode("ascii")
        except UnicodeDecodeError:
            raise _error(SamlErrorCode.MALFORMED, "the query string is not ASCII") from None
        params: dict[str, str] = {}
        raw: dict[str, str] = {}
        for part in text.split("&"):
            name, _, value = part.partition("=")
            if name in raw:
                raise _error(SamlErrorCode.MALFORMED, f"the parameter {name!r} is repeated")
            raw[name] = part
            params[name] = unquote_plus(value)
        return cls(params, raw, "redirect")

    @classmethod
    def from_form(cls, form: list[tuple[str, str]]) -> Incoming:
        params: dict[str, str] = {}
        for name, value in form:
            if name in params:
                raise _error(SamlErrorCode.MALFORMED, f"the field {name!r} is repeated")
            params[name] = value
        return cls(params, {}, "post")


def _decode(encoded: str, binding: str) -> str:
    if len(encoded) > MAX_ENCODED * (4 if binding == "post" else 1):
        raise _error(SamlErrorCode.TOO_LARGE, "the SAML message is too large")
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise _error(SamlErrorCode.MALFORMED, "the SAML message is not base64") from None
    if binding == "redirect":
        inflater = zlib.decompressobj(-15)
        try:
            data = inflater.decompress(data, MAX_XML)
        except zlib.error:
            raise _error(SamlErrorCode.MALFORMED, "the SAML message is not DEFLATE data") from None
        if inflater.unconsumed_tail:
            raise _error(SamlErrorCode.TOO_LARGE, f"the SAML message inflates past {MAX_XML} bytes")
    elif len(data) > MAX_XML:
        raise _error(SamlErrorCode.TOO_LARGE, f"the SAML message is over {MAX_XML} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _error(SamlErrorCode.MALFORMED, "the SAML message is not UTF-8") from None


def _parse(xml: str, parser: Any, what: str) -> Any:
    try:
        message = parser(xml)
    except Exception as exc:  # defusedxml's refusals, ElementTree's ParseError, pysaml2's
        raise _error(
            SamlErrorCode.MALFORMED, f"the {what} is not well-formed SAML ({type(exc).__name__})"
        ) from None
    if message is None:
        raise _error(SamlErrorCode.MALFORMED, f"the message is not a SAML {what}")
    return message


def _issuer(message: Any) -> str:
    issuer = getattr(message, "issuer", None)
    text = (getattr(issuer, "text", None) or "").strip()
    if not text:
        raise _error(SamlErrorCode.MALFORMED, "the message names no Issuer")
    return str(text)


def _check_redirect_signature(incoming: Incoming, field: str, sp: ServiceProvider) -> None:
    sigalg = incoming.params.get("SigAlg")
    signature = incoming.params.get("Signature")
    if not sigalg or not signature:
        raise _error(SamlErrorCode.UNSIGNED, "the request is not signed (SigAlg and Signature)")
    if sigalg not in SIGNATURE_ALGORITHMS:
        raise _error(SamlErrorCode.UNSUPPORTED, "sign with RSA-SHA256 (or SHA-384, SHA-512)")
    signed = "&".join(
        incoming.raw[name] for name in (field, "RelayState", "SigAlg") if name in incoming.raw
    ).encode("ascii")
    try:
        sig = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise _error(SamlErrorCode.BAD_SIGNATURE, "the Signature is not base64") from None
    signer = SIGNER_ALGS[sigalg]
    for cert in sp.signing_certs:
        try:
            if signer.verify(signed, sig, extract_rsa_key_from_x509_cert(pem_format(cert))):
                return
        except Exception:  # noqa: S112 - a wrong signature raises; try the next certificate
            continue
    raise _error(SamlErrorCode.BAD_SIGNATURE, "the signature does not verify with the SP's keys")


def _check_post_signature(idp: IdentityProvider, xml: str, kind: str) -> None:
    security = idp.server().sec
    check = (
        security.correctly_signed_authn_request
        if kind == "authn"
        else security.correctly_signed_logout_request
    )
    if "Signature" not in xml:
        raise _error(SamlErrorCode.UNSIGNED, "the request has no enveloped signature")
    try:
        ok = check(xml, must=True)
    except Exception:
        ok = None
    if not ok:
        raise _error(
            SamlErrorCode.BAD_SIGNATURE, "the signature does not verify with the SP's keys"
        )


def _instant(value: str | None) -> float:
    if not value:
        raise _error(SamlErrorCode.MALFORMED, "the request has no IssueInstant")
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _error(SamlErrorCode.MALFORMED, "the IssueInstant is not a time") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def _authenticated_message(
    idp: IdentityProvider, incoming: Incoming, field: str, parser: Any, kind: str, what: str
) -> tuple[Any, ServiceProvider]:
    encoded = incoming.params.get(field)
    if not encoded:
        raise _error(SamlErrorCode.MALFORMED, f"send the {what} as {field}")
    xml = _decode(encoded, incoming.binding)
    message = _parse(xml, parser, what)
    entity_id = _issuer(message)
    sp = idp.providers.get(entity_id)
    if sp is None:
        raise _error(SamlErrorCode.UNKNOWN_SP, "the Issuer is not a registered service provider")
    if incoming.binding == "redirect":
        _check_redirect_signature(incoming, field, sp)
    else:
        _check_post_signature(idp, xml, kind)
    try:
        valid_instance(message)
    except Exception as exc:  # pysaml2's NotValid and its kin
        raise _error(
            SamlErrorCode.MALFORMED, f"the {what} is not valid SAML: {exc}"[:300]
        ) from None
    if getattr(message, "version", None) != "2.0":
        raise _error(SamlErrorCode.MALFORMED, "the request is not SAML 2.0")
    destination = getattr(message, "destination", None)
    expected = idp.base_url + (idp_path(kind))
    if destination is not None and destination != expected:
        raise _error(SamlErrorCode.MALFORMED, f"the request's Destination is not {expected}")
    relay_state = incoming.params.get("RelayState")
    if relay_state is not None and len(relay_state) > MAX_RELAY_STATE:
        raise _error(SamlErrorCode.TOO_LARGE, "the RelayState is too long")
    return message, sp


def idp_path(kind: str) -> str:
    return SSO_PATH if kind == "authn" else SLO_PATH


class ReplayGuard:
    """Each SP's request IDs, used once within the window."""

    def __init__(self, store: Store) -> None:
        store.ensure(SCHEMA)
        self.store = store

    def use(self, entity_id: str, request_id: str, now: float) -> None:
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM nemlogin_requests WHERE expires_at < ?", (now,))
            seen = conn.execute(
                "SELECT 1 FROM nemlogin_requests WHERE entity_id = ? AND request_id = ?",
                (entity_id, request_id),
            ).fetchone()
            if seen is not None:
                raise _error(SamlErrorCode.REPLAYED, "this request ID has been used before")
            conn.execute(
                "INSERT INTO nemlogin_requests (entity_id, request_id, expires_at)"
                " VALUES (?, ?, ?)",
                (entity_id, request_id, now + 2 * REQUEST_WINDOW),
            )


@dataclass(frozen=True)
class AuthnRequest:
    """A verified AuthnRequest: who asked, where to answer, and what for."""

    id: str
    sp: ServiceProvider
    acs: Endpoint
    relay_state: str | None
    force_authn: bool
    is_passive: bool
    class_refs: tuple[str, ...]
    comparison: str | None
    app_switch: tuple[str, str] | None  # (platform, return URL)

    def requirement(self, default: Level) -> tuple[Level, bool]:
        """The level and whether a professional login is asked for; NoAuthnContext if neither
        profile nor level can be met."""
        if self.comparison not in (None, "minimum"):
            raise _error(
                SamlErrorCode.NO_AUTHN_CONTEXT,
                'only RequestedAuthnContext Comparison="minimum" is supported',
            )
        levels: list[Level] = []
        profiles: set[str] = set()
        for ref in self.class_refs:
            if ref in oiosaml.LOA_URIS:
                levels.append(oiosaml.LOA_URIS[ref])
            elif ref in oiosaml.PROFILES:
                profiles.add(ref)
            else:
                raise _error(
                    SamlErrorCode.NO_AUTHN_CONTEXT,
                    f"unknown AuthnContextClassRef {ref[:120]!r}",
                )
        level = min(levels, key=lambda lvl: lvl.rank) if levels else default
        professional = profiles == {oiosaml.PROFESSIONAL_PROFILE}
        return level, professional


def _app_switch(message: Any) -> tuple[str, str] | None:
    extensions = getattr(message, "extensions", None)
    if extensions is None:
        return None
    for element in extensions.extension_elements or []:
        if element.tag != "AppSwitch" or element.namespace != oiosaml.APP_SWITCH_NS:
            continue
        values = {child.tag: (child.text or "").strip() for child in element.children}
        platform, url = values.get("Platform", ""), values.get("ReturnURL", "")
        if platform not in ("Android", "iOS") or not url.startswith("https://"):
            raise _error(
                SamlErrorCode.MALFORMED,
                "AppSwitch needs Platform Android or iOS and an https ReturnURL",
            )
        return platform, url
    return None


def read_authn_request(
    idp: IdentityProvider, guard: ReplayGuard, incoming: Incoming, now: float
) -> AuthnRequest:
    """The AuthnRequest, verified; a :class:`SamlError` says what was wrong."""
    message, sp = _authenticated_message(
        idp, incoming, "SAMLRequest", samlp.authn_request_from_string, "authn", "AuthnRequest"
    )
    request_id = str(message.id or "")
    if not request_id or len(request_id) > 256:
        raise _error(SamlErrorCode.MALFORMED, "the AuthnRequest has no usable ID")
    issued = _instant(message.issue_instant)
    if abs(now - issued) > REQUEST_WINDOW:
        raise _error(SamlErrorCode.EXPIRED, "the AuthnRequest's IssueInstant is out of range")
    binding = message.protocol_binding
    if binding is not None and binding != "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST":
        raise _error(SamlErrorCode.UNSUPPORTED, "responses go over HTTP-POST only")
    index = message.assertion_consumer_service_index
    acs = sp.acs_for(
        message.assertion_consumer_service_url,
        int(index) if index is not None and str(index).isdigit() else None,
    )
    if acs is None:
        raise _error(
            SamlErrorCode.UNKNOWN_ACS,
            "the AssertionConsumerService is not one the SP registered",
        )
    guard.use(sp.entity_id, request_id, now)
    context = message.requested_authn_context
    refs: tuple[str, ...] = ()
    comparison = None
    if context is not None:
        refs = tuple((ref.text or "").strip() for ref in context.authn_context_class_ref or [])
        comparison = context.comparison
    return AuthnRequest(
        id=request_id,
        sp=sp,
        acs=acs,
        relay_state=incoming.params.get("RelayState"),
        force_authn=str(message.force_authn).lower() in ("true", "1"),
        is_passive=str(message.is_passive).lower() in ("true", "1"),
        class_refs=refs,
        comparison=comparison,
        app_switch=_app_switch(message),
    )


@dataclass(frozen=True)
class LogoutRequest:
    id: str
    sp: ServiceProvider
    name_id: str
    relay_state: str | None


def read_logout_request(
    idp: IdentityProvider, guard: ReplayGuard, incoming: Incoming, now: float
) -> LogoutRequest:
    message, sp = _authenticated_message(
        idp, incoming, "SAMLRequest", samlp.logout_request_from_string, "logout", "LogoutRequest"
    )
    request_id = str(message.id or "")
    if not request_id or len(request_id) > 256:
        raise _error(SamlErrorCode.MALFORMED, "the LogoutRequest has no usable ID")
    issued = _instant(message.issue_instant)
    if abs(now - issued) > REQUEST_WINDOW:
        raise _error(SamlErrorCode.EXPIRED, "the LogoutRequest's IssueInstant is out of range")
    guard.use(sp.entity_id, request_id, now)
    name_id = (getattr(message.name_id, "text", None) or "").strip()
    return LogoutRequest(request_id, sp, name_id, incoming.params.get("RelayState"))
