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
    active: bool = True
    created_at: datetime = utc_column()


METADATA = service_metadata([
    *SHARED_TABLES,
    ApiClient.__table__,  # type: ignore[attr-defined]
])
