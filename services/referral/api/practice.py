"""Practice records: visits, the child's voice, service offers, engagement and the non-engaging pathway."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from services.referral.api.deps import CanRead, CanWrite
from services.referral.api.people import (
    CHANGE_ERRORS,
    CREATE_ERRORS,
    LIST_ERRORS,
    full_access_types,
)
from services.referral.domain import engagement as eng
from services.referral.domain.errors import ChildNotFound
from services.referral.domain.practice import (
    CaseNotFound,
    CaseView,
    OfferingAgencyOnly,
    Practice,
    ServiceOfferNotFound,
    UnrelatedReference,
)
from services.referral.models import ChildVoice, EngagementEvent, ServiceOffer, Visit
from services.referral.queries.practice import PracticeQueries
from services.referral.schemas.practice import (
    CaseClosure,
    CaseRead,
    EngagementEventCreate,
    EngagementEventPage,
    EngagementEventRead,
    EngagementRecorded,
    EscalationStep,
    NonEngagementRead,
    OfferAcceptance,
    OfferAttendance,
    OfferDecline,
    OfferEnd,
    ServiceOfferCreate,
    ServiceOfferPage,
    ServiceOfferRead,
    StageStep,
    ThresholdRead,
    VisitCreate,
    VisitPage,
    VisitRead,
    VisitRecorded,
    VoiceCreate,
    VoicePage,
    VoiceRead,
)
from shared.audit import AuditDep
from shared.db import SessionDep
from shared.errors import problems
from shared.etag import IfMatch, etag, set_etag
from shared.events import OutboxDep
from shared.idempotency import Created, IdempotencyDep
from shared.pagination import PageDep, set_link_header

router = APIRouter()  # each route names its tag: practice records or engagement
OFFER_STEP_ERRORS = problems(ServiceOfferNotFound, OfferingAgencyOnly, eng.PathwayRuleBroken, *CHANGE_ERRORS)
CASE_STEP_ERRORS = problems(CaseNotFound, eng.PathwayRuleBroken, *CHANGE_ERRORS)


async def practice_domain(request: Request, session: SessionDep, audit: AuditDep, outbox: OutboxDep) -> Practice:
    return Practice(PracticeQueries(session, full_access_types(request)), eng.configured_threshold(), audit, outbox)


PracticeDep = Annotated[Practice, Depends(practice_domain)]


def visit_read(visit: Visit) -> VisitRead:
    return VisitRead.model_validate(visit, from_attributes=True)


def voice_read(voice: ChildVoice) -> VoiceRead:
    return VoiceRead.model_validate(voice, from_attributes=True)


def offer_read(offer: ServiceOffer) -> ServiceOfferRead:
    return ServiceOfferRead.model_validate(offer, from_attributes=True)


def event_read(event: EngagementEvent) -> EngagementEventRead:
    return EngagementEventRead.model_validate(event, from_attributes=True)


def case_read(view: CaseView) -> CaseRead:
    c = view.case
    return CaseRead(id=c.id, child_id=c.child_id, opened_on=c.opened_on, stage=c.stage, escalation=c.escalation,
                    closed_on=c.closed_on, closure_reason=c.closure_reason, closure_decided_by=c.closure_decided_by,
                    events=[event_read(e) for e in view.events],
                    created_at=c.created_at, updated_at=c.updated_at, version=c.version)


def _case_response(view: CaseView, response: Response) -> CaseRead:
    set_etag(response, view.case.version)
    return case_read(view)


def _offer_response(offer: ServiceOffer, response: Response) -> ServiceOfferRead:
    set_etag(response, offer.version)
    return offer_read(offer)


# --- visits and the child's voice ------------------------------------------------------------


@router.post("/children/{child_id}/visits", tags=["practice"], status_code=201, response_model=VisitRecorded,
             responses=problems(ChildNotFound, UnrelatedReference, *CREATE_ERRORS))
async def record_visit(child_id: uuid.UUID, body: VisitCreate, who: CanWrite, practice: PracticeDep,
                       idem: IdempotencyDep) -> JSONResponse:
    """Record a visit to the child: seen, seen alone, bedroom seen, home conditions. Seen alone and
    bedroom seen need the child seen; a no-access visit saw nobody and also records a
    `no_access_visit` engagement event, which may open a non-engagement case. Emits `visit.recorded`."""

    async def create() -> Created:
        visit, engagement = await practice.record_visit(who, child_id, body)
        recorded = VisitRecorded(
            **visit_read(visit).model_dump(),
            engagement_event_id=engagement.event.id if engagement else None,
            non_engagement_case_id=engagement.case.id if engagement and engagement.case else None,
        )
        return Created(recorded, {"Location": f"/v1/children/{child_id}/visits"})

    return await idem.run(who, body, create)


@router.get("/children/{child_id}/visits", tags=["practice"], responses=problems(ChildNotFound, *LIST_ERRORS))
async def list_visits(child_id: uuid.UUID, who: CanRead, practice: PracticeDep, page: PageDep,
                      response: Response) -> VisitPage:
    """The child's visits, newest first, with when the child was last seen, last seen alone and last
    visited statutorily (Annex A) over all visits."""
    rows, next_cursor, (seen, alone, statutory) = await practice.visits(who, child_id, page)
    set_link_header(response, page, next_cursor)
    return VisitPage(items=[visit_read(v) for v in rows], next_cursor=next_cursor,
                     last_seen=seen, last_seen_alone=alone, last_statutory_visit=statutory)


@router.post("/children/{child_id}/voice", tags=["practice"], status_code=201, response_model=VoiceRead,
             responses=problems(ChildNotFound, *CREATE_ERRORS))
async def record_voice(child_id: uuid.UUID, body: VoiceCreate, who: CanWrite, practice: PracticeDep,
                       idem: IdempotencyDep) -> JSONResponse:
    """Record the child's voice: their own words, their own 0-10 safety rating and how they took part
    ("nothing about you without you"). Emits `child_voice.recorded` (never the words)."""

    async def create() -> Created:
        return Created(voice_read(await practice.record_voice(who, child_id, body)),
                       {"Location": f"/v1/children/{child_id}/voice"})

    return await idem.run(who, body, create)


@router.get("/children/{child_id}/voice", tags=["practice"], responses=problems(ChildNotFound, *LIST_ERRORS))
async def list_voice(child_id: uuid.UUID, who: CanRead, practice: PracticeDep, page: PageDep,
                     response: Response) -> VoicePage:
    """What the child has said, newest first."""
    rows, next_cursor = await practice.voices(who, child_id, page)
    set_link_header(response, page, next_cursor)
    return VoicePage(items=[voice_read(v) for v in rows], next_cursor=next_cursor)


# --- service offers ----------------------------------------------------------------------------


@router.post("/children/{child_id}/service-offers", status_code=201, response_model=ServiceOfferRead,
             tags=["engagement"], responses=problems(ChildNotFound, *CREATE_ERRORS))
async def offer_service(child_id: uuid.UUID, body: ServiceOfferCreate, who: CanWrite, practice: PracticeDep,
                        idem: IdempotencyDep) -> JSONResponse:
    """Offer a service to the child's family. The offer then moves only by its transitions:
    acceptance or decline, attendance, end. Emits `service_offer.made`."""

    async def create() -> Created:
        offer = await practice.offer_service(who, child_id, body)
        return Created(offer_read(offer), {"Location": f"/v1/service-offers/{offer.id}", "ETag": etag(offer.version)})

    return await idem.run(who, body, create)


@router.get("/children/{child_id}/service-offers", tags=["engagement"], responses=problems(ChildNotFound, *LIST_ERRORS))
async def list_service_offers(child_id: uuid.UUID, who: CanRead, practice: PracticeDep, page: PageDep,
                              response: Response) -> ServiceOfferPage:
    """Services offered to the child's family, oldest first, with their status."""
    rows, next_cursor = await practice.offers(who, child_id, page)
    set_link_header(response, page, next_cursor)
    return ServiceOfferPage(items=[offer_read(o) for o in rows], next_cursor=next_cursor)


