"""Toolkit assessments of a child. Every change names the version it was made on
(`If-Match` with the assessment's ETag); states change through explicit transitions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse

from services.assessment.api.deps import AssessmentsDep, CanRead, CanWrite
from services.assessment.domain.assessments import Loaded
from services.assessment.domain.errors import (
    AmendmentInProgress,
    AssessmentIncomplete,
    AssessmentLocked,
    AssessmentNotFound,
    AuthoriserIsSubmitter,
    ChildCheckRefused,
    ChildNotFound,
    EvidenceRequired,
    IllegalAssessmentTransition,
    InvalidDates,
    InvalidPreviousAssessment,
    InvalidTarget,
    NotAssessingAgency,
    NotInToolkit,
    NotOnScale,
    RaterProblem,
    ReferralUnavailable,
    TargetNotFound,
    UnknownToolkitVersion,
)
from services.assessment.domain.results import RatingFact, totals
from services.assessment.models import AssessmentTarget
from services.assessment.schemas.assessments import (
    ActorRead,
    AmendmentCreate,
    AreaResult,
    AssessmentCreate,
    AssessmentPage,
    AssessmentRead,
    AssessmentSummary,
    AssessmentUpdate,
    AssessorRead,
    Authorisation,
    AuthorisedByRead,
    JudgementPut,
    PractitionerJudgement,
    RaterRead,
    RatingPut,
    RatingRead,
    ReturnToDraft,
    Status,
    Submission,
    SuggestionRead,
    TargetCreate,
    TargetRead,
    TargetReview,
    TotalRead,
)
from shared.errors import PreconditionFailed, PreconditionRequired, problems
from shared.etag import IfMatch, etag, set_etag
from shared.idempotency import Created, IdempotencyDep
from shared.pagination import PageDep, set_link_header

router = APIRouter(prefix="/assessments", tags=["assessments"])

SEEING = (AssessmentNotFound, ChildCheckRefused, ReferralUnavailable)
CHANGING = (*SEEING, NotAssessingAgency, PreconditionFailed, PreconditionRequired)
EDITING = (*CHANGING, AssessmentLocked)
ItemId = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,59}$", description="An item id, or a sub-area id for GCP2.")]
AreaId = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,59}$", description="An area id, e.g. `physical_care`.")]


def assessment_summary(a: object) -> AssessmentSummary:
    return AssessmentSummary.model_validate(a, from_attributes=True)


def assessment_read(loaded: Loaded) -> AssessmentRead:
    a, d = loaded.assessment, loaded.definition
    kinds = d.rater_kinds or {}
    ratings = [
        RatingRead(
            item_id=r.item_id, area_id=r.area_id, value=r.value, value_id=r.value_id, value_label=d.of(r.value).label,
            evidence=r.evidence, strengths=r.strengths, rated_on=r.rated_on,
            rater=RaterRead(kind=r.rater_kind, label=r.rater_label, reports_as=kinds[r.rater_kind].reports_as)
            if r.rater_kind and r.rater_kind in kinds else None,
            recorded_by=ActorRead(client_id=r.recorded_by_client, acting_user=r.recorded_by_user), updated_at=r.updated_at,
        )
        for r in loaded.ratings
    ]
    areas = []
    for area_id in d.area_ids:
        j = loaded.judgements.get(area_id)
        practitioner = None
        if j is not None and j.practitioner_value is not None:
            practitioner = PractitionerJudgement(
                value=j.practitioner_value, value_id=j.practitioner_value_id,
                value_label=d.of(j.practitioner_value).label, rationale=j.rationale, judged_at=j.judged_at,
                judged_by=ActorRead(client_id=j.judged_by_client or "", acting_user=j.judged_by_user),
            )
        suggestion = None
        if d.suggestion_rule is not None:
            value = j.suggested_value if j is not None else None
            suggestion = SuggestionRead(
                label=d.suggestion_label or "System suggestion", value=value,
                value_id=d.of(value).id if value is not None else None,
                value_label=d.of(value).label if value is not None else None,
                rule=d.suggestion_rule, rule_description=d.suggestion_description or "",
                based_on=list(j.suggestion_based_on) if j is not None else [],
            )
        differs = (practitioner.value != suggestion.value
                   if practitioner is not None and suggestion is not None and suggestion.value is not None else None)
        areas.append(AreaResult(area_id=area_id, name=d.area_names[area_id], mandatory=area_id in d.mandatory_areas,
                                practitioner=practitioner, suggestion=suggestion, differs_from_suggestion=differs))
    facts = [RatingFact(r.item_id, r.area_id, r.value, r.value_id, r.rater_kind) for r in loaded.ratings]
    return AssessmentRead(
        **assessment_summary(a).model_dump(),
        assessor=AssessorRead(name=a.assessor_name, role=a.assessor_role, accreditation=a.assessor_accreditation,
                              accredited_on=a.assessor_accredited_on),
        overall_judgement=a.overall_judgement, areas=areas, ratings=ratings,
        totals=[TotalRead(id=t.id, name=t.name, value=t.value, rated=t.rated, of=t.of) for t in totals(d, facts)],
        targets=[target_read(t) for t in loaded.targets],
        amendment_reason=a.amendment_reason, return_reason=a.return_reason,
        created_by=ActorRead(client_id=a.created_by_client, acting_user=a.created_by_user),
        submitted_by=ActorRead(client_id=a.submitted_by_client, acting_user=a.submitted_by_user)
        if a.submitted_by_client else None,
        authorised_by=AuthorisedByRead(name=a.authorised_by, client_id=a.authorised_by_client,
                                       acting_user=a.authorised_by_user) if a.authorised_by_client else None,
    )


def target_read(t: AssessmentTarget) -> TargetRead:
    return TargetRead.model_validate(t, from_attributes=True)


def _respond(loaded: Loaded, response: Response) -> AssessmentRead:
    set_etag(response, loaded.assessment.version)
    return assessment_read(loaded)


def _created(loaded: Loaded, location: str | None = None) -> Created:
    a = loaded.assessment
    return Created(assessment_read(loaded), {"Location": location or f"/v1/assessments/{a.id}", "ETag": etag(a.version)})


@router.post(
    "", status_code=201, response_model=AssessmentRead,
    responses=problems(ChildNotFound, ChildCheckRefused, ReferralUnavailable, UnknownToolkitVersion,
                       InvalidPreviousAssessment, InvalidDates),
)
async def start_assessment(body: AssessmentCreate, who: CanWrite, assessments: AssessmentsDep,
                           idem: IdempotencyDep) -> JSONResponse:
    """Start a draft assessment of a child with a toolkit (its latest published version unless you
    name one). The child must be visible to your agency in the referral service, which is asked
    with your own token (it needs `referral:read` too); if it cannot answer, nothing is written (503).
    A re-assessment is linked to the child's previous authorised assessment with the same tool.
    Send `Idempotency-Key` to retry safely."""

    async def create() -> Created:
        return _created(await assessments.create(who, body))

    return await idem.run(who, body, create, prepare=lambda: assessments.confirm_child(body.child_id))


@router.get("", responses=problems(ChildNotFound, ChildCheckRefused, ReferralUnavailable))
async def list_assessments(
    who: CanRead, assessments: AssessmentsDep, page: PageDep, response: Response,
    child_id: Annotated[uuid.UUID, Query(description="The child whose assessments to list.")],
    toolkit_id: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{0,59}$")] = None,
    status: Annotated[Status | None, Query()] = None,
) -> AssessmentPage:
    """A child's toolkit assessments, every revision, oldest first. An agency that cannot see the
    child sees none of them (404). Follow `Link: rel="next"` for more."""
    rows, next_cursor = await assessments.page(who, child_id, page, toolkit_id=toolkit_id, status=status)
    set_link_header(response, page, next_cursor)
    return AssessmentPage(items=[assessment_summary(a) for a in rows], next_cursor=next_cursor)


@router.get("/{assessment_id}", responses=problems(*SEEING))
async def get_assessment(assessment_id: uuid.UUID, who: CanRead, assessments: AssessmentsDep,
                         response: Response) -> AssessmentRead:
    """One assessment: ratings with evidence and strengths, each area's judgement beside the
    labelled system suggestion and its rule, totals where the tool defines them, targets.
    An earlier revision stays readable after an amendment (`superseded_by_id` names the amendment)."""
    return _respond(await assessments.get(who, assessment_id), response)


@router.patch("/{assessment_id}", responses=problems(*EDITING, InvalidDates))
async def update_assessment(assessment_id: uuid.UUID, body: AssessmentUpdate, who: CanWrite, version: IfMatch,
                            assessments: AssessmentsDep, response: Response) -> AssessmentRead:
    """Change a draft's window dates, assessor (and accreditation) or overall analysis. Send only
    what changes, with `If-Match`. An authorised assessment is changed only through an amendment (409)."""
    return _respond(await assessments.update(who, assessment_id, version, body), response)


@router.put("/{assessment_id}/ratings/{item_id}",
            responses=problems(*EDITING, NotInToolkit, NotOnScale, EvidenceRequired, RaterProblem, InvalidDates))
async def rate_item(assessment_id: uuid.UUID, item_id: ItemId, body: RatingPut, who: CanWrite, version: IfMatch,
                    assessments: AssessmentsDep, response: Response) -> AssessmentRead:
    """Rate one item (a sub-area for GCP2) on the toolkit's scale, with the evidence and strengths.
    Evidence is required where the scale value says so. On a tool with several raters (a safety
    scale) send `rater` and `rated_on`: each rater's score on each date is kept as given, never
    merged; the same rater on the same date replaces their score. The area's system suggestion is
    recomputed; the practitioner's judgement is never touched. Draft only."""
    return _respond(await assessments.rate(who, assessment_id, item_id, version, body), response)


