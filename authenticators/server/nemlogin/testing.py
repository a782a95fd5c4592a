"""An OIOSAML 3 service provider for tests, made of pysaml2's own SP client.

It registers from its metadata like any SP, signs its AuthnRequests (HTTP-Redirect,
RSA-SHA256), and checks a response as the official reference SP (OIOSAML.Java's
``AssertionValidationService``) does: success status, ``InResponseTo``, an unsigned response with
exactly one ``EncryptedAssertion`` and no plain one, the assertion signed, audience, bearer
recipient and ``NotOnOrAfter`` (those by pysaml2), one ``AuthnStatement`` and one
``AttributeStatement``, the NameID prefix of the profile asked for, ``SpecVer``, for a
professional an 8-digit CVR and an organisation name, and a level at least the one asked for.
"""

from __future__ import annotations

import base64
import re
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import defusedxml.ElementTree as SafeET

from authenticators.protocol import Level
from authenticators.server.nemlogin import oiosaml
from authenticators.server.nemlogin.keys import _make
from authenticators.server.nemlogin.providers import AES256_CBC

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, ExtensionElement, md
    from saml2.client import Saml2Client
    from saml2.config import SPConfig
    from saml2.metadata import entity_descriptor
    from saml2.saml import AuthnContextClassRef
    from saml2.samlp import Extensions, RequestedAuthnContext
    from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

SAMLP = "{urn:oasis:names:tc:SAML:2.0:protocol}"
SAML = "{urn:oasis:names:tc:SAML:2.0:assertion}"
DSIG = "{http://www.w3.org/2000/09/xmldsig#}"
XMLSEC = "/usr/bin/xmlsec1"


class ValidationError(Exception):
    """The response fails one of the reference SP's checks; the message names it."""


@dataclass(frozen=True)
class Outcome:
    """A validated login: the NameID, the attributes by name (URI) and the level reached."""

    name_id: str
    attributes: dict[str, list[str]]
    loa: str
    session_index: str | None

    def attribute(self, friendly: str) -> str | None:
        values = self.attributes.get(oiosaml.ATTRIBUTES[friendly])
        return values[0] if values else None


