"""Authlib's authorization server, integrated with Starlette and the emulator's state.

Authlib does the protocol checks (client authentication, redirect URI, response type, scope,
PKCE, nonce, prompt, code exchange, ID token); this module supplies the storage, the keys, the
clock and the request/response translation Authlib leaves to each framework.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    InvalidClientError,
    InvalidRequestError,
    OAuth2Payload,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge, create_s256_code_challenge
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.core.util import create_half_hash
from joserfc import jwt
from joserfc.jwk import KeySet
from starlette.responses import JSONResponse, Response

from authenticators.core.errors import CoreError
from authenticators.ct import bytes_eq
from authenticators.server.clients import SUPPORTED_SCOPES, OIDCClient
from authenticators.server.oidc.claims import user_claims
from authenticators.server.oidc.models import Authentication, RefreshToken, StoredCode

if TYPE_CHECKING:
    from authenticators.server.context import Services

ALG = "RS256"
OFFLINE_ACCESS = "offline_access"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class FormPayload(OAuth2Payload):  # type: ignore[misc]
    """Query and form parameters, first value wins; ``datalist`` keeps repeats for the checks."""

    def __init__(self, items: Sequence[tuple[str, str]]) -> None:
        self._data: dict[str, str] = {}
        self._datalist: dict[str, list[str]] = {}
        for key, value in items:
            self._data.setdefault(key, value)
            self._datalist.setdefault(key, []).append(value)

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> dict[str, list[str]]:
        return self._datalist


class EmuRequest(OAuth2Request):  # type: ignore[misc]
    """An OAuth 2 request as Authlib sees it, made from what the endpoint parsed."""

    def __init__(
        self,
        method: str,
        uri: str,
        headers: Mapping[str, str],
        query: Sequence[tuple[str, str]] = (),
        form: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(method, uri, headers=headers)
        self._args = FormPayload(query).data
        self._form = FormPayload(form).data
        self.payload = FormPayload([*query, *form])

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


def _s256_matches(verifier: str, challenge: str) -> bool:
    computed = create_s256_code_challenge(verifier)
    return bytes_eq(computed.encode("ascii"), challenge.encode("ascii", "replace"))


class S256Challenge(CodeChallenge):  # type: ignore[misc]
    """PKCE with S256 only, required for public clients, verified in constant time."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012 - Authlib's class attribute
    CODE_CHALLENGE_METHODS = {"S256": _s256_matches}  # noqa: RUF012

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        super().validate_code_challenge(grant, redirect_uri)
        data = grant.request.payload.data
        challenge = data.get("code_challenge")
        client: OIDCClient = grant.request.client
        if not challenge and client.public:
            raise InvalidRequestError(
                "A public client must use PKCE: send 'code_challenge' with "
                "'code_challenge_method=S256'.",
                redirect_uri=redirect_uri,
            )
        if challenge and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError(
                "'code_challenge_method' must be S256 ('plain' is not accepted).",
                redirect_uri=redirect_uri,
            )


class CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = [  # noqa: RUF012 - Authlib's class attribute
        "client_secret_basic",
        "client_secret_post",
        "none",
    ]

    @property
    def services(self) -> Services:
        server: EmuAuthorizationServer = self.server
        return server.services

    def generate_authorization_code(self) -> str:
        """256 random bits in one draw (Authlib's default draws once per character)."""
        return secrets.token_urlsafe(32)

    def save_authorization_code(self, code: str, request: EmuRequest) -> None:
        data = request.payload.data
        auth: Authentication = request.user
        self.services.grants.save_code(
            code,
            client_id=request.client.client_id,
            redirect_uri=data["redirect_uri"],
            scope=request.scope or "",
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            authentication=auth,
            lifetime=self.services.config.code_lifetime,
        )

    def query_authorization_code(self, code: str, client: OIDCClient) -> StoredCode | None:
        if not isinstance(code, str) or len(code) > 512:
            return None
        return self.services.grants.consume_code(code, client.client_id)

    def delete_authorization_code(self, authorization_code: StoredCode) -> None:
        """Nothing to do: the code was used up when it was presented."""

    def authenticate_user(self, authorization_code: StoredCode) -> Authentication | None:
        auth = authorization_code.authentication
        try:
            self.services.identities.by_uuid(auth.identity_uuid)
        except CoreError:
            return None  # the identity was deleted since the login
        return auth