@router.put("/{assessment_id}/judgements/{area_id}", responses=problems(*EDITING, NotInToolkit, NotOnScale))
async def judge_area(assessment_id: uuid.UUID, area_id: AreaId, body: JudgementPut, who: CanWrite, version: IfMatch,
                     assessments: AssessmentsDep, response: Response) -> AssessmentRead:
    """Record the practitioner's judgement of an area: the authoritative grade. Where it differs
    from the system suggestion, a rationale is needed before submitting. Draft only."""
    return _respond(await assessments.judge(who, assessment_id, area_id, version, body), response)


@router.post("/{assessment_id}/targets", status_code=201, response_model=AssessmentRead,
             responses=problems(*EDITING, NotInToolkit, NotOnScale, InvalidTarget, InvalidDates))
async def add_target(assessment_id: uuid.UUID, body: TargetCreate, who: CanWrite, version: IfMatch,
                     assessments: AssessmentsDep, idem: IdempotencyDep) -> JSONResponse:
    """Add a target for improvement, as on the tool's summary sheet: area (and sub-area or item),
    current and target grade, period for change, review date, the carer's comments and whether
    their consent is recorded. Draft only; send `If-Match` and, to retry safely, `Idempotency-Key`."""

    async def create() -> Created:
        loaded, target = await assessments.add_target(who, assessment_id, version, body)
        return _created(loaded, f"/v1/assessments/{assessment_id}#target-{target.id}")

    return await idem.run(who, body, create, prepare=lambda: assessments.confirm_assessment(assessment_id))


