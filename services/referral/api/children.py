from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy.engine import RowMapping

from services.referral.api.deps import CanRead, CanWrite, ChildReadsDep, ChildrenDep
from services.referral.domain.errors import (
    AgencyNotRegistered,
    ChildNotFound,
    DuplicateChildId,
    DuplicateExternalRef,
    DuplicateNhsNumber,
    NotStatutoryAgency,
    UnbornChildRule,
)
from services.referral.domain.journey import RuleBroken
from services.referral.models import Child
from services.referral.schemas.children import (
    BirthRecord,
    ChildCreate,
    ChildPage,
    ChildRead,
    ChildUpdate,
    DeathRecord,
    PlansElsewhere,
    PlansElsewhereRead,
)
from shared.errors import PreconditionFailed, PreconditionRequired, problems
from shared.etag import IfMatch, etag, set_etag
from shared.idempotency import Created, IdempotencyDep
from shared.pagination import PageDep, set_link_header

router = APIRouter(prefix="/children", tags=["children"])


def child_read(child: Child, external_ref: str | None) -> ChildRead:
    return ChildRead(
        **child.model_dump(include=set(ChildRead.model_fields) - {"unborn", "external_ref", "cp_plans_elsewhere"}),
        unborn=child.birth_date is None,
        cp_plans_elsewhere=PlansElsewhereRead(previous_plans=child.cp_plans_elsewhere,
                                              latest_end_date=child.cp_plans_elsewhere_latest_end_date),
        external_ref=external_ref,
    )


def child_read_row(child: Mapping[str, Any] | RowMapping, external_ref: str | None) -> ChildRead:
    """``child_read`` from the child's columns (a Core row or the values just inserted)."""
    return ChildRead.model_validate({
        **child,
        "unborn": child["birth_date"] is None,
        "cp_plans_elsewhere": {"previous_plans": child["cp_plans_elsewhere"],
                               "latest_end_date": child["cp_plans_elsewhere_latest_end_date"]},
        "external_ref": external_ref,
    })


@router.post(
    "", status_code=201, response_model=ChildRead,
    responses=problems(AgencyNotRegistered, DuplicateExternalRef, DuplicateChildId, DuplicateNhsNumber),
)
async def register_child(body: ChildCreate, who: CanWrite, children: ChildrenDep, idem: IdempotencyDep) -> JSONResponse:
    """Register a child or an unborn child. Your agency is recorded as involved from today,
    so you can read the child back. Send `Idempotency-Key` to retry safely. Emits `child.registered`.

    **NHS numbers already known.** When your agency can already see a child with the same
    NHS number (you registered or work with that child, or you are children's social care),
    the answer is `409 duplicate-nhs-number` with `existing_child_ids`: the ids of those
    children, oldest first. Use that record instead of registering a
    second one. A child your agency may not see is never mentioned: you get `201` and a
    new record, exactly as if nobody held that NHS number, so the API never tells an
    agency whether a child is known to other services. Children's social care sees
    both records (`GET /v1/children?nhs_number=`) and reconciles them.
    """

    async def create() -> Created:
        child, ref = await children.register(who, body)
        return Created(child_read_row(child, ref), {"Location": f"/v1/children/{child['id']}", "ETag": etag(child["version"])})

    return await idem.run(who, body, create)


@router.get("", responses=problems())
async def list_children(
    who: CanRead,
    children: ChildrenDep,
    page: PageDep,
    response: Response,
    external_ref: Annotated[str | None, Query(max_length=100, description="Your agency's own reference.")] = None,
    la_child_id: Annotated[str | None, Query(max_length=20)] = None,
    nhs_number: Annotated[str | None, Query(pattern=r"^\d{10}$")] = None,
) -> ChildPage:
    """Children visible to your agency, oldest first; filter by your own reference, LA child id or NHS number."""
    rows, next_cursor = await children.page(
        who, page, external_ref=external_ref, la_child_id=la_child_id, nhs_number=nhs_number
    )
    set_link_header(response, page, next_cursor)
    return ChildPage(items=[child_read(c, ref) for c, ref in rows], next_cursor=next_cursor)


