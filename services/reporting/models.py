"""Reporting service tables: the event log, and the read model projected from it.

Every ``rm_*`` table is a projection of the event log and is rebuilt from it
(``python -m services.reporting.rebuild``). Rows are keyed by the producers'
ids and each event type writes only its own columns, so events may arrive in
any order. The log and the read model are pseudonymised: children carry codes
and a birth month; the census identifiers (LA child id, UPN, dates of birth and
death) live apart in the export-scoped tables (:data:`EXPORT_SCOPED_TABLES`):
``event_identity`` beside the log, ``rm_child_identity`` in the read model,
which only the statutory exports read. Names, NHS numbers, postcodes and free
text are kept nowhere (``domain/identifiers.py``).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from shared.db import service_metadata
from shared.models import SHARED_TABLES, utc_column, uuid_pk


class EventLog(SQLModel, table=True):
    """Every event applied, once. Thin: ids and codes, never identifiers, names or free text."""

    __tablename__ = "event_log"
    id: uuid.UUID = uuid_pk()
    webhook_id: str = Field(max_length=100, unique=True)
    event_type: str = Field(max_length=100, index=True)
    source: str = Field(max_length=60)
    version: int
    occurred_at: datetime = utc_column(index=True)
    received_at: datetime = utc_column()
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class EventIdentity(SQLModel, table=True):
    """The census identifiers an event carried (``domain.identifiers.CENSUS_IDENTIFIERS``),
    kept apart from the log row they belong to. Export-scoped: read only to rebuild
    ``rm_child_identity``."""

    __tablename__ = "event_identity"
    event_id: uuid.UUID = Field(primary_key=True, foreign_key="event_log.id")
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class MetricCounter(SQLModel, table=True):
    """A running count, moved in the same transaction as the event that changes it."""

    __tablename__ = "metric_counter"
    name: str = Field(primary_key=True, max_length=60)
    value: int = 0
    updated_at: datetime = utc_column()


# --- configuration and reference -----------------------------------------------------------------

class PartnershipConfig(SQLModel, table=True):
    """The partnership's settings the outputs depend on (one row; absent until first changed)."""

    __tablename__ = "partnership_config"
    id: int = Field(default=1, primary_key=True)
    version: int = 1
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = utc_column()
    updated_by: str = Field(max_length=100)


class DashboardTargets(SQLModel, table=True):
    """The partnership's targets for dashboard figures, with the red/amber/green thresholds
    (one row; absent until first set)."""

    __tablename__ = "dashboard_targets"
    id: int = Field(default=1, primary_key=True)
    version: int = 1
    targets: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = utc_column()
    updated_by: str = Field(max_length=100)


class CalendarDay(SQLModel, table=True):
    """One row per day: the working-day index and calendar-month parts that let clocks run in SQL.

    ``wd`` counts working days up to and including the day, so the working days after
    ``a`` up to ``b`` are ``wd(b) - wd(a)``; ``ord`` is the day number for day arithmetic.
    """

    __tablename__ = "calendar_day"
    day: date = Field(primary_key=True)
    ord: int = Field(index=True)
    wd: int
    ym: int
    dom: int
    last_dom: bool


# --- read model: people and agencies ------------------------------------------------------------

class RmAgency(SQLModel, table=True):
    __tablename__ = "rm_agency"
    agency_id: uuid.UUID = Field(primary_key=True)
    agency_type: str | None = Field(default=None, max_length=60)


class RmChild(SQLModel, table=True):
    """A child as analysis sees it: codes and a birth month, never identifiers."""

    __tablename__ = "rm_child"
    child_id: uuid.UUID = Field(primary_key=True)
    facts_at: datetime | None = utc_column(nullable=True)
    unborn: bool | None = None
    birth_ym: int | None = None  # year * 12 + month - 1: enough for age bands
    gender: str | None = Field(default=None, max_length=2)
    ethnicity: str | None = Field(default=None, max_length=4)
    disabilities: str | None = Field(default=None, max_length=200)  # codes, comma-separated
    died: bool | None = None
    registering_agency_id: uuid.UUID | None = None


class RmChildIdentity(SQLModel, table=True):
    """Census identifiers, read only by the statutory exports (scope reporting:export)."""

    __tablename__ = "rm_child_identity"
    child_id: uuid.UUID = Field(primary_key=True)
    facts_at: datetime | None = utc_column(nullable=True)
    la_child_id: str | None = Field(default=None, max_length=20)
    upn: str | None = Field(default=None, max_length=13)
    upn_unknown: str | None = Field(default=None, max_length=3)
    birth_date: date | None = None
    expected_birth_date: date | None = None
    death_date: date | None = None


# --- read model: the front door -------------------------------------------------------------------

