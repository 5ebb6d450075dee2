"""Reads and writes of the read model. Aggregates are computed in SQL, never by loading rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.reporting.models import EventLog, MetricCounter
from shared.db import utcnow
from shared.events import first_delivery


class ReadModelQueries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_delivery(self, webhook_id: str, event_type: str) -> bool:
        return await first_delivery(self.session, webhook_id, event_type)

    async def log(self, entry: EventLog) -> None:
        self.session.add(entry)
        await self.session.flush()

    async def increment(self, name: str, by: int = 1) -> None:
        """Atomic upsert: concurrent deliveries never lose a count."""
        dialect = (await self.session.connection()).dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(MetricCounter).values(name=name, value=by, updated_at=utcnow())
        stmt = stmt.on_conflict_do_update(
            index_elements=[col(MetricCounter.name)],
            set_={"value": col(MetricCounter.value) + stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
        )
        await self.session.exec(stmt)

    async def summary(self, counters: Sequence[str]) -> tuple[dict[str, int], datetime | None]:
        """The named counters (0 when never moved) and the latest event time, in one statement."""
        columns = [
            func.coalesce(select(MetricCounter.value).where(MetricCounter.name == name).scalar_subquery(), 0)
            for name in counters
        ]
        last = select(func.max(EventLog.occurred_at)).scalar_subquery()
        row = (await self.session.exec(select(last, *columns))).one()
        return dict(zip(counters, row[1:], strict=True)), row[0]
