"""Toolkit definitions: what is served, and what a partnership publishes.

The examples are structure only: no licensed toolkit wording appears here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SLUG = r"^[a-z][a-z0-9_]{0,59}$"
VERSION = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"


# --- Served ------------------------------------------------------------------------------


class GradeValue(BaseModel):
    value: int
    id: str | None = Field(description="On a named scale (e.g. `very_concerned`), the value's id; null on a numeric one.")
    label: str = Field(description="Our own neutral label, not a licensed grade descriptor.")
    evidence_required: bool = Field(description="A rating with this value must carry its evidence.")


class GradeScale(BaseModel):
    id: str = Field(examples=["gcp2_grade"])
    type: Literal["ordinal"]
    min: int = Field(examples=[1])
    max: int = Field(examples=[5])
    step: int = Field(examples=[1], description="Values run from min to max in this step (e.g. 5-20 in steps of 5).")
    direction: Literal["higher_is_worse", "higher_is_better"]
    aggregation: Literal["none", "sum"] = Field(
        description="`none`: a profile; never add up or average ratings. `sum`: the tool may define totals."
    )
    values: list[GradeValue]


class SubArea(BaseModel):
    id: str = Field(examples=["nutrition"])
    name: str = Field(examples=["Nutrition"])
    confirmed_level: bool = Field(description="False where it is not confirmed whether this is a sub-area or an item.")
    note: str | None


class Item(BaseModel):
    id: str = Field(examples=["regular_meals"])
    name: str = Field(examples=["Regular meals"], description="A short neutral name, never licensed wording.")
    note: str | None


class Area(BaseModel):
    id: str = Field(examples=["physical_care"])
    code: str | None = Field(examples=["A"])
    name: str = Field(examples=["Physical care"])
    former_name: str | None = Field(description="The area's name in the tool's previous edition, if any.")
    mandatory: bool = Field(description="The practitioner's judgement of this area is needed to submit.")
    sub_areas: list[SubArea]
    items: list[Item] = Field(description="What is rated in a local tool; empty for GCP2, whose items are licensed.")
    reported_additions: list[str] = Field(description="Items reported as added in this edition whose placement is not confirmed.")


class RaterKind(BaseModel):
    id: str = Field(examples=["professional"])
    name: str
    reports_as: Literal["worker", "parent", "child", "network"] = Field(
        description="The key this kind of rater's latest score appears under in a child's latest results."
    )


class Raters(BaseModel):
    kinds: list[RaterKind]


class Total(BaseModel):
    id: str = Field(examples=["concern_score"])
    name: str
    items: list[str] = Field(description="The rated items (or sub-areas) that count towards this total.")


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
    rule: Literal["worst_in_area"] | None = Field(description="How the suggestion is computed from the ratings.")
    rule_description: str | None
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
    rating_level: Literal["sub_area", "item"] = Field(description="What is rated: sub-areas (GCP2) or items (local tools).")
    raters: Raters | None = Field(description="Several raters each give their own score (e.g. a safety scale); null: one practitioner rates.")
    judgement_rules: JudgementRules
    areas: list[Area]
    totals: list[Total] = Field(description="Numeric totals, only where the tool defines them.")
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


class ToolkitVersionSummary(BaseModel):
    version: str = Field(examples=["2-structure-1"])
    published_at: datetime | None


class ToolkitVersionPage(BaseModel):
    toolkit_id: str
    items: list[ToolkitVersionSummary]
    next_cursor: str | None


# --- Published by a partnership (the same shape as the files in reference/) -------------------


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class VariantIn(_In):
    id: str = Field(pattern=SLUG)
    note: str | None = Field(default=None, max_length=500)


class ToolIn(_In):
    id: str = Field(pattern=SLUG, examples=["cwm_example_home_conditions"])
    name: str = Field(min_length=1, max_length=200, examples=["Home conditions scale (example)"])
    owner: str = Field(min_length=1, max_length=200, examples=["Example partnership"])
    structure_version: str = Field(pattern=VERSION, examples=["1"])
    licensed_content: bool = Field(default=False, description="Must be false: definitions carry no licensed wording.")
    licence_required_for_use: bool = False
    variants: list[VariantIn] = Field(default_factory=list)
    practice_notes: list[str] = Field(default_factory=list, max_length=20)


class ScaleValueIn(_In):
    value: int = Field(ge=-1000, le=1000)
    label: str = Field(min_length=1, max_length=120, description="Your own short label.")
    id: str | None = Field(default=None, pattern=SLUG, description="For a named scale, e.g. `very_concerned`.")
    evidence_required: bool = False


class GradeScaleIn(_In):
    id: str = Field(pattern=SLUG)
    type: Literal["ordinal"] = "ordinal"
    min: int = Field(ge=-1000, le=1000)
    max: int = Field(ge=-1000, le=1000)
    step: int = Field(default=1, ge=1, le=1000)
    direction: Literal["higher_is_worse", "higher_is_better"]
    aggregation: Literal["none", "sum"] = "none"
    values: list[ScaleValueIn] = Field(max_length=101)


class SubAreaIn(_In):
    id: str = Field(pattern=SLUG)
    name: str = Field(min_length=1, max_length=120)
    confirmed_level: bool = True
    note: str | None = Field(default=None, max_length=500)


class ItemIn(_In):
    id: str = Field(pattern=SLUG)
    name: str = Field(min_length=1, max_length=120)
    note: str | None = Field(default=None, max_length=500)


class AreaIn(_In):
    id: str = Field(pattern=SLUG)
    name: str = Field(min_length=1, max_length=120)
    code: str | None = Field(default=None, max_length=10)
    former_name: str | None = Field(default=None, max_length=120)
    former_gcp_name: str | None = Field(default=None, max_length=120, description="As in the GCP2 structure file: same as former_name.")
    mandatory: bool = True
    sub_areas: list[SubAreaIn] = Field(default_factory=list, max_length=50)
    items: list[ItemIn] = Field(default_factory=list, max_length=100)
    added_items_reported: list[str] = Field(default_factory=list, max_length=20)


class RaterKindIn(_In):
    id: str = Field(pattern=SLUG)
    name: str = Field(min_length=1, max_length=120)
    reports_as: Literal["worker", "parent", "child", "network"]


class RatersIn(_In):
    kinds: list[RaterKindIn] = Field(max_length=20)


class SuggestionIn(_In):
    allowed: bool = False
    label: str | None = Field(default=None, max_length=120)
    rule: Literal["worst_in_area"] | None = None
    example_rule: str | None = Field(default=None, max_length=200)
    may_overwrite_practitioner_grade: bool = False


class JudgementRulesIn(_In):
    practitioner_area_grade: str = Field(default="", max_length=500)
    practitioner_overall_judgement: str = Field(default="", max_length=500)
    system_suggestion: SuggestionIn = Field(default_factory=SuggestionIn)


class TotalIn(_In):
    id: str = Field(pattern=SLUG)
    name: str = Field(min_length=1, max_length=120)
    areas: list[str] = Field(default_factory=list, description="Areas whose items all count (none named: every item).")
    items: list[str] = Field(default_factory=list, description="Further single items that count.")


class ItemsSourceIn(_In):
    source: str = Field(max_length=60, examples=["tenant_licensed_store"])
    shipped: bool = False


class TargetsIn(_In):
    fields: list[str] = Field(max_length=20)


class ToolkitPublish(_In):
    """A toolkit definition, in the same shape as the shipped files in ``reference/``.

    Structure only: ids, short names and your own scale labels. Licensed
    wording (item text, grade descriptors, guidance) is refused.
    """

    tool: ToolIn
    grade_scale: GradeScaleIn
    areas: list[AreaIn] = Field(max_length=30)
    raters: RatersIn | None = None
    judgement_rules: JudgementRulesIn = Field(default_factory=JudgementRulesIn)
    totals: list[TotalIn] = Field(default_factory=list, max_length=10)
    items: ItemsSourceIn | None = None
    targets: TargetsIn | None = None

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "tool": {"id": "home_conditions_example", "name": "Home conditions scale (example)",
                 "owner": "Example partnership", "structure_version": "1"},
        "grade_scale": {"id": "home_score", "min": 5, "max": 20, "step": 5, "direction": "higher_is_worse",
                        "aggregation": "sum",
                        "values": [{"value": 5, "label": "good"}, {"value": 10, "label": "adequate"},
                                   {"value": 15, "label": "poor"}, {"value": 20, "label": "very poor"}]},
        "areas": [{"id": "home", "name": "Home", "items": [{"id": "kitchen", "name": "Kitchen"},
                                                           {"id": "bedroom", "name": "Child's bedroom"}]}],
        "totals": [{"id": "home_total", "name": "Home total"}],
    }]})
