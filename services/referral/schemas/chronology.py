"""Bodies for the multi-agency chronology."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field, field_validator

from services.referral.schemas.children import Body

Significance = Literal["low", "medium", "high", "critical"]
#: Partner systems' clocks drift a little; "now" from a partner may be a moment ahead of ours.
CLOCK_SKEW = timedelta(minutes=5)


class ChronologyEntryCreate(Body):
    """A significant event your agency knows about, added to the child's shared chronology."""

    kind: str = Field(
        pattern=r"^[a-z][a-z0-9_]{1,59}$",
        description="What happened, in snake_case (e.g. `was_not_brought`, `hospital_attendance`, "
                    "`school_attendance_concern`, `home_conditions`). Dotted kinds such as "
                    "`icpc.held` are the service's own statutory lines and cannot be sent.",
        examples=["was_not_brought"],
    )
    significance: Significance = Field(examples=["medium"])
    summary: str = Field(min_length=1, max_length=2000, examples=["Not brought to the 2-year development review; second missed appointment."])
    occurred_at: AwareDatetime = Field(description="When it happened (RFC 3339 with an offset); not in the future.",
                                       examples=["2026-03-02T10:30:00Z"])

    @field_validator("occurred_at")
    @classmethod
    def _not_in_future(cls, value: datetime) -> datetime:
        if value > datetime.now(UTC) + CLOCK_SKEW:
            raise ValueError("occurred_at must not be in the future")
        return value.astimezone(UTC)


class AgencyRef(BaseModel):
    id: uuid.UUID
    name: str


class EntrySource(BaseModel):
    type: str = Field(description="`partner` for an entry a partner added; otherwise the record it comes from, e.g. `episode`.", examples=["episode"])
    id: uuid.UUID | None


class ChronologyEntryRead(BaseModel):
    id: uuid.UUID
    child_id: uuid.UUID
    occurred_at: datetime
    agency: AgencyRef | None = Field(description="The agency that recorded it; null when the source is withheld or not an agency.")
    kind: str
    significance: Significance
    summary: str
    source: EntrySource | None
    created_at: datetime


class ChronologyPage(BaseModel):
    items: list[ChronologyEntryRead]
    next_cursor: str | None
