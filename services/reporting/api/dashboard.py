from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from services.reporting.api.deps import CanRead, DashboardDep, JsonOnly, ReadModelDep, ReportsDep
from services.reporting.domain.calendar import FIRST_DAY, LAST_DAY
from services.reporting.domain.errors import (
    InvalidPeriod,
    PeriodTooLong,
    UnknownMetric,
)
from services.reporting.domain.periods import Period
from services.reporting.events import AGENCIES_REGISTERED, CHILDREN_REGISTERED, EVENTS_RECEIVED
from services.reporting.schemas import (
    Alerts,
    Caseload,
    DashboardSummary,
    Series,
    SeriesPoint,
    Timeliness,
    Trajectories,
)
from shared.errors import NotAcceptable, problems

router = APIRouter(prefix="/dashboard", tags=["dashboard"])

AT = Query(description="The date to count at (default today, UTC).", examples=["2026-03-31"])
PERIOD = Query(min_length=4, max_length=30, description="A quarter `2025-26-Q4`, a financial year `2025-26` or a range `2025-04-01..2025-06-30`.")




def _today(at: date | None) -> date:
    day = at or datetime.now(UTC).date()
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidPeriod(f"Dates from {FIRST_DAY} to {LAST_DAY} are supported.", field="query.at")
    return day


def _period(p: Period) -> dict[str, object]:
    return {"name": p.name, "kind": p.kind, "start": p.start, "end": p.end}


@router.get("/summary", responses=problems(NotAcceptable))
async def get_summary(who: CanRead, media: JsonOnly, read_model: ReadModelDep) -> DashboardSummary:
    """Partnership-wide counts from the events received so far. Counts move as the other
    services' events arrive (usually within seconds), so they may briefly trail the
    services themselves. No child-level data."""
    summary = await read_model.summary()
    return DashboardSummary(
        children_registered=summary.counts[CHILDREN_REGISTERED],
        agencies_registered=summary.counts[AGENCIES_REGISTERED],
        events_received=summary.counts[EVENTS_RECEIVED],
        last_event_at=summary.last_event_at,
    )


@router.get("/series", responses=problems(InvalidPeriod, PeriodTooLong, UnknownMetric, NotAcceptable))
async def get_series(
    who: CanRead, media: JsonOnly, reports: ReportsDep,
    metric: Annotated[str, Query(max_length=10, description="A dataset metric id.", examples=["NQ01"])],
    from_: Annotated[str, Query(alias="from", max_length=30, description="The first quarter (or any period inside it).", examples=["2024-25-Q1"])],
    to: Annotated[str, Query(max_length=30, description="The last quarter (or any period inside it).", examples=["2025-26-Q4"])],
) -> Series:
    """A time series of one dataset metric, one point per financial quarter from `from` to `to`
    (at most the configured number of quarters): the metric's total for each quarter, with the
    same definitions and suppression as the quarterly dataset."""
    first = reports.period(from_)
    last = reports.period(to)
    points = await reports.series(who, metric, first, last)
    head = points[0].metric
    return Series(
        metric=metric, title=head["title"], unit=head["unit"], period_basis=head["period_basis"],
        suppressed=head["suppressed"], reason=head["reason"],
        points=[SeriesPoint.model_validate({"period": _period(p.period), "available": p.metric["available"],
                                            "total": p.metric["total"]}) for p in points],
    )


@router.get("/caseload", responses=problems(InvalidPeriod, NotAcceptable))
async def get_caseload(who: CanRead, media: JsonOnly, dash: DashboardDep,
                       at: Annotated[date | None, AT] = None) -> Caseload:
    """Children in statutory work on a date, each counted once at the furthest stage they are in
    (CP plan, CIN plan, s47 enquiry, assessment, other open episode), and children in early help
    only; referrals awaiting a threshold decision; CP plans for neglect. Counts only, suppressed
    as the dataset is."""
    return Caseload.model_validate(await dash.caseload(who, _today(at)))


@router.get("/alerts", responses=problems(InvalidPeriod, NotAcceptable))
async def get_alerts(who: CanRead, media: JsonOnly, dash: DashboardDep,
                     at: Annotated[date | None, AT] = None) -> Alerts:
    """Drift alerts: for each statutory clock in the timescales data (the referral service's
    limits), how many items have it running on the date, how many are past the limit and how
    many fall due within the configured number of working days. Clocks without a limit, or
    whose events no service announces yet, say so instead of counting."""
    return Alerts.model_validate(await dash.alerts(who, _today(at)))


@router.get("/timeliness", responses=problems(InvalidPeriod, PeriodTooLong, NotAcceptable))
async def get_timeliness(who: CanRead, media: JsonOnly, dash: DashboardDep, reports: ReportsDep,
                         period: Annotated[str, PERIOD]) -> Timeliness:
    """Timeliness against each timescale: items whose clock stopped in the period (decisions,
    feedback, assessments authorised, initial conferences, reviews, first core groups) and the
    share that stopped within the limit."""
    return Timeliness.model_validate(await dash.timeliness(who, reports.period(period)))


@router.get("/trajectories", responses=problems(InvalidPeriod, PeriodTooLong, NotAcceptable))
async def get_trajectories(who: CanRead, media: JsonOnly, dash: DashboardDep, reports: ReportsDep,
                           period: Annotated[str, PERIOD]) -> Trajectories:
    """Toolkit trajectories: children with a repeat toolkit assessment authorised in the period, by
    tool and by how their latest repeat compares with their baseline on the practitioner's area
    grades (improved, static, deteriorated, mixed), each tool in its own scale direction. A
    profile compared area by area, never an overall score; suppressed as the dataset is."""
    return Trajectories.model_validate(await dash.trajectories(who, reports.period(period)))