class EmuOpenIDCode(OpenIDCode):  # type: ignore[misc]
    """ID tokens signed with the key ring's active key; times from the OIDC clock.

    ``nonce`` is optional in the code flow (OpenID Connect Core 3.1.2.1), and a nonce seen
    before is not refused: it is the relying party's value to check, echoed in the ID token.
    """

    def __init__(self, services: Services) -> None:
        super().__init__(require_nonce=False)
        self.services = services

    def exists_nonce(self, nonce: str, request: EmuRequest) -> bool:
        if len(nonce) > 512:
            raise InvalidRequestError("'nonce' is longer than 512 characters.")
        return False

    def encode_id_token(self, token: dict[str, Any], request: EmuRequest) -> str:
        return id_token(
            self.services,
            request.client,
            request.user,
            token["scope"],
            nonce=request.authorization_code.nonce if request.authorization_code else None,
            access_token=token.get("access_token"),
        )

    def generate_user_info(self, user: Authentication, scope: str) -> dict[str, Any]:
        identity = self.services.identities.by_uuid(user.identity_uuid)
        return user_claims(identity, user, scope)


def id_token(
    services: Services,
    client: OIDCClient,
    auth: Authentication,
    scope: str,
    *,
    nonce: str | None = None,
    access_token: str | None = None,
    issuer: str | None = None,
) -> str:
    """An ID token for ``auth``, signed with the active key (one key for header and signature)."""
    key = services.keyring.signing_key()
    now = int(services.oidc_clock.now())
    claims: dict[str, Any] = {
        "iss": issuer or services.config.issuer_url,
        "aud": client.client_id,
        "iat": now,
        "exp": now + int(services.config.token_lifetime),
    }
    if nonce:
        claims["nonce"] = nonce
    if auth.session_id:
        claims["sid"] = auth.session_id
    if access_token:
        half = create_half_hash(access_token, ALG)
        if half is not None:
            claims["at_hash"] = half.decode("ascii")
    identity = services.identities.by_uuid(auth.identity_uuid)
    claims.update(user_claims(identity, auth, scope))
    header = {"alg": ALG, "kid": str(key.kid), "typ": "JWT"}
    return jwt.encode(header, claims, key, [ALG])


class KeyedCodeGrant(CodeGrant):
    """The generic issuer's code grant: clients with keys may use ``private_key_jwt``."""

    TOKEN_ENDPOINT_AUTH_METHODS = [*CodeGrant.TOKEN_ENDPOINT_AUTH_METHODS, "private_key_jwt"]  # noqa: RUF012


class RefreshGrant(RefreshTokenGrant):  # type: ignore[misc]
    """``grant_type=refresh_token`` (scope ``offline_access``): each use returns a new refresh
    token and uses the old one up; the person's login is the one the grant began with."""

    TOKEN_ENDPOINT_AUTH_METHODS = KeyedCodeGrant.TOKEN_ENDPOINT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    @property
    def services(self) -> Services:
        server: EmuAuthorizationServer = self.server
        return server.services

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
        client = self.request.client
        if not isinstance(refresh_token, str) or len(refresh_token) > 512 or client is None:
            return None
        return self.services.grants.use_refresh(refresh_token, client.client_id)

    def authenticate_user(self, refresh_token: RefreshToken) -> Authentication | None:
        auth = refresh_token.authentication
        try:
            self.services.identities.by_uuid(auth.identity_uuid)
        except CoreError:
            return None
        return auth

    def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
        """Nothing to do: the refresh token was used up when it was presented."""


