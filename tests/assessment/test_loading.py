"""Loading shipped toolkit versions at start: idempotent, race-safe, immutable once published."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import func
from sqlmodel import select

from services.assessment.app import publish_shipped
from services.assessment.domain.definitions import normalise, read_definition_files
from services.assessment.domain.errors import PublishedVersionImmutable
from services.assessment.domain.toolkits import Toolkits
from services.assessment.models import METADATA, PUBLISHED, Toolkit, ToolkitVersion
from services.assessment.queries.toolkits import ToolkitQueries
from services.assessment.settings import SHIPPED_TOOLKITS
from shared.db import Database
from shared.migrate import schema_drift
from tests.assessment.toolkit_data import local_tool_raw
from tests.support import create_database, drop_database


async def _counts(db: Database) -> tuple[int, int]:
    async with db.sessions() as session:
        toolkits = (await session.exec(select(func.count()).select_from(Toolkit))).one()
        versions = (await session.exec(select(func.count()).select_from(ToolkitVersion))).one()
        return toolkits, versions


@pytest.mark.usefixtures("assessment")
async def test_loading_twice_does_not_duplicate(assessment_app: FastAPI) -> None:
    db: Database = assessment_app.state.db
    before = await _counts(db)
    assert before >= (1, 1)
    for _ in range(2):
        async with db.sessions() as session:
            added = await Toolkits(ToolkitQueries(session)).load_shipped(read_definition_files(SHIPPED_TOOLKITS))
            await session.commit()
        assert added == 0
    assert await _counts(db) == before


@pytest.mark.usefixtures("assessment")
async def test_a_version_written_meanwhile_is_skipped_not_an_error(assessment_app: FastAPI) -> None:
    async with assessment_app.state.db.sessions() as session:
        queries = ToolkitQueries(session)
        # As if another replica inserted between our check and our insert.
        twin = ToolkitVersion(toolkit_id="gcp2", version="2-structure-1", definition={})
        assert await queries.add_version_if_missing(twin) is False
        assert await queries.add_toolkit_if_missing(Toolkit(id="gcp2", name="x", owner="y")) is False
        assert (await queries.version("gcp2", "2-structure-1")) is not None
        await session.commit()


@pytest.mark.usefixtures("assessment")
async def test_a_new_version_becomes_latest_and_the_old_stays_readable(assessment_app: FastAPI) -> None:
    async with assessment_app.state.db.sessions() as session:
        toolkits = Toolkits(ToolkitQueries(session))
        assert await toolkits.load_shipped([normalise(local_tool_raw("local_v", "1"))]) == 1
        assert await toolkits.load_shipped([normalise(local_tool_raw("local_v", "2"))]) == 1
        _, latest = await toolkits.latest("local_v")
        _, first = await toolkits.version("local_v", "1")
        assert (latest.version, first.version) == ("2", "1")


@pytest.mark.usefixtures("assessment")
async def test_a_changed_file_never_rewrites_a_published_version(assessment_app: FastAPI) -> None:
    async with assessment_app.state.db.sessions() as session:
        toolkits = Toolkits(ToolkitQueries(session))
        await toolkits.load_shipped([normalise(local_tool_raw("local_w"))])
        changed = local_tool_raw("local_w")
        changed["areas"][0]["name"] = "Renamed"
        assert await toolkits.load_shipped([normalise(changed)]) == 0
        _, version = await toolkits.latest("local_w")
        assert version.definition["areas"][0]["name"] == "Home conditions"


@pytest.mark.usefixtures("assessment")
async def test_published_versions_cannot_be_updated(assessment_app: FastAPI) -> None:
    async with assessment_app.state.db.sessions() as session:
        version = (await session.exec(select(ToolkitVersion).where(ToolkitVersion.toolkit_id == "gcp2"))).one()
        assert version.status == PUBLISHED
        version.definition = {**version.definition, "areas": []}
        session.add(version)
        with pytest.raises(PublishedVersionImmutable):
            await session.flush()


async def test_replicas_starting_together_publish_once(tmp_path: Path) -> None:
    url = await create_database("assessment", tmp_path)
    replicas = [Database(url), Database(url)]
    shipped = read_definition_files(SHIPPED_TOOLKITS)

    try:
        added = await asyncio.gather(*(publish_shipped(db, shipped) for db in replicas))
        assert sum(added) == len(shipped)
        assert await _counts(replicas[0]) == (len(shipped), len(shipped))
    finally:
        for db in replicas:
            await db.dispose()
        await drop_database(url)


async def test_migrations_match_the_models(assessment_url: str) -> None:
    assert await schema_drift(assessment_url, METADATA) == []
