"""Writes of the read model: the event log, counters, projected rows, the calendar and the
partnership configuration. Aggregates are computed in SQL, never by loading rows."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, func, insert
from sqlalchemy import select as core_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.reporting.domain.calendar import Day
from services.reporting.domain.projection import Event, Write
from services.reporting.models import (
    READ_MODEL_TABLES,
    CalendarDay,
    EventIdentity,
    EventLog,
    MetricCounter,
    PartnershipConfig,
)
from shared.db import utcnow
from shared.events import first_delivery
from shared.models import InboxEvent

_Shape = tuple[str, tuple[str, ...], tuple[str, ...], str | None]  # table, key columns, value columns, guard
CHUNK = 2000  # rows per statement: PostgreSQL takes at most 32767 parameters
TABLES: dict[str, Table] = {m.__tablename__: m.__table__ for m in READ_MODEL_TABLES}  # type: ignore[attr-defined]


class ReadModelQueries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _execute(self, stmt: Any, params: Any = None) -> Any:
        """Core statements run on the session's connection (same transaction)."""
        connection = await self.session.connection()
        return await connection.execute(stmt, params) if params is not None else await connection.execute(stmt)

    async def dialect(self) -> str:
        return (await self.session.connection()).dialect.name

    async def _insert(self, table: Any) -> Any:
        return (postgresql.insert if await self.dialect() == "postgresql" else sqlite.insert)(table)

    # --- ingest ------------------------------------------------------------------------------

    async def first_delivery(self, webhook_id: str, event_type: str) -> bool:
        return await first_delivery(self.session, webhook_id, event_type)

    async def log(self, entry: EventLog, identity: Mapping[str, Any]) -> None:
        """The thin log row, and the census identifiers apart in the export-scoped table."""
        self.session.add(entry)
        await self.session.flush()
        if identity:
            self.session.add(EventIdentity(event_id=entry.id, data=dict(identity)))
            await self.session.flush()

    async def already_applied(self, webhook_ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(webhook_ids), CHUNK):
            stmt = select(InboxEvent.webhook_id).where(col(InboxEvent.webhook_id).in_(webhook_ids[start:start + CHUNK]))
            found.update((await self.session.exec(stmt)).all())
        return found

    async def log_many(self, rows: Sequence[Mapping[str, Any]], identities: Sequence[Mapping[str, Any]]) -> None:
        """Bulk path (synthetic loads): inbox and log rows for events known to be new, and each
        one's census identifiers (``identities``, in the same order) in the export-scoped table."""
        now = utcnow()
        inbox = [{"webhook_id": r["webhook_id"], "event_type": r["event_type"], "received_at": now} for r in rows]
        logged = [{"id": uuid.uuid4(), **r, "received_at": now} for r in rows]
        identity = [{"event_id": row["id"], "data": dict(found)} for row, found in zip(logged, identities, strict=True) if found]
        for start in range(0, len(rows), CHUNK):
            await self._execute(insert(InboxEvent), inbox[start:start + CHUNK])
            await self._execute(insert(EventLog), logged[start:start + CHUNK])
        for start in range(0, len(identity), CHUNK):
            await self._execute(insert(EventIdentity), identity[start:start + CHUNK])

    async def increment(self, name: str, by: int = 1) -> None:
        """Atomic upsert: concurrent deliveries never lose a count."""
        stmt = (await self._insert(MetricCounter)).values(name=name, value=by, updated_at=utcnow())
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

    async def apply(self, writes: Iterable[Write]) -> None:
        """Upsert projected rows, one statement per table and shape, each key once per statement.

        Unguarded writes never blank a column another event filled (``COALESCE``); guarded
        ones replace the row's columns when they are not older than what is stored.
        """
        groups: dict[_Shape, list[tuple[set[tuple[Any, ...]], list[dict[str, Any]]]]] = defaultdict(list)
        for w in writes:
            rounds = groups[(w.table, tuple(w.key), tuple(w.values), w.newer_than)]
            key = tuple(w.key.values())
            # A key seen twice goes to a later statement: one upsert may not touch a row twice.
            target = next((r for r in rounds if key not in r[0]), None)
            if target is None:
                target = (set(), [])
                rounds.append(target)
            target[0].add(key)
            target[1].append({**w.key, **w.values})
        for (table_name, key_cols, value_cols, newer_than), rounds in groups.items():
            table = TABLES[table_name]
            for _, rows in rounds:
                stmt = await self._insert(table)
                if not value_cols:
                    stmt = stmt.on_conflict_do_nothing(index_elements=list(key_cols))
                elif newer_than is None:
                    stmt = stmt.on_conflict_do_update(
                        index_elements=list(key_cols),
                        set_={c: func.coalesce(stmt.excluded[c], table.c[c]) for c in value_cols},
                    )
                else:
                    stored = table.c[newer_than]
                    stmt = stmt.on_conflict_do_update(
                        index_elements=list(key_cols),
                        set_={c: stmt.excluded[c] for c in value_cols},
                        where=stored.is_(None) | (stored <= stmt.excluded[newer_than]),
                    )
                for start in range(0, len(rows), CHUNK):
                    await self._execute(stmt, rows[start:start + CHUNK])

    # --- rebuild ------------------------------------------------------------------------------

    async def clear_read_model(self) -> None:
        for model in reversed(READ_MODEL_TABLES):
            await self._execute(delete(model))

    async def logged_events(self, batch_size: int) -> AsyncIterator[list[Event]]:
        """The event log in the order events occurred, a batch at a time (keyset, not offset),
        each event's data whole again: the log row's with its census identifiers."""
        log = EventLog.__table__  # type: ignore[attr-defined]
        identity = EventIdentity.__table__  # type: ignore[attr-defined]
        after: tuple[datetime, Any] | None = None
        while True:
            stmt = core_select(log.c.occurred_at, log.c.id, log.c.webhook_id, log.c.event_type, log.c.source, log.c.data,
                               identity.c.data).outerjoin(identity, identity.c.event_id == log.c.id)
            if after is not None:
                stmt = stmt.where((log.c.occurred_at > after[0]) | ((log.c.occurred_at == after[0]) & (log.c.id > after[1])))
            rows = (await self._execute(stmt.order_by(log.c.occurred_at, log.c.id).limit(batch_size))).all()
            if not rows:
                return
            yield [Event(event_id=r[2], type=r[3], source=r[4], occurred_at=r[0], data={**r[5], **(r[6] or {})}) for r in rows]
            after = (rows[-1][0], rows[-1][1])

    async def recount(self, counters: Mapping[str, Sequence[str]], received: str) -> None:
        """Counters recomputed from the log: ``counters`` maps a counter to the event types it counts."""
        await self._execute(delete(MetricCounter))
        by_type = dict((await self.session.exec(
            select(EventLog.event_type, func.count()).group_by(col(EventLog.event_type)))).all())
        now = utcnow()
        values = {received: sum(by_type.values())}
        for name, types in counters.items():
            values[name] = sum(by_type.get(t, 0) for t in types)
        for name, value in values.items():
            self.session.add(MetricCounter(name=name, value=value, updated_at=now))
        await self.session.flush()

    async def generation(self, counter: str) -> tuple[Any, ...]:
        """What changes whenever the read model or the configuration does (one statement)."""
        counters = MetricCounter.__table__  # type: ignore[attr-defined]
        config = PartnershipConfig.__table__  # type: ignore[attr-defined]

        def one(table: Table, column: str, where: Any) -> Any:
            return core_select(table.c[column]).where(where).scalar_subquery()

        named, first = counters.c.name == counter, config.c.id == 1
        row = (await self._execute(core_select(
            one(counters, "value", named), one(counters, "updated_at", named),
            one(config, "version", first), one(config, "updated_at", first),
        ))).one()
        return tuple(row)

    async def count_events(self) -> int:
        return int((await self.session.exec(select(func.count()).select_from(EventLog))).one())

    # --- calendar -------------------------------------------------------------------------------

    async def calendar_matches(self, days: int, working_days: int) -> bool:
        row = (await self.session.exec(select(func.count(), func.max(CalendarDay.wd)))).one()
        return (row[0], row[1]) == (days, working_days)

    async def replace_calendar(self, days: Sequence[Day]) -> None:
        await self._execute(delete(CalendarDay))
        rows = [d.row() for d in days]
        for start in range(0, len(rows), 5000):
            await self._execute(insert(CalendarDay), rows[start:start + 5000])

    # --- configuration ------------------------------------------------------------------------------

    async def config(self) -> PartnershipConfig | None:
        return await self.session.get(PartnershipConfig, 1)

    async def save_config(self, row: PartnershipConfig) -> None:
        self.session.add(row)
        await self.session.flush()
