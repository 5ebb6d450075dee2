"""Bodies for referrals, threshold recommendations and decisions, and threshold models."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from services.referral.domain.codes import census_codes
from services.referral.domain.threshold_models import outcome_ids
from services.referral.domain.thresholds import RECOMMENDATION_LABEL

NeglectType = Literal[
    "pre_birth", "basic_provision", "protection_from_harm", "supervision", "medical", "education", "emotional",
]
IndicatorDomain = Literal[
    "physical_care", "safety_and_supervision", "emotional_care", "development_and_education",
    "health_and_medical", "pre_birth",
]
Severity = Literal["low", "medium", "high"]
ParentalFactor = Literal["substance_misuse", "alcohol_misuse", "mental_health", "domestic_abuse", "learning_disability"]
ReferralStatus = Literal["received", "decided"]

# Partner clocks drift a little; a timestamp this far ahead is still "now".
CLOCK_SKEW = timedelta(minutes=2)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# Nothing in this service predates it by decades; older timestamps are typing errors.
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


def _not_future(value: datetime | None, what: str) -> datetime | None:
    if value is not None and value > datetime.now(UTC) + CLOCK_SKEW:
        raise ValueError(f"{what} is in the future")
    if value is not None and value < EARLIEST:
        raise ValueError(f"{what} is before 1990")
    return value


def _distinct(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("values must not repeat")
    return values


# --- referrals -----------------------------------------------------------------------


class Indicator(Body):
    domain: IndicatorDomain = Field(description="The area of the child's needs the indicator belongs to.")
    indicator: str = Field(min_length=1, max_length=200, description="A short code or phrase from your own indicator list; no names.",
                           examples=["missed_health_checks"])
    severity: Severity


class ReferralCreate(Body):
    """A concern about a child, sent to the front door by a partner agency.

    The referring agency is the caller's agency; the DfE `ReferralSource` is derived
    from its type. Agency types without a fixed source (e.g. `hospital_other`,
    `early_years`) must send `referral_source` from their type's allowed list.
    Children's social care records concerns on behalf of those with no partner agency
    behind them (1A family, 1B acquaintance, 1C the child, 1D another individual,
    9 anonymous, 10 unknown) and may send any current DfE code.
    """

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "child_id": "3f0c8a52-6d1e-4b7a-9c55-0a3e2f6b1d47",
        "received_at": "2026-03-02T09:15:00Z",
        "concern_summary": "Child arrives hungry most days and has worn the same clothes all week.",
        "neglect_types": ["basic_provision"],
        "indicators": [{"domain": "physical_care", "indicator": "hunger_at_school", "severity": "medium"}],
        "parental_factors": ["alcohol_misuse"],
        "referrer_identity_withheld": False,
    }]})

    child_id: uuid.UUID = Field(description="The child's id in this service. You may refer a child your agency cannot see yet.")
    received_at: AwareDatetime | None = Field(default=None, description="When the concern reached the front door (default: now). Not in the future.")
    concern_summary: str = Field(min_length=1, max_length=4000, description="The concern in the referrer's words.")
    neglect_types: list[NeglectType] = Field(min_length=1, max_length=7, description="Elements of neglect (Working Together 2023). An unborn child's referral is `pre_birth` only.")
    indicators: list[Indicator] = Field(default_factory=list, max_length=50)
    parental_factors: list[ParentalFactor] = Field(default_factory=list, max_length=5, description="Think family: parental factors the referrer knows of.")
    referrer_identity_withheld: bool = Field(default=False, description="Hide the referring agency from other partners (children's social care still sees it).")
    referral_source: str | None = Field(default=None, max_length=3, description=(
        "DfE ReferralSource. Agency types without a fixed one choose from their allowed list; children's social care "
        "(and a MASH) may give any current DfE code when recording on someone's behalf, e.g. `1A` for a family member "
        "(default: its own, 5A). Others leave it out."), examples=["3F", "1A"])

    @field_validator("received_at")
    @classmethod
    def _received_not_future(cls, value: datetime | None) -> datetime | None:
        return _not_future(value, "received_at")

    @field_validator("neglect_types", "parental_factors")
    @classmethod
    def _no_repeats(cls, value: list[str]) -> list[str]:
        return _distinct(value)


class DecisionRead(BaseModel):
    level: str = Field(description="The level decided by the practitioner: authoritative.")
    outcome: str
    decided_by: str
    decided_at: datetime
    rationale: str | None = Field(description="Null for an agency that only referred the child (see `re_referral`).")
    override_reason: str | None = Field(description="Null for an agency that only referred the child.")
    overridden: bool | None = Field(description="True when the decided level differs from the recommendation; null for an agency that only referred the child.")
    recommended_level: str | None = Field(description="What the threshold engine recommended when the decision was made; null for an agency that only referred the child.")
    threshold_model_id: uuid.UUID | None


class ReferralRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "8d7c1b0e-4a39-4f6e-9b1f-2f0d5c3a9e61",
        "child_id": "3f0c8a52-6d1e-4b7a-9c55-0a3e2f6b1d47",
        "referring_agency_id": "5b2e9f14-7c3d-4e8a-a1b6-0c9d8e7f6a54",
        "referral_source": "2A",
        "received_at": "2026-03-02T09:15:00Z",
        "concern_summary": "Child arrives hungry most days and has worn the same clothes all week.",
        "neglect_types": ["basic_provision"],
        "indicators": [{"domain": "physical_care", "indicator": "hunger_at_school", "severity": "medium"}],
        "parental_factors": [],
        "referrer_identity_withheld": False,
        "re_referral": False,
        "previous_referral_id": None,
        "status": "decided",
        "decision_due_at": "2026-03-03T09:15:00Z",
        "decision": {"level": "4", "outcome": "s17_assessment", "decided_by": "Team manager (user 4711)",
                     "decided_at": "2026-03-02T16:40:00Z", "rationale": "Needs a statutory assessment.",
                     "override_reason": "Pattern across three agencies' chronology.", "overridden": True,
                     "recommended_level": "2b", "threshold_model_id": "1a2b3c4d-0000-4000-8000-000000000001"},
        "episode_id": "0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b",
        "feedback_due_date": "2026-03-03",
        "feedback_sent_at": None,
        "created_at": "2026-03-02T09:15:02Z",
        "updated_at": "2026-03-02T16:40:01Z",
        "version": 2,
    }]})

    id: uuid.UUID
    child_id: uuid.UUID
    referring_agency_id: uuid.UUID | None = Field(description="Null when the referrer's identity is withheld from your agency.")
    referral_source: str
    received_at: datetime
    concern_summary: str
    neglect_types: list[str]
    indicators: list[Indicator]
    parental_factors: list[str]
    referrer_identity_withheld: bool
    re_referral: bool | None = Field(description=(
        "A previous referral for the child was received within the 12 months before this one. Null when your "
        "agency only referred the child (no involvement, not children's social care): a referrer sees what it "
        "sent and the outcome, not the child's record, so this, `previous_referral_id`, `episode_id` and the "
        "decision's reasoning are withheld."))
    previous_referral_id: uuid.UUID | None
    status: ReferralStatus
    decision_due_at: datetime = Field(description="One working day after receipt (Working Together 2023).")
    decision: DecisionRead | None
    episode_id: uuid.UUID | None = Field(description="The children in need episode the decision opened or joined; null for an agency that only referred the child.")
    feedback_due_date: date | None = Field(description="When the referrer should be told the outcome: one working day after the decision.")
    feedback_sent_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int


class ReferralPage(BaseModel):
    items: list[ReferralRead]
    next_cursor: str | None


# --- recommendation and decision ---------------------------------------------------------


class FiredRuleRead(BaseModel):
    id: str
    description: str
    min_level: str = Field(description="The lowest level this rule advises.")
    reason: str
    evidence: dict[str, Any] = Field(description="The facts the rule saw, by fact key.")


class RecommendationRead(BaseModel):
    """A computed threshold recommendation: advice with its reasons, never a decision."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "c0ffee00-1234-4abc-8def-000000000042",
        "referral_id": "8d7c1b0e-4a39-4f6e-9b1f-2f0d5c3a9e61",
        "kind": "recommendation",
        "label": RECOMMENDATION_LABEL,
        "partnership_id": "example_partnership_a",
        "ruleset_version": "2026.2",
        "threshold_model_id": "1a2b3c4d-0000-4000-8000-000000000001",
        "recommended_level": "2b",
        "recommended_level_name": "Early help - assessment",
        "fired_rules": [{"id": "A-R01", "description": "GCP2 physical care graded 4 or worse", "min_level": "2b",
                         "reason": "Recent GCP2 shows physical care needs largely unmet.",
                         "evidence": {"toolkit.area_grade(area=physical_care,max_age_days=180,tool=gcp2)": 4}}],
        "inputs": {"child.is_unborn": False, "toolkit.area_grade(area=physical_care,max_age_days=180,tool=gcp2)": 4},
        "missing_facts": [],
        "unevaluated_rules": [],
        "created_at": "2026-03-02T10:02:11Z",
    }]})

    id: uuid.UUID
    referral_id: uuid.UUID
    kind: Literal["recommendation"] = "recommendation"
    label: str = RECOMMENDATION_LABEL
    partnership_id: str
    ruleset_version: str
    threshold_model_id: uuid.UUID
    recommended_level: str
    recommended_level_name: str
    fired_rules: list[FiredRuleRead]
    inputs: dict[str, Any] = Field(description="Every fact the engine saw, by fact key.")
    missing_facts: list[str] = Field(description="Evidence that could not be had, and why. Rules needing it are unevaluated, not false.")
    unevaluated_rules: list[str]
    created_at: datetime


