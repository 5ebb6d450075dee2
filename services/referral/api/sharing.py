"""Consent and the information-sharing log. Append-only: there are no update or delete routes."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from services.referral.api.deps import CanRead, CanWrite
from services.referral.api.people import CREATE_ERRORS, LIST_ERRORS, full_access_types
from services.referral.api.practice import PracticeDep
from services.referral.domain.errors import ChildNotFound
from services.referral.domain.involvements import UnknownAgency
from services.referral.domain.people import PersonNotFound
from services.referral.domain.sharing import ShareToSelf, Sharing
from services.referral.queries.people import PeopleQueries
from services.referral.queries.sharing import SharingQueries
from services.referral.schemas.sharing import (
    ConsentCreate,
    ConsentPage,
    ConsentRead,
    InformationShareCreate,
    InformationSharePage,
    InformationShareRead,
)
from shared.audit import AuditDep
from shared.db import SessionDep
from shared.errors import problems
from shared.events import OutboxDep
from shared.idempotency import Created, IdempotencyDep
from shared.pagination import PageDep, set_link_header

router = APIRouter(tags=["sharing"])


async def sharing_domain(request: Request, session: SessionDep, audit: AuditDep, outbox: OutboxDep,
                   practice: PracticeDep) -> Sharing:
    types = full_access_types(request)
    return Sharing(SharingQueries(session, types), PeopleQueries(session, types), practice, audit, outbox)


SharingDep = Annotated[Sharing, Depends(sharing_domain)]


@router.post("/children/{child_id}/consents", status_code=201, response_model=ConsentRead,
             responses=problems(ChildNotFound, PersonNotFound, *CREATE_ERRORS))
async def record_consent(child_id: uuid.UUID, body: ConsentCreate, who: CanWrite, sharing: SharingDep,
                         idem: IdempotencyDep) -> JSONResponse:
    """Record a consent position (given, refused, withdrawn, not sought, with the reason). Consent is
    recorded, never a gate: sharing to safeguard a child goes ahead without it where the law allows.
    Withdrawn consent also records a `consent_withdrawn` engagement event. Emits `consent.recorded`."""

    async def create() -> Created:
        consent = await sharing.record_consent(who, child_id, body)
        return Created(ConsentRead.model_validate(consent, from_attributes=True),
                       {"Location": f"/v1/children/{child_id}/consents"})

    return await idem.run(who, body, create)


@router.get("/children/{child_id}/consents", responses=problems(ChildNotFound, *LIST_ERRORS))
async def list_consents(child_id: uuid.UUID, who: CanRead, sharing: SharingDep, page: PageDep,
                        response: Response) -> ConsentPage:
    """The child's consent records, newest first."""
    rows, next_cursor = await sharing.consents(who, child_id, page)
    set_link_header(response, page, next_cursor)
    return ConsentPage(items=[ConsentRead.model_validate(c, from_attributes=True) for c in rows], next_cursor=next_cursor)


@router.post("/children/{child_id}/information-shares", status_code=201, response_model=InformationShareRead,
             responses=problems(ChildNotFound, UnknownAgency, ShareToSelf, *CREATE_ERRORS))
async def record_information_share(child_id: uuid.UUID, body: InformationShareCreate, who: CanWrite,
                                   sharing: SharingDep, idem: IdempotencyDep) -> JSONResponse:
    """Log a share about the child, or a decision not to share (`shared: false` with
    `reason_not_shared`): what, to whom, why, the UK GDPR Article 6 basis, any special category or
    criminal offence data condition, who decided. The child's latest consent status is stored with
    the entry; refused or withdrawn consent never blocks the record. Emits `information_share.recorded`."""

    async def create() -> Created:
        share = await sharing.record_share(who, child_id, body)
        return Created(InformationShareRead.model_validate(share, from_attributes=True),
                       {"Location": f"/v1/children/{child_id}/information-shares"})

    return await idem.run(who, body, create)


@router.get("/children/{child_id}/information-shares", responses=problems(ChildNotFound, *LIST_ERRORS))
async def list_child_information_shares(child_id: uuid.UUID, who: CanRead, sharing: SharingDep, page: PageDep,
                                        response: Response) -> InformationSharePage:
    """The child's information-sharing log, newest decision first, from every agency."""
    rows, next_cursor = await sharing.shares_of_child(who, child_id, page)
    set_link_header(response, page, next_cursor)
    return InformationSharePage(items=[InformationShareRead.model_validate(s, from_attributes=True) for s in rows],
                                next_cursor=next_cursor)


@router.get("/information-shares", responses=problems(*LIST_ERRORS))
async def list_agency_information_shares(
    who: CanRead, sharing: SharingDep, page: PageDep, response: Response,
    to_agency_id: Annotated[uuid.UUID | None, Query(description="Only shares to this agency.")] = None,
    direction: Annotated[Literal["outgoing", "incoming"] | None, Query(description="Only what your agency shared, or only what it received.")] = None,
) -> InformationSharePage:
    """Your agency's outgoing and incoming shares (and decisions not to share), newest first, about
    children your agency can see."""
    rows, next_cursor = await sharing.shares_of_agency(who, page, to_agency_id=to_agency_id, direction=direction)
    set_link_header(response, page, next_cursor)
    return InformationSharePage(items=[InformationShareRead.model_validate(s, from_attributes=True) for s in rows],
                                next_cursor=next_cursor)
