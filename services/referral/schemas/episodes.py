"""Bodies for the statutory journey: episodes and what happens in them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from services.referral.domain.codes import census_codes
from services.referral.schemas.children import Body, PlansElsewhere

#: Our own outcome slugs (services.referral.domain.journey.PP_OUTCOMES), not DfE PPOutcome codes.
PreProceedingsOutcome = Literal["proceedings_issued", "pre_proceedings_ended_no_proceedings", "continue_pre_proceedings", "other"]


def _code(list_name: str, value: str) -> str:
    if value not in census_codes(list_name):
        raise ValueError(f"not a DfE {list_name} code")
    return value


class AssessmentStart(Body):
    start_date: date = Field(examples=["2026-01-06"])
    child_seen_date: date | None = None


class AssessmentAuthorisation(Body):
    authorised_date: date
    factors: list[str] = Field(min_length=1, description="DfE assessment factors; `16A` is neglect, `21` (no factors) stands alone.", examples=[["16A", "4B"]])
    child_seen_date: date | None = None
    authorised_by: str = Field(min_length=1, max_length=200, description="The manager who authorised it (name or user id at your end).")

    @field_validator("factors")
    @classmethod
    def _factors(cls, value: list[str]) -> list[str]:
        return [_code("AssessmentFactors", f) for f in value]


class StrategyDiscussionCreate(Body):
    held_date: date
    participating_agency_ids: list[uuid.UUID] = Field(default_factory=list, description="Police and health should take part (WT2023).")
    start_s47: bool = Field(description="Whether the discussion decided to start an s47 enquiry (it starts on this date).")


class S47Conclusion(Body):
    concluded_date: date
    icpc_required: Literal[False] = Field(description="Conclude without a conference (ICPC not required). A conference is recorded with POST .../conferences.")


class ConferenceCreate(Body):
    kind: Literal["initial", "review", "transfer_in"] = Field(description=(
        "`initial` concludes an s47 enquiry; `review` reviews a plan; `transfer_in` is held for a child "
        "arriving from another local authority on a plan: it is the episode's initial conference (census "
        "DateOfInitialCPC at episode level) and starts the plan here (outcome `plan`, with a category)."))
    held_date: date
    s47_id: uuid.UUID | None = Field(default=None, description="For an initial conference: the s47 enquiry it concludes.")
    cp_plan_id: uuid.UUID | None = Field(default=None, description="For a review conference: the plan reviewed.")
    outcome: Literal["plan", "no_plan", "continue_plan", "end_plan"]
    category: str | None = Field(default=None, description="DfE CategoryOfAbuse for a new plan (`NEG` neglect) or the latest category at a review.", examples=["NEG"])
    step_down: Literal["cin_plan", "early_help", "none"] = Field(default="none", description="When a plan ends: what follows it.")
    child_participation: str | None = Field(default=None, max_length=40, examples=["attended_with_advocate"])
    plans_elsewhere: PlansElsewhere | None = Field(default=None, description=(
        "A transfer-in only: the child's child protection plans in other authorities before this one (as "
        "`PUT /v1/children/{id}/cp-plans-elsewhere`), recorded with the conference and counted in this plan's "
        "NumberOfPreviousCPP. The plan the child arrives on continues here and is not one of them."))

    @field_validator("category")
    @classmethod
    def _category(cls, value: str | None) -> str | None:
        return None if value is None else _code("CategoryOfAbuse", value)

    @model_validator(mode="after")
    def _shape(self) -> ConferenceCreate:
        if self.kind == "initial":
            if self.s47_id is None:
                raise ValueError("an initial conference names its s47_id")
            if self.outcome not in ("plan", "no_plan"):
                raise ValueError("an initial conference's outcome is plan or no_plan")
            if self.outcome == "plan" and self.category is None:
                raise ValueError("a new plan needs its category")
        elif self.kind == "transfer_in":
            if self.s47_id is not None or self.cp_plan_id is not None:
                raise ValueError("a transfer-in conference names no s47_id or cp_plan_id: it starts the plan here")
            if self.outcome != "plan":
                raise ValueError("a transfer-in conference's outcome is plan")
            if self.category is None:
                raise ValueError("a transfer-in plan needs its category")
        else:
            if self.cp_plan_id is None:
                raise ValueError("a review conference names its cp_plan_id")
            if self.outcome not in ("continue_plan", "end_plan"):
                raise ValueError("a review's outcome is continue_plan or end_plan")
        if self.step_down != "none" and self.outcome != "end_plan":
            raise ValueError("step_down applies when the plan ends")
        if self.plans_elsewhere is not None and self.kind != "transfer_in":
            raise ValueError("plans_elsewhere is recorded with a transfer-in conference (or on the child)")
        return self


class PlanStart(Body):
    start_date: date


class PlanEnd(Body):
    end_date: date
    step_down: Literal["cin_plan", "early_help", "none"] = "none"


class CoreGroupCreate(Body):
    held_date: date


class PreProceedingsStart(Body):
    start_date: date = Field(description="PPStartDate: the day pre-proceedings under the Public Law Outline started.")


class PreProceedingsMeeting(Body):
    held_date: date = Field(description="A pre-proceedings meeting with the parents (the census counts them).")


class LetterBeforeProceedings(Body):
    sent_date: date = Field(description="LBPSentDate: the letter before proceedings was sent.")


class FgdmRecord(Body):
    offered: bool = Field(description="Family group decision making was offered.")
    held: bool = Field(description="It was held (only once offered).")


class PreProceedingsDecision(Body):
    decision_date: date = Field(description="StepDecisionDate.")
    outcome: PreProceedingsOutcome = Field(description=(
        "Our own outcome slug, mapped to the DfE PPOutcome code at export once the 2025-26 specification is "
        "confirmed. `continue_pre_proceedings` keeps the record open for a later decision; the others end it."))
    court_application_date: date | None = Field(default=None, description="CourtAppDate: only with `proceedings_issued`, on or after the decision.")


class Closure(Body):
    closure_date: date
    reason: str = Field(description="DfE ReasonForClosure (RC1-RC9).", examples=["RC7"])
    step_down_to_early_help: bool = Field(default=False, description="Step down: an early help episode starts on the closure date (RC7 after a plan, RC9 after an assessment).")
    early_help_lead_agency_id: uuid.UUID | None = Field(default=None, description="The early help lead agency (default: yours).")

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        return _code("ReasonForClosure", value)


class StatutoryAssessmentRead(BaseModel):
    id: uuid.UUID
    start_date: date
    child_seen_date: date | None
    authorised_date: date | None
    authorised_by: str | None
    factors: list[str]
    due_date: date = Field(description="45 working days from the referral (WT2023).")


class StrategyDiscussionRead(BaseModel):
    id: uuid.UUID
    held_date: date
    participating_agency_ids: list[uuid.UUID]
    outcome: str
    s47_id: uuid.UUID | None


class S47Read(BaseModel):
    id: uuid.UUID
    start_date: date
    icpc_target_date: date
    icpc_date: date | None
    icpc_not_required: bool


class ConferenceRead(BaseModel):
    id: uuid.UUID
    kind: str
    held_date: date
    s47_id: uuid.UUID | None
    cp_plan_id: uuid.UUID | None
    outcome: str
    child_participation: str | None


class CpPlanRead(BaseModel):
    id: uuid.UUID
    start_date: date
    end_date: date | None
    initial_category: str
    latest_category: str
    previous_plans: int = Field(description="NumberOfPreviousCPP: plans here and elsewhere before this one.")
    previous_plan_end_date: date | None = Field(description="When the latest earlier plan (here or elsewhere) ended.")
    end_route: str | None
    review_dates: list[date]
    next_review_due: date | None = Field(description="First review within 3 months of the start, then every 6 months.")
    core_group_dates: list[date]


class CinPlanRead(BaseModel):
    id: uuid.UUID
    start_date: date
    end_date: date | None


class PreProceedingsRead(BaseModel):
    id: uuid.UUID
    start_date: date
    letter_before_proceedings_sent: date | None
    fgdm_offered: bool
    fgdm_held: bool
    meeting_dates: list[date]
    meeting_count: int
    decision_date: date | None
    outcome: str | None = Field(description="Our own outcome slug (not a DfE code).")
    court_application_date: date | None
    open: bool = Field(description="No decision yet, or the decision was to continue pre-proceedings.")
    version: int


class EpisodeRead(BaseModel):
    id: uuid.UUID
    child_id: uuid.UUID
    kind: str
    referral_date: date
    referral_source: str
    nfa: bool | None
    primary_need: str | None
    closure_date: date | None
    reason_for_closure: str | None
    icpc_date: date | None = Field(description="Episode-level initial conference date (a transfer-in); s47 conferences are under `s47s`.")
    assessments: list[StatutoryAssessmentRead]
    strategy_discussions: list[StrategyDiscussionRead]
    s47s: list[S47Read]
    conferences: list[ConferenceRead]
    cp_plans: list[CpPlanRead]
    cin_plans: list[CinPlanRead]
    pre_proceedings: list[PreProceedingsRead]
    created_at: datetime
    updated_at: datetime
    version: int


class EpisodeList(BaseModel):
    items: list[EpisodeRead]
