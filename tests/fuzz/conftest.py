"""The services fuzzed on their own, each on a database of its own built by its migrations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from services.assessment.app import create_app as create_assessment
from services.assessment.settings import AssessmentSettings
from services.gateway.app import Gateway
from services.gateway.app import create_app as create_gateway
from services.gateway.settings import GatewaySettings
from services.reporting.app import create_app as create_reporting
from services.reporting.app import load_calendar
from services.reporting.settings import ReportingSettings
from tests.e2e.conftest import stack  # noqa: F401 - the running services, shared with the e2e tests
from tests.support import Keys, common_settings, create_database, drop_database


@pytest.fixture(scope="session")
async def fuzz_assessment_app(keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FastAPI]:
    url = await create_database("assessment", tmp_path_factory.mktemp("fuzz-assessment"))
    app = create_assessment(AssessmentSettings(**common_settings(keys, url)))  # type: ignore[arg-type]
    try:
        async with app.router.lifespan_context(app):  # publishes the shipped toolkits
            yield app
    finally:
        await drop_database(url)


@pytest.fixture(scope="session")
async def fuzz_reporting_app(keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FastAPI]:
    url = await create_database("reporting", tmp_path_factory.mktemp("fuzz-reporting"))
    app = create_reporting(ReportingSettings(**common_settings(keys, url)))  # type: ignore[arg-type]
    await load_calendar(app)
    try:
        yield app
    finally:
        await app.state.db.dispose()
        await drop_database(url)


@pytest.fixture(scope="session")
async def fuzz_gateway_app(keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gateway]:
    """The gateway with no services behind it and no rate limit: its own operations only."""
    folder: Path = tmp_path_factory.mktemp("fuzz-gateway")
    url = await create_database("gateway", folder)
    settings = GatewaySettings(**{**common_settings(keys, url), "key_dir": folder / "keys", "rate_limit_per_minute": 0})  # type: ignore[arg-type]
    app = create_gateway(settings, upstreams={})
    try:
        yield app
    finally:
        await app.state.db.dispose()
        await drop_database(url)
