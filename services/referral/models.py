"""Referral service tables."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.db import service_metadata
from shared.models import SHARED_TABLES, utc_column, uuid_pk


class Agency(SQLModel, table=True):
    id: uuid.UUID = uuid_pk()
    name: str = Field(max_length=200)
    agency_type: str = Field(max_length=60, index=True)
    external_ref: str | None = Field(default=None, max_length=100, unique=True)
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()
    version: int = 1


class Child(SQLModel, table=True):
    __table_args__ = (Index("ix_child_created", "created_at", "id"),)
    id: uuid.UUID = uuid_pk()
    la_child_id: str | None = Field(default=None, max_length=20, unique=True)
    given_name: str = Field(max_length=100)
    family_name: str = Field(max_length=100)
    birth_date: date | None = None
    expected_birth_date: date | None = None
    death_date: date | None = None
    #: Child protection plans in other local authorities before the child's plans here (NumberOfPreviousCPP).
    cp_plans_elsewhere: int = 0
    cp_plans_elsewhere_latest_end_date: date | None = None
    gender: str = Field(max_length=1)
    nhs_number: str | None = Field(default=None, max_length=10, index=True)
    upn: str | None = Field(default=None, max_length=13)
    upn_unknown: str | None = Field(default=None, max_length=3)
    ethnicity: str | None = Field(default=None, max_length=4)
    disabilities: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    #: For an unborn child: the expectant mother (a person record).
    mother_id: uuid.UUID | None = Field(default=None, foreign_key="person.id")
    #: Sealed record: only agencies with an involvement see it, not even children's social care by default.
    restricted: bool = False
    created_by_agency_id: uuid.UUID = Field(foreign_key="agency.id", index=True)
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()
    version: int = 1


class ChildExternalRef(SQLModel, table=True):
    """A partner's own reference for a child: unique within that partner."""

    __tablename__ = "child_external_ref"
    __table_args__ = (UniqueConstraint("agency_id", "external_ref", name="uq_child_external_ref_agency"),)
    id: uuid.UUID = uuid_pk()
    child_id: uuid.UUID = Field(foreign_key="child.id", index=True)
    agency_id: uuid.UUID = Field(foreign_key="agency.id")
    external_ref: str = Field(max_length=100)
    created_at: datetime = utc_column()


class Person(SQLModel, table=True):
    """An adult in the child's world: parent, carer, other household member."""

    id: uuid.UUID = uuid_pk()
    given_name: str = Field(max_length=100)
    family_name: str = Field(max_length=100)
    birth_date: date | None = None
    #: Think family: parental factors as structured data (mental_health, substance_misuse, ...).
    factors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by_agency_id: uuid.UUID = Field(foreign_key="agency.id")
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()
    version: int = 1


class Household(SQLModel, table=True):
    id: uuid.UUID = uuid_pk()
    label: str = Field(max_length=100)
    created_by_agency_id: uuid.UUID = Field(foreign_key="agency.id")
    created_at: datetime = utc_column()


class HouseholdMember(SQLModel, table=True):
    __tablename__ = "household_member"
    id: uuid.UUID = uuid_pk()
    household_id: uuid.UUID = Field(foreign_key="household.id", index=True)
    child_id: uuid.UUID | None = Field(default=None, foreign_key="child.id", index=True)
    person_id: uuid.UUID | None = Field(default=None, foreign_key="person.id", index=True)
    #: child, parent, carer, sibling, other_adult
    role: str = Field(max_length=30)
    #: The relationship to the household's children, e.g. mother, stepfather, grandparent.
    relationship: str | None = Field(default=None, max_length=40)
    parental_responsibility: bool = False
    from_date: date | None = None
    to_date: date | None = None
    created_at: datetime = utc_column()


class Professional(SQLModel, table=True):
    id: uuid.UUID = uuid_pk()
    agency_id: uuid.UUID = Field(foreign_key="agency.id", index=True)
    name: str = Field(max_length=200)
    role: str = Field(max_length=100)
    external_ref: str | None = Field(default=None, max_length=100)
    created_at: datetime = utc_column()