@router.get("/service-offers/{offer_id}", tags=["engagement"], responses=problems(ServiceOfferNotFound))
async def get_service_offer(offer_id: uuid.UUID, who: CanRead, practice: PracticeDep, response: Response) -> ServiceOfferRead:
    """One service offer, with its ETag (needed for its transitions)."""
    return _offer_response(await practice.offer(who, offer_id), response)


@router.post("/service-offers/{offer_id}/acceptance", tags=["engagement"], responses=OFFER_STEP_ERRORS)
async def accept_service_offer(offer_id: uuid.UUID, body: OfferAcceptance, who: CanWrite, version: IfMatch,
                               practice: PracticeDep, response: Response) -> ServiceOfferRead:
    """The family accepted the offer (also after declining it: initial resistance is not treated as
    fixed). Offering agency only; send `If-Match`. Emits `service_offer.accepted`."""
    return _offer_response(await practice.accept(who, offer_id, version, body), response)


@router.post("/service-offers/{offer_id}/decline", tags=["engagement"], responses=OFFER_STEP_ERRORS)
async def decline_service_offer(offer_id: uuid.UUID, body: OfferDecline, who: CanWrite, version: IfMatch,
                                practice: PracticeDep, response: Response) -> ServiceOfferRead:
    """The family declined the offer. Records a `service_declined` engagement event, which may open a
    non-engagement case. Offering agency only; send `If-Match`. Emits `service_offer.declined`."""
    return _offer_response(await practice.decline(who, offer_id, version, body), response)


