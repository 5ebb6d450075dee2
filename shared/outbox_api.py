"""Dead letters of a service's outbox, for administrators: list them, replay them.

Every service with an outbox mounts the same router under its own name
(``/v1/outbox/referral/...``, ``/v1/outbox/assessment/...``), so the gateway can
route each to its service. A dead letter is a delivery whose retries ran out
(``OUTBOX_MAX_ATTEMPTS``). A replay puts it back in the queue: pending, due now,
with a fresh retry budget; its attempts stay in the history and the replay is
recorded with the client that asked for it. Consumers apply each event once
(``webhook-id``), so replaying an event that did arrive changes nothing there.

Events are thin (type and ids): nothing here is personal data, and no payload
is shown. No audit rows: no child's record is read.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.auth import require_scopes
from shared.db import SessionDep, utcnow
from shared.errors import Conflict, MalformedBody, NotFound, problems
from shared.models import OutboxDelivery, OutboxMessage
from shared.pagination import (
    InvalidCursor,
    PageDep,
    PageParams,
    pack_cursor,
    set_link_header,
)
from shared.tokens import Principal

log = logging.getLogger("shared.outbox")

IsAdmin = Annotated[Principal, Depends(require_scopes("admin"))]
DEAD = "dead"


class DeadLetterNotFound(NotFound):
    slug, title = "dead-letter-not-found", "No such delivery"


class NotADeadLetter(Conflict):
    slug, title = "not-a-dead-letter", "Only dead letters are replayed"


class DeadLetterRead(BaseModel):
    """A delivery whose retries ran out. No payload: the event's type and ids say what it was."""

    delivery_id: uuid.UUID
    event_id: uuid.UUID = Field(description="The event's id, sent as `webhook-id`: consumers apply it once.")
    event_type: str
    subscriber: str = Field(description="The URL the event was being delivered to.")
    attempts: int = Field(description="Every attempt made, replays included.")
    last_error: str | None = Field(description="`HTTP 503`, `ConnectError`, ...: the last attempt's failure.")
    occurred_at: datetime = Field(description="When the event happened.")
    dead_at: datetime | None = Field(description="When the last retry failed and the delivery became a dead letter.")
    replays: int = Field(description="How often an administrator has replayed it before.")
    replayed_at: datetime | None
    replayed_by: str | None = Field(description="Client id of the last replay's caller.")


class DeadLetterPage(BaseModel):
    items: list[DeadLetterRead]
    next_cursor: str | None = None