@router.patch("/{child_id}", responses=problems(ChildNotFound, DuplicateChildId, DuplicateNhsNumber, UnbornChildRule,
                                                PreconditionFailed, PreconditionRequired))
async def update_child(child_id: uuid.UUID, body: ChildUpdate, who: CanWrite, version: IfMatch,
                       children: ChildrenDep, response: Response) -> ChildRead:
    """Correct or complete a child's identifiers and characteristics (DfE code lists).
    Send only the fields that change, with `If-Match`. Emits `child.updated` (field names only).

    Giving the child an NHS number that another child your agency can see already has is
    `409 duplicate-nhs-number` with `existing_child_ids`; children you may not see are never
    mentioned (as on registration)."""
    child, ref = await children.update(who, child_id, version, body)
    set_etag(response, child.version)
    return child_read(child, ref)


@router.post("/{child_id}/birth", responses=problems(ChildNotFound, UnbornChildRule, RuleBroken, PreconditionFailed,
                                                     PreconditionRequired))
async def record_birth(child_id: uuid.UUID, body: BirthRecord, who: CanWrite, version: IfMatch,
                       children: ChildrenDep, response: Response) -> ChildRead:
    """An unborn child is born: the birth date replaces the expected one and the gender is recorded.

    A child whose referral led to further action needs its disability record (`NONE` if none) from
    birth on (DfE 8540): send `disabilities` unless one is recorded already, or the birth is refused
    (409, rule 8540). A birth date more than 40 weeks after one of the child's referrals is refused
    (409, rule 8606)."""
    child, ref = await children.record_birth(who, child_id, version, body)
    set_etag(response, child.version)
    return child_read(child, ref)


@router.post("/{child_id}/death", responses=problems(ChildNotFound, RuleBroken, PreconditionFailed, PreconditionRequired))
async def record_death(child_id: uuid.UUID, body: DeathRecord, who: CanWrite, version: IfMatch,
                       children: ChildrenDep, response: Response) -> ChildRead:
    """Record a child's death. Refused (409) before the birth or when plan activity is dated after it."""
    child, ref = await children.record_death(who, child_id, version, body)
    set_etag(response, child.version)
    return child_read(child, ref)


@router.put("/{child_id}/cp-plans-elsewhere",
            responses=problems(ChildNotFound, NotStatutoryAgency, RuleBroken, PreconditionFailed, PreconditionRequired))
async def record_plans_elsewhere(child_id: uuid.UUID, body: PlansElsewhere, who: CanWrite, version: IfMatch,
                                 children: ChildrenDep, response: Response) -> ChildRead:
    """Record the child's child protection plans in other local authorities (a child who moved
    here, or arrives on another authority's plan): how many, and when the latest ended.
    Children's social care only (403), with `If-Match` on the child's ETag. Each plan that starts
    here afterwards counts them in its NumberOfPreviousCPP (census) and in the repeat-plan
    measures; plans already started keep their count. Refused (409) when the end date is in the
    future or falls inside a plan here (DfE 8940). Emits `child.cp_plans_elsewhere_recorded`.
    A transfer-in conference can record the same with its `plans_elsewhere`."""
    child, ref = await children.record_plans_elsewhere(who, child_id, version, body)
    set_etag(response, child.version)
    return child_read(child, ref)


@router.get("/{child_id}", responses=problems(ChildNotFound))
async def get_child(child_id: uuid.UUID, who: CanRead, children: ChildReadsDep, response: Response) -> ChildRead:
    """One child. A child your agency may not see is a 404, exactly like one that does not exist."""
    child, ref = await children.get(who, child_id)
    set_etag(response, child["version"])
    return child_read_row(child, ref)
