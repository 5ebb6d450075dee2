"""Bodies for the people around the child: adults, households, professionals, involvements."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from services.referral.models import REFERRER_ROLE
from services.referral.schemas.children import Body

ParentalFactor = Literal["mental_health", "substance_misuse", "alcohol_misuse", "domestic_abuse", "learning_disability"]
MemberRole = Literal["child", "parent", "carer", "sibling", "other_adult"]
CHILD_ROLES = ("child", "sibling")
CARER_ROLES = ("parent", "carer")
#: Roles and similar codes: short snake_case words, never free text.
CODE_PATTERN = r"^[a-z][a-z0-9_]{1,59}$"


def today() -> date:
    return datetime.now(UTC).date()


def not_future(value: date | None, what: str) -> date | None:
    if value is not None and value > today():
        raise ValueError(f"{what} is in the future")
    return value


class PersonCreate(Body):
    """An adult in the child's world: parent, carer, other household member."""

    given_name: str = Field(min_length=1, max_length=100, examples=["Testparent"])
    family_name: str = Field(min_length=1, max_length=100, examples=["Example"])
    birth_date: date | None = Field(default=None, examples=["1994-07-01"])
    factors: list[ParentalFactor] = Field(
        default_factory=list, max_length=5,
        description="Think family: parental factors known to your agency, as codes (aligned with census assessment factors).",
        examples=[["substance_misuse", "mental_health"]],
    )

    @field_validator("birth_date")
    @classmethod
    def _born(cls, value: date | None) -> date | None:
        return not_future(value, "birth_date")

    @field_validator("factors")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each factor once")
        return value


class PersonRead(BaseModel):
    id: uuid.UUID
    given_name: str
    family_name: str
    birth_date: date | None
    factors: list[str]
    created_by_agency_id: uuid.UUID
    created_at: datetime
    updated_at: datetime
    version: int


class MemberCreate(Body):
    """One member: a child (by child id, must be visible to you) or an adult (by person id)."""

    child_id: uuid.UUID | None = None
    person_id: uuid.UUID | None = None
    role: MemberRole = Field(description="`child` or `sibling` for a child; `parent`, `carer`, `sibling` or `other_adult` for a person.")
    relationship: str | None = Field(default=None, min_length=1, max_length=40, pattern=CODE_PATTERN,
                                     description="Relationship to the household's children, as a code.", examples=["mother"])
    parental_responsibility: bool = False
    from_date: date | None = Field(default=None, description="Living in the household since.")

    @field_validator("from_date")
    @classmethod
    def _from(cls, value: date | None) -> date | None:
        return not_future(value, "from_date")

    @model_validator(mode="after")
    def _shape(self) -> MemberCreate:
        if (self.child_id is None) == (self.person_id is None):
            raise ValueError("give exactly one of child_id and person_id")
        if self.child_id is not None:
            if self.role not in CHILD_ROLES:
                raise ValueError("a child member's role is child or sibling")
            if self.parental_responsibility:
                raise ValueError("a child does not hold parental responsibility here")
        elif self.role == "child":
            raise ValueError("a person member's role is parent, carer, sibling or other_adult")
        return self


class HouseholdCreate(Body):
    label: str = Field(default="Household", min_length=1, max_length=100,
                       description="A label at your end; avoid names and addresses.", examples=["Household A"])
    members: list[MemberCreate] = Field(min_length=1, max_length=30)

    @model_validator(mode="after")
    def _members(self) -> HouseholdCreate:
        children = [m.child_id for m in self.members if m.child_id is not None]
        people = [m.person_id for m in self.members if m.person_id is not None]
        if not children:
            raise ValueError("a household has at least one child member")
        if len(set(children)) != len(children) or len(set(people)) != len(people):
            raise ValueError("each child and person appears once")
        return self


class MemberRead(BaseModel):
    kind: Literal["child", "person"]
    child_id: uuid.UUID | None
    person_id: uuid.UUID | None
    given_name: str
    family_name: str
    birth_date: date | None
    expected_birth_date: date | None = None
    factors: list[str] = Field(default_factory=list, description="Parental factors (people only).")
    role: str
    relationship: str | None
    parental_responsibility: bool
    from_date: date | None
    to_date: date | None


class HouseholdRead(BaseModel):
    id: uuid.UUID
    label: str
    created_by_agency_id: uuid.UUID
    created_at: datetime
    members: list[MemberRead]
    other_children_not_visible: int = Field(description="Children in the household your agency may not see (counted, not shown).")


class ChildHouseholdRead(BaseModel):
    household_id: uuid.UUID
    label: str
    role: str = Field(description="The child's own role in the household.")
    from_date: date | None
    carers: list[MemberRead] = Field(description="Parents and carers.")
    siblings: list[MemberRead]
    other_adults: list[MemberRead]
    other_children_not_visible: int


class ChildHouseholds(BaseModel):
    child_id: uuid.UUID
    households: list[ChildHouseholdRead]


class MotherLink(Body):
    person_id: uuid.UUID = Field(description="The expectant mother (a person visible to you).")


class MotherLinkRead(BaseModel):
    child_id: uuid.UUID
    mother: PersonRead
    child_version: int = Field(description="The child's new version (also the ETag).")


class ProfessionalCreate(Body):
    name: str = Field(min_length=1, max_length=200, examples=["Test Worker"])
    role: str = Field(min_length=1, max_length=100, examples=["Health visitor"])
    external_ref: str | None = Field(default=None, min_length=1, max_length=100, examples=["HV-STAFF-17"])


class ProfessionalRead(BaseModel):
    id: uuid.UUID
    agency_id: uuid.UUID
    name: str
    role: str
    external_ref: str | None
    created_at: datetime


class ProfessionalPage(BaseModel):
    items: list[ProfessionalRead]
    next_cursor: str | None


class InvolvementCreate(Body):
    role: str = Field(min_length=2, max_length=60, pattern=CODE_PATTERN,
                      description="What the agency does for the child, as a code.", examples=["core_group_member"])
    professional_id: uuid.UUID | None = Field(default=None, description="One of the involved agency's professionals.")
    start_date: date
    agency_id: uuid.UUID | None = Field(
        default=None,
        description="Children's social care only: the other agency whose involvement you record (e.g. the school joining the core group). Omit for your own.",
    )

    @field_validator("role")
    @classmethod
    def _not_referrer(cls, value: str) -> str:
        if value == REFERRER_ROLE:
            raise ValueError("referring a child is not an involvement: send a referral (POST /v1/referrals)")
        return value

    @field_validator("start_date")
    @classmethod
    def _start(cls, value: date) -> date:
        not_future(value, "start_date")
        return value


class InvolvementEnd(Body):
    end_date: date = Field(description="The last day of the involvement: the agency sees the child through that day.")

    @field_validator("end_date")
    @classmethod
    def _end(cls, value: date) -> date:
        not_future(value, "end_date")
        return value


class InvolvementRead(BaseModel):
    id: uuid.UUID
    child_id: uuid.UUID
    agency_id: uuid.UUID
    agency_name: str
    agency_type: str
    professional: ProfessionalRead | None
    role: str
    start_date: date
    end_date: date | None
    active: bool
    created_at: datetime
    version: int


class InvolvementPage(BaseModel):
    items: list[InvolvementRead]
    next_cursor: str | None
