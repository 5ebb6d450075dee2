"""Dashboard endpoints on the synthetic partnership."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from scripts.synthetic import Partnership
from services.reporting.app import create_app
from services.reporting.settings import ReportingSettings
from tests.reporting.expected import plus_months, working_days
from tests.reporting.factories import READER
from tests.support import Keys, TokenFor, common_settings, isolated

PROBLEM = "application/problem+json"
AT = date(2026, 3, 31)
UNSUPPRESSED = ("reporting:read", "reporting:export")


async def get(client: httpx.AsyncClient, token_for: TokenFor, path: str, *scopes: str, **params: str) -> dict[str, Any]:
    r = await client.get(f"/v1/dashboard/{path}", params=params, headers=token_for(READER, *(scopes or UNSUPPRESSED)))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def stage_of_children(p: Partnership, d: date) -> dict[str, int]:
    ranks: dict[Any, int] = {}
    for rec in p.episodes:
        e = rec.episode
        found = []
        if any(x.start_date <= d and (x.end_date is None or x.end_date > d) for x in e.cp_plans):
            found.append(0)
        if any(x.start_date <= d and (x.end_date is None or x.end_date > d) for x in e.cin_plans):
            found.append(1)
        if any(s.start_date <= d and (s.icpc_date is None or s.icpc_date > d)
               and (rec.s47_concluded.get(s.id) is None or rec.s47_concluded[s.id] > d) for s in e.s47s):
            found.append(2)
        if any(a.start_date <= d and (a.authorised_date is None or a.authorised_date > d) for a in e.assessments):
            found.append(3)
        if not e.nfa and e.referral_date <= d and (e.closure_date is None or e.closure_date > d):
            found.append(4)
        if found:
            ranks[rec.child.id] = min([*found, ranks.get(rec.child.id, 9)])
    for eh in p.early_help:
        if eh.start <= d and (eh.closed is None or eh.closed > d):
            ranks[eh.child.id] = min(5, ranks.get(eh.child.id, 9))
    names = ["cp_plan", "cin_plan", "s47_enquiry", "assessment", "open_episode_other", "early_help"]
    return {name: sum(1 for r in ranks.values() if r == i) for i, name in enumerate(names)}


@pytest.mark.parametrize("at", [AT, date(2025, 7, 15)])
async def test_caseload_by_stage(synth: httpx.AsyncClient, token_for: TokenFor, synthetic: Partnership, at: date) -> None:
    body = await get(synth, token_for, "caseload", at=at.isoformat())
    assert {s["stage"]: s["children"] for s in body["children_by_stage"]} == stage_of_children(synthetic, at)
    waiting = sum(1 for r in synthetic.referrals if r.received_at.date() <= at
                  and (r.decided_at is None or r.decided_at.date() > at))
    assert body["referrals_awaiting_decision"] == waiting


async def test_alerts_count_overdue_items_against_the_statutory_limits(
    synth: httpx.AsyncClient, token_for: TokenFor, synthetic: Partnership,
) -> None:
    body = await get(synth, token_for, "alerts", at=AT.isoformat())
    clocks = {c["clock"]: c for c in body["clocks"]}
    open_assessments = [(rec.episode, a) for rec in synthetic.episodes for a in rec.episode.assessments
                        if a.start_date <= AT and (a.authorised_date is None or a.authorised_date > AT)]
    assessment = clocks["assessment_completion"]
    assert (assessment["limit"], assessment["unit"], assessment["status"]) == (45, "working_days", "counted")
    assert assessment["open"] == len(open_assessments)
    assert assessment["overdue"] == sum(1 for e, _ in open_assessments if working_days(e.referral_date, AT) > 45)
    plans = [(rec, p) for rec in synthetic.episodes for p in rec.episode.cp_plans if p.start_date <= AT and p.end_date is None]
    first = [p for rec, p in plans if not rec.plan_facts[p.id].reviews]
    assert clocks["cp_first_review"]["open"] == len(first)
    assert clocks["cp_first_review"]["overdue"] == sum(1 for p in first if plus_months(p.start_date, 3) < AT)
    later = [(rec, p) for rec, p in plans if rec.plan_facts[p.id].reviews]
    assert clocks["cp_subsequent_review"]["overdue"] == sum(
        1 for rec, p in later if plus_months(rec.plan_facts[p.id].reviews[-1][0], 6) < AT)
    assert clocks["cp_statutory_visit"]["status"] == "not_configured"
    assert clocks["eh_assessment"]["status"] == "not_available"
    assert "re_referral_window" not in clocks


async def test_timeliness_in_a_period(synth: httpx.AsyncClient, token_for: TokenFor, synthetic: Partnership) -> None:
    body = await get(synth, token_for, "timeliness", period="2025-26")
    clocks = {c["clock"]: c for c in body["clocks"]}
    decided = [r for r in synthetic.referrals if r.decided_at and date(2025, 4, 1) <= r.decided_at.date() <= AT]
    on_time = sum(1 for r in decided if working_days(r.received_at.date(), r.decided_at.date()) <= 1)  # type: ignore[union-attr]
    assert (clocks["referral_decision"]["completed"], clocks["referral_decision"]["on_time"]) == (len(decided), on_time)
    assert clocks["referral_decision"]["percent_on_time"] == round(100 * on_time / len(decided), 1)
    for clock in ("assessment_completion", "icpc_timeliness", "cp_first_review", "cp_subsequent_review", "core_group_first"):
        assert clocks[clock]["status"] == "counted"
        assert clocks[clock]["completed"] >= clocks[clock]["on_time"]


async def test_series_follows_the_dataset(synth: httpx.AsyncClient, token_for: TokenFor) -> None:
    body = await get(synth, token_for, "series", metric="NQ01", **{"from": "2024-25-Q3", "to": "2025-26"})
    assert [p["period"]["name"] for p in body["points"]] == ["2024-25-Q3", "2024-25-Q4", "2025-26-Q1", "2025-26-Q2",
                                                            "2025-26-Q3", "2025-26-Q4"]
    for point in body["points"]:
        r = await synth.get("/v1/datasets/quarterly", params={"period": point["period"]["name"]},
                            headers=token_for(READER, *UNSUPPRESSED))
        nq01 = next(m for m in r.json()["metrics"] if m["id"] == "NQ01")
        assert point["total"] == nq01["total"]


@pytest.mark.parametrize("at", ["0001-01-01", "9999-12-31"])
async def test_dates_outside_the_calendar_are_422(synth: httpx.AsyncClient, token_for: TokenFor, at: str) -> None:
    for path in ("caseload", "alerts"):
        r = await synth.get(f"/v1/dashboard/{path}", params={"at": at}, headers=token_for(READER, "reporting:read"))
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "query.at"


async def test_series_refuses_unknown_metrics_and_long_ranges(synth: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await synth.get("/v1/dashboard/series", params={"metric": "NQ99", "from": "2025-26-Q1", "to": "2025-26-Q2"},
                        headers=token_for(READER, "reporting:read"))
    assert r.status_code == 422
    assert r.json()["type"].endswith("unknown-metric")
    r = await synth.get("/v1/dashboard/series", params={"metric": "NQ01", "from": "2015-16-Q1", "to": "2025-26-Q2"},
                        headers=token_for(READER, "reporting:read"))
    assert r.status_code == 422


async def test_trajectories_match_nq28(synth: httpx.AsyncClient, token_for: TokenFor) -> None:
    body = await get(synth, token_for, "trajectories", period="2025-26")
    assert body["available"] is True
    per_tool = {t["tool"]: t["children_by_trajectory"] for t in body["tools"]}
    r = await synth.get("/v1/datasets/quarterly", params={"period": "2025-26"}, headers=token_for(READER, *UNSUPPRESSED))
    nq28 = next(m for m in r.json()["metrics"] if m["id"] == "NQ28")
    assert {c["key"]: c["count"] for c in nq28["breakdowns"]["tool"] if c["count"]} == {t: sum(v.values()) for t, v in per_tool.items()}
    assert sum(per_tool["gcp2"].values()) > 0


async def test_dashboard_counts_are_suppressed_for_readers(synth: httpx.AsyncClient, token_for: TokenFor) -> None:
    raw = await get(synth, token_for, "caseload", at=AT.isoformat())
    shown = await get(synth, token_for, "caseload", "reporting:read", at=AT.isoformat())
    assert shown["suppressed"] is True
    for a, b in zip(raw["children_by_stage"], shown["children_by_stage"], strict=True):
        assert b["children"] == ("c" if 1 <= a["children"] <= 5 else a["children"])


@pytest.mark.parametrize("path", ["summary", "caseload", "alerts", "timeliness?period=2025-26", "trajectories?period=2025-26"])
async def test_dashboards_have_no_csv(synth: httpx.AsyncClient, token_for: TokenFor, path: str) -> None:
    r = await synth.get(f"/v1/dashboard/{path}", headers={**token_for(READER, "reporting:read"), "Accept": "text/csv"})
    assert r.status_code == 406
    assert r.headers["content-type"] == PROBLEM


async def test_cors_for_configured_origins(keys: Keys, reporting_url: str, token_for: TokenFor) -> None:
    app = create_app(ReportingSettings(**common_settings(keys, reporting_url), cors_origins=["https://dash.example"]))  # type: ignore[arg-type]
    try:
        async with isolated(app, "http://reporting") as client:
            r = await client.get("/v1/dashboard/summary", headers={**token_for(READER, "reporting:read"), "Origin": "https://dash.example"})
            assert r.headers["access-control-allow-origin"] == "https://dash.example"
            r = await client.options("/v1/dashboard/caseload", headers={
                "Origin": "https://dash.example", "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization"})
            assert r.status_code == 200
            other = await client.get("/v1/dashboard/summary", headers={**token_for(READER, "reporting:read"), "Origin": "https://evil.example"})
            assert "access-control-allow-origin" not in other.headers
    finally:
        await app.state.db.dispose()


async def test_figures_are_kept_until_the_read_model_changes(
    reporting: httpx.AsyncClient, reporting_app: FastAPI, token_for: TokenFor,
) -> None:
    from tests.reporting.factories import event, send

    async def caseload() -> dict[str, Any]:
        return await get(reporting, token_for, "caseload", at=AT.isoformat())

    first = await caseload()
    memo = reporting_app.state.memo
    hits, misses = memo.hits, memo.misses
    assert await caseload() == first
    assert (memo.hits, memo.misses) == (hits + 1, misses)
    child, episode = str(uuid.uuid4()), str(uuid.uuid4())
    await send(reporting, event("episode.opened", child_id=child, episode_id=episode, referral_date="2026-03-02",
                                referral_source="6", nfa=False, primary_need="N1"))
    after = await caseload()
    assert memo.misses == misses + 1
    assert after["children_in_statutory_work"] != first["children_in_statutory_work"]
