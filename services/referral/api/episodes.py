"""Episodes and the statutory steps in them. Every step is an explicit transition:
send `If-Match` with the episode's ETag; a step the census would reject is a 409
naming the DfE rule."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.referral.api.deps import CanRead, CanWrite, JourneysDep
from services.referral.domain.calendar import england_and_wales
from services.referral.domain.episodes import ASSESSMENT_WORKING_DAYS, next_review_due
from services.referral.domain.errors import ChildNotFound, EpisodeNotFound, NotStatutoryAgency
from services.referral.domain.journey import PP_CONTINUE, RuleBroken
from services.referral.models import PreProceedings
from services.referral.queries.journey import LoadedJourney
from services.referral.schemas.episodes import (
    AssessmentAuthorisation,
    AssessmentStart,
    CinPlanRead,
    Closure,
    ConferenceCreate,
    ConferenceRead,
    CoreGroupCreate,
    CpPlanRead,
    EpisodeList,
    EpisodeRead,
    FgdmRecord,
    LetterBeforeProceedings,
    PlanEnd,
    PlanStart,
    PreProceedingsDecision,
    PreProceedingsMeeting,
    PreProceedingsRead,
    PreProceedingsStart,
    S47Conclusion,
    S47Read,
    StatutoryAssessmentRead,
    StrategyDiscussionCreate,
    StrategyDiscussionRead,
)
from shared.errors import PreconditionFailed, PreconditionRequired, problems
from shared.etag import IfMatch, set_etag

router = APIRouter(prefix="/episodes", tags=["episodes"])
STEP_ERRORS = problems(EpisodeNotFound, NotStatutoryAgency, RuleBroken, PreconditionFailed, PreconditionRequired)


def episode_read(loaded: LoadedJourney, episode_id: uuid.UUID) -> EpisodeRead:
    row = loaded.episodes[episode_id]
    calendar = england_and_wales()
    reviews: dict[uuid.UUID, list[date]] = {}
    for c in loaded.conferences:
        if c.kind == "review" and c.cp_plan_id:
            reviews.setdefault(c.cp_plan_id, []).append(c.held_date)
    groups: dict[uuid.UUID, list[date]] = {}
    for g in loaded.core_groups:
        groups.setdefault(g.cp_plan_id, []).append(g.held_date)
    due = calendar.add_working_days(row.referral_date, ASSESSMENT_WORKING_DAYS)
    return EpisodeRead(
        id=row.id, child_id=row.child_id, kind=row.kind, referral_date=row.referral_date,
        referral_source=row.referral_source, nfa=row.nfa, primary_need=row.primary_need,
        closure_date=row.closure_date, reason_for_closure=row.reason_for_closure, icpc_date=row.icpc_date,
        assessments=[StatutoryAssessmentRead(**a.model_dump(include={"id", "start_date", "child_seen_date", "authorised_date", "authorised_by", "factors"}), due_date=due)
                     for a in loaded.assessments.values() if a.episode_id == episode_id],
        strategy_discussions=[StrategyDiscussionRead(id=d.id, held_date=d.held_date, outcome=d.outcome, s47_id=d.s47_id,
                                                     participating_agency_ids=[uuid.UUID(a) for a in d.participating_agency_ids])
                              for d in loaded.strategy_discussions if d.episode_id == episode_id],
        s47s=[S47Read(**s.model_dump(include=set(S47Read.model_fields))) for s in loaded.s47s.values() if s.episode_id == episode_id],
        conferences=[ConferenceRead(**c.model_dump(include=set(ConferenceRead.model_fields))) for c in loaded.conferences if c.episode_id == episode_id],
        cp_plans=[CpPlanRead(**p.model_dump(include=set(CpPlanRead.model_fields) - {"review_dates", "next_review_due", "core_group_dates"}),
                             review_dates=reviews.get(p.id, []), core_group_dates=groups.get(p.id, []),
                             next_review_due=None if p.end_date else next_review_due(p.start_date, reviews.get(p.id, [])))
                  for p in loaded.cp_plans.values() if p.episode_id == episode_id],
        cin_plans=[CinPlanRead(**p.model_dump(include=set(CinPlanRead.model_fields))) for p in loaded.cin_plans.values() if p.episode_id == episode_id],
        pre_proceedings=[_pre_proceedings_read(pp) for pp in loaded.pre_proceedings.values() if pp.episode_id == episode_id],
        created_at=row.created_at, updated_at=row.updated_at, version=row.version,
    )


def _pre_proceedings_read(pp: PreProceedings) -> PreProceedingsRead:
    meetings = [date.fromisoformat(d) for d in pp.meeting_dates]
    return PreProceedingsRead(
        **pp.model_dump(include=set(PreProceedingsRead.model_fields) - {"meeting_dates", "meeting_count", "open"}),
        meeting_dates=meetings, meeting_count=len(meetings), open=pp.outcome in (None, PP_CONTINUE))


def _respond(loaded: LoadedJourney, episode_id: uuid.UUID, response: Response) -> EpisodeRead:
    set_etag(response, loaded.episodes[episode_id].version)
    return episode_read(loaded, episode_id)


@router.get("", responses=problems(ChildNotFound))
async def list_episodes(
    who: CanRead, journeys: JourneysDep, child_id: Annotated[uuid.UUID, Query(description="The child whose episodes to list.")]
) -> EpisodeList:
    """A child's children-in-need episodes, oldest first, with everything in them."""
    loaded = await journeys.episodes_of_child(who, child_id)
    return EpisodeList(items=[episode_read(loaded, e.id) for e in loaded.journey.episodes])


