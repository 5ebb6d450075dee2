"""Request and response bodies (never the table models)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainValidator, StringConstraints


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


EventType = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$", max_length=100)]
DataKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,59}$")]
MAX_DATA_TEXT = 200
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
MAX_DATA_LIST = 30
Scalar = str | int | float | bool | None


def _scalar(value: Any) -> Scalar:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        if len(value) > MAX_DATA_TEXT:
            raise ValueError(f"at most {MAX_DATA_TEXT} characters: events carry ids and codes, not text")
        return value
    raise ValueError("a flat id, code, number, flag or null: events carry no nested records")


def _numbers(value: dict[Any, Any]) -> dict[str, int | float | str | None]:
    # A short map of codes to numbers, such as a toolkit assessment's area grades: still ids
    # and numbers, never text. Anything else nested would be a record's details.
    if len(value) > MAX_DATA_LIST:
        raise ValueError(f"at most {MAX_DATA_LIST} entries in a map")
    out: dict[str, int | float | str | None] = {}
    for key, number in value.items():
        if not isinstance(key, str) or not _KEY.match(key):
            raise ValueError("map keys are codes (lower case letters, digits, underscores)")
        # Values are numbers (GCP2 grades) or codes (a screening tool's "very_concerned"), never text.
        is_code = isinstance(number, str) and bool(_KEY.match(number))
        if number is not None and not is_code and (isinstance(number, bool) or not isinstance(number, int | float)):
            raise ValueError("a flat id, code, number, flag or null, or a map of codes to numbers or codes: events carry no nested records")
        out[key] = number
    return out


def _thin(value: Any) -> Scalar | list[Scalar] | dict[str, int | float | str | None]:
    # Scalars, short lists of them (codes such as disabilities or assessment factors), or short
    # maps of codes to numbers. A nested record or a long text would be a record's details,
    # which receivers fetch with their own token.
    if isinstance(value, list):
        if len(value) > MAX_DATA_LIST:
            raise ValueError(f"at most {MAX_DATA_LIST} codes in a list")
        return [_scalar(v) for v in value]
    if isinstance(value, dict):
        return _numbers(value)
    return _scalar(value)


DataValue = Annotated[Scalar | list[Scalar] | dict[str, int | float | str | None],
                      PlainValidator(_thin, json_schema_input_type=Scalar | list[Scalar] | dict[str, int | float | str | None])]


class EventEnvelope(Body):
    """An event as the sending service's outbox relay posts it."""

    id: str = Field(min_length=1, max_length=100, description="The event id; equal to the `webhook-id` header.",
                    examples=["0b8f3c1e-5d2a-4f7e-9c61-2a4b8d9e7f10"])
    type: EventType = Field(description="`<resource>.<what happened>`.", examples=["child.registered"])
    source: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,59}$", description="The emitting service.", examples=["referral"])
    occurred_at: AwareDatetime = Field(description="When it happened at the source (RFC 3339 with offset).")
    version: int = Field(ge=1, le=1000, description="The event schema version.", examples=[1])
    data: dict[DataKey, DataValue] = Field(
        default_factory=dict, max_length=50,
        description="Ids, codes, numbers and flags as flat key/value pairs; a value may also be a short list of codes or a short map of codes to numbers (e.g. area grades).",
        examples=[{"child_id": "6a1f0c52-1b7e-4c1a-9d0e-3f5b2a7c8d90", "agency_id": "0d7c2b1a-9e8f-4a6b-8c5d-1e2f3a4b5c6d", "unborn": False}],
    )


class EventReceipt(BaseModel):
    status: Literal["applied", "duplicate"] = Field(
        description="`applied` on first delivery; `duplicate` when this webhook-id was applied before (nothing changed)."
    )


class DashboardSummary(BaseModel):
    children_registered: int = Field(description="Children (incl. unborn) registered with the partnership.")
    agencies_registered: int = Field(description="Partner agencies registered.")
    events_received: int = Field(description="Events applied to the read model, of every type.")
    last_event_at: datetime | None = Field(description="When the most recent event received occurred; null before the first.")


