"""Reporting service: a read model fed by the other services' events, and the dashboards on it."""

from __future__ import annotations

from fastapi import FastAPI

from services.reporting.api import dashboard, events
from services.reporting.settings import ReportingSettings
from shared.service import build_service_app

TAGS = [
    {"name": "events", "description": "Signed events from the other services (machine to machine)."},
    {"name": "dashboard", "description": "Partnership-wide figures for dashboards."},
]


def create_app(settings: ReportingSettings | None = None) -> FastAPI:
    settings = settings or ReportingSettings()
    return build_service_app(
        settings,
        title="Reporting API",
        description="The partnership's read model, fed by events: dashboards, the quarterly neglect dataset and statutory exports.",
        routers=[events.router, dashboard.router],
        tags=TAGS,
    )
