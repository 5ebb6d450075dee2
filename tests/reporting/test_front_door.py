"""The front door end to end: contacts and referrals recorded at the referral service reach
reporting through the outbox; Annex A list 1 and NQ29 count every concern (contacts that never
became referrals included, converted ones once), and a referral children's social care records
on an individual's behalf keeps its ReferralSource in a census export the DfE rules accept."""

from __future__ import annotations

import csv
import io
import uuid
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from shared.events import OutboxRelay
from tests.referral.factories import make_agency, make_child
from tests.referral.factories_referrals import AssessmentStub, decision_body, referral_body
from tests.reporting.census_rules import validate
from tests.reporting.conftest import LA_CODE
from tests.reporting.factories import READER
from tests.support import WEBHOOK_SECRET, TokenFor

EXPORTER = uuid.UUID("00000000-0000-4000-8000-0000000000e1")
PERIOD = "2025-04-01..2026-03-31"


@pytest.fixture
async def assessment(referral_app: FastAPI) -> AsyncIterator[AssessmentStub]:
    stub = AssessmentStub()
    client = stub.client()
    referral_app.state.assessment_client = client
    try:
        yield stub
    finally:
        referral_app.state.assessment_client = None
        await client.aclose()


def _headers(token_for: TokenFor, agency: dict[str, Any], if_match: str | None = None) -> dict[str, str]:
    h = token_for(uuid.UUID(agency["id"]), "referral:read", "referral:write")
    if if_match:
        h["If-Match"] = if_match
    return h


async def _post(client: httpx.AsyncClient, url: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    r = await client.post(url, json=body, headers=headers)
    assert r.status_code in (200, 201), r.text
    result: dict[str, Any] = r.json()
    return result


async def test_contacts_and_on_behalf_referrals_reach_annex_a_the_dataset_and_the_census(
    referral: httpx.AsyncClient, referral_app: FastAPI, reporting: httpx.AsyncClient, reporting_app: FastAPI,
    token_for: TokenFor, assessment: AssessmentStub,
) -> None:
    csc = await make_agency(referral, token_for, "childrens_social_care")
    school = await make_agency(referral, token_for, "school")
    census = {"ethnicity": "WBRI", "upn_unknown": "UN1", "disabilities": ["NONE"]}
    told = await make_child(referral, token_for, school["id"], la_child_id="FD0001", **census)
    self_referred = await make_child(referral, token_for, school["id"], la_child_id="FD0002", **census)
    converted = await make_child(referral, token_for, school["id"], la_child_id="FD0003", **census)

    # A family member's call that ends with information and advice: a contact, never a referral.
    await _post(referral, "/v1/contacts", {"child_id": told["id"], "received_at": "2026-03-02T09:00:00Z",
                                           "referral_source": "1A", "outcome": "information_advice"},
                _headers(token_for, csc))
    # The child rang the front door: CSC records the referral with the child's own source, 1C.
    direct = await _post(referral, "/v1/referrals",
                         referral_body(self_referred["id"], received_at="2026-03-03T10:00:00Z", referral_source="1C"),
                         _headers(token_for, csc))
    decided = await _post(referral, f"/v1/referrals/{direct['id']}/decision",
                          decision_body("1", "information_advice", decided_at="2026-03-04T10:00:00Z"),
                          _headers(token_for, csc, '"1"'))
    assert decided["episode_id"] is not None
    # The school's contact, accepted as a referral: one concern, counted once.
    contact = await _post(referral, "/v1/contacts", {"child_id": converted["id"], "received_at": "2026-03-05T09:00:00Z",
                                                     "concern_summary": "Child often hungry.", "outcome": "referral"},
                          _headers(token_for, school))
    await _post(referral, f"/v1/contacts/{contact['id']}/referral", {"neglect_types": ["basic_provision"]},
                _headers(token_for, csc, '"1"'))

    relay = OutboxRelay(referral_app.state.db, WEBHOOK_SECRET, reporting)
    while await relay.run_once():
        pass

    exporter = token_for(EXPORTER, "reporting:export")
    r = await reporting.get("/v1/exports/annex-a/contacts", params={"period": PERIOD}, headers=exporter)
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert sorted((x["Child ID"], x["Contact date"], x["Contact source"]) for x in rows) == [
        ("FD0001", "2026-03-02", "1A"), ("FD0002", "2026-03-03", "1C"), ("FD0003", "2026-03-05", "2A")]

    r = await reporting.get("/v1/datasets/quarterly", params={"period": "2025-26"},
                            headers=token_for(READER, "reporting:read", "reporting:export"))
    assert r.status_code == 200, r.text
    nq29 = next(m for m in r.json()["metrics"] if m["id"] == "NQ29")
    assert nq29["total"]["count"] == 3
    cells = {dim: {c["key"]: c["count"] for c in cs if c["count"]} for dim, cs in nq29["breakdowns"].items()}
    assert cells == {"contact_outcome": {"information_advice": 1, "referral": 2},
                     "referring_agency_type": {"family_member": 1, "self": 1, "school": 1}}

    settings = reporting_app.state.settings
    before = settings.la_code
    settings.la_code = LA_CODE
    try:
        r = await reporting.get("/v1/exports/cin-census", params={"year": "2025-26"}, headers=exporter)
    finally:
        settings.la_code = before
    assert r.status_code == 200, r.text
    root = ET.fromstring(r.content)  # noqa: S314
    sources = {c.findtext("ChildIdentifiers/LAchildID"): c.findtext("CINdetails/ReferralSource") for c in root.iter("Child")}
    assert sources == {"FD0002": "1C"}
    outcome = validate(r.content, "cin2025_26")
    assert outcome.errors == {}
    assert all(code.endswith("Q") for code in outcome.queries)
