"""The multi-agency chronology: append-only, one line per significant event.

Every area that records something significant about a child adds a line here
in the same transaction, so small events from different partners stand side
by side: neglect is seen in the pattern, not in any one incident.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time

from sqlmodel.ext.asyncio.session import AsyncSession

from services.referral.models import ChronologyEntry

SIGNIFICANCE = ("low", "medium", "high", "critical")


def at_noon(day: date) -> datetime:
    """Events known only by date sit at midday UTC, so they sort sensibly within the day."""
    return datetime.combine(day, time(12), tzinfo=UTC)


class Chronology:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(
        self,
        child_id: uuid.UUID,
        kind: str,
        summary: str,
        *,
        occurred: datetime | date,
        agency_id: uuid.UUID | None,
        significance: str = "medium",
        source_type: str | None = None,
        source_id: uuid.UUID | None = None,
    ) -> ChronologyEntry:
        if significance not in SIGNIFICANCE:
            raise ValueError(f"significance must be one of {SIGNIFICANCE}")
        when = occurred if isinstance(occurred, datetime) else at_noon(occurred)
        entry = ChronologyEntry(
            child_id=child_id, occurred_at=when, agency_id=agency_id, kind=kind, significance=significance,
            summary=summary, source_type=source_type, source_id=source_id,
        )
        self.session.add(entry)
        return entry