class RecommendationList(BaseModel):
    items: list[RecommendationRead]


class DecisionCreate(Body):
    """The practitioner's threshold decision: authoritative, whatever the engine advised."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "level": "4",
        "outcome": "s17_assessment",
        "decided_by": "Team manager (user 4711)",
        "rationale": "Needs a statutory assessment of need.",
        "override_reason": "Chronology shows the same concern from three agencies this year.",
        "primary_need": "N1",
    }]})

    level: str = Field(min_length=1, max_length=20, description="A level id of the partnership's active threshold model.")
    outcome: str = Field(description="One of the chosen level's allowed outcomes.", examples=["s17_assessment"])
    decided_by: str = Field(min_length=1, max_length=200, description="The qualified manager who made the decision.")
    rationale: str = Field(min_length=1, max_length=4000)
    override_reason: str | None = Field(default=None, min_length=1, max_length=4000,
                                        description="Required when the level differs from the latest recommendation.")
    primary_need: str | None = Field(default=None, description="DfE PrimaryNeedCode (N0-N9); required when the outcome leads to further action.",
                                     examples=["N1"])
    decided_at: AwareDatetime | None = Field(default=None, description="When the decision was made (default: now).")
    early_help_start_date: date | None = Field(
        default=None, examples=["2024-03-18"],
        description="With an early help outcome: the day the early help episode it opens started (default: the "
                    "decision's day). Not before the decision, not in the future. Ignored when the child's early "
                    "help episode is already open (the decision joins it).")

    @field_validator("outcome")
    @classmethod
    def _known_outcome(cls, value: str) -> str:
        if value not in outcome_ids():
            raise ValueError(f"not a decision outcome; one of {', '.join(outcome_ids())}")
        return value

    @field_validator("primary_need")
    @classmethod
    def _primary_need(cls, value: str | None) -> str | None:
        if value is not None and value not in census_codes("PrimaryNeedCode"):
            raise ValueError("not a DfE PrimaryNeedCode (N0-N9)")
        return value

    @field_validator("decided_at")
    @classmethod
    def _decided_not_future(cls, value: datetime | None) -> datetime | None:
        return _not_future(value, "decided_at")


class FeedbackCreate(Body):
    sent_at: AwareDatetime | None = Field(default=None, description="When the referrer was told the outcome (default: now).")

    @field_validator("sent_at")
    @classmethod
    def _sent_not_future(cls, value: datetime | None) -> datetime | None:
        return _not_future(value, "sent_at")


# --- threshold models ---------------------------------------------------------------------


class LevelIn(Body):
    id: str = Field(min_length=1, max_length=20, examples=["2b"])
    name: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=2000)
    allowed_outcomes: list[str] = Field(default_factory=list, max_length=20)


class RuleIn(Body):
    id: str = Field(min_length=1, max_length=30, examples=["A-R01"])
    description: str = Field(default="", max_length=500)
    when: dict[str, Any] = Field(description="A condition: {fact, params, op, value}, or all/any/not of conditions.")
    recommend_min_level: str = Field(max_length=20)
    reason: str = Field(default="", max_length=500, description="Shown with the recommendation; required.")


class ThresholdModelCreate(Body):
    """A partnership's threshold model in its data form (as in `reference/thresholds_example.yaml`)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "example_partnership_a",
        "name": "Example Partnership A (four tiers with 2a/2b)",
        "ruleset_version": "2026.2",
        "level_order": ["1", "2", "3", "4"],
        "default_level": "1",
        "levels": [
            {"id": "1", "name": "Universal", "description": "Needs met by universal services.", "allowed_outcomes": ["nfa", "information_advice"]},
            {"id": "2", "name": "Early help", "description": "Additional needs.", "allowed_outcomes": ["early_help_assessment"]},
            {"id": "3", "name": "Child in need", "description": "Statutory assessment.", "allowed_outcomes": ["s17_assessment"]},
            {"id": "4", "name": "Child protection", "description": "Significant harm suspected.", "allowed_outcomes": ["strategy_discussion", "immediate_protection"]},
        ],
        "rules": [{
            "id": "R01", "description": "Repeated was-not-brought events",
            "when": {"all": [{"fact": "events.count", "params": {"type": "was_not_brought", "window_days": 180}, "op": ">=", "value": 3}]},
            "recommend_min_level": "2", "reason": "Child repeatedly not brought to appointments.",
        }, {
            "id": "R02", "description": "Referrer reports a high-severity physical care indicator",
            "when": {"all": [{"fact": "concern.indicator_severity", "params": {"domain": "physical_care"}, "op": ">=", "value": 3}]},
            "recommend_min_level": "2", "reason": "The referrer sees the child's physical care needs as seriously unmet.",
        }],
    }]})

    id: str = Field(pattern=r"^[a-z0-9_]{1,60}$", description="The partnership id.")
    name: str = Field(min_length=1, max_length=200)
    ruleset_version: str = Field(pattern=r"^[A-Za-z0-9._-]{1,30}$", examples=["2026.2"])
    level_order: list[str] = Field(max_length=20, description="Level ids from lowest to highest need.")
    default_level: str = Field(max_length=20, description="Recommended when no rule fires.")
    levels: list[LevelIn] = Field(max_length=20)
    rules: list[RuleIn] = Field(default_factory=list, max_length=500)


class ThresholdModelRead(BaseModel):
    id: uuid.UUID
    partnership_id: str
    ruleset_version: str
    name: str
    active: bool = Field(description="The version recommendations and decisions use now; earlier versions stay readable.")
    created_at: datetime
    created_by: str
    definition: dict[str, Any] = Field(description="The model's data form, exactly as published.")


class ThresholdModelPage(BaseModel):
    items: list[ThresholdModelRead]
    next_cursor: str | None
