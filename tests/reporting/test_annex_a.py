"""Ofsted Annex A lists as CSV, from the synthetic partnership."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date

import httpx
import pytest

from scripts.synthetic import Partnership
from tests.reporting.factories import READER
from tests.support import TokenFor

PROBLEM = "application/problem+json"
EXPORTER = uuid.UUID("00000000-0000-4000-8000-0000000000e1")
PERIOD = "2025-04-01..2026-03-31"
START, END = date(2025, 4, 1), date(2026, 3, 31)


async def annex(client: httpx.AsyncClient, token_for: TokenFor, name: str, **params: str) -> list[dict[str, str]]:
    r = await client.get(f"/v1/exports/annex-a/{name}", params={"period": PERIOD, **params},
                         headers=token_for(EXPORTER, "reporting:export"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(r.text)))


async def test_contacts_list_is_every_concern_received(synth: httpx.AsyncClient, token_for: TokenFor,
                                                        synthetic: Partnership) -> None:
    rows = await annex(synth, token_for, "contacts")
    expected = [r for r in synthetic.referrals if START <= r.received_at.date() <= END]
    assert len(rows) == len(expected) > 0
    assert sorted((r["Child ID"], r["Contact date"], r["Contact source"]) for r in rows) == sorted(
        (r.child.la_child_id, r.received_at.date().isoformat(), r.agency.referral_source) for r in expected)


async def test_referrals_list(synth: httpx.AsyncClient, token_for: TokenFor, synthetic: Partnership) -> None:
    rows = await annex(synth, token_for, "referrals")
    # A contact is a referral once children's social care accepts it: its decision opened a CIN episode.
    expected = [r for r in synthetic.referrals if START <= r.received_at.date() <= END and r.episode_id is not None]
    assert len(rows) == len(expected)
    assert sorted((r["Child ID"], r["Referral date"]) for r in rows) == sorted(
        (r.child.la_child_id, r.received_at.date().isoformat()) for r in expected)
    assert {r["Referral NFA"] for r in rows} <= {"Yes", "No", "Unknown"}
    assert all(int(r["Referrals in last 12 months"]) >= 1 for r in rows)
    first = rows[0]
    assert set(first) >= {"Child ID", "Gender", "Ethnicity", "Date of birth", "Age", "Disability"}


async def test_child_protection_list(synth: httpx.AsyncClient, token_for: TokenFor, synthetic: Partnership) -> None:
    rows = await annex(synth, token_for, "child-protection")
    plans = [p for rec in synthetic.episodes for p in rec.episode.cp_plans
             if p.start_date <= END and (p.end_date is None or p.end_date >= START)]
    assert len(rows) == len(plans) > 0
    assert {r["Initial category of abuse"] for r in rows} <= {"NEG", "EMO", "PHY", "SAB", "MUL"}
    assert all(r["CP plan end date"] == "" or r["CP plan end date"] <= END.isoformat() for r in rows)


@pytest.mark.parametrize("name", ["assessments", "section-47", "children-in-need"])
async def test_other_lists(synth: httpx.AsyncClient, token_for: TokenFor, synthetic: Partnership, name: str) -> None:
    rows = await annex(synth, token_for, name)
    assert rows
    assert all(r["Child ID"].startswith("NB") for r in rows)
    if name == "children-in-need":
        episodes = [rec for rec in synthetic.episodes if not rec.episode.nfa and rec.episode.referral_date <= END
                    and (rec.episode.closure_date is None or rec.episode.closure_date >= START)]
        assert len(rows) == len(episodes)


@pytest.mark.parametrize("name", ["early-help"])
async def test_lists_without_source_events_are_409(synth: httpx.AsyncClient, token_for: TokenFor, name: str) -> None:
    r = await synth.get(f"/v1/exports/annex-a/{name}", headers=token_for(EXPORTER, "reporting:export"))
    assert r.status_code == 409
    assert r.headers["content-type"] == PROBLEM
    assert "yet" in r.json()["detail"]


async def test_unknown_list_is_404(synth: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await synth.get("/v1/exports/annex-a/looked-after", headers=token_for(EXPORTER, "reporting:export"))
    assert r.status_code == 404
    assert r.json()["type"].endswith("annex-a-list-not-found")


async def test_annex_a_needs_the_export_scope_and_csv(synth: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await synth.get("/v1/exports/annex-a/referrals", headers=token_for(READER, "reporting:read"))
    assert r.status_code == 403
    r = await synth.get("/v1/exports/annex-a/referrals", headers={**token_for(EXPORTER, "reporting:export"), "Accept": "application/json"})
    assert r.status_code == 406
    r = await synth.get("/v1/exports/annex-a/referrals", params={"period": "2019-01-01..2026-01-01"},
                        headers=token_for(EXPORTER, "reporting:export"))
    assert r.status_code == 422
    assert r.json()["type"].endswith("period-too-long")
