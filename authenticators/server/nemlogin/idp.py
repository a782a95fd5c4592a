"""The NemLog-in identity provider built on pysaml2 (which signs and encrypts through xmlsec1).

One :class:`IdentityProvider` per server process: the IdP's keys from the state, a pysaml2
``Server`` over the registered SPs' metadata (made again when the registry changes), the IdP's
metadata, and the three messages it makes: an authentication response, an error response and a
logout response. This module holds no XML signing or encryption of its own: it only tells
pysaml2 which algorithms the SP asked for.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import warnings
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from authenticators.clock import Clock
from authenticators.server.nemlogin import SLO_PATH, SSO_PATH, XMLSEC, oiosaml
from authenticators.server.nemlogin.errors import SamlError, SamlErrorCode
from authenticators.server.nemlogin.keys import KeyPair, idp_keys
from authenticators.server.nemlogin.providers import (
    AES256_CBC,
    BINDING_POST,
    BINDING_REDIRECT,
    DATA_ENCRYPTION,
    ProviderRegistry,
    ServiceProvider,
)
from authenticators.store import Store

with warnings.catch_warnings():  # pysaml2 names a cipher mode cryptography has moved
    warnings.simplefilter("ignore")
    from saml2 import saml, samlp
    from saml2.assertion import Policy
    from saml2.attribute_converter import AttributeConverter
    from saml2.config import IdPConfig
    from saml2.metadata import entity_descriptor
    from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT
    from saml2.server import Server
    from saml2.sigver import RSA_OAEP_MGF1P, get_pem_wrapped_unwrapped, make_temp
    from saml2.sigver import pre_encryption_part as _pre_encryption_part
    from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

# How far the clocks of the SP and the IdP may differ, and how long an assertion is good for.
TIME_SLACK = 300
ASSERTION_LIFETIME = 300


class _ReleaseAll(Policy):  # type: ignore[misc]
    """NemLog-in sends every attribute it has: no filtering by the SP's requested attributes."""

    def restrict(self, ava: Any, sp_entity_id: str, metadata: Any = None) -> Any:
        return ava


def _converter() -> AttributeConverter:
    converter = AttributeConverter(NAME_FORMAT_URI)
    converter.from_dict(
        {
            "identifier": NAME_FORMAT_URI,
            "to": dict(oiosaml.ATTRIBUTES),
            "fro": {uri: friendly for friendly, uri in oiosaml.ATTRIBUTES.items()},
        }
    )
    return converter


class _Server(Server):  # type: ignore[misc]
    """pysaml2's IdP, told each SP's data encryption algorithm, keeping no assertions."""

    algorithms: dict[str, str]

    def support_AssertionIDRequest(self) -> bool:
        return False

    def support_AuthnQuery(self) -> bool:
        return False

    def _encrypt_assertion(
        self, encrypt_cert: Any, sp_entity_id: str, response: Any, node_xpath: Any = None
    ) -> Any:
        # pysaml2's own version always uses 3DES; this one asks xmlsec1 for the SP's algorithm
        # (AES-256-CBC unless its metadata lists AES-GCM), with RSA-OAEP key transport.
        algorithm = self.algorithms.get(sp_entity_id, AES256_CBC)
        certs = self.metadata.certs(sp_entity_id, "any", "encryption")
        if not certs:
            raise SamlError(SamlErrorCode.BAD_METADATA, "the SP has no encryption certificate")
        _name, cert = certs[0]
        wrapped, unwrapped = get_pem_wrapped_unwrapped(cert)
        tmp = make_temp(wrapped.encode("ascii"), decode=False, delete_tmpfiles=True)
        template = _pre_encryption_part(
            msg_enc=algorithm, key_enc=RSA_OAEP_MGF1P, encrypt_cert=unwrapped
        )
        return self.sec.encrypt_assertion(
            response,
            tmp.name,
            template,
            key_type=DATA_ENCRYPTION[algorithm],
            node_xpath=node_xpath,
        )


@dataclass(frozen=True)
class Login:
    """What the assertion says about a finished login."""

    identity_uuid: str
    professional: bool
    loa_uri: str
    attributes: dict[str, list[str]]
    auth_time: float


