"""Reporting service: a read model fed by the other services' events; the quarterly neglect
dataset, the dashboards and the statutory exports on it."""

from __future__ import annotations

from fastapi import FastAPI

from services.reporting.api import dashboard, datasets, events, exports, targets
from services.reporting.domain import reference
from services.reporting.domain.calendar import WorkingCalendar, load_holidays
from services.reporting.domain.read_model import ReadModel
from services.reporting.queries.read_model import ReadModelQueries
from services.reporting.settings import ReportingSettings
from shared.audit_api import audit_router
from shared.service import build_service_app

TAGS = [
    {"name": "events", "description": "Signed events from the other services (machine to machine)."},
    {"name": "datasets", "description": "The quarterly partnership neglect dataset, and the partnership settings it depends on."},
    {"name": "dashboard", "description": "Partnership-wide figures shaped for dashboards: cheap enough for every page load."},
    {"name": "exports", "description": "Identifiable statutory exports (scope `reporting:export`): DfE CIN census, Ofsted Annex A."},
    {"name": "audit", "description": "What an agency's clients exported (scope `audit:read`); exports name no single child."},
]


async def load_calendar(app: FastAPI) -> None:
    """Load the day table the clocks run on (a no-op when it is already up to date), and the
    reference data the figures use."""
    reference.preload()
    settings: ReportingSettings = app.state.settings
    calendar = WorkingCalendar(load_holidays(settings.bank_holidays_file or None))
    app.state.working_calendar = calendar
    async with app.state.db.sessions() as session:
        await ReadModel(ReadModelQueries(session)).ensure_calendar(calendar)
        await session.commit()
    app.state.calendar_ready = True


def create_app(settings: ReportingSettings | None = None) -> FastAPI:
    settings = settings or ReportingSettings()
    return build_service_app(
        settings,
        title="Reporting API",
        description="The partnership's read model, fed by events: dashboards, the quarterly neglect dataset and statutory exports.",
        routers=[events.router, datasets.router, dashboard.router, targets.router, exports.router, audit_router("reporting")],
        tags=TAGS,
        on_startup=load_calendar,
    )
