"""Reading the multi-agency chronology, newest first by default, in keyset pages on
(occurred_at, id): when things happened, not when we were told."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from sqlalchemy import and_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from services.referral.domain.chronology import SIGNIFICANCE
from services.referral.models import Agency, Child, ChronologyEntry
from services.referral.queries.children import visible_to
from shared.pagination import encode_cursor
from shared.tokens import Principal

Order = Literal["asc", "desc"]


@dataclass(frozen=True)
class ChronologyFilters:
    significance_at_least: str | None = None
    kinds: Sequence[str] = ()
    from_date: date | None = None
    to_date: date | None = None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


class ChronologyQueries:
    def __init__(self, session: AsyncSession, full_access_types: Sequence[str]) -> None:
        self.session = session
        self.full_access_types = list(full_access_types)

    async def child_is_visible(self, who: Principal, child_id: uuid.UUID) -> bool:
        stmt = select(Child.id).where(Child.id == child_id, visible_to(who, self.full_access_types))
        return (await self.session.exec(stmt)).first() is not None

    async def agency(self, agency_id: uuid.UUID) -> Agency | None:
        return await self.session.get(Agency, agency_id)

    def _entries(self, who: Principal, child_id: uuid.UUID) -> Select[ChronologyEntry, str]:
        # Scoped again here, not only by the caller's check: a read never starts unscoped.
        return (
            select(ChronologyEntry, Agency.name)
            .join(Child, col(Child.id) == col(ChronologyEntry.child_id))
            .outerjoin(Agency, col(Agency.id) == col(ChronologyEntry.agency_id))
            .where(ChronologyEntry.child_id == child_id, visible_to(who, self.full_access_types))
        )

    async def get(self, who: Principal, child_id: uuid.UUID, entry_id: uuid.UUID) -> tuple[ChronologyEntry, str | None] | None:
        row = (await self.session.exec(self._entries(who, child_id).where(ChronologyEntry.id == entry_id))).first()
        return (row[0], row[1]) if row is not None else None

    async def page(
        self,
        who: Principal,
        child_id: uuid.UUID,
        filters: ChronologyFilters,
        order: Order,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
    ) -> tuple[list[tuple[ChronologyEntry, str | None]], str | None]:
        stmt = self._entries(who, child_id)
        if filters.significance_at_least is not None:
            levels = SIGNIFICANCE[SIGNIFICANCE.index(filters.significance_at_least):]
            stmt = stmt.where(col(ChronologyEntry.significance).in_(levels))
        if filters.kinds:
            stmt = stmt.where(col(ChronologyEntry.kind).in_(list(filters.kinds)))
        if filters.from_date is not None:
            stmt = stmt.where(col(ChronologyEntry.occurred_at) >= _start_of(filters.from_date))
        if filters.to_date is not None:
            stmt = stmt.where(col(ChronologyEntry.occurred_at) < _start_of(filters.to_date + timedelta(days=1)))
        when, ident = col(ChronologyEntry.occurred_at), col(ChronologyEntry.id)
        if after is not None:
            at, last_id = after
            if order == "asc":
                stmt = stmt.where(or_(when > at, and_(when == at, ident > last_id)))
            else:
                stmt = stmt.where(or_(when < at, and_(when == at, ident < last_id)))
        ordering = (when.asc(), ident.asc()) if order == "asc" else (when.desc(), ident.desc())
        rows: list[tuple[ChronologyEntry, str | None]] = [(entry, name) for entry, name in (await self.session.exec(stmt.order_by(*ordering).limit(limit + 1))).all()]
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1][0]
            return rows, encode_cursor(last.occurred_at, last.id)
        return rows, None
