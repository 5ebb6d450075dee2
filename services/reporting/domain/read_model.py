"""The reporting read model: events in, projected rows and counts out.

Each event is applied once (on its webhook-id), logged thin (its census identifiers
apart, anything else identifying dropped: ``identifiers.py``), moves its
counters and is projected into the read-model tables in the same transaction,
so the log, the counts and the tables never disagree, and all of them can be
rebuilt from the log alone (:meth:`ReadModel.rebuild`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from services.reporting.domain.calendar import WorkingCalendar
from services.reporting.domain.contracts import Contracts, default_contracts
from services.reporting.domain.identifiers import Separated, separate
from services.reporting.domain.projection import Event, Write, project
from services.reporting.events import (
    AGENCIES_REGISTERED,
    CHILDREN_REGISTERED,
    COUNTERS,
    EVENTS_RECEIVED,
    EVENTS_UNREADABLE,
)
from services.reporting.models import EventLog
from services.reporting.queries.read_model import ReadModelQueries
from services.reporting.schemas import EventEnvelope

log = logging.getLogger("services.reporting")
SUMMARY_COUNTERS = (CHILDREN_REGISTERED, AGENCIES_REGISTERED, EVENTS_RECEIVED)


@dataclass(frozen=True)
class Summary:
    counts: dict[str, int]
    last_event_at: datetime | None


@dataclass(frozen=True)
class Rebuilt:
    events: int
    unreadable: int


def _as_event(webhook_id: str, e: EventEnvelope, data: Separated) -> Event:
    return Event(event_id=webhook_id, type=e.type, source=e.source, occurred_at=e.occurred_at, data=data.projected)


def _separated(webhook_id: str, e: EventEnvelope) -> Separated:
    found = separate(e.data)
    if found.dropped:
        # Key names only: the values are what must never be kept.
        log.warning("identifying event data dropped", extra={"event_type": e.type, "event_id": webhook_id,
                                                             "fields": list(found.dropped)})
    return found


def _projected(events: Iterable[Event]) -> tuple[list[Write], int]:
    writes: list[Write] = []
    unreadable = 0
    for event in events:
        found, problem = project(event)
        if problem is not None:
            unreadable += 1
            # Ids and the reason only: event data never goes to the logs.
            log.warning("event not projected", extra={"event_type": event.type, "event_id": event.event_id, "reason": problem})
        writes.extend(found)
    return writes, unreadable


class ReadModel:
    def __init__(self, queries: ReadModelQueries, contracts: Contracts | None = None) -> None:
        self.queries = queries
        self.contracts = contracts or default_contracts()

    def _check(self, event: EventEnvelope) -> None:
        """The producer's contract for the fields reporting reads (422 before anything is written)."""
        self.contracts.check(event.source, event.type, event.version, event.data)

    async def receive(self, webhook_id: str, event: EventEnvelope) -> Literal["applied", "duplicate"]:
        """Apply an event once; a redelivery of the same webhook-id changes nothing. An event
        that breaks its contract raises ``EventContractBroken`` before anything is written."""
        self._check(event)
        if not await self.queries.first_delivery(webhook_id, event.type):
            return "duplicate"
        data = _separated(webhook_id, event)
        await self.queries.log(EventLog(
            webhook_id=webhook_id, event_type=event.type, source=event.source, version=event.version,
            occurred_at=event.occurred_at, data=data.kept,
        ), data.identity)
        writes, unreadable = _projected([_as_event(webhook_id, event, data)])
        await self.queries.apply(writes)
        # Unknown types are kept in the log (a later read model may use them) but only counted as received.
        for name in (EVENTS_RECEIVED, *COUNTERS.get(event.type, ()), *((EVENTS_UNREADABLE,) if unreadable else ())):
            await self.queries.increment(name)
        return "applied"

    async def receive_many(self, events: Sequence[EventEnvelope]) -> int:
        """The bulk path for offline loads (synthetic data, imports): the same log, counters and
        projection as :meth:`receive`, in a few statements. Returns how many were new. One event
        that breaks its contract refuses the whole batch, before anything is written."""
        for e in events:
            self._check(e)
        seen = await self.queries.already_applied([e.id for e in events])
        fresh: dict[str, EventEnvelope] = {}
        for e in events:
            if e.id not in seen:
                fresh.setdefault(e.id, e)
        if not fresh:
            return 0
        separated = {k: _separated(k, e) for k, e in fresh.items()}
        await self.queries.log_many([
            {"webhook_id": e.id, "event_type": e.type, "source": e.source, "version": e.version,
             "occurred_at": e.occurred_at, "data": separated[k].kept}
            for k, e in fresh.items()
        ], [separated[k].identity for k in fresh])
        writes, unreadable = _projected(_as_event(k, e, separated[k]) for k, e in fresh.items())
        await self.queries.apply(writes)
        counts: dict[str, int] = {EVENTS_RECEIVED: len(fresh)}
        for e in fresh.values():
            for name in COUNTERS.get(e.type, ()):
                counts[name] = counts.get(name, 0) + 1
        if unreadable:
            counts[EVENTS_UNREADABLE] = unreadable
        for name, by in counts.items():
            await self.queries.increment(name, by)
        return len(fresh)

    async def rebuild(self, batch_size: int) -> Rebuilt:
        """Empty every read-model table and replay the whole event log into it, in the order the
        events occurred (the projection would converge in any order). Counters are recounted
        from the log. Runs in the caller's transaction: readers see the old model until it commits."""
        await self.queries.clear_read_model()
        unreadable = 0
        async for batch in self.queries.logged_events(batch_size):
            writes, bad = _projected(batch)
            unreadable += bad
            await self.queries.apply(writes)
        counters = {name: [t for t, names in COUNTERS.items() if name in names]
                    for name in (CHILDREN_REGISTERED, AGENCIES_REGISTERED)}
        await self.queries.recount(counters, EVENTS_RECEIVED)
        if unreadable:
            await self.queries.increment(EVENTS_UNREADABLE, unreadable)
        return Rebuilt(events=await self.queries.count_events(), unreadable=unreadable)

    async def ensure_calendar(self, calendar: WorkingCalendar) -> bool:
        """Load the day table when it is missing or its holidays changed; True when it was (re)loaded."""
        days = list(calendar.days())
        if await self.queries.calendar_matches(len(days), days[-1].wd):
            return False
        await self.queries.replace_calendar(days)
        return True

    async def generation(self) -> tuple[object, ...]:
        """Changes with every event applied, every rebuild and every configuration change."""
        return await self.queries.generation(EVENTS_RECEIVED)

    async def summary(self) -> Summary:
        counts, last_event_at = await self.queries.summary(SUMMARY_COUNTERS)
        return Summary(counts=counts, last_event_at=last_event_at)