#: The role earlier versions gave an involvement that a referral created. Referring a child is
#: not working with it: such rows (in databases from before) grant no sight of the child, and no
#: new involvement takes this role (README "Who sees what").
REFERRER_ROLE = "referrer"


class Involvement(SQLModel, table=True):
    """An agency working with a child, from when to when: it decides who may see the child."""

    __table_args__ = (Index("ix_involvement_agency_child", "agency_id", "child_id"),)
    id: uuid.UUID = uuid_pk()
    child_id: uuid.UUID = Field(foreign_key="child.id", index=True)
    agency_id: uuid.UUID = Field(foreign_key="agency.id")
    professional_id: uuid.UUID | None = Field(default=None, foreign_key="professional.id")
    role: str = Field(max_length=60)
    start_date: date
    end_date: date | None = None
    created_at: datetime = utc_column()
    version: int = 1


class ThresholdModelVersion(SQLModel, table=True):
    """A partnership's threshold model, one row per ruleset version; published versions never change."""

    __tablename__ = "threshold_model"
    __table_args__ = (UniqueConstraint("partnership_id", "ruleset_version", name="uq_threshold_model_version"),)
    id: uuid.UUID = uuid_pk()
    partnership_id: str = Field(max_length=60, index=True)
    ruleset_version: str = Field(max_length=30)
    name: str = Field(max_length=200)
    definition: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    active: bool = False
    created_at: datetime = utc_column()
    created_by: str = Field(max_length=100)


class Referral(SQLModel, table=True):
    """A concern about a child sent by a partner (or the public) to the front door."""

    __table_args__ = (Index("ix_referral_created", "created_at", "id"), Index("ix_referral_child_received", "child_id", "received_at"))
    id: uuid.UUID = uuid_pk()
    child_id: uuid.UUID = Field(foreign_key="child.id")
    referring_agency_id: uuid.UUID | None = Field(default=None, foreign_key="agency.id", index=True)
    #: DfE ReferralSource code, derived from the referring agency's type.
    referral_source: str = Field(max_length=3)
    received_at: datetime = utc_column()
    concern_summary: str = Field(max_length=4000)
    neglect_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    #: [{"domain": ..., "indicator": ..., "severity": ...}]
    indicators: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    parental_factors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    referrer_identity_withheld: bool = False
    re_referral: bool = False
    previous_referral_id: uuid.UUID | None = Field(default=None, foreign_key="referral.id")
    decision_due_at: datetime = utc_column()
    feedback_due_date: date | None = None
    feedback_sent_at: datetime | None = utc_column(nullable=True)
    status: str = Field(default="received", max_length=20)
    decided_level: str | None = Field(default=None, max_length=20)
    decided_outcome: str | None = Field(default=None, max_length=40)
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = utc_column(nullable=True)
    decision_rationale: str | None = Field(default=None, max_length=4000)
    override_reason: str | None = Field(default=None, max_length=4000)
    #: What the engine recommended when the decision was made (the decision itself is the practitioner's).
    recommended_level: str | None = Field(default=None, max_length=20)
    threshold_model_id: uuid.UUID | None = Field(default=None, foreign_key="threshold_model.id")
    episode_id: uuid.UUID | None = Field(default=None, foreign_key="episode.id")
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()
    version: int = 1


