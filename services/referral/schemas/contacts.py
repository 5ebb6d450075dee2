"""Bodies for contacts: concerns received at the front door, and their conversion into referrals."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from services.referral.schemas.referrals import (
    Body,
    Indicator,
    NeglectType,
    ParentalFactor,
    _distinct,
    _not_future,
)

#: How a contact ended: no further action, information and advice, early help, or a referral.
ContactOutcome = Literal["nfa", "information_advice", "early_help", "referral"]


class ContactCreate(Body):
    """A concern received at the front door (a phone call to the MASH, an online form, a
    partner's consultation). The recording agency is the caller's; the DfE `ReferralSource` is
    derived from its type as for referrals, and children's social care records contacts on
    behalf of individuals with their code (1A family, 1B acquaintance, 1C the child, 1D other,
    9 anonymous, 10 unknown)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "child_id": "3f0c8a52-6d1e-4b7a-9c55-0a3e2f6b1d47",
        "received_at": "2026-03-02T09:15:00Z",
        "referral_source": "1B",
        "concern_summary": "Neighbour reports the child is often left alone in the evening.",
        "outcome": "information_advice",
    }]})

    child_id: uuid.UUID = Field(description="The child's id in this service (register the child first).")
    received_at: AwareDatetime | None = Field(default=None, description="When the concern reached the front door (default: now). Not in the future.")
    referral_source: str | None = Field(default=None, max_length=3, description=(
        "DfE ReferralSource (the census uses the same list for contacts). Children's social care may give any "
        "current code (e.g. `1A` for a family member; default: its own, 5A); agency types without a fixed code "
        "choose from their allowed list; others leave it out."), examples=["1B"])
    concern_summary: str | None = Field(default=None, min_length=1, max_length=4000, description="The concern in the caller's words (optional). No names.")
    outcome: ContactOutcome = Field(description=(
        "`nfa` (no further action), `information_advice`, `early_help` (signposted to early help), or `referral` "
        "(to be accepted as a referral: convert it with `POST /v1/contacts/{id}/referral`)."))

    @field_validator("received_at")
    @classmethod
    def _received_not_future(cls, value: datetime | None) -> datetime | None:
        return _not_future(value, "received_at")


class ContactRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{
        "id": "0b9e7d4c-2a61-4f38-8e05-7c1d3b2a9f10",
        "child_id": "3f0c8a52-6d1e-4b7a-9c55-0a3e2f6b1d47",
        "recording_agency_id": "5b2e9f14-7c3d-4e8a-a1b6-0c9d8e7f6a54",
        "referral_source": "1B",
        "received_at": "2026-03-02T09:15:00Z",
        "concern_summary": "Neighbour reports the child is often left alone in the evening.",
        "outcome": "information_advice",
        "referral_id": None,
        "created_at": "2026-03-02T09:20:11Z",
        "updated_at": "2026-03-02T09:20:11Z",
        "version": 1,
    }]})

    id: uuid.UUID
    child_id: uuid.UUID
    recording_agency_id: uuid.UUID
    referral_source: str = Field(description="DfE ReferralSource code.")
    received_at: datetime
    concern_summary: str | None
    outcome: ContactOutcome = Field(description="`referral` once converted (see `referral_id`), or when awaiting conversion.")
    referral_id: uuid.UUID | None = Field(description="The referral this contact became, once converted.")
    created_at: datetime
    updated_at: datetime
    version: int


class ContactPage(BaseModel):
    items: list[ContactRead]
    next_cursor: str | None


class ContactConversion(Body):
    """What a referral needs beyond the contact: the contact gives the child, the referring agency
    (the contact's recorder), the ReferralSource and, by default, the date and the concern."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "received_at": "2026-03-03T10:00:00Z",
        "neglect_types": ["supervision"],
        "indicators": [{"domain": "safety_and_supervision", "indicator": "left_alone_evenings", "severity": "high"}],
        "parental_factors": [],
    }]})

    received_at: AwareDatetime | None = Field(default=None, description=(
        "When the front door accepted the concern as a referral (default: the contact's `received_at`). "
        "Not before the contact, not in the future."))
    concern_summary: str | None = Field(default=None, min_length=1, max_length=4000,
                                        description="Default: the contact's; required when the contact has none.")
    neglect_types: list[NeglectType] = Field(min_length=1, max_length=7, description="Elements of neglect (Working Together 2023).")
    indicators: list[Indicator] = Field(default_factory=list, max_length=50)
    parental_factors: list[ParentalFactor] = Field(default_factory=list, max_length=5)
    referrer_identity_withheld: bool = Field(default=False, description="Hide the recording agency from other partners.")

    @field_validator("received_at")
    @classmethod
    def _received_not_future(cls, value: datetime | None) -> datetime | None:
        return _not_future(value, "received_at")

    @field_validator("neglect_types", "parental_factors")
    @classmethod
    def _no_repeats(cls, value: list[str]) -> list[str]:
        return _distinct(value)