@router.get("/{episode_id}", responses=problems(EpisodeNotFound))
async def get_episode(episode_id: uuid.UUID, who: CanRead, journeys: JourneysDep, response: Response) -> EpisodeRead:
    """One episode: assessments, strategy discussions, s47 enquiries, conferences and plans, with due dates."""
    loaded, _ = await journeys.episode(who, episode_id)
    return _respond(loaded, episode_id, response)


@router.post("/{episode_id}/assessments", responses=STEP_ERRORS)
async def start_statutory_assessment(episode_id: uuid.UUID, body: AssessmentStart, who: CanWrite, version: IfMatch,
                           journeys: JourneysDep, response: Response) -> EpisodeRead:
    """Start a child and family assessment (s17). One open assessment per episode (DfE 8896)."""
    return _respond(await journeys.start_assessment(who, episode_id, version, body), episode_id, response)


@router.post("/{episode_id}/assessments/{assessment_id}/authorisation", responses=STEP_ERRORS)
async def authorise_statutory_assessment(episode_id: uuid.UUID, assessment_id: uuid.UUID, body: AssessmentAuthorisation,
                               who: CanWrite, version: IfMatch, journeys: JourneysDep, response: Response) -> EpisodeRead:
    """A manager authorises the assessment with the factors identified (`16A` neglect). Stops the 45-working-day clock."""
    return _respond(await journeys.authorise_assessment(who, episode_id, assessment_id, version, body), episode_id, response)


@router.post("/{episode_id}/strategy-discussions", responses=STEP_ERRORS)
async def hold_strategy_discussion(episode_id: uuid.UUID, body: StrategyDiscussionCreate, who: CanWrite,
                                   version: IfMatch, journeys: JourneysDep, response: Response) -> EpisodeRead:
    """Record a strategy discussion; with `start_s47` an s47 enquiry starts that day and the
    15-working-day clock to the initial conference begins. The s47 starts after the previous
    one's initial conference (DfE 8890), and not in the census year (1 April to 31 March) of
    the episode's transfer-in conference (DfE 2885: the census would match the transfer-in
    plan to the s47 instead)."""
    return _respond(await journeys.hold_strategy_discussion(who, episode_id, version, body), episode_id, response)


@router.post("/{episode_id}/s47s/{s47_id}/conclusion", responses=STEP_ERRORS)
async def conclude_s47(episode_id: uuid.UUID, s47_id: uuid.UUID, body: S47Conclusion, who: CanWrite,
                       version: IfMatch, journeys: JourneysDep, response: Response) -> EpisodeRead:
    """Conclude an s47 enquiry without an initial conference (ICPC not required)."""
    return _respond(await journeys.conclude_s47(who, episode_id, s47_id, version, body), episode_id, response)


@router.post("/{episode_id}/conferences", responses=STEP_ERRORS)
async def hold_conference(episode_id: uuid.UUID, body: ConferenceCreate, who: CanWrite, version: IfMatch,
                          journeys: JourneysDep, response: Response) -> EpisodeRead:
    """Record a child protection conference. An initial conference with outcome `plan` starts the
    CP plan that day (DfE 2885); a review with `end_plan` ends it, and `step_down: cin_plan`
    starts a child in need plan the same day. A `transfer_in` conference, for a child arriving
    on another authority's plan, is the episode's initial conference (episode-level ICPC date)
    and starts the plan here: never in an episode whose s47 already had an initial conference,
    nor on the day of any s47 conference of the child's (DfE 2884), nor beside an s47 of the
    same census year (DfE 2885; one concluded, and recorded before 1 April, is fine). A plan
    starts after the child's previous plan ended and after any child in need plan started
    (DfE 8940, 4016: the census counts the end day as a day of the plan). Emits
    `transfer_in.held` then `cp_plan.started`."""
    return _respond(await journeys.hold_conference(who, episode_id, version, body), episode_id, response)


@router.post("/{episode_id}/cp-plans/{plan_id}/end", responses=STEP_ERRORS)
async def end_cp_plan(episode_id: uuid.UUID, plan_id: uuid.UUID, body: PlanEnd, who: CanWrite, version: IfMatch,
                      journeys: JourneysDep, response: Response) -> EpisodeRead:
    """End a child protection plan outside a review conference (for example on transfer), optionally stepping down."""
    return _respond(await journeys.end_cp_plan(who, episode_id, plan_id, version, body), episode_id, response)