class Contact(SQLModel, table=True):
    """A concern received at the front door. Most end there (no further action, information and
    advice, early help); some become referrals (``referral_id`` once converted)."""

    __table_args__ = (Index("ix_contact_created", "created_at", "id"), Index("ix_contact_child_received", "child_id", "received_at"))
    id: uuid.UUID = uuid_pk()
    child_id: uuid.UUID = Field(foreign_key="child.id")
    recording_agency_id: uuid.UUID = Field(foreign_key="agency.id", index=True)
    #: DfE ReferralSource code (the census uses the same list for contacts).
    referral_source: str = Field(max_length=3)
    received_at: datetime = utc_column()
    concern_summary: str | None = Field(default=None, max_length=4000)
    #: nfa, information_advice, early_help or referral (to be, or made, a referral).
    outcome: str = Field(max_length=40)
    referral_id: uuid.UUID | None = Field(default=None, foreign_key="referral.id", unique=True)
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()
    version: int = 1


class Recommendation(SQLModel, table=True):
    """A computed threshold recommendation, stored with what it saw. Never a decision."""

    id: uuid.UUID = uuid_pk()
    referral_id: uuid.UUID = Field(foreign_key="referral.id", index=True)
    threshold_model_id: uuid.UUID = Field(foreign_key="threshold_model.id")
    recommended_level: str = Field(max_length=20)
    fired_rules: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    inputs: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    missing_facts: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    unevaluated_rules: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = utc_column()


class Episode(SQLModel, table=True):
    """A CIN episode (census CINdetails) or an early help episode."""

    __table_args__ = (Index("ix_episode_child", "child_id", "referral_date"),)
    id: uuid.UUID = uuid_pk()
    child_id: uuid.UUID = Field(foreign_key="child.id")
    kind: str = Field(default="cin", max_length=20)
    referral_date: date
    referral_source: str = Field(max_length=3)
    nfa: bool | None = None
    primary_need: str | None = Field(default=None, max_length=2)
    closure_date: date | None = None
    #: DfE ReasonForClosure (RC1-RC9) for a CIN episode; an early help reason for an early help one.
    reason_for_closure: str | None = Field(default=None, max_length=30)
    #: Census DateOfInitialCPC at CINdetails level: a transfer-in conference (never beside an s47 one, DfE 2884).
    icpc_date: date | None = None
    lead_agency_id: uuid.UUID | None = Field(default=None, foreign_key="agency.id")
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()
    version: int = 1


class StatutoryAssessment(SQLModel, table=True):
    __tablename__ = "statutory_assessment"
    id: uuid.UUID = uuid_pk()
    episode_id: uuid.UUID = Field(foreign_key="episode.id", index=True)
    start_date: date
    child_seen_date: date | None = None
    authorised_date: date | None = None
    authorised_by: str | None = Field(default=None, max_length=200)
    factors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = utc_column()
    version: int = 1


class StrategyDiscussion(SQLModel, table=True):
    __tablename__ = "strategy_discussion"
    id: uuid.UUID = uuid_pk()
    episode_id: uuid.UUID = Field(foreign_key="episode.id", index=True)
    held_date: date
    participating_agency_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    #: s47 (enquiry started) or no_s47
    outcome: str = Field(max_length=20)
    s47_id: uuid.UUID | None = Field(default=None, foreign_key="section47.id")
    created_at: datetime = utc_column()


class Section47(SQLModel, table=True):
    id: uuid.UUID = uuid_pk()
    episode_id: uuid.UUID = Field(foreign_key="episode.id", index=True)
    start_date: date
    icpc_target_date: date
    icpc_date: date | None = None
    icpc_not_required: bool = False
    created_at: datetime = utc_column()
    version: int = 1


class Conference(SQLModel, table=True):
    """Initial, review and transfer-in child protection conferences."""

    id: uuid.UUID = uuid_pk()
    episode_id: uuid.UUID = Field(foreign_key="episode.id", index=True)
    kind: str = Field(max_length=20)
    held_date: date
    s47_id: uuid.UUID | None = Field(default=None, foreign_key="section47.id")
    cp_plan_id: uuid.UUID | None = Field(default=None, foreign_key="cp_plan.id")
    #: plan, no_plan, continue_plan, end_plan
    outcome: str = Field(max_length=20)
    child_participation: str | None = Field(default=None, max_length=40)
    created_at: datetime = utc_column()


