from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from services.referral.api.deps import CanRead, CanWrite, ChildrenDep
from services.referral.domain.errors import (
    AgencyNotRegistered,
    ChildNotFound,
    DuplicateChildId,
    DuplicateExternalRef,
)
from services.referral.models import Child
from services.referral.schemas.children import ChildCreate, ChildPage, ChildRead
from shared.errors import problems
from shared.etag import etag, set_etag
from shared.idempotency import Created, IdempotencyDep
from shared.pagination import PageDep, set_link_header

router = APIRouter(prefix="/children", tags=["children"])


def child_read(child: Child, external_ref: str | None) -> ChildRead:
    return ChildRead(
        **child.model_dump(include=set(ChildRead.model_fields) - {"unborn", "external_ref"}),
        unborn=child.birth_date is None,
        external_ref=external_ref,
    )


@router.post(
    "", status_code=201, response_model=ChildRead,
    responses=problems(AgencyNotRegistered, DuplicateExternalRef, DuplicateChildId),
)
async def register_child(body: ChildCreate, who: CanWrite, children: ChildrenDep, idem: IdempotencyDep) -> JSONResponse:
    """Register a child or an unborn child. Your agency is recorded as involved from today,
    so you can read the child back. Send `Idempotency-Key` to retry safely. Emits `child.registered`."""

    async def create() -> Created:
        child, ref = await children.register(who, body)
        return Created(child_read(child, ref), {"Location": f"/v1/children/{child.id}", "ETag": etag(child.version)})

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


@router.get("/{child_id}", responses=problems(ChildNotFound))
async def get_child(child_id: uuid.UUID, who: CanRead, children: ChildrenDep, response: Response) -> ChildRead:
    """One child. A child your agency may not see is a 404, exactly like one that does not exist."""
    child, ref = await children.get(who, child_id)
    set_etag(response, child.version)
    return child_read(child, ref)
