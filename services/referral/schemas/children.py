"""Request and response bodies (never the table models)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.referral.domain.codes import agency_types, census_codes
from services.referral.domain.identifiers import la_child_id_is_valid, nhs_number_is_valid

# A pregnancy lasts at most about 42 weeks; anything further out is a typing error.
MAX_EXPECTED_BIRTH_AHEAD = timedelta(weeks=42)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AgencyCreate(Body):
    name: str = Field(min_length=1, max_length=200, examples=["Northshire Police"])
    agency_type: str = Field(description="An agency type id from the partnership's code list, e.g. `police`, `school`, `childrens_social_care`.", examples=["police"])
    external_ref: str | None = Field(default=None, min_length=1, max_length=100, examples=["POL-NS"])

    @field_validator("agency_type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in agency_types():
            raise ValueError("unknown agency type; see GET /v1/agency-types")
        return value


class AgencyRead(BaseModel):
    id: uuid.UUID
    name: str
    agency_type: str
    sector: str
    referral_source: str | None = Field(description="The DfE CIN census ReferralSource code derived from the agency type, where one is fixed.")
    external_ref: str | None
    created_at: datetime
    version: int


class AgencyPage(BaseModel):
    items: list[AgencyRead]
    next_cursor: str | None


class AgencyTypeRead(BaseModel):
    id: str
    name: str
    sector: str
    referral_source: str | None


class ChildCreate(Body):
    """A child, or an unborn child (expected birth date instead of birth date; gender 0)."""

    given_name: str = Field(min_length=1, max_length=100, examples=["Testchild"])
    family_name: str = Field(min_length=1, max_length=100, examples=["Example"])
    birth_date: date | None = Field(default=None, examples=["2021-05-14"])
    expected_birth_date: date | None = Field(default=None, description="For an unborn child instead of birth_date.")
    gender: str = Field(description="DfE GenderCurrent: 0 not recorded or unborn, 1 male, 2 female, 9 indeterminate.", examples=["2"])
    la_child_id: str | None = Field(default=None, description="The local authority's child id (≤ 20 alphanumeric).", examples=["NS0001234"])
    nhs_number: str | None = Field(default=None, description="10 digits, check digit validated.", examples=["9990000018"])
    external_ref: str | None = Field(default=None, min_length=1, max_length=100, description="Your own system's id for this child; find the child again with ?external_ref=.", examples=["HV-000123"])

    @field_validator("gender")
    @classmethod
    def _gender_code(cls, value: str) -> str:
        if value not in census_codes("GenderCurrent"):
            raise ValueError("not a DfE GenderCurrent code (0, 1, 2, 9)")
        return value

    @field_validator("nhs_number")
    @classmethod
    def _nhs_number(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.replace(" ", "")
        if not nhs_number_is_valid(value):
            raise ValueError("not a valid NHS number (10 digits with a correct check digit)")
        return value

    @field_validator("la_child_id")
    @classmethod
    def _la_child_id(cls, value: str | None) -> str | None:
        if value is not None and not la_child_id_is_valid(value):
            raise ValueError("at most 20 letters and digits")
        return value

    @model_validator(mode="after")
    def _birth(self) -> ChildCreate:
        today = datetime.now(UTC).date()
        if (self.birth_date is None) == (self.expected_birth_date is None):
            raise ValueError("give exactly one of birth_date and expected_birth_date")
        if self.birth_date is not None and self.birth_date > today:
            raise ValueError("birth_date is in the future; use expected_birth_date for an unborn child")
        if self.expected_birth_date is not None:
            if self.gender != "0":
                raise ValueError("an unborn child's gender is 0 (not recorded)")
            if self.expected_birth_date > today + MAX_EXPECTED_BIRTH_AHEAD:
                raise ValueError("expected_birth_date is more than 42 weeks away")
        return self


class ChildRead(BaseModel):
    id: uuid.UUID
    la_child_id: str | None
    given_name: str
    family_name: str
    birth_date: date | None
    expected_birth_date: date | None
    unborn: bool
    gender: str
    nhs_number: str | None
    external_ref: str | None = Field(description="Your agency's own reference for the child, if you gave one.")
    created_at: datetime
    updated_at: datetime
    version: int


class ChildPage(BaseModel):
    items: list[ChildRead]
    next_cursor: str | None
