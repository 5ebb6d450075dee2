"""What the reporting service does before its first request: reference data read, start-up's
objects kept out of the garbage collector's full passes while it runs."""

from __future__ import annotations

import gc

import httpx

from services.reporting.app import create_app
from services.reporting.domain import reference
from services.reporting.settings import ReportingSettings
from tests.support import Keys, common_settings


async def test_startup_reads_reference_data_and_freezes_its_objects(keys: Keys, reporting_url: str) -> None:
    reference.dataset_definitions.cache_clear()
    reference.ethnicity_groups.cache_clear()
    app = create_app(ReportingSettings(**common_settings(keys, reporting_url)))  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        # Loaded by start-up, not by a reader's first request.
        assert reference.dataset_definitions.cache_info().currsize == 1
        assert reference.ethnicity_groups.cache_info().currsize == 1
        assert gc.get_freeze_count() > 0
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reporting") as client:
            assert (await client.get("/livez")).status_code == 200
    # Handed back when the app stops: nothing stays out of the collector's reach.
    assert gc.get_freeze_count() == 0
