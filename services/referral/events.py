"""The events this service emits: one typed model per event type (``CATALOGUE``).

Emit sites build the model and ``shared.contracts.publish`` it. Events are thin: ids,
codes, dates, numbers and flags, never names or free text; receivers fetch details
with their own token. docs/events.md and the JSON Schemas that consumers keep are
generated from these models (``make events``).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from pydantic import Field

from shared.contracts import Catalogue, EventData, Instant

CATALOGUE = Catalogue("referral")
register = CATALOGUE.register

ChildId = Annotated[uuid.UUID, Field(description="The child.")]
AgencyId = Annotated[uuid.UUID, Field(description="The agency that recorded it.")]
EpisodeId = Annotated[uuid.UUID, Field(description="The episode (children in need, or early help).")]
Day = Annotated[date, Field(description="The day it happened.")]
Version = Annotated[int, Field(description="The record's version after the change (orders changes to one record).")]
Source = Annotated[str, Field(description="The census referral source code (e.g. 1B for a school).")]
ReferringType = Annotated[str | None, Field(
    description="The referring agency's type when the source is its own; null when recorded on someone else's behalf.")]
RecordedByType = Annotated[str | None, Field(
    description="The recording agency's type, sent only when it recorded the concern on someone else's behalf.")]


# --- agencies, children, people ------------------------------------------------------------------

@register("agency.registered")
class AgencyRegistered(EventData):
    """A partner agency was registered."""

    agency_id: uuid.UUID = Field(description="The new agency.")
    agency_type: str = Field(description="The agency's type code (agency_types.yaml).")


class ChildFacts(EventData):
    """A child's census facts: codes and the census identifiers, never a name or NHS number."""

    child_id: ChildId
    unborn: bool = Field(description="True until a birth date is recorded.")
    birth_date: date | None = Field(description="Census identifier: date of birth.")
    expected_birth_date: date | None = Field(description="Census identifier: expected date of birth of an unborn child.")
    death_date: date | None = Field(description="Census identifier: date of death.")
    gender: str = Field(description="Census gender code.")
    ethnicity: str | None = Field(description="Census ethnicity code.")
    disabilities: list[str] = Field(description="Census disability codes.")
    la_child_id: str | None = Field(description="Census identifier: the local authority's child id.")
    upn: str | None = Field(description="Census identifier: unique pupil number.")
    upn_unknown: str | None = Field(description="Census code for why the UPN is unknown.")


@register("child.registered")
class ChildRegistered(ChildFacts):
    """A child was registered (the registering agency becomes involved)."""

    agency_id: uuid.UUID = Field(description="The registering agency.")


@register("child.updated")
class ChildUpdated(ChildFacts):
    """A child's details changed; the facts are as they are now."""

    fields: list[str] = Field(description="The names of the fields that changed.")


@register("child.born")
class ChildBorn(ChildFacts):
    """An unborn child's birth was recorded."""


@register("child.died")
class ChildDied(ChildFacts):
    """A child's death was recorded."""


@register("child.mother_linked")
class ChildMotherLinked(EventData):
    """A child was linked to their mother's person record."""

    child_id: ChildId
    person_id: uuid.UUID = Field(description="The mother.")
    version: Version


@register("child.cp_plans_elsewhere_recorded")
class ChildCpPlansElsewhereRecorded(EventData):
    """Child protection plans the child had in other authorities were recorded."""

    child_id: ChildId
    previous_plans: int = Field(description="How many plans elsewhere.")
    latest_end_date: date | None = Field(description="When the latest of them ended.")
    version: Version


@register("person.recorded")
class PersonRecorded(EventData):
    """An adult (parent, carer, household member) was recorded."""

    person_id: uuid.UUID = Field(description="The person.")
    agency_id: AgencyId
    factors: list[str] = Field(description="Parental factor codes (mental_health, substance_misuse, ...).")


@register("household.recorded")
class HouseholdRecorded(EventData):
    """A household and its members were recorded."""

    household_id: uuid.UUID = Field(description="The household.")
    child_ids: list[uuid.UUID] = Field(description="The children in it.")
    person_ids: list[uuid.UUID] = Field(description="The adults in it.")


@register("professional.recorded")
class ProfessionalRecorded(EventData):
    """A professional was recorded."""

    professional_id: uuid.UUID = Field(description="The professional.")
    agency_id: AgencyId


