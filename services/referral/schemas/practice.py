"""Bodies for practice records: visits, the child's voice, service offers, engagement, the pathway."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from services.referral.schemas.children import Body
from services.referral.schemas.people import not_future

HomeConditions = Literal["good", "adequate", "poor", "very_poor", "not_seen"]
Participation = Literal["in_person", "advocate", "written", "drawing", "not_able", "declined"]
VoiceContext = Literal["visit", "conference", "core_group", "assessment", "direct_work", "school", "health", "other"]
EngagementKind = Literal[
    "was_not_brought", "no_access_visit", "service_declined", "consent_withdrawn", "service_disengaged", "attended"
]
Escalation = Literal["step_up", "consult_csc", "strategy_discussion"]
ClosureReason = Literal["engaging", "no_consent", "no_engagement", "moved_away", "handed_to_csc", "no_longer_needed"]
OfferOutcome = Literal["completed", "disengaged", "no_longer_needed", "withdrawn"]


def _past(value: date, what: str) -> date:
    not_future(value, what)
    return value


class VisitCreate(Body):
    visited_on: date = Field(examples=["2026-11-20"])
    statutory: bool = Field(default=False, description="A statutory CIN or CP visit (Annex A: last statutory visit).")
    announced: bool = True
    child_seen: bool
    seen_alone: bool = False
    bedroom_seen: bool = False
    home_conditions: HomeConditions | None = Field(default=None, description="Omitted: not assessed on this visit.")
    no_access: bool = Field(default=False, description="Nobody answered or the family refused entry: also records a `no_access_visit` engagement event.")
    professional_id: uuid.UUID | None = Field(default=None, description="One of your agency's professionals.")

    @field_validator("visited_on")
    @classmethod
    def _when(cls, value: date) -> date:
        return _past(value, "visited_on")

    @model_validator(mode="after")
    def _consistent(self) -> VisitCreate:
        if (self.seen_alone or self.bedroom_seen) and not self.child_seen:
            raise ValueError("seen_alone and bedroom_seen need child_seen")
        if self.no_access:
            if self.child_seen:
                raise ValueError("a no-access visit cannot have seen the child")
            if self.home_conditions not in (None, "not_seen"):
                raise ValueError("a no-access visit cannot assess home conditions")
            self.home_conditions = "not_seen"
        return self


class VisitRead(BaseModel):
    id: uuid.UUID
    child_id: uuid.UUID
    agency_id: uuid.UUID
    professional_id: uuid.UUID | None
    visited_on: date
    statutory: bool
    announced: bool
    child_seen: bool
    seen_alone: bool
    bedroom_seen: bool
    home_conditions: str | None
    no_access: bool
    created_at: datetime


class VisitRecorded(VisitRead):
    engagement_event_id: uuid.UUID | None = Field(description="The no-access engagement event this visit recorded, if any.")
    non_engagement_case_id: uuid.UUID | None = Field(description="The child's open non-engagement case after this visit, if any.")


class VisitPage(BaseModel):
    items: list[VisitRead] = Field(description="Newest visit first.")
    next_cursor: str | None
    last_seen: date | None = Field(description="The latest visit on which the child was seen (Annex A).")
    last_seen_alone: date | None = Field(description="The latest visit on which the child was seen alone (Annex A).")
    last_statutory_visit: date | None


class VoiceCreate(Body):
    recorded_on: date
    words: str = Field(default="", max_length=4000, description="The child's own words, as they said them. May be empty only when the child was not able to or declined to take part.")
    safety_rating: int | None = Field(default=None, ge=0, le=10, description="The child's own 0-10 rating (Signs of Safety: 10 is safe enough).")
    participation: Participation
    context: VoiceContext | None = None

    @field_validator("recorded_on")
    @classmethod
    def _when(cls, value: date) -> date:
        return _past(value, "recorded_on")

    @model_validator(mode="after")
    def _words(self) -> VoiceCreate:
        if not self.words and self.participation not in ("not_able", "declined"):
            raise ValueError("record the child's words (or participation not_able / declined)")
        return self


class VoiceRead(BaseModel):
    id: uuid.UUID
    child_id: uuid.UUID
    agency_id: uuid.UUID
    recorded_on: date
    words: str
    safety_rating: int | None
    participation: str | None
    context: str | None
    created_at: datetime


class VoicePage(BaseModel):
    items: list[VoiceRead] = Field(description="Newest first.")
    next_cursor: str | None


class ServiceOfferCreate(Body):
    service: str = Field(min_length=1, max_length=200, examples=["Parenting programme"])
    offered_on: date

    @field_validator("offered_on")
    @classmethod
    def _when(cls, value: date) -> date:
        return _past(value, "offered_on")


class OfferAcceptance(Body):
    accepted_on: date

    @field_validator("accepted_on")
    @classmethod
    def _when(cls, value: date) -> date:
        return _past(value, "accepted_on")


class OfferDecline(Body):
    declined_on: date

    @field_validator("declined_on")
    @classmethod
    def _when(cls, value: date) -> date:
        return _past(value, "declined_on")


class OfferAttendance(Body):
    started_on: date = Field(description="The first session attended.")

    @field_validator("started_on")
    @classmethod
    def _when(cls, value: date) -> date:
        return _past(value, "started_on")


class OfferEnd(Body):
    ended_on: date
    outcome: OfferOutcome = Field(description="`disengaged` also records a `service_disengaged` engagement event.")

    @field_validator("ended_on")
    @classmethod
    def _when(cls, value: date) -> date:
        return _past(value, "ended_on")


class ServiceOfferRead(BaseModel):
    id: uuid.UUID
    child_id: uuid.UUID
    agency_id: uuid.UUID
    service: str
    offered_on: date
    status: str = Field(description="offered, accepted, declined, attending or ended: changed only by the transitions.")
    ended_on: date | None
    created_at: datetime
    version: int


class ServiceOfferPage(BaseModel):
    items: list[ServiceOfferRead]
    next_cursor: str | None


class EngagementEventCreate(Body):
    kind: EngagementKind
    occurred_on: date
    service_offer_id: uuid.UUID | None = Field(default=None, description="The child's service offer this is about, if any.")

    @field_validator("occurred_on")
    @classmethod
    def _when(cls, value: date) -> date:
        return _past(value, "occurred_on")


class EngagementEventRead(BaseModel):
    id: uuid.UUID
    child_id: uuid.UUID
    agency_id: uuid.UUID
    service_offer_id: uuid.UUID | None
    kind: str
    occurred_on: date
    created_at: datetime


class EngagementRecorded(EngagementEventRead):
    non_engagement_case_id: uuid.UUID | None = Field(description="The child's open non-engagement case, if any.")
    case_opened: bool = Field(description="This event brought the child to the threshold and opened the case.")
    notified_agency_ids: list[uuid.UUID] = Field(description="For a was-not-brought event on a child with an open children in need episode: the other involved agencies told through `engagement.was_not_brought`.")


class EngagementEventPage(BaseModel):
    items: list[EngagementEventRead]
    next_cursor: str | None


class StageStep(Body):
    occurred_on: date = Field(description="When the review, meeting or plan happened.")

    @field_validator("occurred_on")
    @classmethod
    def _when(cls, value: date) -> date:
        return _past(value, "occurred_on")


class EscalationStep(StageStep):
    escalation: Escalation


class CaseClosure(Body):
    closed_on: date
    reason: ClosureReason
    closure_decided_by: str | None = Field(
        default=None, min_length=1, max_length=200,
        description="The manager who decided. Required to close a chronic neglect case for `no_consent` or `no_engagement`.",
    )

    @field_validator("closed_on")
    @classmethod
    def _when(cls, value: date) -> date:
        return _past(value, "closed_on")


class CaseRead(BaseModel):
    id: uuid.UUID
    child_id: uuid.UUID
    opened_on: date
    stage: str
    escalation: str | None
    closed_on: date | None
    closure_reason: str | None
    closure_decided_by: str | None
    events: list[EngagementEventRead] = Field(description="The engagement events that drove the case and those since, oldest first.")
    created_at: datetime
    updated_at: datetime
    version: int


class ThresholdRead(BaseModel):
    count: int
    window_days: int
    kinds: list[str]
    version: str


class NonEngagementRead(BaseModel):
    child_id: uuid.UUID
    threshold: ThresholdRead = Field(description="When a case opens on its own (partnership configuration).")
    open_case_id: uuid.UUID | None
    cases: list[CaseRead] = Field(description="Newest first.")
