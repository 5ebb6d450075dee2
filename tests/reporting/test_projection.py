"""The read model: built from events only, in any order, and rebuilt from the event log."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select, text

from scripts.synthetic import generate
from services.reporting import rebuild as rebuild_command
from services.reporting.app import create_app, load_calendar
from services.reporting.domain.contracts import Contracts
from services.reporting.domain.read_model import ReadModel
from services.reporting.models import (
    READ_MODEL_TABLES,
    RmChild,
    RmChildIdentity,
    RmToolkitAssessment,
)
from services.reporting.queries.read_model import ReadModelQueries
from services.reporting.schemas import EventEnvelope
from services.reporting.settings import ReportingSettings
from tests.reporting.factories import READER, event, send
from tests.support import Keys, TokenFor, common_settings, create_database, drop_database

ADMIN = uuid.UUID("00000000-0000-4000-8000-00000000a0a0")


async def dump(app: FastAPI) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    async with app.state.db.sessions() as session:
        connection = await session.connection()
        for model in READ_MODEL_TABLES:
            table = model.__table__  # type: ignore[attr-defined]
            keys = list(table.primary_key.columns)
            rows = (await connection.execute(select(table).order_by(*keys))).all()
            # Which write came last is not part of the model: guard timestamps are left out.
            out[table.name] = [tuple(v for c, v in zip(table.columns, r, strict=True) if c.name != "facts_at") for r in rows]
    return out


async def test_events_in_any_order_give_the_read_model_a_rebuild_gives(
    reporting: httpx.AsyncClient, reporting_app: FastAPI, token_for: TokenFor,
) -> None:
    events = generate(25, seed=5).events
    shuffled = events[:]
    random.Random(1).shuffle(shuffled)  # noqa: S311 - a reproducible delivery order
    for e in shuffled:
        assert (await send(reporting, e)).json() == {"status": "applied"}
    for e in shuffled[:15]:  # relays retry: redeliveries change nothing
        assert (await send(reporting, e)).json() == {"status": "duplicate"}
    out_of_order = await dump(reporting_app)
    assert sum(len(rows) for rows in out_of_order.values()) > 200
    figures = (await reporting.get("/v1/datasets/quarterly", params={"period": "2025-26"},
                                   headers=token_for(READER, "reporting:read", "reporting:export"))).json()

    r = await reporting.post("/v1/datasets/rebuild", headers=token_for(ADMIN, "admin"))
    assert r.status_code == 200, r.text
    assert r.json() == {"events": len(events), "unreadable": 0}
    assert await dump(reporting_app) == out_of_order
    again = (await reporting.get("/v1/datasets/quarterly", params={"period": "2025-26"},
                                 headers=token_for(READER, "reporting:read", "reporting:export"))).json()
    assert again["metrics"] == figures["metrics"]
    summary = (await reporting.get("/v1/dashboard/summary", headers=token_for(READER, "reporting:read"))).json()
    assert summary["children_registered"] == 25
    assert summary["events_received"] == len(events)


async def test_older_facts_arriving_late_do_not_overwrite_newer_ones(
    reporting: httpx.AsyncClient, reporting_app: FastAPI,
) -> None:
    child, agency = str(uuid.uuid4()), str(uuid.uuid4())
    now = datetime.now(UTC)
    facts = {"child_id": child, "unborn": False, "birth_date": "2019-06-05", "expected_birth_date": None,
             "death_date": None, "gender": "2", "disabilities": ["NONE"], "la_child_id": "LA1", "upn": None,
             "upn_unknown": "UN1"}
    newer = {**event("child.updated", **facts, ethnicity="BAFR", fields=["ethnicity"]), "occurred_at": now.isoformat()}
    older = {**event("child.registered", **facts, ethnicity="NOBT", agency_id=agency),
             "occurred_at": (now - timedelta(days=3)).isoformat()}
    await send(reporting, newer)
    await send(reporting, older)
    async with reporting_app.state.db.sessions() as session:
        row = await session.get(RmChild, uuid.UUID(child))
        identity = await session.get(RmChildIdentity, uuid.UUID(child))
    assert row is not None
    assert identity is not None
    assert (row.ethnicity, row.registering_agency_id, row.birth_ym) == ("BAFR", uuid.UUID(agency), 2019 * 12 + 5)
    assert identity.la_child_id == "LA1"


async def test_unreadable_logged_events_project_nothing_on_rebuild(
    reporting: httpx.AsyncClient, reporting_app: FastAPI, token_for: TokenFor,
) -> None:
    """Events logged before the contracts were checked on arrival (a missing id, a bad date)
    stay in the log and project nothing when it is replayed. (Arriving now, they get 422:
    tests/reporting/test_contracts.py.)"""
    before = await dump(reporting_app)
    bad = event("cp_plan.started", child_id=str(uuid.uuid4()), episode_id=str(uuid.uuid4()), date="2026-01-05", category="NEG")
    bad_date = event("episode.closed", episode_id=str(uuid.uuid4()), date="05/01/2026", reason="RC7")
    async with reporting_app.state.db.sessions() as session:
        unchecked = ReadModel(ReadModelQueries(session), Contracts(projections={}))
        assert await unchecked.receive_many([EventEnvelope.model_validate(e) for e in (bad, bad_date)]) == 2
        await session.commit()
    assert await dump(reporting_app) == before
    async with reporting_app.state.db.sessions() as session:
        unreadable = (await session.exec(text("SELECT value FROM metric_counter WHERE name = 'events_unreadable'"))).one()  # type: ignore[call-overload]
    assert unreadable[0] == 2
    r = await reporting.post("/v1/datasets/rebuild", headers=token_for(ADMIN, "admin"))
    assert r.json()["unreadable"] == 2


async def test_toolkit_assessments_and_amendments(reporting: httpx.AsyncClient, reporting_app: FastAPI, token_for: TokenFor) -> None:
    child, lineage = str(uuid.uuid4()), str(uuid.uuid4())
    first, second, amended = (str(uuid.uuid4()) for _ in range(3))

    def authorised(assessment: str, on: str, grades: dict[str, int], supersedes: str | None = None) -> dict[str, Any]:
        return {**event("assessment.authorised", assessment_id=assessment, child_id=child, toolkit_id="gcp2",
                        toolkit_version="1", lineage_id=lineage if assessment != first else str(uuid.uuid4()),
                        authorised_at=f"{on}T10:00:00+00:00", area_grades=grades, supersedes_id=supersedes),
                "source": "assessment"}

    # Out of order: the amendment arrives before the revision it replaces.
    await send(reporting, authorised(amended, "2026-02-12", {"physical_care": 3, "emotional_care": 5}, supersedes=second))
    await send(reporting, authorised(first, "2025-10-01", {"physical_care": 4, "emotional_care": 4}))
    await send(reporting, authorised(second, "2026-02-10", {"physical_care": 2, "emotional_care": 4}))
    unnamed = {**event("assessment.authorised", assessment_id=str(uuid.uuid4())), "source": "assessment"}
    assert (await send(reporting, unnamed)).status_code == 422  # no toolkit: it breaks the contract
    async with reporting_app.state.db.sessions() as session:
        rows = (await session.exec(select(RmToolkitAssessment.toolkit_assessment_id, RmToolkitAssessment.superseded))).all()  # type: ignore[call-overload]
    assert dict(rows) == {first: None, second: True, amended: None}
    body = (await reporting.get("/v1/datasets/quarterly", params={"period": "2025-26-Q4"},
                                headers=token_for(READER, "reporting:read", "reporting:export"))).json()
    metrics = {m["id"]: m for m in body["metrics"]}
    assert metrics["NQ27"]["total"]["count"] == 1  # the amendment, not the revision it replaced
    # Against the baseline: physical care better (3 < 4), emotional care worse (5 > 4): mixed.
    assert [c["key"] for c in metrics["NQ28"]["breakdowns"]["trajectory_class"] if c["count"]] == ["mixed"]


async def test_rebuild_needs_admin(reporting: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await reporting.post("/v1/datasets/rebuild", headers=token_for(READER, "reporting:read", "reporting:export"))
    assert r.status_code == 403


async def test_the_rebuild_command(keys: Keys, session_tmp: Path) -> None:
    folder = session_tmp / "rebuild"
    folder.mkdir(exist_ok=True)
    url = await create_database("reporting", folder)
    settings = ReportingSettings(**common_settings(keys, url))  # type: ignore[arg-type]
    app = create_app(settings)
    try:
        await load_calendar(app)
        events = generate(5, seed=9).events
        async with app.state.db.sessions() as session:
            await ReadModel(ReadModelQueries(session)).receive_many([EventEnvelope.model_validate(e) for e in events])
            await session.commit()
        built = await dump(app)
        async with app.state.db.sessions() as session:
            await ReadModelQueries(session).clear_read_model()
            await session.commit()
        assert sum(len(r) for r in (await dump(app)).values()) == 0
        assert await rebuild_command.rebuild(settings) == (len(events), 0)
        assert await dump(app) == built
    finally:
        await app.state.db.dispose()
        await drop_database(url)
