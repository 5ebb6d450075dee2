from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.reporting.app import create_app
from services.reporting.settings import ReportingSettings
from tests.support import Keys, common_settings, create_database, drop_database, isolated


@pytest.fixture(scope="session")
async def reporting_url(session_tmp: Path) -> AsyncIterator[str]:
    url = await create_database("reporting", session_tmp)
    yield url
    await drop_database(url)


@pytest.fixture(scope="session")
async def reporting_app(keys: Keys, reporting_url: str) -> AsyncIterator[FastAPI]:
    app = create_app(ReportingSettings(**common_settings(keys, reporting_url)))  # type: ignore[arg-type]
    yield app
    await app.state.db.dispose()


@pytest.fixture
async def reporting(reporting_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    # base_url matches the referral outbox's subscriber URL (http://reporting/v1/events).
    async with isolated(reporting_app, "http://reporting") as client:
        yield client