@router.post("/service-offers/{offer_id}/attendance", tags=["engagement"], responses=OFFER_STEP_ERRORS)
async def start_attendance(offer_id: uuid.UUID, body: OfferAttendance, who: CanWrite, version: IfMatch,
                           practice: PracticeDep, response: Response) -> ServiceOfferRead:
    """The family started attending an accepted service (status `attending`; an `attended` event is
    recorded). A declined offer must be accepted first (409). Emits `service_offer.attending`."""
    return _offer_response(await practice.attend(who, offer_id, version, body), response)


@router.post("/service-offers/{offer_id}/end", tags=["engagement"], responses=OFFER_STEP_ERRORS)
async def end_service_offer(offer_id: uuid.UUID, body: OfferEnd, who: CanWrite, version: IfMatch,
                            practice: PracticeDep, response: Response) -> ServiceOfferRead:
    """End the offer with its outcome; `disengaged` also records a `service_disengaged` engagement
    event. Emits `service_offer.ended`."""
    return _offer_response(await practice.end_offer(who, offer_id, version, body), response)


# --- engagement and the non-engaging pathway ---------------------------------------------------


@router.post("/children/{child_id}/engagement-events", status_code=201, response_model=EngagementRecorded,
             tags=["engagement"], responses=problems(ChildNotFound, UnrelatedReference, *CREATE_ERRORS))
async def record_engagement_event(child_id: uuid.UUID, body: EngagementEventCreate, who: CanWrite,
                                  practice: PracticeDep, idem: IdempotencyDep) -> JSONResponse:
    """Record an engagement event: was not brought, no access, declined, consent withdrawn,
    disengaged, or attended. When the child reaches the partnership's threshold (see
    `GET /v1/children/{child_id}/non-engagement`) a non-engagement case opens at `monitoring` and
    `non_engagement.opened` is emitted. A was-not-brought on a child with an open children in need
    episode emits `engagement.was_not_brought` listing the other involved agencies to notify."""

    async def create() -> Created:
        outcome = await practice.record_event(who, child_id, body)
        recorded = EngagementRecorded(
            **event_read(outcome.event).model_dump(),
            non_engagement_case_id=outcome.case.id if outcome.case else None,
            case_opened=outcome.opened, notified_agency_ids=outcome.notified,
        )
        return Created(recorded, {"Location": f"/v1/children/{child_id}/engagement-events"})

    return await idem.run(who, body, create)


@router.get("/children/{child_id}/engagement-events", tags=["engagement"], responses=problems(ChildNotFound, *LIST_ERRORS))
async def list_engagement_events(child_id: uuid.UUID, who: CanRead, practice: PracticeDep, page: PageDep,
                                 response: Response) -> EngagementEventPage:
    """The child's engagement events, in the order they were recorded."""
    rows, next_cursor = await practice.events(who, child_id, page)
    set_link_header(response, page, next_cursor)
    return EngagementEventPage(items=[event_read(e) for e in rows], next_cursor=next_cursor)


