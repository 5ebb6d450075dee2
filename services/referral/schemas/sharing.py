"""Bodies for consent and the information-sharing log (DOMAIN.md §9)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field, field_validator, model_validator

from services.referral.schemas.children import Body
from services.referral.schemas.people import not_future

ConsentStatus = Literal["given", "refused", "withdrawn", "not_sought"]
# UK GDPR Article 6(1)(a)-(f): the lawful basis must name one of them.
_ARTICLE_6 = re.compile(r"\bArt(?:icle|\.)?\s*6\s*\(\s*1\s*\)\s*\(\s*[a-f]\s*\)", re.IGNORECASE)


class ConsentCreate(Body):
    person_id: uuid.UUID | None = Field(default=None, description="Whose consent (a person visible to you); omit for the child's own or when not sought.")
    subject: str = Field(min_length=1, max_length=200, description="What the consent is about.", examples=["sharing with health visiting"])
    status: ConsentStatus
    reason: str | None = Field(default=None, min_length=1, max_length=1000, description="Required unless consent was given.")
    recorded_on: date

    @field_validator("recorded_on")
    @classmethod
    def _when(cls, value: date) -> date:
        not_future(value, "recorded_on")
        return value

    @model_validator(mode="after")
    def _reason(self) -> ConsentCreate:
        if self.status != "given" and self.reason is None:
            raise ValueError("give the reason when consent is refused, withdrawn or not sought")
        return self


class ConsentRead(BaseModel):
    id: uuid.UUID
    child_id: uuid.UUID
    person_id: uuid.UUID | None
    agency_id: uuid.UUID
    subject: str
    status: str
    reason: str | None
    recorded_on: date
    created_at: datetime


class ConsentPage(BaseModel):
    items: list[ConsentRead] = Field(description="Newest first.")
    next_cursor: str | None


class InformationShareCreate(Body):
    """A decision to share, or not to share, information about a child."""

    to_agency_id: uuid.UUID | None = Field(default=None, description="The receiving partner agency, if it is one.")
    shared: bool = Field(description="false records a decision not to share (with reason_not_shared).")
    what: list[str] = Field(min_length=1, max_length=50, description="Field or document names shared (or withheld).",
                            examples=[["chronology", "visits", "gcp2_summary"]])
    purpose: str = Field(min_length=1, max_length=500, examples=["Strategy discussion about neglect concerns"])
    lawful_basis: str = Field(min_length=1, max_length=200, description="UK GDPR Article 6 basis.", examples=["UK GDPR Art 6(1)(e)"])
    special_category_condition: str | None = Field(default=None, min_length=1, max_length=200,
                                                   description="Article 9 / DPA 2018 Schedule 1 condition for special category data.",
                                                   examples=["DPA 2018 Sch 1 para 18"])
    criminal_offence_data: bool = Field(default=False, description="Police information is criminal offence data.")
    reason_not_shared: str | None = Field(default=None, min_length=1, max_length=1000)
    decided_by: str = Field(min_length=1, max_length=200, description="Who decided (name or user id at your end).")
    decided_at: AwareDatetime | None = Field(default=None, description="When it was decided; defaults to now.")

    @field_validator("what")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        cleaned = [v.strip() for v in value]
        if any(not v or len(v) > 100 for v in cleaned):
            raise ValueError("each name is 1-100 characters")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("each name once")
        return cleaned

    @field_validator("lawful_basis")
    @classmethod
    def _basis(cls, value: str) -> str:
        if not _ARTICLE_6.search(value):
            raise ValueError("name the UK GDPR Article 6(1) basis, e.g. 'UK GDPR Art 6(1)(e)'")
        return value

    @field_validator("decided_at")
    @classmethod
    def _past(cls, value: datetime | None) -> datetime | None:
        if value is not None and value > datetime.now(UTC):
            raise ValueError("decided_at is in the future")
        return value

    @model_validator(mode="after")
    def _reason(self) -> InformationShareCreate:
        if not self.shared and self.reason_not_shared is None:
            raise ValueError("a decision not to share needs reason_not_shared")
        if self.shared and self.reason_not_shared is not None:
            raise ValueError("reason_not_shared is for decisions not to share")
        return self


class InformationShareRead(BaseModel):
    id: uuid.UUID
    child_id: uuid.UUID
    from_agency_id: uuid.UUID
    to_agency_id: uuid.UUID | None
    shared: bool
    what: list[str]
    purpose: str
    lawful_basis: str
    special_category_condition: str | None
    criminal_offence_data: bool
    consent_status: str | None = Field(description="The child's latest recorded consent status when this was decided (recorded, never a gate).")
    reason_not_shared: str | None
    decided_by: str
    decided_at: datetime
    created_at: datetime


class InformationSharePage(BaseModel):
    items: list[InformationShareRead] = Field(description="Newest decision first.")
    next_cursor: str | None