# --- the quarterly dataset --------------------------------------------------------------------------

Suppressible = int | Literal["c"]
SuppressibleRatio = float | Literal["c"]


class Figure(BaseModel):
    key: str = Field(description="The breakdown value (`total` for the metric's total).", examples=["under 1"])
    count: Suppressible = Field(description="Units counted (plans, children, referrals... as the metric's unit says); `c` when suppressed.")
    denominator: Suppressible | None = Field(description="What the count is a share of, when the metric has one; `c` when suppressed; for rates, the 0-17 population.")
    percent: SuppressibleRatio | None = Field(description="count / denominator x 100, 1 decimal place; null without a denominator or when it is 0.")
    value: Suppressible | SuppressibleRatio | None = Field(description="The metric's figure in its unit: the count, the percentage or the rate per 10,000.")


class Metric(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str = Field(examples=["NQ01"])
    title: str
    definition: str
    unit: str = Field(description="plans, children, referrals, decisions, events, assessments, percent or rate_per_10000.")
    numerator: str | None = Field(description="What is counted, as defined in the dataset's reference definitions.")
    denominator: str | None = Field(description="What it is divided by, if anything.")
    period_basis: Literal["snapshot", "in_period", "rolling_12_months"]
    at: date | None = Field(description="For snapshot metrics: the date counted at (the period end).")
    from_: date | None = Field(alias="from", description="For in-period and rolling metrics: the first date counted.")
    to: date | None = Field(description="For in-period and rolling metrics: the last date counted.")
    available: bool = Field(description="False when the events this metric is built from are not emitted yet (see `reason`); no figures are given then.")
    reason: str | None
    suppressed: bool = Field(description="Whether small numbers are suppressed in this response (by your token's scopes).")
    suppression_rules: list[str] = Field(description="The suppression rules applied (S1: 1-5 shown as c; S4: ratios on a suppressed count; S5: secondary suppression).")
    total: Figure | None
    breakdowns: dict[str, list[Figure]] = Field(description="Each breakdown's cells; cells of a breakdown add up to the total.")
    notes: list[str]


class PeriodRead(BaseModel):
    name: str = Field(examples=["2025-26-Q4"])
    kind: Literal["quarter", "year", "range"]
    start: date
    end: date


class PopulationRead(BaseModel):
    children_0_17: int | None = Field(description="The configured 0-17 population used for rates per 10,000.")
    year: int | None = Field(description="The year of the population estimate.")


class Dataset(BaseModel):
    dataset: str = Field(default="quarterly_partnership_neglect_dataset")
    definitions_version: str = Field(description="Version of the metric definitions.", examples=["2026.1"])
    period: PeriodRead
    population: PopulationRead
    events_received: int = Field(description="Events in the read model when the figures were computed.")
    last_event_at: datetime | None
    metrics: list[Metric]


# --- partnership configuration ------------------------------------------------------------------------

LaCode = Annotated[str, StringConstraints(pattern=r"^\d{3}$")]
ScopeName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(:[a-z][a-z0-9_]*)?$", max_length=60)]


STEP_DOWN_DOC = ("Days after a neglect CP plan ends within which a CIN plan (NQ11) or an early help episode "
                 "(NQ12) starting counts as a step-down; 0 = the same day only. Default `REPORTING_STEP_DOWN_WINDOW_DAYS` (28).")
MINIMUM_DOC = ("A neglect CP plan that ends sooner than this many months is counted as short (NQ10). "
               "Default `REPORTING_NEGLECT_CP_PLAN_MINIMUM_MONTHS` (6).")


class ConfigurationRead(BaseModel):
    la_code: str = Field(description="The local authority's 3-digit DfE LA code (census LEA); empty until set.", examples=["919"])
    population_0_17: int | None = Field(description="Resident children aged 0-17 (ONS mid-year estimate).", examples=[245300])
    population_year: int | None = Field(description="The year of that estimate.", examples=[2024])
    suppression: dict[str, bool] = Field(description="Per token scope: true = that caller sees suppressed figures; a caller holding any scope set to false sees them unsuppressed.",
                                         examples=[{"reporting:read": True, "reporting:export": False}])
    step_down_window_days: int = Field(description=STEP_DOWN_DOC, examples=[28])
    neglect_cp_plan_minimum_months: int = Field(description=MINIMUM_DOC, examples=[6])
    version: int = Field(description="Also the ETag; 0 while the settings are the service defaults.")
    updated_at: datetime | None
    updated_by: str | None = Field(description="The client that last changed the settings.")


class ConfigurationUpdate(Body):
    """Only the settings that change; the others keep their value."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"step_down_window_days": 42, "neglect_cp_plan_minimum_months": 9},
        {"la_code": "919", "population_0_17": 245300, "population_year": 2024},
    ]})

    la_code: LaCode | None = None
    population_0_17: int | None = Field(default=None, ge=1, le=20_000_000)
    population_year: int | None = Field(default=None, ge=1990, le=2100)
    suppression: dict[ScopeName, bool] | None = Field(default=None, max_length=20)
    step_down_window_days: int | None = Field(default=None, ge=0, le=365, description=STEP_DOWN_DOC)
    neglect_cp_plan_minimum_months: int | None = Field(default=None, ge=1, le=60, description=MINIMUM_DOC)


class RebuildRead(BaseModel):
    events: int = Field(description="Events in the log, all replayed.")
    unreadable: int = Field(description="Events whose data could not be read; they stay logged and project nothing.")


# --- dashboards ---------------------------------------------------------------------------------------

Count = int | Literal["c"]


class SeriesPoint(BaseModel):
    period: PeriodRead
    available: bool
    total: Figure | None


class Series(BaseModel):
    metric: str = Field(examples=["NQ01"])
    title: str
    unit: str
    period_basis: str
    suppressed: bool
    reason: str | None = Field(description="Why the metric is not available, when it is not.")
    points: list[SeriesPoint]


class StageCount(BaseModel):
    stage: Literal["cp_plan", "cin_plan", "s47_enquiry", "assessment", "open_episode_other", "early_help"]
    children: Count


class Caseload(BaseModel):
    at: date
    suppressed: bool
    children_by_stage: list[StageCount] = Field(description="Each child once, at the furthest stage they are in: a CP plan, a CIN plan, an s47 enquiry, an assessment, another open episode, or early help only.")
    children_in_statutory_work: Count = Field(description="Children at any stage but early help only.")
    referrals_awaiting_decision: Count
    neglect_cp_plans: Count = Field(description="CP plans open on the date whose latest category is neglect.")


class ClockAlert(BaseModel):
    clock: str = Field(examples=["assessment_completion"])
    name: str
    limit: int | None
    unit: str
    kind: str
    source: str
    status: Literal["counted", "not_configured", "not_available"]
    reason: str | None
    open: Count | None = Field(description="Items whose clock is running on the date.")
    overdue: Count | None = Field(description="Of those, past the limit: drift alerts.")
    due_soon: Count | None = Field(description="Of those, due within the configured number of working days.")


class Alerts(BaseModel):
    at: date
    suppressed: bool
    due_soon_working_days: int
    clocks: list[ClockAlert]


class ClockTimeliness(BaseModel):
    clock: str
    name: str
    limit: int
    unit: str
    status: Literal["counted", "not_available"]
    reason: str | None
    completed: Count | None = Field(description="Items whose clock stopped in the period.")
    on_time: Count | None
    percent_on_time: float | Literal["c"] | None


class Timeliness(BaseModel):
    period: PeriodRead
    suppressed: bool
    clocks: list[ClockTimeliness]


class ToolTrajectory(BaseModel):
    tool: str = Field(examples=["gcp2"])
    children_by_trajectory: dict[str, Count] = Field(description="Children whose latest repeat in the period, against their baseline, improved, stayed static, deteriorated or moved both ways (mixed); `unknown` for a tool whose scale direction is not configured.")


class Trajectories(BaseModel):
    period: PeriodRead
    suppressed: bool
    available: bool
    reason: str | None
    tools: list[ToolTrajectory]
