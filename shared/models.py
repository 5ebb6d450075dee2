"""Tables every service has: audit, outbox and deliveries, inbox, idempotency.

Each service lists these beside its own tables in its migrations.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.db import UTCDateTime, utcnow


def uuid_pk() -> Any:
    return Field(default_factory=uuid.uuid4, primary_key=True)


def utc_column(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(default_factory=utcnow if not nullable else None,
                 sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class AuditEvent(SQLModel, table=True):
    """Append-only: who touched which children's data, when, why."""

    __tablename__ = "audit_event"
    # An agency's trail, newest first. A child's trail is found through child_ids: on PostgreSQL
    # a GIN index on (child_ids::jsonb) made by the migrations (ix_audit_event_child_ids, see
    # AUDIT_CHILD_INDEX); SQLite reads the list with json_each.
    __table_args__ = (Index("ix_audit_event_agency_time", "agency_id", "occurred_at"),)
    id: uuid.UUID = uuid_pk()
    occurred_at: datetime = utc_column(index=True)
    client_id: str = Field(max_length=100)
    agency_id: uuid.UUID = Field(index=True)
    acting_user: str | None = Field(default=None, max_length=200)
    action: str = Field(max_length=20)
    resource: str = Field(max_length=60)
    #: The one record acted on, when it is not a child (an API client's id, for instance).
    resource_id: str | None = Field(default=None, max_length=100)
    child_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    purpose: str = Field(max_length=60)
    request_id: str = Field(max_length=64, index=True)


#: PostgreSQL only, kept out of the models (an expression index SQLite cannot hold); each
#: service's migration creates it and ``shared.migrate`` leaves it out of the drift check.
AUDIT_CHILD_INDEX = "ix_audit_event_child_ids"
AUDIT_CHILD_INDEX_SQL = (
    f"CREATE INDEX IF NOT EXISTS {AUDIT_CHILD_INDEX} ON audit_event USING gin ((child_ids::jsonb) jsonb_path_ops)"
)


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"
    id: uuid.UUID = uuid_pk()
    event_type: str = Field(max_length=100, index=True)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    occurred_at: datetime = utc_column()


class OutboxDelivery(SQLModel, table=True):
    """One message to one subscriber; the relay works through the due ones.

    ``status`` is ``pending``, ``delivered`` or ``dead`` (retries used up; an admin may
    replay it). A relay claims a pending row by writing a lease (``leased_until``,
    ``lease_owner``) in a short transaction and sends outside any transaction; a lease
    that runs out (the relay died) makes the row claimable again.
    """

    __tablename__ = "outbox_delivery"
    __table_args__ = (
        Index("ix_outbox_delivery_due", "status", "next_attempt_at"),
        Index("ix_outbox_delivery_dead", "status", "dead_at"),
    )
    id: uuid.UUID = uuid_pk()
    message_id: uuid.UUID = Field(foreign_key="outbox_message.id", index=True)
    subscriber: str = Field(max_length=500)
    status: str = Field(default="pending", max_length=20)
    #: Every attempt ever made (replays included); each one is a DeliveryAttempt row.
    attempts: int = 0
    next_attempt_at: datetime = utc_column()
    last_error: str | None = Field(default=None, max_length=500)
    delivered_at: datetime | None = utc_column(nullable=True)
    leased_until: datetime | None = utc_column(nullable=True)
    lease_owner: str | None = Field(default=None, max_length=100)
    dead_at: datetime | None = utc_column(nullable=True)
    #: Replays by an administrator: how many, the last one's time and client, and the attempt
    #: count at that moment (the retry budget and backoff start again from there).
    replays: int = 0
    replayed_at: datetime | None = utc_column(nullable=True)
    replayed_by: str | None = Field(default=None, max_length=100)
    attempts_before_replay: int = 0


class DeliveryAttempt(SQLModel, table=True):
    __tablename__ = "delivery_attempt"
    id: uuid.UUID = uuid_pk()
    delivery_id: uuid.UUID = Field(foreign_key="outbox_delivery.id", index=True)
    attempted_at: datetime = utc_column()
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=500)
    duration_ms: float = 0.0


class InboxEvent(SQLModel, table=True):
    """Event ids already applied: consumers are idempotent on webhook-id."""

    __tablename__ = "inbox_event"
    webhook_id: str = Field(primary_key=True, max_length=100)
    event_type: str = Field(max_length=100)
    received_at: datetime = utc_column()


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("client_id", "key", name="uq_idempotency_client_key"),)
    id: uuid.UUID = uuid_pk()
    client_id: str = Field(max_length=100)
    key: str = Field(max_length=200)
    fingerprint: str = Field(max_length=64)
    status_code: int | None = None
    response_body: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    response_headers: dict[str, str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = utc_column()


SHARED_TABLES = [
    AuditEvent.__table__,  # type: ignore[attr-defined]
    OutboxMessage.__table__,  # type: ignore[attr-defined]
    OutboxDelivery.__table__,  # type: ignore[attr-defined]
    DeliveryAttempt.__table__,  # type: ignore[attr-defined]
    InboxEvent.__table__,  # type: ignore[attr-defined]
    IdempotencyRecord.__table__,  # type: ignore[attr-defined]
]