@register("involvement.started")
class InvolvementStarted(EventData):
    """An agency became involved with a child."""

    child_id: ChildId
    involvement_id: uuid.UUID = Field(description="The involvement.")
    agency_id: uuid.UUID = Field(description="The involved agency.")
    role: str = Field(description="The involvement's role code.")
    start_date: date = Field(description="When the involvement started.")


@register("involvement.ended")
class InvolvementEnded(EventData):
    """An agency's involvement with a child ended."""

    child_id: ChildId
    involvement_id: uuid.UUID = Field(description="The involvement.")
    agency_id: uuid.UUID = Field(description="The involved agency.")
    end_date: date = Field(description="When the involvement ended.")


# --- the front door ----------------------------------------------------------------------------------

@register("contact.recorded")
class ContactRecorded(EventData):
    """A contact (a concern not yet a referral) was recorded. Recorded by children's social care on
    someone's behalf (a source other than its own, e.g. 1A family), ``referring_agency_type`` is null
    and ``recorded_by_agency_type`` names the recorder's type."""

    contact_id: uuid.UUID = Field(description="The contact.")
    child_id: ChildId
    received_at: Instant = Field(description="When it was received.")
    referral_source: Source
    outcome: str = Field(description="nfa, information_advice, early_help or referral.")
    referring_agency_type: ReferringType
    recorded_by_agency_type: RecordedByType = None


@register("contact.converted")
class ContactConverted(EventData):
    """A contact became a referral."""

    contact_id: uuid.UUID = Field(description="The contact.")
    child_id: ChildId
    referral_id: uuid.UUID = Field(description="The referral it became.")
    date: Day


@register("referral.received")
class ReferralReceived(EventData):
    """A referral was received (the referring agency is named by type only)."""

    referral_id: uuid.UUID = Field(description="The referral.")
    child_id: ChildId
    received_at: Instant = Field(description="When it was received.")
    referral_source: Source
    neglect_types: list[str] = Field(description="Neglect type codes of the concern.")
    referring_agency_type: ReferringType
    recorded_by_agency_type: RecordedByType = None
    re_referral: bool = Field(description="Within 12 months of a previous referral.")
    previous_referral_id: uuid.UUID | None = Field(description="The previous referral, for a re-referral.")
    contact_id: uuid.UUID | None = Field(default=None, description="The contact it came from; sent only when there is one.")


@register("referral.recommendation_computed")
class ReferralRecommendationComputed(EventData):
    """The threshold model computed a recommendation (never a decision)."""

    referral_id: uuid.UUID = Field(description="The referral.")
    child_id: ChildId
    recommendation_id: uuid.UUID = Field(description="The stored recommendation.")
    recommended_level: str = Field(description="The recommended level of need.")
    partnership_id: str = Field(description="The partnership whose threshold model was used.")
    ruleset_version: str = Field(description="The threshold model version used.")
    complete: bool = Field(description="False when facts the model needs were missing.")


@register("referral.decided")
class ReferralDecided(EventData):
    """A qualified manager decided a referral."""

    referral_id: uuid.UUID = Field(description="The referral.")
    child_id: ChildId
    decided_at: Instant = Field(description="When it was decided.")
    level: str = Field(description="The decided level of need.")
    outcome: str = Field(description="The decision's outcome code.")
    overridden: bool = Field(description="The level differs from the recommendation.")
    recommended_level: str = Field(description="The recommendation the decision saw.")
    partnership_id: str = Field(description="The partnership whose threshold model was used.")
    ruleset_version: str = Field(description="The threshold model version used.")
    referral_source: Source
    episode_id: uuid.UUID | None = Field(description="The episode it opened or joined, if any.")


@register("referral.feedback_sent")
class ReferralFeedbackSent(EventData):
    """The referrer was told the outcome."""

    referral_id: uuid.UUID = Field(description="The referral.")
    child_id: ChildId
    sent_at: Instant = Field(description="When the feedback was sent.")
    on_time: bool = Field(description="Sent by the feedback due date.")


@register("threshold_model.published")
class ThresholdModelPublished(EventData):
    """A threshold model version was published."""

    threshold_model_id: uuid.UUID = Field(description="The published version.")
    partnership_id: str = Field(description="The partnership.")
    ruleset_version: str = Field(description="The version.")


