"""Referrals from partner agencies, the threshold recommendation and the practitioner's decision.

A referral is visible to the agency that sent it and to every agency that may see the
child's record. Referring grants no sight of the record: an agency that only referred the
child (no active involvement, not children's social care) sees its own referrals and their
outcome, and gets 404 on the child, the child's other records and the recommendations. The
decision and the feedback to the referrer are transitions recorded by children's social
care: send `If-Match` with the referral's ETag."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from services.referral.api.deps import CanRead, CanWrite, JourneysDep
from services.referral.api.threshold_models import threshold_models_domain
from services.referral.domain.calendar import england_and_wales
from services.referral.domain.errors import AgencyNotRegistered, ChildNotFound
from services.referral.domain.evidence import AssessmentService
from services.referral.domain.journey import RuleBroken
from services.referral.domain.referrals import (
    DecisionByCscOnly,
    InvalidDecision,
    InvalidReferral,
    OverrideReasonRequired,
    ReferralNotFound,
    Referrals,
    Shown,
    StoredRecommendation,
    decision_fields,
)
from services.referral.domain.threshold_models import NoActiveThresholdModel
from services.referral.queries.referrals import EvidenceQueries, ReferralQueries
from services.referral.schemas.referrals import (
    DecisionCreate,
    DecisionRead,
    FeedbackCreate,
    FiredRuleRead,
    Indicator,
    RecommendationList,
    RecommendationRead,
    ReferralCreate,
    ReferralPage,
    ReferralRead,
    ReferralStatus,
)
from shared.audit import AuditDep
from shared.auth import Credentials
from shared.db import SessionDep
from shared.errors import (
    BadRequest,
    IdempotencyInFlight,
    IdempotencyKeyReused,
    IllegalTransition,
    MalformedBody,
    PreconditionFailed,
    PreconditionRequired,
    problems,
)
from shared.etag import IfMatch, etag, set_etag
from shared.events import OutboxDep
from shared.idempotency import Created, IdempotencyDep
from shared.pagination import InvalidCursor, PageDep, set_link_header

router = APIRouter(prefix="/referrals", tags=["referrals"])


async def referrals_domain(
    request: Request, session: SessionDep, audit: AuditDep, outbox: OutboxDep, journeys: JourneysDep,
) -> Referrals:
    settings = request.app.state.settings
    # Tests and deployments may put a shared client here; otherwise each call makes its own.
    client = getattr(request.app.state, "assessment_client", None)
    return Referrals(
        ReferralQueries(session, settings.full_access_agency_types),
        EvidenceQueries(session, settings.full_access_agency_types),
        await threshold_models_domain(session, audit, outbox),
        journeys,
        AssessmentService(settings.assessment_url, settings.assessment_timeout_seconds, client),
        england_and_wales(),
        settings.full_access_agency_types,
        settings.partnership_id,
        audit,
        outbox,
    )


ReferralsDep = Annotated[Referrals, Depends(referrals_domain)]


def _token(credentials: Credentials) -> str:
    # The scope dependency has verified it already; it is passed on to the assessment service.
    return credentials.credentials if credentials else ""


def referral_read(shown: Shown) -> ReferralRead:
    r = shown.referral
    # An agency that only referred the child sees what it sent and the outcome, nothing drawn from the record.
    mine_only = not shown.record_visible
    decision = decision_fields(r, record_visible=shown.record_visible)
    return ReferralRead(
        id=r.id, child_id=r.child_id,
        referring_agency_id=r.referring_agency_id if shown.referrer_visible else None,
        referral_source=r.referral_source, received_at=r.received_at, concern_summary=r.concern_summary,
        neglect_types=r.neglect_types, indicators=[Indicator.model_validate(i) for i in r.indicators],
        parental_factors=r.parental_factors, referrer_identity_withheld=r.referrer_identity_withheld,
        re_referral=None if mine_only else r.re_referral,
        previous_referral_id=None if mine_only else r.previous_referral_id,
        status=r.status,
        decision_due_at=r.decision_due_at, decision=DecisionRead(**decision) if decision else None,
        episode_id=None if mine_only else r.episode_id,
        feedback_due_date=r.feedback_due_date, feedback_sent_at=r.feedback_sent_at,
        created_at=r.created_at, updated_at=r.updated_at, version=r.version,
    )


def recommendation_read(stored: StoredRecommendation) -> RecommendationRead:
    row, model = stored.row, stored.model
    level = model.levels.get(row.recommended_level)
    return RecommendationRead(
        id=row.id, referral_id=row.referral_id, partnership_id=stored.model_row.partnership_id,
        ruleset_version=stored.model_row.ruleset_version, threshold_model_id=row.threshold_model_id,
        recommended_level=row.recommended_level, recommended_level_name=level.name if level else "",
        fired_rules=[FiredRuleRead.model_validate(f) for f in row.fired_rules], inputs=row.inputs,
        missing_facts=row.missing_facts, unevaluated_rules=row.unevaluated_rules, created_at=row.created_at,
    )


def _respond(shown: Shown, response: Response) -> ReferralRead:
    set_etag(response, shown.referral.version)
    return referral_read(shown)


@router.post(
    "", status_code=201, response_model=ReferralRead,
    responses=problems(AgencyNotRegistered, ChildNotFound, InvalidReferral, MalformedBody, IdempotencyInFlight,
                       IdempotencyKeyReused),
)
async def create_referral(body: ReferralCreate, who: CanWrite, referrals: ReferralsDep, idem: IdempotencyDep) -> JSONResponse:
    """Refer a child to the front door. Your agency is the referrer and the DfE ReferralSource
    comes from its type. You may refer a child your agency cannot see (for example one a school
    registered) by its id. Referring does not open the child's record to you: you see this
    referral and its outcome (level, outcome, when decided, when you were told), not the child,
    the chronology or other agencies' records; children's social care adds an involvement when
    your agency is to work with the child. A referral within 12 months of the child's previous
    one is flagged `re_referral` (shown to agencies that see the child's record). The decision
    is due one working day after receipt. Send `Idempotency-Key` to retry safely. Emits
    `referral.received` and adds a line to the child's chronology."""

    async def create() -> Created:
        shown = await referrals.receive(who, body)
        r = shown.referral
        return Created(referral_read(shown), {"Location": f"/v1/referrals/{r.id}", "ETag": etag(r.version)})

    return await idem.run(who, body, create)


@router.get("", responses=problems(InvalidCursor))
async def list_referrals(
    who: CanRead,
    referrals: ReferralsDep,
    page: PageDep,
    response: Response,
    child_id: Annotated[uuid.UUID | None, Query(description="Only this child's referrals.")] = None,
    status: Annotated[ReferralStatus | None, Query(description="`received` (awaiting decision) or `decided`.")] = None,
    received_from: Annotated[date | None, Query(description="Received on or after this day (UTC).")] = None,
    received_to: Annotated[date | None, Query(description="Received on or before this day (UTC).")] = None,
) -> ReferralPage:
    """Referrals your agency sent or whose child's record it may see, oldest first; follow the
    `Link` header for more. Of a child whose record you may not see, only your own referrals."""
    rows, next_cursor = await referrals.page(who, page, child_id=child_id, status=status,
                                             received_from=received_from, received_to=received_to)
    set_link_header(response, page, next_cursor)
    return ReferralPage(items=[referral_read(s) for s in rows], next_cursor=next_cursor)


@router.get("/{referral_id}", responses=problems(ReferralNotFound))
async def get_referral(referral_id: uuid.UUID, who: CanRead, referrals: ReferralsDep, response: Response) -> ReferralRead:
    """One referral, with the decision once made. The `ETag` is what the decision and the
    feedback need in `If-Match`. A referral your agency may not see is a 404. If your agency
    only referred the child, you see what you sent and the outcome; `re_referral`,
    `previous_referral_id`, `episode_id` and the decision's reasoning are null."""
    return _respond(await referrals.get(who, referral_id), response)


@router.post("/{referral_id}/recommendation", responses=problems(ReferralNotFound, NoActiveThresholdModel))
async def recommend_level(
    referral_id: uuid.UUID, who: CanRead, credentials: Credentials, referrals: ReferralsDep,
) -> RecommendationRead:
    """Ask the partnership's active threshold model for a recommended level. The answer is a
    **recommendation, never a decision**: it lists the rules that fired with their reasons and
    the evidence each saw, every input fact, the facts that could not be had (for example when
    the assessment service is unavailable) and the rules left unevaluated for want of them.
    Toolkit results are fetched from the assessment service with your own token. Missing
    evidence never fails the request. The recommendation is stored; emits
    `referral.recommendation_computed`. The engine reads the child's record, so an agency that
    may not see it (one that only referred the child) gets 404."""
    stored = await referrals.recommend(who, referral_id, _token(credentials))
    return recommendation_read(stored)


@router.get("/{referral_id}/recommendations", responses=problems(ReferralNotFound))
async def list_recommendations(referral_id: uuid.UUID, who: CanRead, referrals: ReferralsDep) -> RecommendationList:
    """Every recommendation computed for the referral, oldest first, each with the model version it used.
    Their evidence comes from the child's record: 404 for an agency that only referred the child."""
    return RecommendationList(items=[recommendation_read(s) for s in await referrals.recommendations(who, referral_id)])


@router.post(
    "/{referral_id}/decision",
    responses=problems(ReferralNotFound, DecisionByCscOnly, IllegalTransition, RuleBroken, PreconditionFailed,
                       PreconditionRequired, InvalidDecision, OverrideReasonRequired, NoActiveThresholdModel,
                       BadRequest, MalformedBody),
)
async def record_decision(
    referral_id: uuid.UUID, body: DecisionCreate, who: CanWrite, version: IfMatch, credentials: Credentials,
    referrals: ReferralsDep, response: Response,
) -> ReferralRead:
    """Record the threshold decision of children's social care (other agencies get 403). The
    level must be one of the active model's levels and the outcome one that level allows.
    When the level differs from the latest recommendation, `override_reason` is required (if
    none was computed yet, one is computed and stored first). Outcomes that lead to further
    action need a DfE `primary_need` and open a children in need episode; `nfa` and
    `information_advice` open one that closes at once (ReferralNFA); early help outcomes open
    none. If the child already has an open episode the referral joins it. A census rule the
    episode would break is a 409 naming the rule. A referral takes one decision (409 after).
    Feedback to the referrer is due one working day later. Emits `referral.decided`."""
    shown = await referrals.record_decision(who, referral_id, body, version, _token(credentials))
    return _respond(shown, response)


@router.post(
    "/{referral_id}/feedback",
    responses=problems(ReferralNotFound, DecisionByCscOnly, IllegalTransition, PreconditionFailed,
                       PreconditionRequired, InvalidReferral, BadRequest, MalformedBody),
)
async def record_feedback(
    referral_id: uuid.UUID, who: CanWrite, version: IfMatch, referrals: ReferralsDep, response: Response,
    body: Annotated[FeedbackCreate | None, Body()] = None,
) -> ReferralRead:
    """Record that the referrer was told the outcome (children's social care; once, after the
    decision). Emits `referral.feedback_sent`."""
    shown = await referrals.record_feedback(who, referral_id, body or FeedbackCreate(), version)
    return _respond(shown, response)