class IdentityProvider:
    """The IdP of one server process."""

    def __init__(self, store: Store, clock: Clock, entity_id: str, base_url: str) -> None:
        self.entity_id = entity_id
        self.base_url = base_url.rstrip("/")
        self.providers = ProviderRegistry(store, clock)
        self.keys: dict[str, KeyPair] = idp_keys(store, clock)
        # xmlsec1 reads keys from files: private ones, removed when the process ends.
        self._dir = Path(tempfile.mkdtemp(prefix="mitid-emu-saml-"))
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._dir, ignore_errors=True)
        self._files: dict[str, str] = {}
        for use, pair in self.keys.items():
            for part, text in (("key", pair.key_pem), ("cert", pair.cert_pem)):
                path = self._dir / f"{use}.{part}.pem"
                fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as handle:
                    handle.write(text)
                self._files[f"{use}.{part}"] = str(path)
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._version: str | None = None
        self._metadata: str | None = None

    def __repr__(self) -> str:
        return f"IdentityProvider({self.entity_id!r})"

    def close(self) -> None:
        self._cleanup()

    # -- configuration ---------------------------------------------------------------------

    def _config(self, sps: list[ServiceProvider], *, want_signed: bool) -> IdPConfig:
        endpoints = {
            "single_sign_on_service": [
                (self.base_url + SSO_PATH, BINDING_REDIRECT),
                (self.base_url + SSO_PATH, BINDING_POST),
            ],
            "single_logout_service": [
                (self.base_url + SLO_PATH, BINDING_REDIRECT),
                (self.base_url + SLO_PATH, BINDING_POST),
            ],
        }
        data: dict[str, Any] = {
            "entityid": self.entity_id,
            "xmlsec_binary": XMLSEC,
            "key_file": self._files["signing.key"],
            "cert_file": self._files["signing.cert"],
            "encryption_keypairs": [
                {
                    "key_file": self._files["encryption.key"],
                    "cert_file": self._files["encryption.cert"],
                }
            ],
            "accepted_time_diff": TIME_SLACK,
            "allow_unknown_attributes": True,
            "signing_algorithm": SIG_RSA_SHA256,
            "digest_algorithm": DIGEST_SHA256,
            "service": {
                "idp": {
                    "name": "NemLog-in (mitid-emulator)",
                    "endpoints": endpoints,
                    "want_authn_requests_signed": want_signed,
                    "name_id_format": [NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT],
                    "policy": {
                        "default": {
                            "lifetime": {"minutes": ASSERTION_LIFETIME // 60},
                            "name_form": NAME_FORMAT_URI,
                        }
                    },
                }
            },
            "metadata": {"inline": [sp.metadata for sp in sps]} if sps else {},
        }
        config = IdPConfig()
        config.load(data)
        config.attribute_converters = [_converter()]
        return config

    def metadata(self) -> str:
        """The IdP's metadata: signing and encryption certificates, SSO and SLO endpoints."""
        if self._metadata is None:
            descriptor = entity_descriptor(self._config([], want_signed=True))
            descriptor.extensions = None  # pysaml2 lists every algorithm xmlsec1 knows
            self._metadata = str(descriptor)
        return self._metadata

    def server(self) -> _Server:
        """pysaml2's server over the SPs registered now (made again after a change)."""
        version = self.providers.version()
        with self._lock:
            if self._server is None or version != self._version:
                sps = self.providers.list()
                # The signature of a request is checked before pysaml2 reads it (over the
                # query string as sent), so pysaml2 is not asked to check it again.
                server = _Server(config=self._config(sps, want_signed=False))
                server.algorithms = {sp.entity_id: sp.encryption for sp in sps}
                self._server, self._version = server, version
            return self._server

    # -- messages ---------------------------------------------------------------------------

    def authn_response(
        self,
        sp: ServiceProvider,
        *,
        in_response_to: str,
        destination: str,
        login: Login,
    ) -> str:
        """A Success response: unsigned, one encrypted assertion, signed inside."""
        server = self.server()
        nid = saml.NameID(
            format=NAMEID_FORMAT_PERSISTENT,
            text=oiosaml.name_id(login.identity_uuid, login.professional),
        )
        authn = {
            "class_ref": login.loa_uri,
            "authn_auth": self.entity_id,
            "authn_instant": int(login.auth_time),
        }
        response = server.create_authn_response(
            dict(login.attributes),
            in_response_to,
            destination,
            sp.entity_id,
            name_id=nid,
            authn=authn,
            sign_response=False,
            sign_assertion=True,
            encrypt_assertion=True,
            encrypt_assertion_self_contained=True,
            release_policy=_ReleaseAll(),
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
        )
        return str(response)

    def error_response(
        self, sp: ServiceProvider, *, in_response_to: str, destination: str, error: SamlError
    ) -> str:
        """A response with the error's SAML status and no assertion."""
        server = self.server()
        status = samlp.Status(
            status_code=samlp.StatusCode(
                value=error.code.status,
                status_code=samlp.StatusCode(value=error.code.second_status),
            ),
            status_message=samlp.StatusMessage(text=error.message),
        )
        response = server._response(  # the status-only response pysaml2 makes for its errors
            in_response_to, destination, status, sign=False, sp_entity_id=sp.entity_id
        )
        return str(response)

    def logout_response(
        self,
        sp: ServiceProvider,
        *,
        in_response_to: str,
        destination: str,
        relay_state: str | None,
    ) -> str:
        """A Success LogoutResponse over HTTP-Redirect, signed (RSA-SHA256): its URL."""
        server = self.server()
        response = server._status_response(
            samlp.LogoutResponse,
            server._issuer(),
            None,
            sign=False,
            in_response_to=in_response_to,
            destination=destination,
        )
        args = server.apply_binding(
            BINDING_REDIRECT,
            str(response),
            destination,
            relay_state or "",
            response=True,
            sign=True,
            sigalg=SIG_RSA_SHA256,
        )
        headers = dict(args["headers"])
        return str(headers["Location"])
