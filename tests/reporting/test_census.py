"""The DfE children in need census export: the DfE's published validation rules report no
errors on the synthetic partnership; the XML has the census structure; bad requests are problems."""

from __future__ import annotations

import asyncio
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from scripts.synthetic import Partnership
from services.reporting.models import METADATA, EventLog
from shared.db import make_engine
from shared.events import OutboxRelay
from shared.migrate import upgrade
from shared.models import AuditEvent
from tests.referral.factories_practice import child_of, partner
from tests.referral.journey_support import open_episode
from tests.reporting.census_rules import validate
from tests.reporting.conftest import LA_CODE
from tests.reporting.factories import READER
from tests.support import WEBHOOK_SECRET, TokenFor, create_database, drop_database

PROBLEM = "application/problem+json"
EXPORTER = uuid.UUID("00000000-0000-4000-8000-0000000000e1")

# The census structure (DOMAIN.md section 11): each element's children, in order. The DfE's XSD
# could not be obtained offline, so the structure is checked against this reading of it.
STRUCTURE: dict[str, list[str]] = {
    "Message": ["Header", "Children"],
    "Header": ["CollectionDetails", "Source"],
    "CollectionDetails": ["Collection", "Year", "ReferenceDate"],
    "Source": ["SourceLevel", "LEA", "SoftwareCode", "Release", "SerialNo", "DateTime"],
    "Children": ["Child"],
    "Child": ["ChildIdentifiers", "ChildCharacteristics", "CINdetails"],
    "ChildIdentifiers": ["LAchildID", "UPN", "FormerUPN", "UPNunknown", "PersonBirthDate", "ExpectedPersonBirthDate",
                         "Sex", "PersonDeathDate"],
    "ChildCharacteristics": ["Ethnicity", "Disabilities"],
    "Disabilities": ["Disability"],
    "CINdetails": ["CINreferralDate", "ReferralSource", "PrimaryNeedCode", "CINclosureDate", "ReasonForClosure",
                   "DateOfInitialCPC", "ReferralNFA", "Assessments", "CINPlanDates", "Section47", "ChildProtectionPlans"],
    "Assessments": ["AssessmentActualStartDate", "AssessmentInternalReviewDate", "AssessmentAuthorisationDate",
                    "FactorsIdentifiedAtAssessment"],
    "FactorsIdentifiedAtAssessment": ["AssessmentFactors"],
    "CINPlanDates": ["CINPlanStartDate", "CINPlanEndDate"],
    "Section47": ["S47ActualStartDate", "InitialCPCtarget", "DateOfInitialCPC", "ICPCnotRequired"],
    "ChildProtectionPlans": ["CPPstartDate", "CPPendDate", "InitialCategoryOfAbuse", "LatestCategoryOfAbuse",
                             "NumberOfPreviousCPP", "Reviews"],
    "Reviews": ["CPPreviewDate"],
}
REQUIRED = {"Child": ["ChildIdentifiers", "ChildCharacteristics", "CINdetails"],
            "ChildIdentifiers": ["LAchildID", "Sex"], "ChildCharacteristics": ["Ethnicity"],
            "CINdetails": ["CINreferralDate", "ReferralSource", "ReferralNFA"]}


def check_structure(element: ET.Element, problems: list[str]) -> None:
    allowed = STRUCTURE.get(element.tag)
    children = [c.tag for c in element]
    if allowed is None:
        if children:
            problems.append(f"{element.tag} should hold text only")
        elif not (element.text or "").strip():
            problems.append(f"{element.tag} is empty")
        return
    positions = [allowed.index(tag) if tag in allowed else -1 for tag in children]
    if -1 in positions:
        problems.append(f"{element.tag} holds {children[positions.index(-1)]}")
    elif positions != sorted(positions):
        problems.append(f"{element.tag} children out of order: {children}")
    for tag in REQUIRED.get(element.tag, []):
        if tag not in children:
            problems.append(f"{element.tag} lacks {tag}")
    for child in element:
        check_structure(child, problems)


async def export(client: httpx.AsyncClient, token_for: TokenFor, year: str) -> httpx.Response:
    return await client.get("/v1/exports/cin-census", params={"year": year}, headers=token_for(EXPORTER, "reporting:export"))


def in_year(p: Partnership, start: date, reference: date) -> set[str]:
    return {rec.child.la_child_id for rec in p.episodes
            if rec.episode.referral_date <= reference
            and (rec.episode.closure_date is None or rec.episode.closure_date >= start)}


@pytest.mark.parametrize(("year", "ruleset", "start"), [("2025-26", "cin2025_26", date(2025, 4, 1)),
                                                        ("2024-25", "cin2024_25", date(2024, 4, 1))])
