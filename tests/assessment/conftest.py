from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.assessment.app import create_app
from services.assessment.settings import AssessmentSettings
from tests.support import Keys, common_settings, create_database, drop_database, isolated


@pytest.fixture(scope="session")
async def assessment_url(session_tmp: Path) -> AsyncIterator[str]:
    url = await create_database("assessment", session_tmp)
    yield url
    await drop_database(url)


@pytest.fixture(scope="session")
async def assessment_app(keys: Keys, assessment_url: str) -> AsyncIterator[FastAPI]:
    app = create_app(AssessmentSettings(**common_settings(keys, assessment_url)))  # type: ignore[arg-type]
    # The real start-up: publishes the shipped toolkits (committed, as in production).
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def assessment(assessment_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with isolated(assessment_app, "http://assessment") as client:
        yield client
