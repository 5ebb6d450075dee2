"""Reporting service tables: the read model fed by other services' events."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from shared.db import service_metadata
from shared.models import SHARED_TABLES, utc_column, uuid_pk


class EventLog(SQLModel, table=True):
    """Every event applied, once. Thin: ids and codes, never names or free text."""

    __tablename__ = "event_log"
    id: uuid.UUID = uuid_pk()
    webhook_id: str = Field(max_length=100, unique=True)
    event_type: str = Field(max_length=100, index=True)
    source: str = Field(max_length=60)
    version: int
    occurred_at: datetime = utc_column(index=True)
    received_at: datetime = utc_column()
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class MetricCounter(SQLModel, table=True):
    """A running count, moved in the same transaction as the event that changes it."""

    __tablename__ = "metric_counter"
    name: str = Field(primary_key=True, max_length=60)
    value: int = 0
    updated_at: datetime = utc_column()


METADATA = service_metadata([
    *SHARED_TABLES,
    EventLog.__table__,  # type: ignore[attr-defined]
    MetricCounter.__table__,  # type: ignore[attr-defined]
])