@register("threshold_model.activated")
class ThresholdModelActivated(EventData):
    """A threshold model version became the partnership's active one."""

    threshold_model_id: uuid.UUID = Field(description="The activated version.")
    partnership_id: str = Field(description="The partnership.")
    ruleset_version: str = Field(description="The version now active.")
    previous_ruleset_version: str | None = Field(description="The version active before, if any.")


# --- episodes and statutory steps -----------------------------------------------------------------

@register("episode.opened")
class EpisodeOpened(EventData):
    """A children in need episode opened from a referral decision."""

    child_id: ChildId
    episode_id: EpisodeId
    referral_date: date = Field(description="The census referral date.")
    referral_source: Source
    referring_agency_type: ReferringType
    nfa: bool = Field(description="No further action: the episode closes the same day.")
    primary_need: str | None = Field(description="Census primary need code.")


@register("episode.closed")
class EpisodeClosed(EventData):
    """A children in need episode closed (partners' open work is reported, not closed)."""

    child_id: ChildId
    episode_id: EpisodeId
    date: Day
    reason: str | None = Field(description="Census reason for closure code.")
    open_service_offers: int = Field(description="Partners' service offers still open.")
    open_non_engagement_case: bool = Field(description="A non-engagement case is still open.")


@register("early_help.started")
class EarlyHelpStarted(EventData):
    """An early help episode started."""

    child_id: ChildId
    episode_id: EpisodeId
    date: Day
    lead_agency_id: uuid.UUID | None = Field(description="The lead agency.")


@register("early_help.closed")
class EarlyHelpClosed(EventData):
    """An early help episode closed."""

    child_id: ChildId
    episode_id: EpisodeId
    date: Day
    reason: str = Field(description="Why it closed (a code).")


class EpisodeStep(EventData):
    """A statutory step within an episode."""

    child_id: ChildId
    episode_id: EpisodeId
    date: Day


@register("assessment.started")
class AssessmentStarted(EpisodeStep):
    """A child and family assessment started."""

    assessment_id: uuid.UUID = Field(description="The statutory assessment.")


@register("assessment.authorised")
class AssessmentAuthorised(EpisodeStep):
    """A child and family assessment was authorised."""

    assessment_id: uuid.UUID = Field(description="The statutory assessment.")
    factors: list[str] = Field(description="Census assessment factor codes (16A is neglect).")


@register("strategy_discussion.held")
class StrategyDiscussionHeld(EpisodeStep):
    """A strategy discussion was held; it may start a section 47 enquiry."""

    s47_id: uuid.UUID | None = Field(description="The s47 enquiry it started, if any.")
    s47_started: bool = Field(description="An s47 enquiry started.")
    icpc_target_date: date | None = Field(description="When the initial conference is due (15 working days).")


@register("s47.concluded")
class S47Concluded(EpisodeStep):
    """A section 47 enquiry concluded without a conference."""

    s47_id: uuid.UUID = Field(description="The s47 enquiry.")
    icpc_required: bool = Field(description="Always false: a conference is recorded as icpc.held.")


@register("icpc.held")
class IcpcHeld(EpisodeStep):
    """An initial child protection conference was held."""

    conference_id: uuid.UUID = Field(description="The conference.")
    s47_id: uuid.UUID = Field(description="The s47 enquiry it followed.")
    plan: bool = Field(description="A child protection plan was made.")


@register("transfer_in.held")
class TransferInHeld(EpisodeStep):
    """A transfer-in conference: a plan from another authority continues here."""

    conference_id: uuid.UUID = Field(description="The conference.")
    cp_plan_id: uuid.UUID = Field(description="The plan that continues here.")


@register("cp_plan.started")
class CpPlanStarted(EpisodeStep):
    """A child protection plan started."""

    cp_plan_id: uuid.UUID = Field(description="The plan.")
    category: str = Field(description="Census category of abuse code.")
    previous_plans: int = Field(description="Earlier plans the child had.")
    previous_plan_end_date: date | None = Field(description="When the latest earlier plan ended.")


@register("cp_plan.reviewed")
class CpPlanReviewed(EpisodeStep):
    """A child protection review conference was held."""

    conference_id: uuid.UUID = Field(description="The conference.")
    cp_plan_id: uuid.UUID = Field(description="The plan.")
    latest_category: str = Field(description="The plan's category after the review.")


