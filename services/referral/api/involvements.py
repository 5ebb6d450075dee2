"""Professionals, and which agencies work with a child: an active involvement lets that agency see the child."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from services.referral.api.deps import CanRead, CanWrite
from services.referral.api.people import (
    CHANGE_ERRORS,
    CREATE_ERRORS,
    LIST_ERRORS,
    full_access_types,
)
from services.referral.domain.errors import AgencyNotRegistered, ChildNotFound
from services.referral.domain.involvements import (
    DuplicateInvolvement,
    InvolvementNotFound,
    InvolvementRuleBroken,
    Involvements,
    InvolvementView,
    OwnAgencyOnly,
    ProfessionalNotFound,
    ProfessionalNotInAgency,
    UnknownAgency,
)
from services.referral.models import Professional
from services.referral.queries.people import InvolvementQueries
from services.referral.schemas.people import (
    InvolvementCreate,
    InvolvementEnd,
    InvolvementPage,
    InvolvementRead,
    ProfessionalCreate,
    ProfessionalPage,
    ProfessionalRead,
    today,
)
from shared.audit import AuditDep
from shared.db import SessionDep
from shared.errors import problems
from shared.etag import IfMatch, etag, set_etag
from shared.events import OutboxDep
from shared.idempotency import Created, IdempotencyDep
from shared.pagination import PageDep, set_link_header

router = APIRouter(tags=["involvements"])


async def involvements_domain(request: Request, session: SessionDep, audit: AuditDep, outbox: OutboxDep) -> Involvements:
    types = full_access_types(request)
    return Involvements(InvolvementQueries(session, types), types, audit, outbox)


InvolvementsDep = Annotated[Involvements, Depends(involvements_domain)]


def professional_read(professional: Professional) -> ProfessionalRead:
    return ProfessionalRead.model_validate(professional, from_attributes=True)


def involvement_read(view: InvolvementView) -> InvolvementRead:
    i = view.involvement
    now = today()
    return InvolvementRead(
        id=i.id, child_id=i.child_id, agency_id=i.agency_id, agency_name=view.agency.name,
        agency_type=view.agency.agency_type,
        professional=professional_read(view.professional) if view.professional else None,
        role=i.role, start_date=i.start_date, end_date=i.end_date,
        active=i.start_date <= now and (i.end_date is None or i.end_date >= now),
        created_at=i.created_at, version=i.version,
    )


@router.post("/professionals", status_code=201, response_model=ProfessionalRead,
             responses=problems(AgencyNotRegistered, *CREATE_ERRORS))
async def record_professional(body: ProfessionalCreate, who: CanWrite, involvements: InvolvementsDep,
                              idem: IdempotencyDep) -> JSONResponse:
    """Record a professional of your own agency (a worker to name on involvements and visits).
    Emits `professional.recorded`."""

    async def create() -> Created:
        professional = await involvements.record_professional(who, body)
        return Created(professional_read(professional), {"Location": f"/v1/professionals/{professional.id}"})

    return await idem.run(who, body, create)


@router.get("/professionals", responses=problems(*LIST_ERRORS))
async def list_professionals(
    who: CanRead, involvements: InvolvementsDep, page: PageDep, response: Response,
    agency_id: Annotated[uuid.UUID | None, Query(description="Only this agency's professionals.")] = None,
) -> ProfessionalPage:
    """The partnership's professionals, oldest first; filter by agency. Follow `Link: rel="next"` for more."""
    rows, next_cursor = await involvements.professionals(page, agency_id)
    set_link_header(response, page, next_cursor)
    return ProfessionalPage(items=[professional_read(p) for p in rows], next_cursor=next_cursor)


@router.get("/professionals/{professional_id}", responses=problems(ProfessionalNotFound))
async def get_professional(professional_id: uuid.UUID, who: CanRead, involvements: InvolvementsDep) -> ProfessionalRead:
    """One professional."""
    return professional_read(await involvements.professional(professional_id))


@router.post("/children/{child_id}/involvements", status_code=201, response_model=InvolvementRead,
             responses=problems(ChildNotFound, AgencyNotRegistered, OwnAgencyOnly, UnknownAgency,
                                ProfessionalNotInAgency, DuplicateInvolvement, *CREATE_ERRORS))
async def record_involvement(child_id: uuid.UUID, body: InvolvementCreate, who: CanWrite,
                             involvements: InvolvementsDep, idem: IdempotencyDep) -> JSONResponse:
    """Record that an agency works with a child you can see: your own agency, or (children's social
    care only, with `agency_id`) another agency, e.g. the school joining the core group. From its
    start date the agency sees the child. Emits `involvement.started`."""

    async def create() -> Created:
        view = await involvements.record(who, child_id, body)
        i = view.involvement
        return Created(involvement_read(view), {"Location": f"/v1/involvements/{i.id}", "ETag": etag(i.version)})

    return await idem.run(who, body, create)


@router.get("/children/{child_id}/involvements", responses=problems(ChildNotFound, *LIST_ERRORS))
async def list_involvements(
    child_id: uuid.UUID, who: CanRead, involvements: InvolvementsDep, page: PageDep, response: Response,
    active: Annotated[bool, Query(description="Only involvements active today.")] = False,
) -> InvolvementPage:
    """Who works with the child: agencies, their roles and named professionals, oldest first."""
    views, next_cursor = await involvements.of_child(who, child_id, page, active_only=active)
    set_link_header(response, page, next_cursor)
    return InvolvementPage(items=[involvement_read(v) for v in views], next_cursor=next_cursor)


@router.get("/involvements/{involvement_id}", responses=problems(InvolvementNotFound))
async def get_involvement(involvement_id: uuid.UUID, who: CanRead, involvements: InvolvementsDep,
                          response: Response) -> InvolvementRead:
    """One involvement, with its ETag (needed to end it)."""
    view = await involvements.get(who, involvement_id)
    set_etag(response, view.involvement.version)
    return involvement_read(view)


@router.post("/involvements/{involvement_id}/end",
             responses=problems(InvolvementNotFound, AgencyNotRegistered, OwnAgencyOnly, InvolvementRuleBroken, *CHANGE_ERRORS))
async def end_involvement(involvement_id: uuid.UUID, body: InvolvementEnd, who: CanWrite, version: IfMatch,
                          involvements: InvolvementsDep, response: Response) -> InvolvementRead:
    """End an involvement (the involved agency itself, or children's social care). `end_date` is the
    last day: after it the agency no longer sees the child through this involvement. Send `If-Match`.
    Emits `involvement.ended`."""
    view = await involvements.end(who, involvement_id, version, body)
    set_etag(response, view.involvement.version)
    return involvement_read(view)
