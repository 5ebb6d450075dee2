"""Bodies for early help episodes (outside the CIN census; their own timescales)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from services.referral.schemas.children import Body

EarlyHelpClosure = Literal["needs_met", "stepped_up", "disengaged", "moved_away", "transferred", "other"]


class EarlyHelpOpen(Body):
    child_id: uuid.UUID
    start_date: date = Field(examples=["2026-02-02"])
    lead_agency_id: uuid.UUID | None = Field(default=None, description="The lead professional's agency; default: yours.")


class EarlyHelpClose(Body):
    closure_date: date
    reason: EarlyHelpClosure = Field(description="Why early help ended. `stepped_up` is recorded by the step-up transition.")


class EarlyHelpRead(BaseModel):
    id: uuid.UUID
    child_id: uuid.UUID
    start_date: date
    lead_agency_id: uuid.UUID | None
    closure_date: date | None
    reason_for_closure: str | None
    created_at: datetime
    version: int


class EarlyHelpList(BaseModel):
    items: list[EarlyHelpRead]
