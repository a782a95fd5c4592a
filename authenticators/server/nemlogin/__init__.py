"""NemLog-in: an OIOSAML 3.0 identity provider on the same login core and pages as OIDC."""

import os
import shutil

XMLSEC = shutil.which("xmlsec1") or "/usr/bin/xmlsec1"


def xmlsec_problem() -> str | None:
    """Why SAML cannot work on this machine (pysaml2 signs and encrypts with xmlsec1), or None."""
    if not os.access(XMLSEC, os.X_OK):
        return "xmlsec1 is not installed (Debian: apt-get install xmlsec1)"
    return None


METADATA_PATH = "/nemlogin/saml/metadata"
SSO_PATH = "/nemlogin/saml/sso"
SLO_PATH = "/nemlogin/saml/slo"