@router.post("/{episode_id}/cp-plans/{plan_id}/core-groups", responses=STEP_ERRORS)
async def add_core_group(episode_id: uuid.UUID, plan_id: uuid.UUID, body: CoreGroupCreate, who: CanWrite,
                         version: IfMatch, journeys: JourneysDep, response: Response) -> EpisodeRead:
    """Record a core group meeting of the plan (first one due within 10 working days of the conference)."""
    return _respond(await journeys.add_core_group(who, episode_id, plan_id, version, body), episode_id, response)


@router.post("/{episode_id}/cin-plans", responses=STEP_ERRORS)
async def start_cin_plan(episode_id: uuid.UUID, body: PlanStart, who: CanWrite, version: IfMatch,
                         journeys: JourneysDep, response: Response) -> EpisodeRead:
    """Start a child in need plan. Never while a child protection plan is open (DfE 4001)."""
    return _respond(await journeys.start_cin_plan(who, episode_id, version, body), episode_id, response)


@router.post("/{episode_id}/cin-plans/{plan_id}/end", responses=STEP_ERRORS)
async def end_cin_plan(episode_id: uuid.UUID, plan_id: uuid.UUID, body: PlanEnd, who: CanWrite, version: IfMatch,
                       journeys: JourneysDep, response: Response) -> EpisodeRead:
    """End a child in need plan."""
    return _respond(await journeys.end_cin_plan(who, episode_id, plan_id, version, body), episode_id, response)


@router.post("/{episode_id}/pre-proceedings", responses=STEP_ERRORS)
async def start_pre_proceedings(episode_id: uuid.UUID, body: PreProceedingsStart, who: CanWrite, version: IfMatch,
                                journeys: JourneysDep, response: Response) -> EpisodeRead:
    """Start pre-proceedings under the Public Law Outline (census PreProceedingsandFGDM, 2025-26 on).
    One open record per episode (rule PP-one-open); dated within the episode. Emits `pre_proceedings.started`."""
    return _respond(await journeys.start_pre_proceedings(who, episode_id, version, body), episode_id, response)


@router.post("/{episode_id}/pre-proceedings/{pp_id}/meetings", responses=STEP_ERRORS)
async def record_pre_proceedings_meeting(episode_id: uuid.UUID, pp_id: uuid.UUID, body: PreProceedingsMeeting,
                                         who: CanWrite, version: IfMatch, journeys: JourneysDep,
                                         response: Response) -> EpisodeRead:
    """Record a pre-proceedings meeting, on or after the start (PP-dates). Emits `pre_proceedings.updated`."""
    return _respond(await journeys.record_pp_meeting(who, episode_id, pp_id, version, body), episode_id, response)


@router.post("/{episode_id}/pre-proceedings/{pp_id}/letter", responses=STEP_ERRORS)
async def send_letter_before_proceedings(episode_id: uuid.UUID, pp_id: uuid.UUID, body: LetterBeforeProceedings,
                                         who: CanWrite, version: IfMatch, journeys: JourneysDep,
                                         response: Response) -> EpisodeRead:
    """Record that the letter before proceedings was sent, on or after the start. Once per record."""
    return _respond(await journeys.send_letter_before_proceedings(who, episode_id, pp_id, version, body), episode_id, response)


@router.post("/{episode_id}/pre-proceedings/{pp_id}/fgdm", responses=STEP_ERRORS)
async def record_fgdm(episode_id: uuid.UUID, pp_id: uuid.UUID, body: FgdmRecord, who: CanWrite, version: IfMatch,
                      journeys: JourneysDep, response: Response) -> EpisodeRead:
    """Record whether family group decision making was offered and held (held only if offered: PP-fgdm)."""
    return _respond(await journeys.record_fgdm(who, episode_id, pp_id, version, body), episode_id, response)


@router.post("/{episode_id}/pre-proceedings/{pp_id}/decision", responses=STEP_ERRORS)
async def decide_pre_proceedings(episode_id: uuid.UUID, pp_id: uuid.UUID, body: PreProceedingsDecision, who: CanWrite,
                                 version: IfMatch, journeys: JourneysDep, response: Response) -> EpisodeRead:
    """Record the step decision. Any outcome but `continue_pre_proceedings` ends the record (read-only
    after). A court application date goes only with `proceedings_issued`, on or after the decision
    (PP-court). Emits `pre_proceedings.decided`."""
    return _respond(await journeys.decide_pre_proceedings(who, episode_id, pp_id, version, body), episode_id, response)


@router.post("/{episode_id}/closure", responses=STEP_ERRORS)
async def close_episode(episode_id: uuid.UUID, body: Closure, who: CanWrite, version: IfMatch,
                        journeys: JourneysDep, response: Response) -> EpisodeRead:
    """Close the episode with a DfE reason. Assessments must be authorised, s47s concluded, plans
    ended and pre-proceedings decided first (INV-17); nothing may be added after closure (DfE 8565).
    Partners' open service offers and an open non-engagement case are not closed: they are counted
    in `episode.closed` and a chronology line asks for their review."""
    return _respond(await journeys.close(who, episode_id, version, body), episode_id, response)
