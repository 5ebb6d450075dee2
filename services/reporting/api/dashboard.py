from __future__ import annotations

from fastapi import APIRouter

from services.reporting.api.deps import CanRead, ReadModelDep
from services.reporting.events import AGENCIES_REGISTERED, CHILDREN_REGISTERED, EVENTS_RECEIVED
from services.reporting.schemas import DashboardSummary
from shared.errors import problems

router = APIRouter(prefix="/dashboard", tags=["dashboard"])


@router.get("/summary", responses=problems())
async def get_summary(who: CanRead, read_model: ReadModelDep) -> DashboardSummary:
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
