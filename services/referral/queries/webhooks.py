"""Webhook endpoints (each agency's own only), their deliveries, the fan-out queue.

Endpoint and delivery reads are scoped to the calling agency inside every query. Who is
told of an event about a child uses ``visible_to``, the rule every child read uses.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.referral.models import (
    Child,
    Referral,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookFanout,
)
from services.referral.queries.children import visible_to
from shared.models import OutboxMessage
from shared.pagination import PageParams, fetch_page
from shared.tokens import Principal


class WebhookQueries:
    def __init__(self, session: AsyncSession, full_access_types: Sequence[str]) -> None:
        self.session = session
        self.full_access_types = list(full_access_types)

    # --- endpoints, the caller's own -------------------------------------------------

    async def endpoint(self, agency_id: uuid.UUID, endpoint_id: uuid.UUID, *, for_update: bool = False) -> WebhookEndpoint | None:
        stmt = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.agency_id == agency_id)
        if for_update:
            stmt = stmt.with_for_update()
        return (await self.session.exec(stmt.execution_options(populate_existing=True))).first()

    async def endpoints(self, agency_id: uuid.UUID, page: PageParams) -> tuple[Sequence[WebhookEndpoint], str | None]:
        return await fetch_page(self.session, select(WebhookEndpoint).where(WebhookEndpoint.agency_id == agency_id),
                                WebhookEndpoint, page)

    async def count(self, agency_id: uuid.UUID) -> int:
        stmt = select(func.count()).select_from(WebhookEndpoint).where(WebhookEndpoint.agency_id == agency_id)
        return int((await self.session.exec(stmt)).one())

    async def add(self, *rows: WebhookEndpoint | WebhookDelivery) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    async def remove(self, endpoint: WebhookEndpoint) -> None:
        """The endpoint with its deliveries and their attempts."""
        deliveries = select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint.id)
        await self.session.exec(delete(WebhookAttempt).where(col(WebhookAttempt.delivery_id).in_(deliveries)))
        await self.session.exec(delete(WebhookDelivery).where(col(WebhookDelivery.endpoint_id) == endpoint.id))
        await self.session.delete(endpoint)
        await self.session.flush()

    # --- deliveries of one of the caller's endpoints ------------------------------------

    async def deliveries(
        self, endpoint_id: uuid.UUID, page: PageParams, status: str | None,
    ) -> tuple[Sequence[WebhookDelivery], str | None]:
        stmt = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
        if status is not None:
            stmt = stmt.where(WebhookDelivery.status == status)
        return await fetch_page(self.session, stmt, WebhookDelivery, page)

    async def attempts(self, delivery_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[WebhookAttempt]]:
        out: dict[uuid.UUID, list[WebhookAttempt]] = {d: [] for d in delivery_ids}
        if not delivery_ids:
            return out
        rows = (await self.session.exec(
            select(WebhookAttempt).where(col(WebhookAttempt.delivery_id).in_(list(delivery_ids)))
            .order_by(col(WebhookAttempt.attempted_at), col(WebhookAttempt.id))
        )).all()
        for row in rows:
            out[row.delivery_id].append(row)
        return out

    async def delivery(self, endpoint_id: uuid.UUID, delivery_id: uuid.UUID) -> WebhookDelivery | None:
        stmt = select(WebhookDelivery).where(WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint_id)
        return (await self.session.exec(stmt.with_for_update().execution_options(populate_existing=True))).first()

    # --- fan-out (the worker, after commit) ----------------------------------------------

    async def queued_events(self, limit: int, *, skip_locked: bool) -> list[OutboxMessage]:
        """Events written since the last fan-out, oldest first; their queue rows locked on PostgreSQL."""
        stmt = (
            select(WebhookFanout.message_id).order_by(col(WebhookFanout.created_at), col(WebhookFanout.message_id))
            .limit(limit)
        )
        if skip_locked:
            stmt = stmt.with_for_update(skip_locked=True)
        ids = list((await self.session.exec(stmt)).all())
        if not ids:
            return []
        rows = (await self.session.exec(select(OutboxMessage).where(col(OutboxMessage.id).in_(ids)))).all()
        order = {message_id: n for n, message_id in enumerate(ids)}
        return sorted(rows, key=lambda m: order[m.id])

    async def dequeue(self, message_ids: Sequence[uuid.UUID]) -> None:
        await self.session.exec(delete(WebhookFanout).where(col(WebhookFanout.message_id).in_(list(message_ids))))

    async def subscribed(self, event_types: Sequence[str]) -> list[WebhookEndpoint]:
        """Enabled endpoints (every agency's); the caller matches event types (a JSON list)."""
        if not event_types:
            return []
        rows = (await self.session.exec(select(WebhookEndpoint).where(col(WebhookEndpoint.enabled).is_(True)))).all()
        wanted = set(event_types)
        return [e for e in rows if wanted.intersection(e.event_types)]

    async def readers(self, child_id: uuid.UUID, agency_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these agencies may read the child now: exactly the rule of the child reads."""
        out = set()
        for agency_id in set(agency_ids):
            who = Principal(client_id="webhooks", agency_id=agency_id, scopes=frozenset())
            stmt = select(Child.id).where(Child.id == child_id, visible_to(who, self.full_access_types))
            if (await self.session.exec(stmt)).first() is not None:
                out.add(agency_id)
        return out

    async def referrer(self, referral_id: uuid.UUID) -> uuid.UUID | None:
        """The agency that made the referral (told of its outcome whatever it may read)."""
        stmt = select(Referral.referring_agency_id).where(Referral.id == referral_id)
        return (await self.session.exec(stmt)).first()

    # --- the delivery worker ---------------------------------------------------------------

    async def claim_due(self, now: datetime, until: datetime, owner: str, limit: int, *, skip_locked: bool
                        ) -> list[tuple[WebhookDelivery, WebhookEndpoint]]:
        due = (
            select(WebhookDelivery.id)
            .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
            .where(
                col(WebhookEndpoint.enabled).is_(True),  # a disabled endpoint's deliveries wait
                WebhookDelivery.status == "pending",
                col(WebhookDelivery.next_attempt_at) <= now,
                or_(col(WebhookDelivery.leased_until).is_(None), col(WebhookDelivery.leased_until) <= now),
            )
            .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
            .limit(limit)
        )
        if skip_locked:
            due = due.with_for_update(skip_locked=True, of=WebhookDelivery)
        ids = list((await self.session.exec(due)).all())
        if not ids:
            return []
        await self.session.exec(
            update(WebhookDelivery).where(col(WebhookDelivery.id).in_(ids))
            .values(leased_until=until, lease_owner=owner)
        )
        rows = (await self.session.exec(
            select(WebhookDelivery, WebhookEndpoint)
            .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
            .where(col(WebhookDelivery.id).in_(ids))
            .execution_options(populate_existing=True)
        )).all()
        return [(d, e) for d, e in rows]

    async def leased(self, delivery_id: uuid.UUID, owner: str) -> WebhookDelivery | None:
        stmt = select(WebhookDelivery).where(WebhookDelivery.id == delivery_id, WebhookDelivery.lease_owner == owner)
        return (await self.session.exec(stmt.with_for_update().execution_options(populate_existing=True))).first()
