from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from services.referral.api.deps import AgenciesDep, CanRead, IsAdmin
from services.referral.domain.codes import agency_types
from services.referral.domain.errors import AgencyNotFound, DuplicateExternalRef
from services.referral.models import Agency
from services.referral.schemas.children import AgencyCreate, AgencyPage, AgencyRead, AgencyTypeRead
from shared.errors import problems
from shared.etag import set_etag
from shared.idempotency import Created, IdempotencyDep
from shared.pagination import PageDep, set_link_header

router = APIRouter(tags=["agencies"])


def agency_read(agency: Agency) -> AgencyRead:
    kind = agency_types()[agency.agency_type]
    return AgencyRead(
        id=agency.id, name=agency.name, agency_type=agency.agency_type, sector=kind.sector,
        referral_source=kind.referral_source, external_ref=agency.external_ref,
        created_at=agency.created_at, version=agency.version,
    )


@router.get("/agency-types", responses=problems())
async def list_agency_types(who: CanRead) -> list[AgencyTypeRead]:
    """The partner agency types and the DfE referral source each maps to."""
    return [AgencyTypeRead(**vars(t)) for t in agency_types().values()]


@router.post("/agencies", status_code=201, response_model=AgencyRead, responses=problems(DuplicateExternalRef))
async def register_agency(body: AgencyCreate, who: IsAdmin, agencies: AgenciesDep, idem: IdempotencyDep) -> JSONResponse:
    """Register a partner agency (partnership administrators only). Emits `agency.registered`."""

    async def create() -> Created:
        agency = await agencies.register(body)
        return Created(agency_read(agency), {"Location": f"/v1/agencies/{agency.id}", "ETag": f'"{agency.version}"'})

    return await idem.run(who, body, create)


@router.get("/agencies", responses=problems())
async def list_agencies(
    who: CanRead, agencies: AgenciesDep, page: PageDep, response: Response,
    agency_type: Annotated[str | None, Query(max_length=60)] = None,
) -> AgencyPage:
    """The partnership's agencies, oldest first. Follow `Link: rel="next"` for more."""
    items, next_cursor = await agencies.page(page, agency_type)
    set_link_header(response, page, next_cursor)
    return AgencyPage(items=[agency_read(a) for a in items], next_cursor=next_cursor)


@router.get("/agencies/{agency_id}", responses=problems(AgencyNotFound))
async def get_agency(agency_id: uuid.UUID, who: CanRead, agencies: AgenciesDep, response: Response) -> AgencyRead:
    """One agency."""
    agency = await agencies.get(agency_id)
    set_etag(response, agency.version)
    return agency_read(agency)