@router.get("/children/{child_id}/non-engagement", tags=["engagement"], responses=problems(ChildNotFound))
async def get_non_engagement(child_id: uuid.UUID, who: CanRead, practice: PracticeDep) -> NonEngagementRead:
    """The child's non-engaging pathway: the open case (if any) and earlier ones, newest first, each
    with its stage and the engagement events that drove it; and the threshold that opens a case."""
    views = await practice.non_engagement(who, child_id)
    t = eng.configured_threshold()
    return NonEngagementRead(
        child_id=child_id,
        threshold=ThresholdRead(count=t.count, window_days=t.window_days, kinds=sorted(t.kinds), version=t.version),
        open_case_id=next((v.case.id for v in views if v.case.stage != eng.Stage.closed), None),
        cases=[case_read(v) for v in views],
    )


@router.get("/non-engagement-cases/{case_id}", tags=["engagement"], responses=problems(CaseNotFound))
async def get_non_engagement_case(case_id: uuid.UUID, who: CanRead, practice: PracticeDep, response: Response) -> CaseRead:
    """One non-engagement case with its ETag (needed for its transitions)."""
    return _case_response(await practice.case(who, case_id), response)


@router.post("/non-engagement-cases/{case_id}/escalation-review", tags=["engagement"], responses=CASE_STEP_ERRORS)
async def hold_escalation_review(case_id: uuid.UUID, body: StageStep, who: CanWrite, version: IfMatch,
                                 practice: PracticeDep, response: Response) -> CaseRead:
    """Monitoring did not restore engagement: an escalation review was held. Send `If-Match`.
    Emits `non_engagement.escalation_review`."""
    return _case_response(await practice.move_case(who, case_id, version, eng.Stage.escalation_review, body), response)


@router.post("/non-engagement-cases/{case_id}/multi-agency-meeting", tags=["engagement"], responses=CASE_STEP_ERRORS)
async def hold_multi_agency_meeting(case_id: uuid.UUID, body: StageStep, who: CanWrite, version: IfMatch,
                                    practice: PracticeDep, response: Response) -> CaseRead:
    """The review called a multi-agency meeting and it was held. Emits `non_engagement.multi_agency_meeting`."""
    return _case_response(await practice.move_case(who, case_id, version, eng.Stage.multi_agency_meeting, body), response)


@router.post("/non-engagement-cases/{case_id}/action-plan", tags=["engagement"], responses=CASE_STEP_ERRORS)
async def agree_action_plan(case_id: uuid.UUID, body: StageStep, who: CanWrite, version: IfMatch,
                            practice: PracticeDep, response: Response) -> CaseRead:
    """The meeting agreed a multi-agency action plan. Emits `non_engagement.action_plan`."""
    return _case_response(await practice.move_case(who, case_id, version, eng.Stage.action_plan, body), response)


@router.post("/non-engagement-cases/{case_id}/escalation", tags=["engagement"], responses=CASE_STEP_ERRORS)
async def escalate_case(case_id: uuid.UUID, body: EscalationStep, who: CanWrite, version: IfMatch,
                        practice: PracticeDep, response: Response) -> CaseRead:
    """Escalate from a review, meeting or action plan: `step_up`, `consult_csc` or
    `strategy_discussion`. Emits `non_engagement.escalated` with the route."""
    return _case_response(await practice.move_case(who, case_id, version, eng.Stage.escalated, body), response)


@router.post("/non-engagement-cases/{case_id}/closure", tags=["engagement"],
             responses=problems(CaseNotFound, eng.PathwayRuleBroken, eng.ManagerDecisionRequired, *CHANGE_ERRORS))
async def close_case(case_id: uuid.UUID, body: CaseClosure, who: CanWrite, version: IfMatch,
                     practice: PracticeDep, response: Response) -> CaseRead:
    """Close the case with its reason. Closing for `no_consent` or `no_engagement` when the child's
    neglect is chronic (a neglect CP plan, a neglect factor at assessment, or an open episode with
    primary need N1) needs the deciding manager in `closure_decided_by` (422 otherwise).
    Emits `non_engagement.closed`."""
    return _case_response(await practice.close_case(who, case_id, version, body), response)