class RmReferral(SQLModel, table=True):
    __tablename__ = "rm_referral"
    referral_id: uuid.UUID = Field(primary_key=True)
    child_id: uuid.UUID | None = Field(default=None, index=True)
    received_date: date | None = Field(default=None, index=True)
    referral_source: str | None = Field(default=None, max_length=3)
    referring_agency_type: str | None = Field(default=None, max_length=60)
    re_referral: bool | None = None
    decided_date: date | None = Field(default=None, index=True)
    level: str | None = Field(default=None, max_length=20)
    outcome: str | None = Field(default=None, max_length=60)
    overridden: bool | None = None
    recommended_level: str | None = Field(default=None, max_length=20)
    decision_source: str | None = Field(default=None, max_length=3)
    episode_id: uuid.UUID | None = None
    feedback_date: date | None = None
    #: The contact this referral was converted from (Annex A list 1 counts that contact, not the referral).
    contact_id: uuid.UUID | None = None


class RmContact(SQLModel, table=True):
    """A concern received at the front door that was recorded as a contact; it may have become a referral."""

    __tablename__ = "rm_contact"
    contact_id: uuid.UUID = Field(primary_key=True)
    child_id: uuid.UUID | None = Field(default=None, index=True)
    received_date: date | None = Field(default=None, index=True)
    referral_source: str | None = Field(default=None, max_length=3)
    referring_agency_type: str | None = Field(default=None, max_length=60)
    outcome: str | None = Field(default=None, max_length=40)
    referral_id: uuid.UUID | None = None


# --- read model: the statutory journey -------------------------------------------------------------

class RmEpisode(SQLModel, table=True):
    __tablename__ = "rm_episode"
    episode_id: uuid.UUID = Field(primary_key=True)
    child_id: uuid.UUID | None = Field(default=None, index=True)
    referral_date: date | None = Field(default=None, index=True)
    referral_source: str | None = Field(default=None, max_length=3)
    referring_agency_type: str | None = Field(default=None, max_length=60)
    nfa: bool | None = None
    primary_need: str | None = Field(default=None, max_length=2)
    closure_date: date | None = None
    reason_for_closure: str | None = Field(default=None, max_length=3)
    #: Episode-level initial conference date (a transfer-in conference): census DateOfInitialCPC in CINdetails.
    icpc_date: date | None = None


class RmAssessment(SQLModel, table=True):
    __tablename__ = "rm_assessment"
    assessment_id: uuid.UUID = Field(primary_key=True)
    child_id: uuid.UUID | None = Field(default=None, index=True)
    episode_id: uuid.UUID | None = Field(default=None, index=True)
    start_date: date | None = None
    authorised_date: date | None = Field(default=None, index=True)
    factors: str | None = Field(default=None, max_length=200)
    neglect: bool | None = None  # factor 16A identified


class RmStrategyDiscussion(SQLModel, table=True):
    """Strategy discussions carry no id of their own: keyed by the event that reported them."""

    __tablename__ = "rm_strategy_discussion"
    event_id: str = Field(primary_key=True, max_length=100)
    child_id: uuid.UUID | None = Field(default=None, index=True)
    episode_id: uuid.UUID | None = None
    held_date: date | None = None
    s47_id: uuid.UUID | None = None


class RmS47(SQLModel, table=True):
    __tablename__ = "rm_s47"
    s47_id: uuid.UUID = Field(primary_key=True)
    child_id: uuid.UUID | None = Field(default=None, index=True)
    episode_id: uuid.UUID | None = Field(default=None, index=True)
    start_date: date | None = None
    icpc_target_date: date | None = None
    icpc_date: date | None = Field(default=None, index=True)
    plan: bool | None = None
    concluded_date: date | None = None


class RmCpPlan(SQLModel, table=True):
    __tablename__ = "rm_cp_plan"
    __table_args__ = (Index("ix_rm_cp_plan_dates", "start_date", "end_date"),)
    cp_plan_id: uuid.UUID = Field(primary_key=True)
    child_id: uuid.UUID | None = Field(default=None, index=True)
    episode_id: uuid.UUID | None = Field(default=None, index=True)
    start_date: date | None = None
    initial_category: str | None = Field(default=None, max_length=3)
    previous_plans: int | None = None
    #: When the latest earlier plan ended, here or in another authority (the repeat-plan gap).
    previous_plan_end_date: date | None = None
    end_date: date | None = None
    end_category: str | None = Field(default=None, max_length=3)
    step_down: str | None = Field(default=None, max_length=20)


class RmCpReview(SQLModel, table=True):
    """Review conferences; the category they record is the plan's latest from that date."""

    __tablename__ = "rm_cp_review"
    cp_plan_id: uuid.UUID = Field(primary_key=True)
    review_date: date = Field(primary_key=True)
    child_id: uuid.UUID | None = None
    latest_category: str | None = Field(default=None, max_length=3)


class RmCoreGroup(SQLModel, table=True):
    __tablename__ = "rm_core_group"
    cp_plan_id: uuid.UUID = Field(primary_key=True)
    held_date: date = Field(primary_key=True)
    child_id: uuid.UUID | None = None