class PrivateKeyJWT(JWTBearerClientAssertion):  # type: ignore[misc]
    """``private_key_jwt`` client authentication (RFC 7523 2.2, OpenID Connect Core 9): a JWT
    signed with one of the client's registered keys, for this issuer, each ``jti`` once."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, services: Services) -> None:
        super().__init__(validate_jti=True, leeway=60)
        self.services = services

    def get_audiences(self) -> list[str]:
        issuer = self.services.config.issuer_url
        paths = ("", "/token", "/par", "/revoke", "/introspect")
        return [issuer + path for path in paths]

    def validate_jti(self, claims: dict[str, Any], jti: Any) -> bool:
        if not isinstance(jti, str) or len(jti) > 256:
            return False
        expires = claims.get("exp")
        return self.services.grants.first_use_of_assertion(
            str(claims["sub"]), jti, float(expires) if isinstance(expires, int | float) else 0.0
        )

    def resolve_client_public_key(self, client: OIDCClient) -> KeySet:
        keys = client.key_set()
        if keys is None:
            raise InvalidClientError(description="The client has no registered keys.")
        return keys


class EmuAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, services: Services) -> None:
        super().__init__(scopes_supported=list(SUPPORTED_SCOPES))
        self.services = services
        self.register_token_generator("default", self._generate_token)
        self.register_grant(KeyedCodeGrant, [S256Challenge(required=True), EmuOpenIDCode(services)])
        self.register_grant(RefreshGrant)
        self.register_client_auth_method(PrivateKeyJWT.CLIENT_AUTH_METHOD, PrivateKeyJWT(services))

    def query_client(self, client_id: str) -> OIDCClient | None:
        if not isinstance(client_id, str) or len(client_id) > 128:
            return None
        return self.services.clients.find(client_id)

    def _generate_token(
        self,
        grant_type: str,
        client: OIDCClient,
        user: Authentication | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        token = {
            "token_type": "Bearer",
            "access_token": secrets.token_urlsafe(32),
            "expires_in": int(self.services.config.token_lifetime),
            "scope": scope or "",
        }
        if include_refresh_token and OFFLINE_ACCESS in (scope or "").split():
            token["refresh_token"] = secrets.token_urlsafe(32)
        return token

    def save_token(self, token: dict[str, Any], request: EmuRequest) -> None:
        code: StoredCode | None = request.authorization_code
        refreshed: RefreshToken | None = getattr(request, "refresh_token", None)
        grant = code.code_sha256 if code else refreshed.grant_sha256 if refreshed else None
        self.services.grants.save_token(
            token["access_token"],
            client_id=request.client.client_id,
            code_sha256=grant,
            scope=token.get("scope", ""),
            authentication=request.user,
            lifetime=self.services.config.token_lifetime,
        )
        if "refresh_token" in token and grant is not None:
            self.services.grants.save_refresh(
                token["refresh_token"],
                client_id=request.client.client_id,
                grant_sha256=grant,
                scope=token.get("scope", ""),
                authentication=request.user,
                lifetime=self.services.config.refresh_lifetime,
            )

    def create_oauth2_request(self, request: EmuRequest) -> EmuRequest:
        return request

    def create_json_request(self, request: Any) -> Any:
        raise NotImplementedError("no JSON endpoints use Authlib here")

    def handle_response(
        self, status: int, body: Any, headers: Sequence[tuple[str, str]]
    ) -> Response:
        header_map = dict(headers)
        if isinstance(body, dict):
            if status >= 400 or "access_token" in body:
                header_map.update(NO_STORE)
            header_map.pop("Content-Type", None)
            return JSONResponse(body, status_code=status, headers=header_map)
        return Response(body or b"", status_code=status, headers=header_map)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No signals: the audit trail is kept by the login core."""
