"""Assessments, their ratings, judgements and targets; a child's trajectory and latest results.

Examples use neutral words only: never any licensed toolkit wording.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, model_validator

from services.assessment.schemas.toolkits import SLUG, VERSION

FREE_TEXT = 4000
#: A value on the tool's scale: its number (GCP2 `4`, safety scale `7`) or, on a named scale, its id.
ScaleInput = StrictInt | Annotated[str, StringConstraints(pattern=SLUG)]
VALUE_DESCRIPTION = "A value on the toolkit's scale: its number (e.g. `4`) or, on a named scale, its id (e.g. `very_concerned`)."
Status = Literal["draft", "submitted", "authorised"]
DirectionName = Literal["improving", "static", "deteriorating"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Assessor(Body):
    name: str = Field(min_length=1, max_length=200, examples=["Assessor (user 3107)"])
    role: str | None = Field(default=None, max_length=100, examples=["Health visitor"])
    accreditation: str | None = Field(
        default=None, max_length=200, examples=["Licensed practitioner, ref LP-0042"],
        description="Needed to submit a tool used by accredited practitioners only (GCP2).",
    )
    accredited_on: date | None = None


class AssessmentCreate(Body):
    child_id: uuid.UUID
    toolkit_id: str = Field(pattern=SLUG, examples=["gcp2"])
    toolkit_version: str | None = Field(default=None, pattern=VERSION, examples=["2-structure-1"],
                                        description="A published version; the latest when left out.")
    previous_assessment_id: uuid.UUID | None = Field(
        default=None,
        description="The assessment this one re-assesses. Left out: the child's latest authorised assessment with this toolkit, if any.",
    )
    window_start_date: date = Field(examples=["2026-01-05"], description="First visit of the assessment window.")
    window_end_date: date | None = Field(default=None, examples=["2026-01-30"], description="Last visit; needed to submit.")
    assessor: Assessor

    @model_validator(mode="after")
    def _window(self) -> AssessmentCreate:
        if self.window_end_date is not None and self.window_end_date < self.window_start_date:
            raise ValueError("window_end_date is before window_start_date")
        return self


class AssessmentUpdate(Body):
    """Send only what changes (draft only)."""

    window_start_date: date | None = None
    window_end_date: date | None = None
    assessor: Assessor | None = None
    overall_judgement: str | None = Field(
        default=None, max_length=FREE_TEXT,
        description="The practitioner's analysis: why care is at this level (the grades do not explain causes).",
    )

    @model_validator(mode="after")
    def _no_null_for_required(self) -> AssessmentUpdate:
        for name in ("window_start_date", "assessor"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be removed, only changed")
        return self


class RaterIn(Body):
    kind: str = Field(pattern=SLUG, examples=["professional"], description="One of the toolkit's rater kinds.")
    label: str | None = Field(default=None, max_length=100, examples=["Health visitor"],
                              description="Who, within the kind: each professional rates separately.")


class RatingPut(Body):
    value: ScaleInput = Field(description=VALUE_DESCRIPTION, examples=[4, "very_concerned"])
    evidence: str | None = Field(default=None, max_length=FREE_TEXT, examples=["Seen on the second visit (example)."],
                                 description="Required where the scale value says so.")
    strengths: str | None = Field(default=None, max_length=FREE_TEXT, examples=["Warm, responsive carer (example)."])
    rater: RaterIn | None = Field(default=None, description="On a tool with several raters: who gives this score.")
    rated_on: date | None = Field(default=None, description="On a tool with several raters: the date of this score.")


class JudgementPut(Body):
    value: ScaleInput = Field(description=VALUE_DESCRIPTION, examples=[3])
    rationale: str | None = Field(
        default=None, max_length=FREE_TEXT,
        description="Why; needed to submit where the judgement differs from the system suggestion.",
    )


class TargetCreate(Body):
    area_id: str = Field(pattern=SLUG, examples=["physical_care"])
    sub_area_id: str | None = Field(default=None, pattern=SLUG, examples=["nutrition"])
    item_ref: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]{1,60}$", examples=["b"],
                                 description="An item id of a local tool, or your own short reference to a licensed item.")
    current_grade: ScaleInput = Field(description=VALUE_DESCRIPTION, examples=[4])
    target_grade: ScaleInput = Field(description=VALUE_DESCRIPTION, examples=[2])
    period_for_change: str = Field(pattern=r"^P[1-9][0-9]{0,2}[DWMY]$", examples=["P3M"],
                                   description="ISO 8601 duration: days, weeks, months or years (`P3M`).")
    review_date: date = Field(examples=["2026-04-30"])
    carer_comments: str | None = Field(default=None, max_length=FREE_TEXT)
    carer_consent_recorded: bool = False


class TargetReview(Body):
    reviewed_on: date
    grade_after_review: ScaleInput = Field(description=VALUE_DESCRIPTION, examples=[3])
    carer_comments: str | None = Field(default=None, max_length=FREE_TEXT)


class ReturnToDraft(Body):
    reason: str = Field(min_length=1, max_length=2000, examples=["Please add the evidence for the housing rating."])


class Submission(Body):
    submitted_on: date | None = Field(
        default=None, examples=["2024-03-11"],
        description="The day it was submitted (default: today). Not in the future, not before the assessment "
                    "window ended; a migrated record sends its own date.")


class Authorisation(Body):
    authorised_by: str = Field(min_length=1, max_length=200, examples=["Team manager (user 4711)"],
                               description="The manager who authorises it (name or user id at your end).")
    authorised_on: date | None = Field(
        default=None, examples=["2024-03-15"],
        description="The day it was authorised (default: today): the date reporting counts it on. Not in the "
                    "future, not before it was submitted (nor before the revision it amends was authorised).")


class AmendmentCreate(Body):
    reason: str = Field(min_length=1, max_length=2000, examples=["A rating was recorded against the wrong sub-area."])


# --- Responses ------------------------------------------------------------------------------


class ActorRead(BaseModel):
    client_id: str
    acting_user: str | None


class AuthorisedByRead(ActorRead):
    name: str | None


class AssessorRead(BaseModel):
    name: str
    role: str | None
    accreditation: str | None
    accredited_on: date | None


class RaterRead(BaseModel):
    kind: str
    label: str | None
    reports_as: str


class RatingRead(BaseModel):
    item_id: str = Field(description="The rated item, or sub-area for GCP2.")
    area_id: str
    value: int
    value_id: str | None
    value_label: str
    evidence: str | None
    strengths: str | None
    rater: RaterRead | None
    rated_on: date | None
    recorded_by: ActorRead
    updated_at: datetime


class PractitionerJudgement(BaseModel):
    value: int
    value_id: str | None
    value_label: str
    rationale: str | None
    judged_by: ActorRead
    judged_at: datetime | None


class SuggestionRead(BaseModel):
    label: str = Field(examples=["System suggestion - not an NSPCC method"], description="Always shown with the suggestion.")
    value: int | None = Field(description="Null until something in the area is rated.")
    value_id: str | None
    value_label: str | None
    rule: str = Field(examples=["worst_in_area"])
    rule_description: str
    based_on: list[str] = Field(description="The rated items (or sub-areas) that gave the suggested value.")


class AreaResult(BaseModel):
    area_id: str
    name: str
    mandatory: bool
    practitioner: PractitionerJudgement | None = Field(description="The practitioner's judgement: the record.")
    suggestion: SuggestionRead | None = Field(description="Computed and kept apart; never replaces the judgement. Null when the tool has none.")
    differs_from_suggestion: bool | None


class TotalRead(BaseModel):
    id: str
    name: str
    value: int
    rated: int = Field(description="How many of the counted items are rated so far.")
    of: int


class TargetRead(BaseModel):
    id: uuid.UUID
    area_id: str
    sub_area_id: str | None
    item_ref: str | None
    current_grade: int
    target_grade: int
    period_for_change: str
    review_date: date
    grade_after_review: int | None
    reviewed_on: date | None
    carer_comments: str | None
    carer_consent_recorded: bool
    created_at: datetime
    updated_at: datetime


class AssessmentSummary(BaseModel):
    id: uuid.UUID
    child_id: uuid.UUID
    agency_id: uuid.UUID
    toolkit_id: str = Field(examples=["gcp2"])
    toolkit_version: str = Field(examples=["2-structure-1"])
    status: Status
    lineage_id: uuid.UUID = Field(description="Shared by an assessment and its amendments.")
    revision: int = Field(description="1 for the original, 2 for its first amendment, ...")
    amends_id: uuid.UUID | None = Field(description="The authorised revision this one amends.")
    superseded_by_id: uuid.UUID | None = Field(description="The authorised amendment that replaced this revision.")
    previous_assessment_id: uuid.UUID | None = Field(description="The assessment this one re-assesses.")
    window_start_date: date
    window_end_date: date | None
    submitted_at: datetime | None = Field(description="When the submission was recorded.")
    submitted_on: date | None = Field(description="The day it was submitted.")
    authorised_at: datetime | None = Field(description="When the authorisation was recorded.")
    authorised_on: date | None = Field(description="The day it was authorised (what reporting counts).")
    created_at: datetime
    updated_at: datetime
    version: int


class AssessmentRead(AssessmentSummary):
    assessor: AssessorRead
    overall_judgement: str | None
    areas: list[AreaResult]
    ratings: list[RatingRead]
    totals: list[TotalRead] = Field(description="Only where the toolkit defines totals.")
    targets: list[TargetRead]
    amendment_reason: str | None
    return_reason: str | None
    created_by: ActorRead
    submitted_by: ActorRead | None
    authorised_by: AuthorisedByRead | None


class AssessmentPage(BaseModel):
    items: list[AssessmentSummary]
    next_cursor: str | None


# --- Trajectory ------------------------------------------------------------------------------


class AreaChangeRead(BaseModel):
    earlier: int
    later: int
    change: int = Field(description="Later minus earlier, in the scale's own numbers.")
    direction: DirectionName


class ComparisonRead(BaseModel):
    compared_with: uuid.UUID
    direction: DirectionName | None = Field(description="Null when no area could be compared.")
    areas: dict[str, AreaChangeRead] = Field(title="AreaChanges")  # a title of its own: a generated client's type


class TrajectoryPoint(BaseModel):
    assessment_id: uuid.UUID
    toolkit_version: str
    assessed_on: date = Field(description="The end of the assessment window.")
    authorised_at: datetime
    areas: dict[str, int] = Field(description="The practitioner's area grades.", title="TrajectoryAreaGrades")
    from_baseline: ComparisonRead | None
    from_previous: ComparisonRead | None


class SustainedRead(BaseModel):
    months: int = Field(description="The configured period.")
    sustained: bool
    since: date | None = Field(description="The assessment from which the improvement has held.")
    until: date | None = Field(description="The latest assessment.")


class ToolTrajectoryRead(BaseModel):
    toolkit_id: str
    scale_direction: Literal["higher_is_worse", "higher_is_better"]
    baseline_assessment_id: uuid.UUID
    first_assessed_on: date
    days_since_first_assessment: int
    direction_from_baseline: DirectionName | None
    direction_from_previous: DirectionName | None
    sustained_improvement: SustainedRead
    assessments: list[TrajectoryPoint]


class TrajectoryRule(BaseModel):
    worse_by: int
    better_by: int
    sustained_months: int
    description: dict[str, str]


class TrajectoryRead(BaseModel):
    child_id: uuid.UUID
    computed_on: date
    direction: DirectionName | None = Field(description="Across tools: the latest change of each tool, by the same rule.")
    first_assessed_on: date | None
    days_since_first_assessment: int | None
    rule: TrajectoryRule
    toolkits: list[ToolTrajectoryRead]


# --- Latest results (a fixed contract: the referral service's threshold engine reads it) -----------


class AreaGrades(BaseModel):
    practitioner_grade: int | None = None
    suggestion: int | None = None


class LatestResult(BaseModel):
    toolkit_id: str = Field(examples=["gcp2"])
    toolkit_version: str = Field(examples=["2-structure-1"])
    assessment_id: uuid.UUID
    authorised_at: datetime = Field(description="When the authorisation was recorded.")
    authorised_on: date = Field(description="The day it was authorised: how old the result is.")
    areas: dict[str, AreaGrades] = Field(examples=[{"physical_care": {"practitioner_grade": 4, "suggestion": 3}}],
                                         title="LatestAreaGrades")
    items_rated: dict[str, int] | None = Field(default=None, examples=[{"very_concerned": 3, "sometimes_concerned": 1}],
                                               description="Ratings counted by scale value id (named scales only).")
    items_rated_by_domain: dict[str, dict[str, int]] | None = Field(default=None, description="The same counts per area.")
    safety_scale: dict[str, int] | None = Field(default=None, examples=[{"worker": 2, "parent": 5}],
                                                description="Latest score per kind of rater (worker = any professional).")
    totals: dict[str, int] | None = Field(default=None, description="Totals, where the toolkit defines them.")


class LatestResults(BaseModel):
    child_id: uuid.UUID
    items: list[LatestResult] = Field(description="One per toolkit: its latest authorised assessment.")