@register("cp_plan.ended")
class CpPlanEnded(EpisodeStep):
    """A child protection plan ended."""

    cp_plan_id: uuid.UUID = Field(description="The plan.")
    step_down: str = Field(description="What followed: cin_plan, early_help or none.")
    latest_category: str = Field(description="The plan's category when it ended.")


@register("cin_plan.started")
class CinPlanStarted(EpisodeStep):
    """A child in need plan started."""

    cin_plan_id: uuid.UUID = Field(description="The plan.")
    stepped_down: bool = Field(description="It followed a child protection plan.")


@register("cin_plan.ended")
class CinPlanEnded(EpisodeStep):
    """A child in need plan ended."""

    cin_plan_id: uuid.UUID = Field(description="The plan.")
    step_down: str = Field(description="What followed: cin_plan, early_help or none.")


@register("core_group.held")
class CoreGroupHeld(EpisodeStep):
    """A core group met."""

    cp_plan_id: uuid.UUID = Field(description="The plan.")


@register("pre_proceedings.started")
class PreProceedingsStarted(EpisodeStep):
    """Pre-proceedings (Public Law Outline) started."""

    pre_proceedings_id: uuid.UUID = Field(description="The pre-proceedings.")


@register("pre_proceedings.updated")
class PreProceedingsUpdated(EpisodeStep):
    """A pre-proceedings step: a meeting, the letter before proceedings, family group decision making
    (FGDM has no date of its own: ``date`` is the day it was recorded)."""

    pre_proceedings_id: uuid.UUID = Field(description="The pre-proceedings.")
    change: str = Field(description="meeting, letter or fgdm.")
    meeting_count: int = Field(description="Meetings held so far.")
    letter_before_proceedings_sent: date | None = Field(description="When the letter was sent.")
    fgdm_offered: bool | None = Field(description="Family group decision making offered.")
    fgdm_held: bool | None = Field(description="Family group decision making held.")


@register("pre_proceedings.decided")
class PreProceedingsDecided(EpisodeStep):
    """The pre-proceedings decision."""

    pre_proceedings_id: uuid.UUID = Field(description="The pre-proceedings.")
    start_date: date = Field(description="When pre-proceedings started.")
    outcome: str = Field(description="proceedings_issued, pre_proceedings_ended_no_proceedings, continue_pre_proceedings or other (our slug, not a DfE PPOutcome code).")
    court_application_date: date | None = Field(description="When a court application was made.")
    meeting_count: int = Field(description="Meetings held.")
    open: bool = Field(description="Pre-proceedings stay open.")


# --- practice ------------------------------------------------------------------------------------------

@register("visit.recorded")
class VisitRecorded(EventData):
    """A visit to the child was recorded."""

    child_id: ChildId
    visit_id: uuid.UUID = Field(description="The visit.")
    agency_id: AgencyId
    visited_on: date = Field(description="The day of the visit.")
    statutory: bool = Field(description="A statutory visit.")
    child_seen: bool = Field(description="The child was seen.")
    seen_alone: bool = Field(description="The child was seen alone.")
    no_access: bool = Field(description="No access was given.")


@register("child_voice.recorded")
class ChildVoiceRecorded(EventData):
    """The child's voice was recorded."""

    child_id: ChildId
    voice_id: uuid.UUID = Field(description="The record.")
    agency_id: AgencyId
    recorded_on: date = Field(description="The day.")
    participation: str | None = Field(description="How the child took part (a code).")


@register("service_offer.made")
class ServiceOfferMade(EventData):
    """An agency offered the family a service."""

    child_id: ChildId
    service_offer_id: uuid.UUID = Field(description="The offer.")
    agency_id: AgencyId
    offered_on: date = Field(description="The day it was offered.")


class ServiceOfferMoved(EventData):
    """A service offer moved on (the type names its new status)."""

    child_id: ChildId
    service_offer_id: uuid.UUID = Field(description="The offer.")
    status: str = Field(description="The offer's new status.")
    date: Day
    outcome: str | None = Field(description="How it ended (a code), for an ended offer.")
    version: Version


@register("service_offer.accepted")
class ServiceOfferAccepted(ServiceOfferMoved):
    """A service offer was accepted."""