class RmCinPlan(SQLModel, table=True):
    __tablename__ = "rm_cin_plan"
    cin_plan_id: uuid.UUID = Field(primary_key=True)
    child_id: uuid.UUID | None = Field(default=None, index=True)
    episode_id: uuid.UUID | None = Field(default=None, index=True)
    start_date: date | None = None
    stepped_down: bool | None = None
    end_date: date | None = None
    step_down: str | None = Field(default=None, max_length=20)


class RmEarlyHelp(SQLModel, table=True):
    """Early help episodes: separate from children in need episodes, not in the census."""

    __tablename__ = "rm_early_help"
    episode_id: uuid.UUID = Field(primary_key=True)
    child_id: uuid.UUID | None = Field(default=None, index=True)
    start_date: date | None = Field(default=None, index=True)
    lead_agency_id: uuid.UUID | None = None
    closure_date: date | None = None
    reason: str | None = Field(default=None, max_length=60)


# --- read model: practice and engagement -----------------------------------------------------------

class RmVisit(SQLModel, table=True):
    __tablename__ = "rm_visit"
    visit_id: uuid.UUID = Field(primary_key=True)
    child_id: uuid.UUID | None = Field(default=None, index=True)
    agency_id: uuid.UUID | None = None
    visited_on: date | None = None
    statutory: bool | None = None
    child_seen: bool | None = None
    seen_alone: bool | None = None
    no_access: bool | None = None


class RmEngagement(SQLModel, table=True):
    __tablename__ = "rm_engagement"
    engagement_event_id: uuid.UUID = Field(primary_key=True)
    child_id: uuid.UUID | None = Field(default=None, index=True)
    agency_id: uuid.UUID | None = None
    kind: str | None = Field(default=None, max_length=40)
    occurred_on: date | None = Field(default=None, index=True)


class RmServiceOffer(SQLModel, table=True):
    __tablename__ = "rm_service_offer"
    service_offer_id: uuid.UUID = Field(primary_key=True)
    child_id: uuid.UUID | None = Field(default=None, index=True)
    agency_id: uuid.UUID | None = None
    offered_on: date | None = None
    status: str | None = Field(default=None, max_length=20)
    status_version: int | None = None
    status_date: date | None = None


class RmNonEngagementCase(SQLModel, table=True):
    __tablename__ = "rm_non_engagement_case"
    case_id: uuid.UUID = Field(primary_key=True)
    child_id: uuid.UUID | None = Field(default=None, index=True)
    opened_on: date | None = None
    closed_on: date | None = None


class RmNonEngagementStep(SQLModel, table=True):
    """Each move of a case along the pathway, in the case's own version order."""

    __tablename__ = "rm_non_engagement_step"
    case_id: uuid.UUID = Field(primary_key=True)
    version: int = Field(primary_key=True)
    stage: str | None = Field(default=None, max_length=40)
    step_date: date | None = None
    escalation: str | None = Field(default=None, max_length=40)


# --- read model: toolkits (assessment service) --------------------------------------------------------

class RmToolkitAssessment(SQLModel, table=True):
    """Authorised toolkit assessments (assessment service); an authorised amendment supersedes
    the revision it amends, which then no longer counts."""

    __tablename__ = "rm_toolkit_assessment"
    toolkit_assessment_id: str = Field(primary_key=True, max_length=100)
    child_id: uuid.UUID | None = Field(default=None, index=True)
    toolkit_id: str | None = Field(default=None, max_length=60)
    lineage_id: str | None = Field(default=None, max_length=100)
    authorised_date: date | None = Field(default=None, index=True)
    superseded: bool | None = None


class RmToolkitGrade(SQLModel, table=True):
    """The practitioner's grade for one area of an authorised toolkit assessment."""

    __tablename__ = "rm_toolkit_grade"
    toolkit_assessment_id: str = Field(primary_key=True, max_length=100)
    area: str = Field(primary_key=True, max_length=60)
    grade: float | None = None


READ_MODEL_TABLES = [
    RmAgency, RmChild, RmChildIdentity, RmContact, RmReferral, RmEpisode, RmAssessment, RmStrategyDiscussion, RmS47,
    RmCpPlan, RmCpReview, RmCoreGroup, RmCinPlan, RmEarlyHelp, RmVisit, RmEngagement, RmServiceOffer,
    RmNonEngagementCase, RmNonEngagementStep, RmToolkitAssessment, RmToolkitGrade,
]

#: The only tables that hold direct identifiers; only the statutory exports (and rebuilds) read them.
EXPORT_SCOPED_TABLES = frozenset({"event_identity", "rm_child_identity"})

METADATA = service_metadata([
    *SHARED_TABLES,
    EventLog.__table__,  # type: ignore[attr-defined]
    EventIdentity.__table__,  # type: ignore[attr-defined]
    MetricCounter.__table__,  # type: ignore[attr-defined]
    PartnershipConfig.__table__,  # type: ignore[attr-defined]
    DashboardTargets.__table__,  # type: ignore[attr-defined]
    CalendarDay.__table__,  # type: ignore[attr-defined]
    *(model.__table__ for model in READ_MODEL_TABLES),  # type: ignore[attr-defined]
])
