"""Request and response bodies (never the table models).

The examples are structure only: no licensed toolkit wording appears here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class GradeValue(BaseModel):
    value: int
    label: str = Field(description="Our own neutral label, not the licensed grade descriptor.")


class GradeScale(BaseModel):
    id: str = Field(examples=["gcp2_grade"])
    type: Literal["ordinal"]
    min: int = Field(examples=[1])
    max: int = Field(examples=[5])
    direction: Literal["higher_is_worse", "higher_is_better"]
    aggregation: Literal["none", "sum"] = Field(
        description="`none`: a profile; never add up or average grades across areas."
    )
    values: list[GradeValue]


class SubArea(BaseModel):
    id: str = Field(examples=["nutrition"])
    name: str = Field(examples=["Nutrition"])
    confirmed_level: bool = Field(description="False where it is not confirmed whether this is a sub-area or an item.")
    note: str | None


class Area(BaseModel):
    id: str = Field(examples=["physical_care"])
    code: str | None = Field(examples=["A"])
    name: str = Field(examples=["Physical care"])
    former_name: str | None = Field(description="The area's name in the tool's previous edition, if any.")
    sub_areas: list[SubArea]
    reported_additions: list[str] = Field(description="Items reported as added in this edition whose placement is not confirmed.")


class PractitionerGradeRule(BaseModel):
    required: bool
    authoritative: Literal[True] = Field(description="The practitioner's grade is the record; nothing computed replaces it.")
    description: str


class OverallJudgementRule(BaseModel):
    required: bool
    form: Literal["free_text"]
    description: str


class SystemSuggestionRule(BaseModel):
    allowed: bool
    label: str | None = Field(description="Shown beside every computed suggestion.")
    example_rule: str | None
    may_overwrite_practitioner_grade: Literal[False]


class JudgementRules(BaseModel):
    practitioner_area_grade: PractitionerGradeRule
    practitioner_overall_judgement: OverallJudgementRule
    system_suggestion: SystemSuggestionRule


class LicenceFlags(BaseModel):
    licensed_content: Literal[False] = Field(description="Always false: this API serves structure only.")
    licence_required_for_use: bool = Field(description="Practitioners must be trained and accredited to use the tool.")
    items_shipped: Literal[False]
    items_source: str = Field(description="Where item wording lives, e.g. `tenant_licensed_store` for a licensed partnership.")


class Variant(BaseModel):
    id: str = Field(examples=["single_child"])
    note: str | None


class ToolkitDefinition(BaseModel):
    format: int = Field(description="Version of this definition shape.")
    licence: LicenceFlags
    scale: GradeScale
    judgement_rules: JudgementRules
    areas: list[Area]
    variants: list[Variant]
    practice_notes: list[str]
    target_fields: list[str] = Field(description="What a target records, as on the tool's summary sheet.")


class ToolkitVersionRead(BaseModel):
    toolkit_id: str = Field(examples=["gcp2"])
    name: str = Field(examples=["Graded Care Profile 2"])
    owner: str = Field(examples=["NSPCC"])
    version: str = Field(examples=["2-structure-1"])
    status: Literal["published"]
    published_at: datetime | None
    definition: ToolkitDefinition


class ToolkitSummary(BaseModel):
    id: str = Field(examples=["gcp2"])
    name: str
    owner: str
    latest_version: str | None = Field(description="The most recently published version; null before the first.")
    latest_published_at: datetime | None
    created_at: datetime


class ToolkitPage(BaseModel):
    items: list[ToolkitSummary]
    next_cursor: str | None