class CpPlan(SQLModel, table=True):
    __tablename__ = "cp_plan"
    id: uuid.UUID = uuid_pk()
    episode_id: uuid.UUID = Field(foreign_key="episode.id", index=True)
    start_date: date
    end_date: date | None = None
    initial_category: str = Field(max_length=3)
    latest_category: str = Field(max_length=3)
    previous_plans: int = 0
    #: The latest end of an earlier plan, here or elsewhere, when this one started.
    previous_plan_end_date: date | None = None
    #: how it ended: step_down_cin, step_down_early_help, closed, transferred
    end_route: str | None = Field(default=None, max_length=30)
    created_at: datetime = utc_column()
    version: int = 1


class CinPlan(SQLModel, table=True):
    __tablename__ = "cin_plan"
    id: uuid.UUID = uuid_pk()
    episode_id: uuid.UUID = Field(foreign_key="episode.id", index=True)
    start_date: date
    end_date: date | None = None
    created_at: datetime = utc_column()
    version: int = 1


class CoreGroup(SQLModel, table=True):
    __tablename__ = "core_group"
    id: uuid.UUID = uuid_pk()
    cp_plan_id: uuid.UUID = Field(foreign_key="cp_plan.id", index=True)
    held_date: date
    created_at: datetime = utc_column()


class PreProceedings(SQLModel, table=True):
    """Pre-proceedings under the Public Law Outline (census PreProceedingsandFGDM, 2025-26 on)."""

    __tablename__ = "pre_proceedings"
    id: uuid.UUID = uuid_pk()
    episode_id: uuid.UUID = Field(foreign_key="episode.id", index=True)
    #: PPStartDate
    start_date: date
    #: LBPSentDate
    letter_before_proceedings_sent: date | None = None
    fgdm_offered: bool = False
    fgdm_held: bool = False
    #: ISO dates of the pre-proceedings meetings, in order (the census count is their number).
    meeting_dates: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    #: StepDecisionDate
    decision_date: date | None = None
    #: Our own outcome slug (domain.journey.PP_OUTCOMES), mapped to PPOutcome at export.
    outcome: str | None = Field(default=None, max_length=40)
    #: CourtAppDate
    court_application_date: date | None = None
    created_at: datetime = utc_column()
    version: int = 1


class Visit(SQLModel, table=True):
    __table_args__ = (Index("ix_visit_child_date", "child_id", "visited_on"),)
    id: uuid.UUID = uuid_pk()
    child_id: uuid.UUID = Field(foreign_key="child.id")
    agency_id: uuid.UUID = Field(foreign_key="agency.id")
    professional_id: uuid.UUID | None = Field(default=None, foreign_key="professional.id")
    visited_on: date
    statutory: bool = False
    announced: bool = True
    child_seen: bool
    seen_alone: bool = False
    bedroom_seen: bool = False
    #: good, adequate, poor, very_poor, not_seen
    home_conditions: str | None = Field(default=None, max_length=20)
    no_access: bool = False
    created_at: datetime = utc_column()


class ChildVoice(SQLModel, table=True):
    """The child's own words, rating and way of taking part: nothing about them without them."""

    __tablename__ = "child_voice"
    id: uuid.UUID = uuid_pk()
    child_id: uuid.UUID = Field(foreign_key="child.id", index=True)
    agency_id: uuid.UUID = Field(foreign_key="agency.id")
    recorded_on: date
    words: str = Field(max_length=4000)
    safety_rating: int | None = Field(default=None, ge=0, le=10)
    #: in_person, advocate, written, drawing, not_able, declined
    participation: str | None = Field(default=None, max_length=30)
    context: str | None = Field(default=None, max_length=60)
    created_at: datetime = utc_column()


