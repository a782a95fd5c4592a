"""A sample OIDC client (Authlib, PKCE) logging in at the local MitID login server.

It plays both parts a developer's test would: the service (Authlib's OAuth2Client: authorization
URL with state, nonce and PKCE; code exchange; ID token checked against the JWKS) and the person
(going through the login pages; through the emulator control API the code display's code is
read, the app's push approved as a phone held to the screen would, and a simulated chip signs).
It logs in once with each kind of authenticator the server has a login step for, and prints the
ID token claims.

    python scripts/oidc_client_example.py --issuer http://127.0.0.1:8080 --admin-token TOKEN
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import warnings

warnings.filterwarnings("ignore", message="The httpx module is deprecated")

from authlib.integrations.httpx_client import OAuth2Client  # noqa: E402
from joserfc import jwt  # noqa: E402
from joserfc.jwk import KeySet  # noqa: E402
from joserfc.jwt import JWTClaimsRegistry  # noqa: E402

from authenticators.server.testing import BrowserLogin, Emulator, EmulatorError  # noqa: E402

CLIENT_ID = "demo-service"
REDIRECT_URI = "http://127.0.0.1:8000/callback"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--admin-token", required=True)
    parser.add_argument("--user-id", default="demo.server")
    parser.add_argument("--password", default="demo-password-1")
    args = parser.parse_args()

    emulator = Emulator(args.issuer, args.admin_token)
    kinds = [k["kind"] for k in emulator.call("GET", "/emulator/kinds")["kinds"] if k["login_step"]]
    try:
        emulator.add_client(CLIENT_ID, [REDIRECT_URI], public=True, name="Demo Service")
    except EmulatorError as exc:
        if exc.status != 409:
            raise
    try:
        emulator.create_identity(
            args.user_id,
            "Demo Server Bruger",
            password=args.password,
            cpr="010190-1234",
            authenticators=[{"kind": kind} for kind in kinds],
        )
    except EmulatorError as exc:
        if exc.status != 409:
            raise
    print(f"identity {args.user_id} holds: {', '.join(kinds)}")

    metadata = emulator.http.get("/.well-known/openid-configuration").json()
    keys = KeySet.import_key_set(emulator.http.get(metadata["jwks_uri"]).json())
    for kind in kinds:
        verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
        with OAuth2Client(
            CLIENT_ID, redirect_uri=REDIRECT_URI, scope="openid ssn", code_challenge_method="S256"
        ) as oauth:
            url, state = oauth.create_authorization_url(
                metadata["authorization_endpoint"],
                code_verifier=verifier,
                nonce=nonce,
                acr_values="urn:grn:authn:dk:mitid:substantial",
                ui_locales="en",
            )
            browser = BrowserLogin(args.issuer, emulator)
            callback = browser.login(url, args.user_id, kind=kind, password=args.password)
            browser.close()
            if callback.params.get("state") != state:
                print("state mismatch: refusing the callback", file=sys.stderr)
                return 1
            token = oauth.fetch_token(
                metadata["token_endpoint"],
                authorization_response=callback.url,
                code_verifier=verifier,
            )
        claims = jwt.decode(token["id_token"], keys, algorithms=["RS256"]).claims
        JWTClaimsRegistry(
            iss={"essential": True, "value": metadata["issuer"]},
            aud={"essential": True, "value": CLIENT_ID},
            nonce={"essential": True, "value": nonce},
        ).validate(claims)
        print(f"\n-- logged in with {kind}: ID token claims (signature, iss, aud, nonce checked)")
        print(json.dumps(claims, indent=2, ensure_ascii=False, sort_keys=True))
    emulator.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