class OIOSAMLServiceProvider:
    """An SP of pysaml2 configured as OIOSAML 3 asks (see the module's doc)."""

    def __init__(
        self,
        idp_metadata: str,
        *,
        entity_id: str = "https://sp.example.test/saml",
        acs_url: str = "https://sp.example.test/saml/acs",
        slo_url: str = "https://sp.example.test/saml/slo",
        encryption: str = AES256_CBC,
        workdir: Path | None = None,
    ) -> None:
        self.entity_id = entity_id
        self.acs_url = acs_url
        self.slo_url = slo_url
        self._tmp = None if workdir else tempfile.TemporaryDirectory(prefix="mitid-emu-sp-")
        self.workdir = workdir or Path(self._tmp.name if self._tmp else ".")
        files: dict[str, str] = {}
        for use in ("signing", "encryption"):
            pair = _make(use, "sp", time.time())
            for part, text in (("key", pair.key_pem), ("cert", pair.cert_pem)):
                path = self.workdir / f"sp-{use}.{part}.pem"
                path.write_text(text, encoding="ascii")
                path.chmod(0o600)
                files[f"{use}.{part}"] = str(path)
        config = SPConfig()
        config.load(
            {
                "entityid": entity_id,
                "xmlsec_binary": XMLSEC,
                "key_file": files["signing.key"],
                "cert_file": files["signing.cert"],
                "encryption_keypairs": [
                    {"key_file": files["encryption.key"], "cert_file": files["encryption.cert"]}
                ],
                "allow_unknown_attributes": True,
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
                "accepted_time_diff": 60,
                "service": {
                    "sp": {
                        "endpoints": {
                            "assertion_consumer_service": [(acs_url, BINDING_HTTP_POST)],
                            "single_logout_service": [(slo_url, BINDING_HTTP_REDIRECT)],
                        },
                        "authn_requests_signed": True,
                        "want_assertions_signed": True,
                        "want_response_signed": False,
                        "allow_unsolicited": False,
                    }
                },
                "metadata": {"inline": [idp_metadata]},
            }
        )
        self.config = config
        self.client = Saml2Client(config=config)
        self.idp_entity_id = next(iter(self.client.metadata.identity_providers()))
        descriptor = entity_descriptor(config)
        descriptor.extensions = None
        for key in descriptor.spsso_descriptor.key_descriptor:
            if key.use == "encryption":  # the data encryption this SP wants (OIOSAML 3.0.3)
                key.encryption_method = [md.EncryptionMethod(algorithm=encryption)]
        self.metadata = str(descriptor)

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()

    def login_url(
        self,
        *,
        level: Level | None = Level.SUBSTANTIAL,
        professional: bool | None = False,
        force_authn: bool = False,
        is_passive: bool = False,
        relay_state: str = "",
        app_switch: tuple[str, str] | None = None,
        class_refs: list[str] | None = None,
        acs_url: str | None = None,
    ) -> tuple[str, str]:
        """A signed AuthnRequest over HTTP-Redirect: (the URL, the request's ID)."""
        refs = list(class_refs or [])
        if level is not None and class_refs is None:
            refs.append(oiosaml.loa_uri(level))
        if professional is not None and class_refs is None:
            refs.append(oiosaml.PROFESSIONAL_PROFILE if professional else oiosaml.PERSON_PROFILE)
        kwargs: dict[str, Any] = {}
        if refs:
            kwargs["requested_authn_context"] = RequestedAuthnContext(
                authn_context_class_ref=[AuthnContextClassRef(text=r) for r in refs],
                comparison="minimum",
            )
        if acs_url is not None:
            kwargs["assertion_consumer_service_urls"] = [acs_url]
        if force_authn:
            kwargs["force_authn"] = "true"
        if is_passive:
            kwargs["is_passive"] = "true"
        if app_switch is not None:
            kwargs["extensions"] = Extensions(
                extension_elements=[
                    ExtensionElement(
                        "AppSwitch",
                        namespace=oiosaml.APP_SWITCH_NS,
                        children=[
                            ExtensionElement(
                                "Platform", namespace=oiosaml.APP_SWITCH_NS, text=app_switch[0]
                            ),
                            ExtensionElement(
                                "ReturnURL", namespace=oiosaml.APP_SWITCH_NS, text=app_switch[1]
                            ),
                        ],
                    )
                ]
            )
        request_id, info = self.client.prepare_for_authenticate(
            entityid=self.idp_entity_id,
            relay_state=relay_state,
            binding=BINDING_HTTP_REDIRECT,
            sigalg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
            **kwargs,
        )
        return str(dict(info["headers"])["Location"]), str(request_id)

    def logout_url(self, name_id: str, *, relay_state: str = "") -> tuple[str, str]:
        """A signed LogoutRequest over HTTP-Redirect: (the URL, the request's ID)."""
        from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID

        destination = self.client.metadata.single_logout_service(
            self.idp_entity_id, BINDING_HTTP_REDIRECT, "idpsso"
        )[0]["location"]
        request_id, request = self.client.create_logout_request(
            destination,
            self.idp_entity_id,
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=name_id),
            sign=False,
        )
        info = self.client.apply_binding(
            BINDING_HTTP_REDIRECT,
            str(request),
            destination,
            relay_state,
            sign=True,
            sigalg=SIG_RSA_SHA256,
        )
        return str(dict(info["headers"])["Location"]), str(request_id)

    def check_logout_response(self, url: str) -> str:
        """The status of the LogoutResponse the IdP redirected to (its signature checked)."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        response = self.client.parse_logout_request_response(
            query["SAMLResponse"], BINDING_HTTP_REDIRECT
        )
        return str(response.response.status.status_code.value)

    # -- the reference SP's checks ------------------------------------------------------------

    def status(self, saml_response: str) -> tuple[str, str | None]:
        """The top-level and second-level status codes of a response (an error, say)."""
        root = SafeET.fromstring(base64.b64decode(saml_response))
        top = root.find(f"{SAMLP}Status/{SAMLP}StatusCode")
        if top is None:
            raise ValidationError("the response has no StatusCode")
        second = top.find(f"{SAMLP}StatusCode")
        return top.get("Value", ""), (second.get("Value") if second is not None else None)

    def validate(
        self,
        saml_response: str,
        request_id: str,
        *,
        level: Level = Level.SUBSTANTIAL,
        professional: bool = False,
    ) -> Outcome:
        """Check the response as the reference SP does; the assertion's content if it passes."""
        root = SafeET.fromstring(base64.b64decode(saml_response))
        if root.tag != f"{SAMLP}Response":
            raise ValidationError("not a samlp:Response")
        top, _ = self.status(saml_response)
        if top != "urn:oasis:names:tc:SAML:2.0:status:Success":
            raise ValidationError(f"status is {top}")
        if root.get("InResponseTo") != request_id:
            raise ValidationError("InResponseTo is not the request's ID")
        if root.find(f"{DSIG}Signature") is not None:
            raise ValidationError("the response is signed (OIOSAML 3: only the assertion)")
        if len(root.findall(f"{SAML}EncryptedAssertion")) != 1:
            raise ValidationError("not exactly one EncryptedAssertion")
        if root.findall(f"{SAML}Assertion"):
            raise ValidationError("a plain assertion beside the encrypted one")
        # pysaml2 decrypts, checks the assertion's signature (the SP wants it signed), the
        # audience, the bearer confirmation's recipient and NotOnOrAfter, and InResponseTo.
        parsed = self.client.parse_authn_request_response(
            saml_response, BINDING_HTTP_POST, {request_id: "/"}
        )
        if parsed is None:
            raise ValidationError("pysaml2 refused the response")
        assertion = parsed.assertion
        if assertion.signature is None:
            raise ValidationError("the assertion is not signed")
        if len(assertion.authn_statement) != 1:
            raise ValidationError("not exactly one AuthnStatement")
        if len(assertion.attribute_statement) != 1:
            raise ValidationError("not exactly one AttributeStatement")
        name_id = str(assertion.subject.name_id.text)
        prefix = oiosaml.PROFESSIONAL_NAME_ID if professional else oiosaml.PERSON_NAME_ID
        if not re.fullmatch(re.escape(prefix) + r"[0-9a-f-]{36}", name_id):
            raise ValidationError(f"NameID {name_id!r} is not {prefix}<uuid>")
        attributes = {str(k): [str(v) for v in vs] for k, vs in parsed.ava.items()}
        outcome = Outcome(
            name_id,
            attributes,
            "",
            assertion.authn_statement[0].session_index,
        )
        if outcome.attribute("SpecVer") != oiosaml.SPEC_VERSION:
            raise ValidationError("SpecVer is not OIO-SAML-3.0")
        if professional:
            if not re.fullmatch(r"\d{8}", outcome.attribute("Cvr") or ""):
                raise ValidationError("a professional's CVR is not 8 digits")
            if not outcome.attribute("OrganizationName"):
                raise ValidationError("a professional has no organisation name")
        loa = outcome.attribute("NsisLevelOfAssurance") or ""
        words = list(oiosaml.LEVEL_WORDS.values())
        if loa not in words:
            raise ValidationError(f"loa {loa!r} is not Low, Substantial or High")
        if words.index(loa) < words.index(oiosaml.level_word(level)):
            raise ValidationError(f"loa {loa} is below the {oiosaml.level_word(level)} asked for")
        return Outcome(outcome.name_id, outcome.attributes, loa, outcome.session_index)
