"""Gateway tables: the partner systems allowed to ask for tokens."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from shared.db import service_metadata
from shared.models import SHARED_TABLES, utc_column, uuid_pk


class ApiClient(SQLModel, table=True):
    """A partner system (client-credentials client) acting for one agency."""

    __tablename__ = "api_client"
    id: uuid.UUID = uuid_pk()
    client_id: str = Field(max_length=100, unique=True)
    #: ``scrypt$n$r$p$salt$hash``: the secret itself is never stored.
    secret_hash: str = Field(max_length=200)
    agency_id: uuid.UUID = Field(index=True)
    #: The scopes this client may ask for; a token request can narrow them.
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    name: str = Field(max_length=200)
    #: False once revoked: the token endpoint then answers invalid_client. Never reactivated by the API.
    active: bool = True
    created_at: datetime = utc_column()
    secret_rotated_at: datetime | None = utc_column(nullable=True)
    revoked_at: datetime | None = utc_column(nullable=True)
    #: Row version for If-Match on rotate and revoke.
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class AuthorizationCode(SQLModel, table=True):
    """A dashboard sign-in's authorization code (RFC 6749 §4.1, PKCE RFC 7636): single use,
    short-lived. Only the code's SHA-256 is stored."""

    __tablename__ = "authorization_code"
    code_hash: str = Field(primary_key=True, max_length=64)
    client_id: str = Field(max_length=100)
    redirect_uri: str = Field(max_length=2000)
    code_challenge: str = Field(max_length=128)
    #: The person signed in: the development login's user id (the token's acting user).
    subject: str = Field(max_length=64)
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    expires_at: datetime = utc_column(index=True)
    used_at: datetime | None = utc_column(nullable=True)


METADATA = service_metadata([
    *SHARED_TABLES,
    ApiClient.__table__,  # type: ignore[attr-defined]
    AuthorizationCode.__table__,  # type: ignore[attr-defined]
])
