"""Referral service tables."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.db import service_metadata
from shared.models import SHARED_TABLES, utc_column, uuid_pk


class Agency(SQLModel, table=True):
    id: uuid.UUID = uuid_pk()
    name: str = Field(max_length=200)
    agency_type: str = Field(max_length=60, index=True)
    external_ref: str | None = Field(default=None, max_length=100, unique=True)
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()
    version: int = 1


class Child(SQLModel, table=True):
    __table_args__ = (Index("ix_child_created", "created_at", "id"),)
    id: uuid.UUID = uuid_pk()
    la_child_id: str | None = Field(default=None, max_length=20, unique=True)
    given_name: str = Field(max_length=100)
    family_name: str = Field(max_length=100)
    birth_date: date | None = None
    expected_birth_date: date | None = None
    gender: str = Field(max_length=1)
    nhs_number: str | None = Field(default=None, max_length=10, index=True)
    created_by_agency_id: uuid.UUID = Field(foreign_key="agency.id", index=True)
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()
    version: int = 1


class ChildExternalRef(SQLModel, table=True):
    """A partner's own reference for a child: unique within that partner."""

    __tablename__ = "child_external_ref"
    __table_args__ = (UniqueConstraint("agency_id", "external_ref", name="uq_child_external_ref_agency"),)
    id: uuid.UUID = uuid_pk()
    child_id: uuid.UUID = Field(foreign_key="child.id", index=True)
    agency_id: uuid.UUID = Field(foreign_key="agency.id")
    external_ref: str = Field(max_length=100)
    created_at: datetime = utc_column()


class Involvement(SQLModel, table=True):
    """An agency working with a child, from when to when: it decides who may see the child."""

    __table_args__ = (Index("ix_involvement_agency_child", "agency_id", "child_id"),)
    id: uuid.UUID = uuid_pk()
    child_id: uuid.UUID = Field(foreign_key="child.id", index=True)
    agency_id: uuid.UUID = Field(foreign_key="agency.id")
    role: str = Field(max_length=60)
    start_date: date
    end_date: date | None = None
    created_at: datetime = utc_column()


METADATA = service_metadata([
    *SHARED_TABLES,
    Agency.__table__,  # type: ignore[attr-defined]
    Child.__table__,  # type: ignore[attr-defined]
    ChildExternalRef.__table__,  # type: ignore[attr-defined]
    Involvement.__table__,  # type: ignore[attr-defined]
])