async def test_the_census_passes_the_dfe_rules_with_no_errors(
    synth: httpx.AsyncClient, token_for: TokenFor, synthetic: Partnership, year: str, ruleset: str, start: date,
) -> None:
    r = await export(synth, token_for, year)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/xml")
    outcome = validate(r.content, ruleset)
    assert outcome.errors == {}
    # Queries are warnings an LA explains (e.g. 8770Q: school-age child without a UPN); none is an error.
    assert all(code.endswith("Q") for code in outcome.queries)
    root = ET.fromstring(r.content)  # noqa: S314
    reference = date(start.year + 1, 3, 31)
    assert {c.findtext("ChildIdentifiers/LAchildID") for c in root.iter("Child")} == in_year(synthetic, start, reference)
    assert root.findtext("Header/CollectionDetails/ReferenceDate") == reference.isoformat()
    assert root.findtext("Header/CollectionDetails/Year") == str(reference.year)
    assert root.findtext("Header/Source/LEA") == LA_CODE
    problems: list[str] = []
    check_structure(root, problems)
    assert problems == []
    # It is not a trivial return: plans, s47s, assessments and reviews are all there.
    for tag in ("ChildProtectionPlans", "Section47", "Assessments", "CINPlanDates", "CPPreviewDate"):
        assert root.find(f".//{tag}") is not None, tag


async def asgi_body_messages(app: FastAPI, path: str, query: str, headers: dict[str, str]) -> list[bytes]:
    """The body messages an ASGI app sends for a GET: a streamed response sends several."""
    sent: list[bytes] = []
    requested, done = False, asyncio.Event()

    async def receive() -> dict[str, object]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()  # the client stays connected until the response is complete
        return {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 200
        if message["type"] == "http.response.body":
            if message.get("body"):
                sent.append(message["body"])  # type: ignore[arg-type]
            if not message.get("more_body"):
                done.set()

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()], "client": ("127.0.0.1", 1),
             "server": ("reporting", 80)}
    await app(scope, receive, send)
    return sent


