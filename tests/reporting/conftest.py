from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.reporting.app import create_app, load_calendar
from services.reporting.domain.read_model import ReadModel
from services.reporting.queries.read_model import ReadModelQueries
from services.reporting.schemas import EventEnvelope
from services.reporting.settings import ReportingSettings
from tests.support import Keys, common_settings, create_database, drop_database, isolated

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.synthetic import Partnership, generate  # noqa: E402

#: The synthetic partnership the dataset and export tests read: small enough for every run.
SYNTHETIC_CHILDREN = 300
SYNTHETIC_SEED = 11
SYNTHETIC_START, SYNTHETIC_END = date(2022, 4, 1), date(2026, 3, 31)
POPULATION = 48_000
LA_CODE = "919"


@pytest.fixture(scope="session")
async def reporting_url(session_tmp: Path) -> AsyncIterator[str]:
    url = await create_database("reporting", session_tmp)
    yield url
    await drop_database(url)


@pytest.fixture(scope="session")
async def reporting_app(keys: Keys, reporting_url: str) -> AsyncIterator[FastAPI]:
    app = create_app(ReportingSettings(**common_settings(keys, reporting_url)))  # type: ignore[arg-type]
    await load_calendar(app)  # committed once: tests' own writes are rolled back around it
    yield app
    await app.state.db.dispose()


@pytest.fixture
async def reporting(reporting_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    # base_url matches the referral outbox's subscriber URL (http://reporting/v1/events).
    async with isolated(reporting_app, "http://reporting") as client:
        yield client


@pytest.fixture(scope="session")
def synthetic() -> Partnership:
    return generate(SYNTHETIC_CHILDREN, seed=SYNTHETIC_SEED, start=SYNTHETIC_START, end=SYNTHETIC_END, la_code=LA_CODE)


@asynccontextmanager
async def synthetic_reporting(keys: Keys, folder: Path, synthetic: Partnership) -> AsyncIterator[FastAPI]:
    """A reporting service in a database of its own under ``folder``, holding the synthetic
    partnership, loaded once through the ingest code; dropped afterwards."""
    folder.mkdir(exist_ok=True)
    url = await create_database("reporting", folder)
    settings = ReportingSettings(**common_settings(keys, url), la_code=LA_CODE, population_0_17=POPULATION,  # type: ignore[arg-type]
                                 population_year=2024)
    app = create_app(settings)
    await load_calendar(app)
    async with app.state.db.sessions() as session:
        await ReadModel(ReadModelQueries(session)).receive_many([EventEnvelope.model_validate(e) for e in synthetic.events])
        await session.commit()
    try:
        yield app
    finally:
        await app.state.db.dispose()
        await drop_database(url)


@pytest.fixture(scope="session")
async def synthetic_app(keys: Keys, session_tmp: Path, synthetic: Partnership) -> AsyncIterator[FastAPI]:
    """A reporting service holding the synthetic partnership, loaded once through the ingest code."""
    async with synthetic_reporting(keys, session_tmp / "synthetic", synthetic) as app:
        yield app


@pytest.fixture
async def synth(synthetic_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with isolated(synthetic_app, "http://reporting") as client:
        yield client