@register("service_offer.declined")
class ServiceOfferDeclined(ServiceOfferMoved):
    """A service offer was declined."""


@register("service_offer.attending")
class ServiceOfferAttending(ServiceOfferMoved):
    """The family is attending the offered service."""


@register("service_offer.ended")
class ServiceOfferEnded(ServiceOfferMoved):
    """A service offer ended."""


@register("engagement.recorded")
class EngagementRecorded(EventData):
    """An engagement event (was not brought, no access, service declined, ...)."""

    child_id: ChildId
    engagement_event_id: uuid.UUID = Field(description="The engagement event.")
    agency_id: AgencyId
    kind: str = Field(description="was_not_brought, no_access_visit, service_declined, consent_withdrawn, service_disengaged, attended, ...")
    occurred_on: date = Field(description="The day it happened.")


@register("engagement.was_not_brought")
class EngagementWasNotBrought(EventData):
    """A child in a safeguarding case was not brought: the involved agencies are told."""

    child_id: ChildId
    engagement_event_id: uuid.UUID = Field(description="The engagement event.")
    agency_id: AgencyId
    occurred_on: date = Field(description="The day it happened.")
    notify_agency_ids: list[uuid.UUID] = Field(description="The other involved agencies to notify.")


@register("non_engagement.opened")
class NonEngagementOpened(EventData):
    """A non-engagement case opened (the threshold of events was reached)."""

    child_id: ChildId
    case_id: uuid.UUID = Field(description="The non-engagement case.")
    opened_on: date = Field(description="The day the threshold was reached.")
    stage: str = Field(description="The pathway stage (monitoring).")
    threshold_version: str = Field(description="The threshold's reference data version.")


class NonEngagementStep(EventData):
    """A non-engagement case moved along the pathway (the type names its new stage)."""

    child_id: ChildId
    case_id: uuid.UUID = Field(description="The non-engagement case.")
    stage: str = Field(description="The new stage: escalation_review, multi_agency_meeting, action_plan, escalated or closed.")
    date: Day
    version: Version


class NonEngagementMoved(NonEngagementStep):
    escalation: str | None = Field(description="The escalation route (a code), when escalated.")


@register("non_engagement.escalation_review")
class NonEngagementEscalationReview(NonEngagementMoved):
    """A non-engagement case went to escalation review."""


@register("non_engagement.multi_agency_meeting")
class NonEngagementMultiAgencyMeeting(NonEngagementMoved):
    """A multi-agency meeting on a non-engagement case."""


@register("non_engagement.action_plan")
class NonEngagementActionPlan(NonEngagementMoved):
    """A non-engagement case has an action plan."""


@register("non_engagement.escalated")
class NonEngagementEscalated(NonEngagementMoved):
    """A non-engagement case was escalated."""


@register("non_engagement.closed")
class NonEngagementClosed(NonEngagementStep):
    """A non-engagement case closed."""

    reason: str = Field(description="Why it closed (a code).")
    manager_decision: bool = Field(description="A manager decided the closure.")
    chronic_neglect: bool = Field(description="The child has chronic neglect (closure needs a manager).")


# --- sharing and the chronology --------------------------------------------------------------------

@register("consent.recorded")
class ConsentRecorded(EventData):
    """A consent decision was recorded."""

    child_id: ChildId
    consent_id: uuid.UUID = Field(description="The consent record.")
    agency_id: AgencyId
    status: str = Field(description="The consent status code.")
    recorded_on: date = Field(description="The day it was recorded.")


@register("information_share.recorded")
class InformationShareRecorded(EventData):
    """A decision to share (or not share) information was recorded."""

    child_id: ChildId
    share_id: uuid.UUID = Field(description="The share record.")
    from_agency_id: uuid.UUID = Field(description="The sharing agency.")
    to_agency_id: uuid.UUID | None = Field(description="The receiving agency, when a partner.")
    shared: bool = Field(description="Information was shared.")
    decided_at: Instant = Field(description="When it was decided.")
    consent_status: str | None = Field(description="The consent status the decision relied on.")


@register("chronology.entry_added")
class ChronologyEntryAdded(EventData):
    """An agency added a line to the child's chronology."""

    child_id: ChildId
    entry_id: uuid.UUID = Field(description="The chronology entry.")
    agency_id: AgencyId


EMITTED = CATALOGUE.types()