class ReplayFilter(BaseModel):
    """Which dead letters to replay; every field given must match. An empty body replays them all."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {}, {"ids": ["5b0e7a61-3c2f-4c59-9d2e-2f4a4d1c8e11"]}, {"event_type": "child.registered"},
        {"subscriber": "http://reporting:8003/v1/events"},
    ]})
    ids: list[uuid.UUID] | None = Field(default=None, min_length=1, max_length=1000, description="Delivery ids.")
    event_type: str | None = Field(default=None, min_length=1, max_length=100)
    subscriber: str | None = Field(default=None, min_length=1, max_length=500)


class ReplayResult(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"requeued": 50}]})
    requeued: int = Field(description="Dead letters put back in the queue, due now.")


async def dead_letters(
    session: AsyncSession, page: PageParams, *, event_type: str | None, subscriber: str | None,
) -> tuple[list[DeadLetterRead], str | None]:
    """Dead letters, longest dead first (keyset on dead_at, id)."""
    stmt = (
        select(OutboxDelivery, OutboxMessage)
        .join(OutboxMessage, col(OutboxMessage.id) == col(OutboxDelivery.message_id))
        .where(OutboxDelivery.status == DEAD, col(OutboxDelivery.dead_at).is_not(None))
    )
    if event_type is not None:
        stmt = stmt.where(OutboxMessage.event_type == event_type)
    if subscriber is not None:
        stmt = stmt.where(OutboxDelivery.subscriber == subscriber)
    if (position := page.position()) is not None:
        at, last_id = position
        stmt = stmt.where(or_(col(OutboxDelivery.dead_at) > at,
                              and_(col(OutboxDelivery.dead_at) == at, col(OutboxDelivery.id) > last_id)))
    stmt = stmt.order_by(col(OutboxDelivery.dead_at), col(OutboxDelivery.id)).limit(page.limit + 1)
    rows = list((await session.exec(stmt)).all())
    next_cursor = None
    if len(rows) > page.limit:
        rows = rows[: page.limit]
        last = rows[-1][0]
        next_cursor = pack_cursor([last.dead_at.isoformat() if last.dead_at else "", str(last.id)])
    return [_read(d, m) for d, m in rows], next_cursor


def _read(delivery: OutboxDelivery, message: OutboxMessage) -> DeadLetterRead:
    return DeadLetterRead(
        delivery_id=delivery.id, event_id=message.id, event_type=message.event_type, subscriber=delivery.subscriber,
        attempts=delivery.attempts, last_error=delivery.last_error, occurred_at=message.occurred_at,
        dead_at=delivery.dead_at, replays=delivery.replays, replayed_at=delivery.replayed_at,
        replayed_by=delivery.replayed_by,
    )


async def replay(session: AsyncSession, who: Principal, *, ids: Sequence[uuid.UUID] | None = None,
                 event_type: str | None = None, subscriber: str | None = None) -> int:
    """Requeue the matching dead letters (due now, a fresh retry budget); returns how many."""
    now = utcnow()
    stmt: Any = update(OutboxDelivery).where(col(OutboxDelivery.status) == DEAD)
    if ids is not None:
        stmt = stmt.where(col(OutboxDelivery.id).in_(list(ids)))
    if event_type is not None:
        stmt = stmt.where(col(OutboxDelivery.message_id).in_(
            select(OutboxMessage.id).where(OutboxMessage.event_type == event_type)))
    if subscriber is not None:
        stmt = stmt.where(col(OutboxDelivery.subscriber) == subscriber)
    stmt = stmt.values(
        status="pending", next_attempt_at=now, leased_until=None, lease_owner=None,
        attempts_before_replay=OutboxDelivery.attempts, replays=col(OutboxDelivery.replays) + 1,
        replayed_at=now, replayed_by=who.client_id,
    ).execution_options(synchronize_session=False)
    result = await session.exec(stmt)
    requeued = int(result.rowcount or 0)
    log.info("dead letters replayed", extra={"requeued": requeued, "client_id": who.client_id})
    return requeued


def outbox_router(service_name: str) -> APIRouter:
    """The dead-letter routes of one service, under ``/outbox/<service_name>`` (mounted at ``/v1``)."""
    router = APIRouter(prefix=f"/outbox/{service_name}/dead-letters", tags=["outbox"])

    @router.get("", responses=problems(InvalidCursor), summary="List dead letters",
                operation_id=f"list_{service_name}_dead_letters")
    async def list_dead_letters(
        who: IsAdmin, session: SessionDep, page: PageDep, response: Response,
        event_type: Annotated[str | None, Query(max_length=100, description="Only events of this type.")] = None,
        subscriber: Annotated[str | None, Query(max_length=500, description="Only deliveries to this URL.")] = None,
    ) -> DeadLetterPage:
        """Deliveries of this service's events whose retries ran out, longest dead first; follow
        the `Link` header for more. Each shows the event's type and id, the subscriber, the
        attempts made and the last error; never the event's payload. Scope `admin`."""
        items, next_cursor = await dead_letters(session, page, event_type=event_type, subscriber=subscriber)
        set_link_header(response, page, next_cursor)
        return DeadLetterPage(items=items, next_cursor=next_cursor)

    @router.post("/replay", responses=problems(MalformedBody), summary="Replay dead letters",
                 operation_id=f"replay_{service_name}_dead_letters")
    async def replay_dead_letters(
        who: IsAdmin, session: SessionDep, body: Annotated[ReplayFilter | None, Body()] = None,
    ) -> ReplayResult:
        """Put dead letters back in the queue: all of them, or those matching the body (`ids`,
        `event_type`, `subscriber`; each given must match). They are due at once and get a
        fresh retry budget; their earlier attempts stay recorded, and the replay is recorded
        with your client id. Consumers apply each event once, so a replay never duplicates
        one. Answers how many were requeued (0 when none matched). Scope `admin`."""
        f = body or ReplayFilter()
        return ReplayResult(requeued=await replay(session, who, ids=f.ids, event_type=f.event_type,
                                                  subscriber=f.subscriber))

    @router.post("/{delivery_id}/replay", responses=problems(DeadLetterNotFound, NotADeadLetter),
                 summary="Replay one dead letter", operation_id=f"replay_{service_name}_dead_letter")
    async def replay_dead_letter(delivery_id: uuid.UUID, who: IsAdmin, session: SessionDep) -> ReplayResult:
        """Put one dead letter back in the queue, due at once with a fresh retry budget (as the
        bulk replay). A delivery that is still pending or was delivered is a 409; an unknown
        id a 404. Scope `admin`."""
        status = (await session.exec(select(OutboxDelivery.status).where(OutboxDelivery.id == delivery_id))).first()
        if status is None:
            raise DeadLetterNotFound(f"No delivery {delivery_id} in this service's outbox.")
        if status != DEAD:
            raise NotADeadLetter(f"Delivery {delivery_id} is {status}, not a dead letter.")
        return ReplayResult(requeued=await replay(session, who, ids=[delivery_id]))

    return router
