"""Direct identifiers live only in the export-scoped tables; names, NHS numbers and text nowhere.

Events carrying every kind of identifier are fed in (through the signed route and the bulk
path), then every row of every table outside ``EXPORT_SCOPED_TABLES`` is read back and
searched for the values that were sent.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from services.reporting.domain.identifiers import separate
from services.reporting.domain.read_model import ReadModel
from services.reporting.models import EXPORT_SCOPED_TABLES, METADATA, RmChild, RmChildIdentity
from services.reporting.queries.read_model import ReadModelQueries
from services.reporting.schemas import EventEnvelope
from shared.db import make_engine
from shared.migrate import upgrade
from tests.reporting.factories import event, send
from tests.support import TokenFor, create_database, drop_database

ADMIN = uuid.UUID("00000000-0000-4000-8000-00000000a0a0")

# Census identifiers: needed by the statutory export, so kept, but only in the export-scoped tables.
LA_CHILD_ID, UPN = "NSIDT0042", "Y999999123456"
BIRTH, EXPECTED, DEATH = "2018-07-23", "2026-10-19", "2025-11-27"
# Never needed: kept nowhere at all.
NHS, NHS_SPACED = "9990000034", "999 000 0042"
GIVEN, FAMILY, POSTCODE, TEXT = "Quibblesworth", "Zanzibarova", "ZZ99 3CZ", "told the visitor about the grandmother"
NEVER = [NHS, NHS_SPACED, GIVEN, FAMILY, POSTCODE, TEXT, "Grimsditch Lane"]
CENSUS = [LA_CHILD_ID, UPN, BIRTH, EXPECTED, DEATH]


def _events(child: str, unborn: str) -> list[dict[str, Any]]:
    facts = {"child_id": child, "unborn": False, "birth_date": BIRTH, "expected_birth_date": None, "death_date": None,
             "gender": "2", "ethnicity": "WBRI", "disabilities": ["NONE"], "la_child_id": LA_CHILD_ID, "upn": UPN,
             "upn_unknown": None}
    careless = {"nhs_number": NHS, "given_name": GIVEN, "family_name": FAMILY, "postcode": POSTCODE,
                "home_address": "1 Grimsditch Lane", "note": TEXT, "reference": NHS_SPACED, "aliases": [GIVEN + " X"]}
    return [
        event("child.registered", agency_id=str(uuid.uuid4()), **facts, **careless),
        event("child.died", **{**facts, "death_date": DEATH}),
        event("child.registered", child_id=unborn, agency_id=str(uuid.uuid4()), unborn=True, birth_date=None,
              expected_birth_date=EXPECTED, gender="0", disabilities=[], upn_unknown="UN1", mother_surname=FAMILY),
        event("early_help.closed", child_id=child, episode_id=str(uuid.uuid4()), date="2026-01-08", reason=TEXT),
        event("visit.recorded", child_id=child, visit_id=str(uuid.uuid4()), agency_id=str(uuid.uuid4()),
              visited_on="2026-01-09", statutory=True, child_seen=True, seen_alone=False, no_access=False, worker=POSTCODE),
    ]


def _text(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


async def _found(app: FastAPI, needles: list[str], *, skip: frozenset[str]) -> dict[str, list[str]]:
    """Each table outside ``skip`` whose rows hold any of ``needles``, with the needles found."""
    found: dict[str, list[str]] = {}
    async with app.state.db.sessions() as session:
        connection = await session.connection()
        for table in METADATA.sorted_tables:
            if table.name in skip:
                continue
            rows = (await connection.execute(select(table))).all()
            assert table.name != "event_log" or rows, "the scan must see the events it looks through"
            # The calendar holds every day by construction: dates found there are no leak.
            wanted = [n for n in needles if not (table.name == "calendar_day" and n in (BIRTH, EXPECTED, DEATH))]
            hay = "\n".join(_text(v) for row in rows for v in row)
            if hits := [n for n in wanted if n in hay]:
                found[table.name] = hits
    return found


async def _identity(app: FastAPI, child: str) -> tuple[Any, ...]:
    async with app.state.db.sessions() as session:
        row = (await session.exec(select(RmChildIdentity.la_child_id, RmChildIdentity.upn, RmChildIdentity.birth_date,  # type: ignore[call-overload]
                                         RmChildIdentity.death_date).where(RmChildIdentity.child_id == uuid.UUID(child)))).one()
        return tuple(row)


async def test_signed_events_leave_identifiers_only_in_the_export_scoped_tables(
    reporting: httpx.AsyncClient, reporting_app: FastAPI, token_for: TokenFor
) -> None:
    child, unborn = str(uuid.uuid4()), str(uuid.uuid4())
    for payload in _events(child, unborn):
        r = await send(reporting, payload)
        assert r.status_code == 200, r.text

    assert await _found(reporting_app, CENSUS + NEVER, skip=EXPORT_SCOPED_TABLES) == {}
    assert await _found(reporting_app, NEVER, skip=frozenset()) == {}
    # The export still has what it needs, and analysis its codes.
    assert await _identity(reporting_app, child) == (LA_CHILD_ID, UPN, date.fromisoformat(BIRTH), date.fromisoformat(DEATH))
    async with reporting_app.state.db.sessions() as session:
        rm_child = await session.get(RmChild, uuid.UUID(child))
        assert rm_child is not None
        assert (rm_child.gender, rm_child.died, rm_child.birth_ym) == ("2", True, 2018 * 12 + 6)

    # A rebuild from the log alone gives the export its identifiers back, and keeps them apart.
    r = await reporting.post("/v1/datasets/rebuild", headers=token_for(ADMIN, "admin"))
    assert r.status_code == 200, r.text
    assert await _identity(reporting_app, child) == (LA_CHILD_ID, UPN, date.fromisoformat(BIRTH), date.fromisoformat(DEATH))
    assert await _found(reporting_app, CENSUS + NEVER, skip=EXPORT_SCOPED_TABLES) == {}


async def test_the_bulk_path_keeps_identifiers_apart_too(reporting: httpx.AsyncClient, reporting_app: FastAPI) -> None:
    child, unborn = str(uuid.uuid4()), str(uuid.uuid4())
    async with reporting_app.state.db.sessions() as session:
        await ReadModel(ReadModelQueries(session)).receive_many([EventEnvelope.model_validate(e) for e in _events(child, unborn)])
        await session.commit()
    assert await _found(reporting_app, CENSUS + NEVER, skip=EXPORT_SCOPED_TABLES) == {}
    assert await _found(reporting_app, NEVER, skip=frozenset()) == {}
    assert await _identity(reporting_app, child) == (LA_CHILD_ID, UPN, date.fromisoformat(BIRTH), date.fromisoformat(DEATH))


@pytest.mark.parametrize(("data", "kept", "identity"), [
    ({"child_id": "c", "upn": UPN, "birth_date": BIRTH}, {"child_id": "c"}, {"upn": UPN, "birth_date": BIRTH}),
    ({"reason": "needs_met", "date": "2026-01-08", "factors": ["16A", "2B"]},
     {"reason": "needs_met", "date": "2026-01-08", "factors": ["16A", "2B"]}, {}),
    ({"nhs_number": NHS, "childs_name": "A", "carer_surname": "B", "area_grades": {"safety": 3}},
     {"area_grades": {"safety": 3}}, {}),
    ({"ref": NHS, "other": NHS_SPACED, "where": POSTCODE, "what": TEXT, "codes": ["ok", "not ok"], "pupil": UPN}, {}, {}),
    ({"child_id": "6a1f0c52-1b7e-4c1a-9d0e-3f5b2a7c8d90", "at": "2026-01-26T10:15:02.123456+00:00", "n": 3, "ok": True},
     {"child_id": "6a1f0c52-1b7e-4c1a-9d0e-3f5b2a7c8d90", "at": "2026-01-26T10:15:02.123456+00:00", "n": 3, "ok": True}, {}),
])
def test_separate(data: dict[str, Any], kept: dict[str, Any], identity: dict[str, Any]) -> None:
    found = separate(data)
    assert (found.kept, found.identity) == (kept, identity)
    assert set(found.dropped) == set(data) - set(kept) - set(identity)


async def test_the_migration_moves_logged_identifiers_apart_and_scrubs_the_rest(tmp_path: Path) -> None:
    url = await create_database("reporting", tmp_path, revision="1947574ab0d7")
    engine = make_engine(url)
    tables = METADATA.tables
    child, unborn = str(uuid.uuid4()), str(uuid.uuid4())
    logged = [{"id": uuid.uuid4(), "webhook_id": e["id"], "event_type": e["type"], "source": e["source"], "version": 1,
               "occurred_at": datetime.now(UTC), "received_at": datetime.now(UTC), "data": e["data"]}
              for e in _events(child, unborn)]
    early_help = uuid.uuid4()
    try:
        async with engine.begin() as conn:
            await conn.execute(tables["event_log"].insert(), logged)
            await conn.execute(tables["rm_early_help"].insert(), [{"episode_id": early_help, "child_id": uuid.UUID(child), "reason": TEXT}])
            await conn.execute(tables["rm_child_identity"].insert(), [{"child_id": uuid.UUID(child), "la_child_id": LA_CHILD_ID, "upn": UPN}])
        await asyncio.to_thread(upgrade, "reporting", url)

        async with engine.connect() as conn:
            log = {r.id: r.data for r in (await conn.execute(select(tables["event_log"].c.id, tables["event_log"].c.data))).all()}
            identity = {r.event_id: r.data for r in (await conn.execute(select(tables["event_identity"]))).all()}
            reason = (await conn.execute(select(tables["rm_early_help"].c.reason))).scalar_one()
            kept = (await conn.execute(select(tables["rm_child_identity"].c.la_child_id, tables["rm_child_identity"].c.upn))).one()
        first = logged[0]["id"]
        assert log[first] == {k: v for k, v in logged[0]["data"].items() if k in separate(logged[0]["data"]).kept}
        assert identity[first] == {"birth_date": BIRTH, "expected_birth_date": None, "death_date": None,
                                   "la_child_id": LA_CHILD_ID, "upn": UPN}
        assert set(identity) == {r["id"] for r in logged[:3]}  # the child facts only
        assert not any(n in json.dumps(list(log.values())) for n in CENSUS + NEVER)
        assert reason is None
        assert tuple(kept) == (LA_CHILD_ID, UPN)  # the export-scoped table is left alone
    finally:
        await engine.dispose()
        await drop_database(url)
