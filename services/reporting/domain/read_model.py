"""The reporting read model: events in, counts out.

Each event is applied once (on its webhook-id), logged thin, and moves its
counters in the same transaction, so the counts and the log never disagree
and the counts can be rebuilt from the log alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from services.reporting.events import (
    AGENCIES_REGISTERED,
    CHILDREN_REGISTERED,
    COUNTERS,
    EVENTS_RECEIVED,
)
from services.reporting.models import EventLog
from services.reporting.queries import ReadModelQueries
from services.reporting.schemas import EventEnvelope

SUMMARY_COUNTERS = (CHILDREN_REGISTERED, AGENCIES_REGISTERED, EVENTS_RECEIVED)


@dataclass(frozen=True)
class Summary:
    counts: dict[str, int]
    last_event_at: datetime | None


class ReadModel:
    def __init__(self, queries: ReadModelQueries) -> None:
        self.queries = queries

    async def receive(self, webhook_id: str, event: EventEnvelope) -> Literal["applied", "duplicate"]:
        """Apply an event once; a redelivery of the same webhook-id changes nothing."""
        if not await self.queries.first_delivery(webhook_id, event.type):
            return "duplicate"
        await self.queries.log(EventLog(
            webhook_id=webhook_id, event_type=event.type, source=event.source, version=event.version,
            occurred_at=event.occurred_at, data=dict(event.data),
        ))
        # Unknown types are kept in the log (a later read model may use them) but only counted as received.
        for name in (EVENTS_RECEIVED, *COUNTERS.get(event.type, ())):
            await self.queries.increment(name)
        return "applied"

    async def summary(self) -> Summary:
        counts, last_event_at = await self.queries.summary(SUMMARY_COUNTERS)
        return Summary(counts=counts, last_event_at=last_event_at)
