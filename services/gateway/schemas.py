"""Request and response bodies of the gateway's own endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TokenRequest(BaseModel):
    """The form of `POST /oauth/token` (documentation only: the body is form-encoded)."""

    grant_type: Literal["client_credentials"]
    scope: str | None = Field(default=None, description="Space-separated subset of the client's scopes; all of them when left out.",
                              examples=["referral:read referral:write"])
    client_id: str | None = Field(default=None, description="Only when not using HTTP Basic.")
    client_secret: str | None = Field(default=None, description="Only when not using HTTP Basic.")


class TokenResponse(BaseModel):
    access_token: str = Field(description="A signed JWT (ES256). Send it as `Authorization: Bearer <token>`.")
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 (a token type, not a secret)
    expires_in: int = Field(description="Seconds until the token expires.", examples=[900])
    scope: str = Field(description="The scopes granted, space-separated.", examples=["referral:read referral:write"])


class Jwk(BaseModel):
    """A public key. Private members (`d`, `p`, `q`, ...) are never published."""

    model_config = ConfigDict(extra="forbid")
    kty: Literal["EC", "RSA"]
    kid: str
    use: Literal["sig"] = "sig"
    alg: str
    crv: str | None = None
    x: str | None = None
    y: str | None = None
    n: str | None = None
    e: str | None = None


class JwkSet(BaseModel):
    keys: list[Jwk]