@router.post("/{assessment_id}/targets/{target_id}/review",
             responses=problems(*CHANGING, TargetNotFound, IllegalAssessmentTransition, NotOnScale, InvalidDates))
async def review_target(assessment_id: uuid.UUID, target_id: uuid.UUID, body: TargetReview, who: CanWrite,
                        version: IfMatch, assessments: AssessmentsDep, response: Response) -> AssessmentRead:
    """Record a target's grade after review on the current authorised assessment. It adds what
    happened later and changes nothing that was authorised; it is recorded once."""
    return _respond(await assessments.review_target(who, assessment_id, target_id, version, body), response)


@router.post("/{assessment_id}/submission",
             responses=problems(*CHANGING, IllegalAssessmentTransition, AssessmentIncomplete, InvalidDates))
async def submit_assessment(assessment_id: uuid.UUID, who: CanWrite, version: IfMatch, assessments: AssessmentsDep,
                            response: Response, body: Submission | None = None) -> AssessmentRead:
    """Submit a draft for authorisation. Refused (409, every gap listed in `errors`) until every
    mandatory area is judged, the overall analysis is written, the window has ended (by the day
    of submission), the accreditation is recorded for a licensed tool, and each judgement that
    differs from the suggestion says why. The body is optional: `submitted_on` records a past
    submission (a migrated record), never a future one nor one before the window started (422).
    Emits `assessment.submitted`."""
    return _respond(await assessments.submit(who, assessment_id, version, body), response)


@router.post("/{assessment_id}/return", responses=problems(*CHANGING, IllegalAssessmentTransition))
async def return_assessment(assessment_id: uuid.UUID, body: ReturnToDraft, who: CanWrite, version: IfMatch,
                            assessments: AssessmentsDep, response: Response) -> AssessmentRead:
    """Send a submitted assessment back to draft, with the reason, so it can be corrected."""
    return _respond(await assessments.return_to_draft(who, assessment_id, version, body), response)


@router.post("/{assessment_id}/authorisation",
             responses=problems(*CHANGING, IllegalAssessmentTransition, AuthoriserIsSubmitter, InvalidDates))
async def authorise_assessment(assessment_id: uuid.UUID, body: Authorisation, who: CanWrite, version: IfMatch,
                               assessments: AssessmentsDep, response: Response) -> AssessmentRead:
    """A manager authorises a submitted assessment, naming themselves in `authorised_by`. The
    authoriser must be someone other than the submitter: another client, or the same client with
    tokens naming two different acting users (`acting_user` at `POST /oauth/token`, the token's
    `act`); otherwise 409. `authorised_on` is the day it was authorised (default today; what the
    dataset counts): not in the future, not before it was submitted, nor (an amendment) before
    the revision it amends was authorised (422). Authorising an amendment marks the revision it
    amends as superseded. Emits `assessment.authorised`."""
    return _respond(await assessments.authorise(who, assessment_id, version, body), response)


@router.post("/{assessment_id}/amendment", status_code=201, response_model=AssessmentRead,
             responses=problems(*CHANGING, IllegalAssessmentTransition, AmendmentInProgress))
async def amend_assessment(assessment_id: uuid.UUID, body: AmendmentCreate, who: CanWrite, version: IfMatch,
                           assessments: AssessmentsDep, idem: IdempotencyDep) -> JSONResponse:
    """Amend an authorised assessment: a new draft revision is made, copied from it and linked to
    it (`amends_id`); the authorised one stays readable as it is. Send `If-Match` with the
    authorised assessment's ETag and the reason. One open amendment at a time, from the latest
    revision. Send `Idempotency-Key` to retry safely."""

    async def create() -> Created:
        return _created(await assessments.amend(who, assessment_id, version, body))

    return await idem.run(who, body, create, prepare=lambda: assessments.confirm_assessment(assessment_id))