async def test_the_census_is_streamed_a_page_of_children_at_a_time(
    synth: httpx.AsyncClient, synthetic_app: FastAPI, token_for: TokenFor,
) -> None:
    settings = synthetic_app.state.settings
    before = settings.export_page_size
    settings.export_page_size = 40
    try:
        chunks = await asgi_body_messages(synthetic_app, "/v1/exports/cin-census", "year=2025-26",
                                          token_for(EXPORTER, "reporting:export"))
    finally:
        settings.export_page_size = before
    children = b"".join(chunks).count(b"<Child>")
    assert children > 200
    # The header, one message per page of 40 children, the footer: never the whole return at once.
    assert len(chunks) == 2 + -(-children // 40)
    assert max(len(c) for c in chunks) < len(b"".join(chunks)) / 4


async def test_the_census_as_at_the_reference_date_leaves_later_events_out(
    synth: httpx.AsyncClient, token_for: TokenFor, synthetic: Partnership,
) -> None:
    r = await export(synth, token_for, "2024-25")
    root = ET.fromstring(r.content)  # noqa: S314
    reference = "2025-03-31"
    for tag in ("CINclosureDate", "CPPendDate", "CINPlanEndDate", "DateOfInitialCPC", "AssessmentAuthorisationDate",
                "CPPreviewDate", "PersonBirthDate"):
        assert all(e.text is not None and e.text <= reference for e in root.iter(tag)), tag


async def test_the_export_is_audited_and_the_dataset_has_no_identifiers(
    synth: httpx.AsyncClient, synthetic_app: FastAPI, token_for: TokenFor, synthetic: Partnership,
) -> None:
    assert (await export(synth, token_for, "2025-26")).status_code == 200
    async with synthetic_app.state.db.sessions() as session:
        rows = (await session.exec(select(AuditEvent).where(col(AuditEvent.resource) == "cin_census"))).all()
        logged = (await session.exec(select(EventLog.data).limit(5))).all()
    assert [(a.action, a.agency_id) for a in rows] == [("export", EXPORTER)]
    # The exporting agency's audit trail at the reporting service shows it (no per-child trail here:
    # exports name no single child).
    auditor = token_for(EXPORTER, "audit:read")
    trail = await synth.get(f"/v1/audit/reporting/agencies/{EXPORTER}", headers=auditor)
    assert trail.status_code == 200, trail.text
    assert [(e["action"], e["resource"], e["service"]) for e in trail.json()["items"]][-1:] == [
        ("export", "cin_census", "reporting")]
    assert (await synth.get(f"/v1/audit/reporting/children/{uuid.uuid4()}", headers=auditor)).status_code == 404
    assert logged  # events carry ids and codes only
    body = (await synth.get("/v1/datasets/quarterly", params={"period": "2025-26"},
                            headers=token_for(READER, "reporting:read", "reporting:export"))).text
    caseload = (await synth.get("/v1/dashboard/caseload", headers=token_for(READER, "reporting:read"))).text
    for child in synthetic.children[:50]:
        assert child.la_child_id not in body
        assert child.la_child_id not in caseload
        assert str(child.id) not in body


@pytest.mark.parametrize(("year", "status", "slug"), [
    ("2023-24", 422, "unsupported-collection-year"),
    ("2025-27", 422, "invalid-period"),
    ("2025/26", 422, "invalid-period"),
])
async def test_years_without_rules_are_refused(synth: httpx.AsyncClient, token_for: TokenFor, year: str, status: int, slug: str) -> None:
    r = await export(synth, token_for, year)
    assert r.status_code == status
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["type"].endswith(slug)
    assert r.json()["errors"][0]["field"] == "query.year"


async def test_the_census_needs_the_export_scope(synth: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await synth.get("/v1/exports/cin-census", params={"year": "2025-26"}, headers=token_for(READER, "reporting:read"))
    assert r.status_code == 403
    assert r.json()["type"].endswith("insufficient-scope")
    assert (await synth.get("/v1/exports/cin-census", params={"year": "2025-26"})).status_code == 401


async def test_the_census_is_xml_only(synth: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await synth.get("/v1/exports/cin-census", params={"year": "2025-26"},
                        headers={**token_for(EXPORTER, "reporting:export"), "Accept": "text/csv"})
    assert r.status_code == 406
    assert r.headers["content-type"] == PROBLEM


async def test_the_census_needs_the_la_code(reporting: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await export(reporting, token_for, "2025-26")
    assert r.status_code == 409
    assert r.json()["type"].endswith("configuration-incomplete")


async def test_a_transfer_in_exports_its_conference_at_episode_level(
    referral: httpx.AsyncClient, referral_app: FastAPI, reporting: httpx.AsyncClient, token_for: TokenFor,
) -> None:
    """Issue 10: the transfer-in conference's date was missing from CINdetails, so the DfE rules found
    the plan without its initial conference (2883, 2885). Real events: referral's outbox, relayed."""
    csc = await partner(referral, token_for, "childrens_social_care")
    child = await child_of(referral, token_for, csc, la_child_id="TRANSFER01")
    episode = str(await open_episode(referral_app, csc.id, uuid.UUID(child["id"]), date(2025, 6, 2)))

    async def step(path: str, body: dict[str, object]) -> dict[str, Any]:
        etag = (await referral.get(f"/v1/episodes/{episode}", headers=csc.headers())).headers["etag"]
        r = await referral.post(f"/v1/episodes/{episode}{path}", json=body, headers=csc.headers(**{"If-Match": etag}))
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        return result

    ep = await step("/conferences", {"kind": "transfer_in", "held_date": "2025-06-09", "outcome": "plan", "category": "NEG"})
    await step("/conferences", {"kind": "review", "held_date": "2025-09-08", "cp_plan_id": ep["cp_plans"][0]["id"],
                                "outcome": "end_plan", "step_down": "cin_plan"})
    relay = OutboxRelay(referral_app.state.db, WEBHOOK_SECRET, reporting)
    while await relay.run_once():
        pass
    configured = await reporting.patch("/v1/datasets/configuration", json={"la_code": LA_CODE},
                                       headers={**token_for(EXPORTER, "admin"), "If-Match": '"0"'})
    assert configured.status_code == 200, configured.text

    r = await export(reporting, token_for, "2025-26")
    assert r.status_code == 200, r.text
    root = ET.fromstring(r.content)  # noqa: S314
    [details] = [c.find("CINdetails") for c in root.iter("Child") if c.findtext("ChildIdentifiers/LAchildID") == "TRANSFER01"]
    assert details is not None
    assert (details.findtext("DateOfInitialCPC"), details.findtext("ChildProtectionPlans/CPPstartDate")) == (
        "2025-06-09", "2025-06-09")
    assert details.find("Section47") is None
    problems: list[str] = []
    check_structure(root, problems)
    assert problems == []
    assert validate(r.content, "cin2025_26").errors == {}


async def test_the_migration_fills_transfer_in_dates_from_the_log(tmp_path: Path) -> None:
    url = await create_database("reporting", tmp_path, revision="d0002b33a1e5")
    engine = make_engine(url)
    tables = METADATA.tables
    projected, later, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    def logged(event_type: str, **data: object) -> dict[str, object]:
        return {"id": uuid.uuid4(), "webhook_id": str(uuid.uuid4()), "event_type": event_type, "source": "referral",
                "version": 1, "occurred_at": datetime.now(UTC), "received_at": datetime.now(UTC), "data": data}

    try:
        async with engine.begin() as conn:
            await conn.execute(tables["rm_episode"].insert(), [{"episode_id": e} for e in (projected, other)])
            await conn.execute(tables["event_log"].insert(), [
                logged("transfer_in.held", episode_id=str(projected), date="2025-06-09"),
                logged("transfer_in.held", episode_id=str(later), date="2025-07-07"),  # its episode.opened not yet in
                logged("transfer_in.held", episode_id="not-a-uuid", date="2025-07-07"),
                logged("icpc.held", episode_id=str(other), date="2025-07-14", s47_id=str(uuid.uuid4())),
            ])
        await asyncio.to_thread(upgrade, "reporting", url)
        async with engine.connect() as conn:
            rows = dict((await conn.execute(sa_select(tables["rm_episode"].c.episode_id, tables["rm_episode"].c.icpc_date))).all())
        assert rows == {projected: date(2025, 6, 9), later: date(2025, 7, 7), other: None}
    finally:
        await engine.dispose()
        await drop_database(url)
