"""Assessment service: toolkit definitions as versioned data and, later, the assessments made with them."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from fastapi import FastAPI
from sqlalchemy.exc import OperationalError

from services.assessment.api import toolkits
from services.assessment.domain.toolkits import ShippedToolkit, Toolkits, read_definition_files
from services.assessment.queries import ToolkitQueries
from services.assessment.settings import AssessmentSettings
from shared.db import Database
from shared.service import build_service_app

TAGS = [
    {"name": "toolkits", "description": "Assessment tools (GCP2 and local tools) as versioned definitions: structure only."},
]


STARTUP_ATTEMPTS = 5


async def _publish_once(db: Database, shipped: Sequence[ShippedToolkit]) -> int:
    async with db.sessions() as session:
        added = await Toolkits(ToolkitQueries(session)).load_shipped(shipped)
        await session.commit()
        return added


async def publish_shipped(db: Database, shipped: Sequence[ShippedToolkit]) -> int:
    """Publish the shipped versions the database lacks, in one transaction; returns how many.

    Replicas may start together. PostgreSQL makes the later one wait and skip
    what the first wrote; SQLite refuses its write outright ("database is
    locked"), so the transaction is retried and then finds the rows present.
    """
    for attempt in range(1, STARTUP_ATTEMPTS):
        try:
            return await _publish_once(db, shipped)
        except OperationalError:
            await asyncio.sleep(0.1 * attempt)
    return await _publish_once(db, shipped)


async def load_shipped_toolkits(app: FastAPI) -> None:
    """Start-up: publish the toolkit versions shipped in ``reference/`` that the database lacks."""
    settings: AssessmentSettings = app.state.settings
    if settings.load_shipped_toolkits:
        shipped = await asyncio.to_thread(read_definition_files, settings.toolkit_dir)
        await publish_shipped(app.state.db, shipped)


def create_app(settings: AssessmentSettings | None = None) -> FastAPI:
    settings = settings or AssessmentSettings()
    return build_service_app(
        settings,
        title="Assessment API",
        description="Neglect toolkits (GCP2 structure, local tools) as versioned data, and the assessments made with them.",
        routers=[toolkits.router],
        tags=TAGS,
        on_startup=load_shipped_toolkits,
    )