class ServiceOffer(SQLModel, table=True):
    __tablename__ = "service_offer"
    id: uuid.UUID = uuid_pk()
    child_id: uuid.UUID = Field(foreign_key="child.id", index=True)
    agency_id: uuid.UUID = Field(foreign_key="agency.id")
    service: str = Field(max_length=200)
    offered_on: date
    #: offered, accepted, declined, attending, ended
    status: str = Field(default="offered", max_length=20)
    ended_on: date | None = None
    created_at: datetime = utc_column()
    version: int = 1


class EngagementEvent(SQLModel, table=True):
    __tablename__ = "engagement_event"
    __table_args__ = (Index("ix_engagement_child_kind", "child_id", "kind", "occurred_on"),)
    id: uuid.UUID = uuid_pk()
    child_id: uuid.UUID = Field(foreign_key="child.id")
    agency_id: uuid.UUID = Field(foreign_key="agency.id")
    service_offer_id: uuid.UUID | None = Field(default=None, foreign_key="service_offer.id")
    #: offered, accepted, declined, attended, was_not_brought, no_access_visit, consent_withdrawn, service_disengaged
    kind: str = Field(max_length=30)
    occurred_on: date
    created_at: datetime = utc_column()


class NonEngagementCase(SQLModel, table=True):
    """The non-engaging pathway for one child: stage by stage, with escalation."""

    __tablename__ = "non_engagement_case"
    id: uuid.UUID = uuid_pk()
    child_id: uuid.UUID = Field(foreign_key="child.id", index=True)
    opened_on: date
    #: monitoring, escalation_review, multi_agency_meeting, action_plan, escalated, closed
    stage: str = Field(max_length=30)
    escalation: str | None = Field(default=None, max_length=30)
    closed_on: date | None = None
    closure_reason: str | None = Field(default=None, max_length=60)
    closure_decided_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()
    version: int = 1


class ChronologyEntry(SQLModel, table=True):
    """Append-only multi-agency chronology: every significant event from every partner."""

    __tablename__ = "chronology_entry"
    __table_args__ = (Index("ix_chronology_child_when", "child_id", "occurred_at"),)
    id: uuid.UUID = uuid_pk()
    child_id: uuid.UUID = Field(foreign_key="child.id")
    occurred_at: datetime = utc_column()
    agency_id: uuid.UUID | None = Field(default=None, foreign_key="agency.id")
    kind: str = Field(max_length=60)
    #: low, medium, high, critical
    significance: str = Field(max_length=10)
    summary: str = Field(max_length=2000)
    source_type: str | None = Field(default=None, max_length=40)
    source_id: uuid.UUID | None = None
    created_at: datetime = utc_column()


class ConsentRecord(SQLModel, table=True):
    """Consent is recorded, never a gate on sharing to safeguard a child."""

    __tablename__ = "consent_record"
    id: uuid.UUID = uuid_pk()
    child_id: uuid.UUID = Field(foreign_key="child.id", index=True)
    person_id: uuid.UUID | None = Field(default=None, foreign_key="person.id")
    agency_id: uuid.UUID = Field(foreign_key="agency.id")
    subject: str = Field(max_length=200)
    #: given, refused, withdrawn, not_sought
    status: str = Field(max_length=20)
    reason: str | None = Field(default=None, max_length=1000)
    recorded_on: date
    created_at: datetime = utc_column()


class InformationShare(SQLModel, table=True):
    """Every share, and every decision not to share: what, with whom, why, on what lawful basis."""

    __tablename__ = "information_share"
    __table_args__ = (Index("ix_information_share_child", "child_id", "decided_at"),)
    id: uuid.UUID = uuid_pk()
    child_id: uuid.UUID = Field(foreign_key="child.id")
    from_agency_id: uuid.UUID = Field(foreign_key="agency.id")
    to_agency_id: uuid.UUID | None = Field(default=None, foreign_key="agency.id")
    shared: bool
    what: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    purpose: str = Field(max_length=500)
    lawful_basis: str = Field(max_length=200)
    special_category_condition: str | None = Field(default=None, max_length=200)
    criminal_offence_data: bool = False
    consent_status: str | None = Field(default=None, max_length=20)
    reason_not_shared: str | None = Field(default=None, max_length=1000)
    decided_by: str = Field(max_length=200)
    decided_at: datetime = utc_column()
    created_at: datetime = utc_column()


