"""Request and response bodies (never the table models)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.referral.domain.codes import agency_types, census_codes
from services.referral.domain.identifiers import (
    la_child_id_is_valid,
    nhs_number_is_valid,
    upn_is_valid,
)

# A pregnancy lasts at most about 42 weeks; anything further out is a typing error.
MAX_EXPECTED_BIRTH_AHEAD = timedelta(weeks=42)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _check_nhs_number(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.replace(" ", "")
    if not nhs_number_is_valid(value):
        raise ValueError("not a valid NHS number (10 digits with a correct check digit)")
    return value


def _check_la_child_id(value: str | None) -> str | None:
    if value is not None and not la_child_id_is_valid(value):
        raise ValueError("at most 20 letters and digits")
    return value


def _check_upn(value: str | None) -> str | None:
    if value is not None and not upn_is_valid(value.upper()):
        raise ValueError("not a valid UPN (check letter, 11 digits, digit or letter)")
    return value.upper() if value else value


def _check_code(list_name: str, value: str | None) -> str | None:
    if value is not None and value not in census_codes(list_name):
        raise ValueError(f"not a DfE {list_name} code")
    return value


def _check_disabilities(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    for code in value:
        _check_code("Disability", code)
    if len(set(value)) != len(value):
        raise ValueError("disability codes may not repeat (DfE 8794)")
    if "NONE" in value and len(value) > 1:
        raise ValueError("NONE stands alone (DfE 8790)")
    return value


class Demographics(Body):
    """Identifiers and characteristics on the DfE code lists, shared by create and update."""

    la_child_id: str | None = Field(default=None, description="The local authority's child id (≤ 20 alphanumeric).", examples=["NS0001234"])
    nhs_number: str | None = Field(default=None, description="10 digits, check digit validated.", examples=["9990000018"])
    upn: str | None = Field(default=None, description="Unique pupil number, check letter validated.", examples=["Y999999123456"])
    upn_unknown: str | None = Field(default=None, description="DfE UPNunknown code when there is no UPN (UN1-UN7).", examples=["UN1"])
    ethnicity: str | None = Field(default=None, description="DfE ethnicity code.", examples=["WBRI"])
    disabilities: list[str] | None = Field(default=None, description="DfE disability codes; `NONE` stands alone.", examples=[["NONE"]])

    @field_validator("nhs_number")
    @classmethod
    def _nhs(cls, value: str | None) -> str | None:
        return _check_nhs_number(value)

    @field_validator("la_child_id")
    @classmethod
    def _la(cls, value: str | None) -> str | None:
        return _check_la_child_id(value)

    @field_validator("upn")
    @classmethod
    def _upn(cls, value: str | None) -> str | None:
        return _check_upn(value)

    @field_validator("upn_unknown")
    @classmethod
    def _upn_unknown(cls, value: str | None) -> str | None:
        return _check_code("UPNunknown", value)

    @field_validator("ethnicity")
    @classmethod
    def _ethnicity(cls, value: str | None) -> str | None:
        return _check_code("Ethnicity", value)

    @field_validator("disabilities")
    @classmethod
    def _disabilities(cls, value: list[str] | None) -> list[str] | None:
        return _check_disabilities(value)

    @model_validator(mode="after")
    def _one_upn(self) -> Demographics:
        if self.upn is not None and self.upn_unknown is not None:
            raise ValueError("give a UPN or the reason it is unknown, not both")
        return self


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


class ChildCreate(Demographics):
    """A child, or an unborn child (expected birth date instead of birth date; gender 0)."""

    given_name: str = Field(min_length=1, max_length=100, examples=["Testchild"])
    family_name: str = Field(min_length=1, max_length=100, examples=["Example"])
    birth_date: date | None = Field(default=None, examples=["2021-05-14"])
    expected_birth_date: date | None = Field(default=None, description="For an unborn child instead of birth_date.")
    gender: str = Field(description="DfE GenderCurrent: 0 not recorded or unborn, 1 male, 2 female, 9 indeterminate.", examples=["2"])
    external_ref: str | None = Field(default=None, min_length=1, max_length=100, description="Your own system's id for this child; find the child again with ?external_ref=.", examples=["HV-000123"])

    @field_validator("gender")
    @classmethod
    def _gender_code(cls, value: str) -> str:
        if value not in census_codes("GenderCurrent"):
            raise ValueError("not a DfE GenderCurrent code (0, 1, 2, 9)")
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


class ChildUpdate(Demographics):
    """Change what is known about a child; send only what changes. Birth and death are transitions."""

    given_name: str | None = Field(default=None, min_length=1, max_length=100)
    family_name: str | None = Field(default=None, min_length=1, max_length=100)
    gender: str | None = Field(default=None, description="DfE GenderCurrent; an unborn child stays 0.")

    @field_validator("gender")
    @classmethod
    def _gender_code(cls, value: str | None) -> str | None:
        return _check_code("GenderCurrent", value)


class BirthRecord(Body):
    birth_date: date
    gender: str = Field(description="DfE GenderCurrent now that the child is born.", examples=["2"])
    disabilities: list[str] | None = Field(
        default=None, examples=[["NONE"]],
        description="DfE disability codes (`NONE` stands alone). The census asks them of every born child with "
                    "further action (DfE 8540): required here when the child has an episode that led to further "
                    "action and no disability is recorded yet.")

    @field_validator("disabilities")
    @classmethod
    def _disabilities(cls, value: list[str] | None) -> list[str] | None:
        return _check_disabilities(value)

    @field_validator("gender")
    @classmethod
    def _gender_code(cls, value: str) -> str:
        _check_code("GenderCurrent", value)
        return value


class DeathRecord(Body):
    death_date: date


class PlansElsewhere(Body):
    """Child protection plans in other local authorities before the child's plans here."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"previous_plans": 1, "latest_end_date": "2024-06-14"}]})

    previous_plans: int = Field(ge=0, le=99, description="How many child protection plans the child was subject to "
                                "elsewhere (0 clears the record). Each later plan here counts them in NumberOfPreviousCPP.")
    latest_end_date: date | None = Field(default=None, description="When the latest of them ended: required when "
                                         "previous_plans is above 0; not in the future, not inside a plan here.")

    @model_validator(mode="after")
    def _paired(self) -> PlansElsewhere:
        if (self.previous_plans == 0) != (self.latest_end_date is None):
            raise ValueError("latest_end_date is given exactly when previous_plans is above 0")
        return self


class PlansElsewhereRead(BaseModel):
    previous_plans: int = Field(description="Child protection plans elsewhere before the plans here.")
    latest_end_date: date | None


class ChildRead(BaseModel):
    id: uuid.UUID
    la_child_id: str | None
    given_name: str
    family_name: str
    birth_date: date | None
    expected_birth_date: date | None
    death_date: date | None
    unborn: bool
    gender: str
    nhs_number: str | None
    upn: str | None
    upn_unknown: str | None
    ethnicity: str | None
    disabilities: list[str]
    mother_id: uuid.UUID | None
    restricted: bool
    cp_plans_elsewhere: PlansElsewhereRead = Field(description="Child protection plans in other local authorities.")
    external_ref: str | None = Field(description="Your agency's own reference for the child, if you gave one.")
    created_at: datetime
    updated_at: datetime
    version: int


class ChildPage(BaseModel):
    items: list[ChildRead]
    next_cursor: str | None
