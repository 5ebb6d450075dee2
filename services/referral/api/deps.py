from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.referral.domain.agencies import Agencies
from services.referral.domain.calendar import england_and_wales
from services.referral.domain.children import ChildReads, Children
from services.referral.domain.episodes import Journeys
from services.referral.queries.children import AgencyQueries, ChildQueries
from services.referral.queries.journey import JourneyQueries
from shared.audit import Audit, AuditDep
from shared.auth import require_scopes
from shared.db import SessionDep
from shared.events import OutboxDep
from shared.tokens import Principal

CanRead = Annotated[Principal, Depends(require_scopes("referral:read"))]
CanWrite = Annotated[Principal, Depends(require_scopes("referral:write"))]
IsAdmin = Annotated[Principal, Depends(require_scopes("admin"))]


async def agencies_domain(session: SessionDep, outbox: OutboxDep) -> Agencies:
    return Agencies(AgencyQueries(session), outbox)


async def children_domain(request: Request, session: SessionDep, audit: AuditDep, outbox: OutboxDep) -> Children:
    settings = request.app.state.settings
    return Children(ChildQueries(session, settings.full_access_agency_types), AgencyQueries(session), audit, outbox)


async def child_reads(request: Request, session: SessionDep) -> ChildReads:
    # Only what a read uses, in one dependency call: no outbox, no agency queries. The audit
    # row is recorded on the request's session, so it is written in its transaction as before.
    settings = request.app.state.settings
    return ChildReads(ChildQueries(session, settings.full_access_agency_types), Audit(session, request))


AgenciesDep = Annotated[Agencies, Depends(agencies_domain)]
ChildrenDep = Annotated[Children, Depends(children_domain)]
ChildReadsDep = Annotated[ChildReads, Depends(child_reads)]


async def journeys_domain(request: Request, session: SessionDep, audit: AuditDep, outbox: OutboxDep) -> Journeys:
    settings = request.app.state.settings
    return Journeys(
        JourneyQueries(session, settings.full_access_agency_types), AgencyQueries(session),
        england_and_wales(), settings.full_access_agency_types, audit, outbox,
    )


JourneysDep = Annotated[Journeys, Depends(journeys_domain)]
