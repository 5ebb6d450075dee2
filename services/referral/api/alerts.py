"""Timescale clocks and the drift and delay alerts raised on them."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from services.referral.api.deps import CanRead, IsAdmin
from services.referral.domain.alerts import Alerts, Filters, UnknownClock
from services.referral.domain.calendar import england_and_wales
from services.referral.domain.clocks import (
    ALERTING,
    LONDON,
    ClockSet,
    InvalidTimescales,
    load_clocks,
)
from services.referral.domain.errors import AgencyNotFound, ChildNotFound
from services.referral.queries.alerts import AlertQueries
from services.referral.schemas.alerts import (
    AlertList,
    AlertPage,
    AlertRead,
    AlertSummary,
    TimescalesRead,
)
from shared.audit import AuditDep
from shared.db import SessionDep
from shared.errors import Unprocessable, problems
from shared.pagination import InvalidCursor, PageDep, set_link_header

router = APIRouter(tags=["alerts"])
_STATE_KEY = "referral_clocks"


class TimescalesNotLoaded(Unprocessable):
    slug, title = "timescales-invalid", "The timescales file cannot be used"


def clocks_in_force(request: Request) -> ClockSet:
    """The clocks loaded from the configured file, read once and kept until an admin reloads them."""
    clocks: ClockSet | None = getattr(request.app.state, _STATE_KEY, None)
    if clocks is None:
        clocks = load_clocks(request.app.state.settings.timescales_file or None)
        setattr(request.app.state, _STATE_KEY, clocks)
    return clocks


async def alerts_today() -> date:
    """The day alerts are computed for: today in England. Tests override this dependency;
    partners cannot choose it."""
    return datetime.now(LONDON).date()


ClocksDep = Annotated[ClockSet, Depends(clocks_in_force)]
Today = Annotated[date, Depends(alerts_today)]


async def alerts_domain(request: Request, session: SessionDep, audit: AuditDep, clocks: ClocksDep) -> Alerts:
    settings = request.app.state.settings
    return Alerts(AlertQueries(session, settings.full_access_agency_types), clocks, england_and_wales(),
                  settings.due_soon_working_days, audit)


AlertsDep = Annotated[Alerts, Depends(alerts_domain)]
StatusFilter = Annotated[Literal["overdue", "due_soon"] | None, Query(description="Only overdue, or only due soon.")]
ClockFilter = Annotated[str | None, Query(max_length=60, pattern=r"^[a-z][a-z0-9_]*$",
                                          description="A clock id from GET /v1/timescales.", examples=["icpc_timeliness"])]


@router.get("/timescales", responses=problems())
async def list_timescales(who: CanRead, clocks: ClocksDep) -> TimescalesRead:
    """The timescale clocks in force: limits, units and sources, with the version of the
    timescales file they come from. A clock without a limit is listed but not in force until
    the partnership sets one; `alerts` says whether GET /v1/alerts watches it."""
    return TimescalesRead.of(clocks, frozenset(ALERTING))


@router.post("/timescales/reload", responses=problems(TimescalesNotLoaded))
async def reload_timescales(who: IsAdmin, request: Request) -> TimescalesRead:
    """Re-read the configured timescales file (partnership administrators only). A file that
    cannot be used is refused and the clocks already in force stay. Each replica reloads its own copy."""
    try:
        clocks = await asyncio.to_thread(load_clocks, request.app.state.settings.timescales_file or None)
    except InvalidTimescales as exc:
        raise TimescalesNotLoaded(str(exc)) from exc
    setattr(request.app.state, _STATE_KEY, clocks)
    return TimescalesRead.of(clocks, frozenset(ALERTING))


@router.get("/alerts", responses=problems(AgencyNotFound, UnknownClock, InvalidCursor))
async def list_alerts(
    who: CanRead,
    alerts: AlertsDep,
    clocks: ClocksDep,
    today: Today,
    page: PageDep,
    response: Response,
    child_id: Annotated[uuid.UUID | None, Query(description="Only this child's alerts.")] = None,
    agency_id: Annotated[uuid.UUID | None, Query(
        description="Only children this agency is working with now (an active involvement). "
                    "You still see only the children your own agency may see.")] = None,
    status: StatusFilter = None,
    clock: ClockFilter = None,
) -> AlertPage:
    """What is overdue or due soon for the children your agency can see, most overdue first:
    referral decisions, feedback to referrers, assessments, initial conferences, CP plan reviews
    (an overdue review is drift), first core groups, and plans open two years or more
    (a monitoring flag). Each alert names its clock, the record, the dates and the rule.
    Follow `Link: rel="next"` for more."""
    items, next_cursor = await alerts.page(who, today, Filters(child_id, agency_id, status, clock),
                                           page.limit, page.cursor)
    set_link_header(response, page, next_cursor)
    return AlertPage(as_of=today, timescales_version=clocks.version,
                     items=[AlertRead.of(a, clocks.version) for a in items], next_cursor=next_cursor)


@router.get("/alerts/summary", responses=problems(AgencyNotFound))
async def summarise_alerts(
    who: CanRead,
    alerts: AlertsDep,
    clocks: ClocksDep,
    today: Today,
    agency_id: Annotated[uuid.UUID | None, Query(
        description="Count for the children this agency works with now; leave out to count every child you can see.")] = None,
) -> AlertSummary:
    """Counts of overdue and due-soon alerts by clock: a manager's view of drift, for a partner
    agency's children or for everyone you can see. Only children your agency may see are counted."""
    lines = await alerts.summary(who, today, agency_id)
    return AlertSummary.of(agency_id, today, clocks.version, lines)


@router.get("/children/{child_id}/alerts", responses=problems(ChildNotFound, UnknownClock))
async def list_child_alerts(
    child_id: uuid.UUID,
    who: CanRead,
    alerts: AlertsDep,
    clocks: ClocksDep,
    today: Today,
    status: StatusFilter = None,
    clock: ClockFilter = None,
) -> AlertList:
    """One child's overdue and due-soon alerts, most overdue first. A child your agency may not see is a 404."""
    items = await alerts.of_child(who, child_id, today, Filters(status=status, clock=clock))
    return AlertList(as_of=today, timescales_version=clocks.version,
                     items=[AlertRead.of(a, clocks.version) for a in items])
