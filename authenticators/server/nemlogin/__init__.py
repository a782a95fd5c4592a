"""NemLog-in: an OIOSAML 3.0 identity provider on the same login core and pages as OIDC."""

METADATA_PATH = "/nemlogin/saml/metadata"
SSO_PATH = "/nemlogin/saml/sso"
SLO_PATH = "/nemlogin/saml/slo"
