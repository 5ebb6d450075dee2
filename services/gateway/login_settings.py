"""Settings of the dashboard's sign-in (``GATEWAY_`` environment like the rest of the gateway).

The dashboard is a public client (it keeps no secret): it signs in with the OpenID Connect
authorization code flow with PKCE (RFC 7636, S256). Either against the gateway's own development
login (``dev_login_users``: ``make run`` sets it; never in production), which answers with a
gateway token directly, or against the partnership's identity provider (``oidc_*``), whose ID token
the dashboard then exchanges at the gateway's token endpoint for a gateway token (RFC 8693).
"""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings

#: The agency dashboard users' tokens name when none is configured: a fixed, made-up id.
DASHBOARD_AGENCY = uuid.uuid5(uuid.NAMESPACE_URL, "urn:neglect-backbone:dashboard")


class DevUser(BaseModel):
    """A development login's demo user: an id (the token's acting user) and a name to show."""

    id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")
    name: str = Field(min_length=1, max_length=100)


class LoginSettings(BaseSettings):
    #: The dashboard's public client id (no secret; PKCE protects its codes).
    dashboard_client_id: str = Field(default="dashboard", pattern=r"^[A-Za-z0-9._-]{3,100}$")
    #: The scopes a dashboard token carries: read-only reporting.
    dashboard_scopes: list[str] = Field(default_factory=lambda: ["reporting:read"])
    #: The agency dashboard tokens name (reporting figures are partnership-wide).
    dashboard_agency_id: uuid.UUID = DASHBOARD_AGENCY
    #: Where codes may be sent, matched exactly; empty: the gateway's own ``/dashboard/`` on the
    #: origin the request came to (set this behind a proxy that rewrites the host).
    dashboard_redirect_uris: list[str] = Field(default_factory=list)
    #: Lifetime of an authorization code (RFC 6749 §4.1.2 recommends at most 10 minutes).
    authorization_code_ttl_seconds: int = Field(default=60, ge=10, le=600)
    #: Demo users of the development login at /oauth/authorize; empty switches it off.
    dev_login_users: list[DevUser] = Field(default_factory=list)
    #: The partnership's OpenID Connect provider (all four, or none): the dashboard signs in there.
    oidc_issuer: str = ""
    oidc_authorize_url: str = ""
    oidc_token_url: str = ""
    oidc_jwks_url: str = ""
    #: The dashboard's (public) client id at the provider; the ID token's audience.
    oidc_client_id: str = ""
    oidc_scope: str = "openid"

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer)

    @model_validator(mode="after")
    def _login_is_coherent(self) -> LoginSettings:
        oidc = [self.oidc_issuer, self.oidc_authorize_url, self.oidc_token_url, self.oidc_jwks_url, self.oidc_client_id]
        if any(oidc) and not all(oidc):
            raise ValueError("set all of oidc_issuer, oidc_authorize_url, oidc_token_url, oidc_jwks_url and "
                             "oidc_client_id, or none")
        if self.dev_login_users and getattr(self, "environment", "dev") == "prod":
            raise ValueError("the development login (dev_login_users) is not for production")
        return self
