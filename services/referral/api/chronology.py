"""The child's multi-agency chronology: every partner's significant events side by side.
Append-only: entries are never changed or deleted (PATCH and DELETE are 405)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from services.referral.api.deps import CanRead, CanWrite
from services.referral.domain.chronology import Chronology
from services.referral.domain.errors import AgencyNotRegistered, ChildNotFound
from services.referral.events import ChronologyEntryAdded
from services.referral.models import ChronologyEntry
from services.referral.queries.chronology import ChronologyFilters, ChronologyQueries
from services.referral.schemas.chronology import (
    AgencyRef,
    ChronologyEntryCreate,
    ChronologyEntryRead,
    ChronologyPage,
    EntrySource,
    Significance,
)
from shared.audit import AuditDep
from shared.contracts import publish
from shared.db import SessionDep
from shared.errors import BadRequest, IdempotencyInFlight, IdempotencyKeyReused, NotFound, problems
from shared.events import OutboxDep
from shared.idempotency import Created, IdempotencyDep
from shared.pagination import InvalidCursor, PageDep, set_link_header

router = APIRouter(prefix="/children/{child_id}/chronology", tags=["chronology"])
ENTRY_ADDED = ChronologyEntryAdded.event_type
PARTNER_SOURCE = "partner"


class ChronologyEntryNotFound(NotFound):
    slug, title = "chronology-entry-not-found", "No such chronology entry for this agency"


async def chronology_queries(request: Request, session: SessionDep) -> ChronologyQueries:
    return ChronologyQueries(session, request.app.state.settings.full_access_agency_types)


ChronologyQueriesDep = Annotated[ChronologyQueries, Depends(chronology_queries)]


def entry_read(entry: ChronologyEntry, agency_name: str | None) -> ChronologyEntryRead:
    agency = AgencyRef(id=entry.agency_id, name=agency_name or "") if entry.agency_id else None
    source = EntrySource(type=entry.source_type, id=entry.source_id) if entry.source_type else None
    return ChronologyEntryRead(
        id=entry.id, child_id=entry.child_id, occurred_at=entry.occurred_at, agency=agency, kind=entry.kind,
        significance=entry.significance,
        summary=entry.summary, source=source, created_at=entry.created_at,
    )


@router.get("", responses=problems(ChildNotFound, InvalidCursor))
async def list_chronology(
    child_id: uuid.UUID,
    who: CanRead,
    entries: ChronologyQueriesDep,
    audit: AuditDep,
    page: PageDep,
    response: Response,
    order: Annotated[Literal["desc", "asc"], Query(description="`desc`: newest first (default); `asc`: oldest first.")] = "desc",
    significance_at_least: Annotated[Significance | None, Query(description="Only entries this significant or more.")] = None,
    kind: Annotated[list[str] | None, Query(max_length=20, description="Only these kinds (repeat the parameter for several).")] = None,
    from_: Annotated[date | None, Query(alias="from", description="Entries on or after this day (UTC).")] = None,
    to: Annotated[date | None, Query(description="Entries on or before this day (UTC).")] = None,
) -> ChronologyPage:
    """The child's chronology from every agency, in the order things happened (newest first
    unless `order=asc`): agency, kind, significance, summary and the record each line comes from.
    Follow `Link: rel="next"` for more. A child your agency may not see is a 404."""
    if not await entries.child_is_visible(who, child_id):
        raise ChildNotFound(f"No child {child_id} visible to your agency.")
    filters = ChronologyFilters(significance_at_least, tuple(kind or ()), from_, to)
    rows, next_cursor = await entries.page(who, child_id, filters, order, page.limit, page.position())
    audit.record(who, "list", "chronology", [child_id])
    set_link_header(response, page, next_cursor)
    return ChronologyPage(items=[entry_read(e, name) for e, name in rows], next_cursor=next_cursor)


@router.post("", status_code=201, response_model=ChronologyEntryRead,
             responses=problems(ChildNotFound, AgencyNotRegistered, BadRequest, IdempotencyInFlight, IdempotencyKeyReused))
async def add_chronology_entry(
    child_id: uuid.UUID,
    body: ChronologyEntryCreate,
    who: CanWrite,
    entries: ChronologyQueriesDep,
    session: SessionDep,
    audit: AuditDep,
    outbox: OutboxDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    """Add a significant event your agency knows about to the child's chronology, so it stands
    beside the other partners' events. Entries are permanent: a correction is a new entry.
    Send `Idempotency-Key` to retry safely. Emits `chronology.entry_added` (ids only)."""

    async def create() -> Created:
        if not await entries.child_is_visible(who, child_id):
            raise ChildNotFound(f"No child {child_id} visible to your agency.")
        agency = await entries.agency(who.agency_id)
        if agency is None:
            raise AgencyNotRegistered("Ask the partnership to register your agency before adding to chronologies.")
        entry = Chronology(session).add(
            child_id, body.kind, body.summary, occurred=body.occurred_at, agency_id=agency.id,
            significance=body.significance, source_type=PARTNER_SOURCE,
        )
        await session.flush()
        audit.record(who, "create", "chronology", [child_id])
        await publish(outbox, ChronologyEntryAdded(child_id=child_id, entry_id=entry.id, agency_id=agency.id))
        return Created(entry_read(entry, agency.name), {"Location": f"/v1/children/{child_id}/chronology/{entry.id}"})

    return await idem.run(who, body, create)


@router.get("/{entry_id}", responses=problems(ChronologyEntryNotFound))
async def get_chronology_entry(
    child_id: uuid.UUID, entry_id: uuid.UUID, who: CanRead, entries: ChronologyQueriesDep, audit: AuditDep
) -> ChronologyEntryRead:
    """One line of the child's chronology."""
    found = await entries.get(who, child_id, entry_id)
    if found is None:
        raise ChronologyEntryNotFound(f"No chronology entry {entry_id} for a child visible to your agency.")
    audit.record(who, "read", "chronology", [child_id])
    return entry_read(*found)