class WebhookEndpoint(SQLModel, table=True):
    """A partner agency's HTTPS endpoint and the event types it wants (docs/webhooks.md).

    The secret signs every delivery (Standard Webhooks); it is kept as given out, since
    signing needs it. After a rotation the previous one signs too until ``previous_secret_expires_at``.
    """

    __tablename__ = "webhook_endpoint"
    __table_args__ = (Index("ix_webhook_endpoint_agency", "agency_id", "created_at"),)
    id: uuid.UUID = uuid_pk()
    agency_id: uuid.UUID = Field(foreign_key="agency.id")
    created_by: str = Field(max_length=100)
    url: str = Field(max_length=2000)
    description: str | None = Field(default=None, max_length=500)
    event_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    enabled: bool = True
    secret: str = Field(max_length=100)
    previous_secret: str | None = Field(default=None, max_length=100)
    previous_secret_expires_at: datetime | None = utc_column(nullable=True)
    secret_rotated_at: datetime | None = utc_column(nullable=True)
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()
    version: int = 1


class WebhookFanout(SQLModel, table=True):
    """An event written beside its change, waiting to be fanned out to endpoints after commit."""

    __tablename__ = "webhook_fanout"
    message_id: uuid.UUID = Field(primary_key=True, foreign_key="outbox_message.id")
    created_at: datetime = utc_column()


class WebhookDelivery(SQLModel, table=True):
    """One event (or ping) to one endpoint: ``pending``, ``delivered`` or ``dead``."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        Index("ix_webhook_delivery_endpoint", "endpoint_id", "created_at"),
    )
    id: uuid.UUID = uuid_pk()
    endpoint_id: uuid.UUID = Field(foreign_key="webhook_endpoint.id")
    #: Sent as ``webhook-id``: the same on every attempt, so the partner applies the event once.
    webhook_id: str = Field(max_length=100)
    event_type: str = Field(max_length=100)
    #: The body sent, apart from the timestamp: ``type``, ``timestamp`` and ids only.
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=20)
    attempts: int = 0
    #: The attempt count when it was last redelivered (the retry budget starts again there).
    attempts_before_redelivery: int = 0
    redeliveries: int = 0
    next_attempt_at: datetime = utc_column()
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    delivered_at: datetime | None = utc_column(nullable=True)
    dead_at: datetime | None = utc_column(nullable=True)
    leased_until: datetime | None = utc_column(nullable=True)
    lease_owner: str | None = Field(default=None, max_length=100)
    created_at: datetime = utc_column()


class WebhookAttempt(SQLModel, table=True):
    __tablename__ = "webhook_attempt"
    __table_args__ = (Index("ix_webhook_attempt_delivery", "delivery_id", "attempted_at"),)
    id: uuid.UUID = uuid_pk()
    delivery_id: uuid.UUID = Field(foreign_key="webhook_delivery.id")
    attempted_at: datetime = utc_column()
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=500)
    duration_ms: float = 0.0


METADATA = service_metadata([
    *SHARED_TABLES,
    *(
        model.__table__  # type: ignore[union-attr]
        for model in (
            Agency, Person, Child, ChildExternalRef, Household, HouseholdMember, Professional, Involvement, Contact,
            ThresholdModelVersion, Episode, Referral, Recommendation, StatutoryAssessment, Section47,
            StrategyDiscussion, CpPlan, Conference, CinPlan, CoreGroup, PreProceedings, Visit, ChildVoice, ServiceOffer,
            EngagementEvent, NonEngagementCase, ChronologyEntry, ConsentRecord, InformationShare,
            WebhookEndpoint, WebhookFanout, WebhookDelivery, WebhookAttempt,
        )
    ),
])
