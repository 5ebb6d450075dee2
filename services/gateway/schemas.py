"""Request and response bodies of the gateway's own endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.gateway.domain.credentials import CLIENT_ID, SCOPES, known_scopes


class TokenRequest(BaseModel):
    """The form of `POST /oauth/token` (documentation only: the body is form-encoded)."""

    grant_type: Literal["client_credentials"]
    scope: str | None = Field(default=None, description="Space-separated subset of the client's scopes; all of them when left out.",
                              examples=["referral:read referral:write"])
    client_id: str | None = Field(default=None, description="Only when not using HTTP Basic.")
    client_secret: str | None = Field(default=None, description="Only when not using HTTP Basic.")
    acting_user: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$",
        description="Your system's own id of the person this token acts for: a staff id, never a name or other "
                    "personal data. 1-64 printable ASCII characters, no spaces. The token carries it as "
                    "`act.sub`, every service records it in its audit trail, and the assessment four-eyes rule "
                    "tells people of one client apart by it. Ask for one token per person.",
        examples=["staff-4711"])


class TokenResponse(BaseModel):
    access_token: str = Field(description="A signed JWT (ES256). Send it as `Authorization: Bearer <token>`.")
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 (a token type, not a secret)
    expires_in: int = Field(description="Seconds until the token expires.", examples=[900])
    scope: str = Field(description="The scopes granted, space-separated.", examples=["referral:read referral:write"])


class ClientCreate(BaseModel):
    """A partner system to register. Its secret is generated and shown once, in the answer."""

    model_config = ConfigDict(extra="forbid")
    client_id: str | None = Field(default=None, pattern=CLIENT_ID.pattern,
                                  description="3-100 letters, digits and `. _ -`; generated from the name when left out.",
                                  examples=["police-niche"])
    agency_id: uuid.UUID = Field(description="The agency the client acts for (every token it gets names it).")
    name: str = Field(min_length=1, max_length=200, examples=["Northshire Police (Niche RMS)"])
    scopes: list[str] = Field(min_length=1, max_length=len(SCOPES),
                              description="The scopes it may ask for: " + ", ".join(f"`{s}`" for s in SCOPES) + ".",
                              examples=[["referral:read", "referral:write"]])

    @field_validator("scopes")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        return known_scopes(value)


class ClientRead(BaseModel):
    client_id: str
    agency_id: uuid.UUID
    name: str
    scopes: list[str]
    active: bool = Field(description="False once revoked.")
    created_at: datetime
    secret_rotated_at: datetime | None
    revoked_at: datetime | None
    version: int = Field(description="Also the `ETag`; send it as `If-Match` to rotate or revoke.")


class ClientWithSecret(ClientRead):
    client_secret: str = Field(description="Shown this once: only its scrypt hash is kept. Store it in your "
                                           "secret store now; if it is lost, rotate it.")


class ClientPage(BaseModel):
    items: list[ClientRead]
    next_cursor: str | None


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
