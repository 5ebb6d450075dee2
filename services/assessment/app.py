"""Assessment service: toolkit definitions as versioned data, and the assessments made with them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

import httpx
from fastapi import FastAPI
from sqlalchemy.exc import OperationalError

from services.assessment.api import assessments, audit, children, toolkits
from services.assessment.domain.definitions import ShippedToolkit, read_definition_files
from services.assessment.domain.toolkits import Toolkits
from services.assessment.queries.toolkits import ToolkitQueries
from services.assessment.settings import AssessmentSettings
from shared.db import Database
from shared.service import build_service_app

TAGS = [
    {"name": "toolkits", "description": "Assessment tools (GCP2 structure, local tools, a safety scale) as versioned definitions: structure only."},
    {"name": "assessments", "description": "Toolkit assessments of a child: draft, submitted, authorised by a manager, amended with history."},
    {"name": "trajectory", "description": "A child's change over time across assessments and tools, and the latest authorised results."},
    {"name": "audit", "description": "Who accessed a child's records, and what an agency accessed (scope `audit:read`)."},
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


async def start(app: FastAPI) -> None:
    """Start-up: publish the toolkit versions shipped in ``reference/`` that the database lacks,
    and open the client for the referral service (unless one was given, as tests do)."""
    settings: AssessmentSettings = app.state.settings
    if settings.load_shipped_toolkits:
        shipped = await asyncio.to_thread(read_definition_files, settings.toolkit_dir)
        await publish_shipped(app.state.db, shipped)
    if getattr(app.state, "referral_client", None) is None:
        app.state.referral_client = httpx.AsyncClient(timeout=settings.referral_timeout_seconds)
        app.state.referral_client_owned = True


def _close_referral_client_on_shutdown(app: FastAPI) -> None:
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with inner(app):
            try:
                yield
            finally:
                client = getattr(app.state, "referral_client", None)
                if client is not None and getattr(app.state, "referral_client_owned", False):
                    await client.aclose()
                    app.state.referral_client = None
                    app.state.referral_client_owned = False

    app.router.lifespan_context = lifespan


def create_app(settings: AssessmentSettings | None = None) -> FastAPI:
    settings = settings or AssessmentSettings()
    app = build_service_app(
        settings,
        title="Assessment API",
        description="Neglect toolkits (GCP2 structure, local tools, a safety scale) as versioned data, the "
                    "assessments made with them, and each child's trajectory.",
        routers=[toolkits.router, assessments.router, children.router, audit.router],
        tags=TAGS,
        on_startup=start,
    )
    #: The referral service client; None until start-up (or first use) makes one. Tests put their own here.
    app.state.referral_client = None
    app.state.referral_client_owned = False
    _close_referral_client_on_shutdown(app)
    return app
