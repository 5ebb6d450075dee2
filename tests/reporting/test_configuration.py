"""Partnership configuration: LA code, population, suppression per scope; admin only, with If-Match."""

from __future__ import annotations

import uuid
from datetime import date

import httpx
import pytest
from fastapi import FastAPI

from scripts.synthetic import Partnership
from tests.reporting.conftest import POPULATION
from tests.reporting.expected import Expected, served, tallied
from tests.reporting.factories import READER
from tests.support import TokenFor

ADMIN = uuid.UUID("00000000-0000-4000-8000-00000000a0a0")
PROBLEM = "application/problem+json"
YEAR = (date(2024, 4, 1), date(2025, 3, 31))


async def test_defaults_come_from_settings(reporting: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await reporting.get("/v1/datasets/configuration", headers=token_for(READER, "reporting:read"))
    assert r.status_code == 200
    assert r.headers["etag"] == '"0"'
    body = r.json()
    assert (body["la_code"], body["population_0_17"], body["version"]) == ("", None, 0)
    assert body["suppression"] == {"reporting:read": True, "reporting:export": False}
    assert (body["step_down_window_days"], body["neglect_cp_plan_minimum_months"]) == (28, 6)


async def test_an_administrator_changes_the_settings_and_the_figures_follow(
    synth: httpx.AsyncClient, token_for: TokenFor,
) -> None:
    admin = token_for(ADMIN, "admin")
    r = await synth.patch("/v1/datasets/configuration", json={"population_0_17": 24_000, "population_year": 2025,
                                                              "suppression": {"reporting:read": False}},
                          headers={**admin, "If-Match": '"0"'})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"1"'
    assert (r.json()["population_0_17"], r.json()["updated_by"]) == (24_000, "test-client")
    body = (await synth.get("/v1/datasets/quarterly", params={"period": "2025-26"},
                            headers=token_for(READER, "reporting:read"))).json()
    assert body["population"] == {"children_0_17": 24_000, "year": 2025}
    metrics = {m["id"]: m for m in body["metrics"]}
    assert metrics["NQ03"]["total"]["denominator"] == 24_000
    assert all(m["suppressed"] is False for m in body["metrics"])  # reporting:read now sees unsuppressed figures
    stale = await synth.patch("/v1/datasets/configuration", json={"la_code": "201"}, headers={**admin, "If-Match": '"0"'})
    assert stale.status_code == 412
    missing = await synth.patch("/v1/datasets/configuration", json={"la_code": "201"}, headers=admin)
    assert missing.status_code == 428


async def test_population_missing_makes_the_rate_unavailable(reporting: httpx.AsyncClient, token_for: TokenFor) -> None:
    body = (await reporting.get("/v1/datasets/quarterly", params={"period": "2025-26-Q1"},
                                headers=token_for(READER, "reporting:read"))).json()
    nq03 = next(m for m in body["metrics"] if m["id"] == "NQ03")
    assert nq03["available"] is False
    assert "population" in nq03["reason"]


@pytest.mark.parametrize("body", [
    {"la_code": "12"}, {"population_0_17": 0}, {"suppression": {"Not A Scope": True}}, {"colour": "red"},
    {"step_down_window_days": -1}, {"step_down_window_days": 366}, {"step_down_window_days": "soon"},
    {"neglect_cp_plan_minimum_months": 0}, {"neglect_cp_plan_minimum_months": 61},
])
async def test_invalid_settings_are_422(reporting: httpx.AsyncClient, token_for: TokenFor, body: dict[str, object]) -> None:
    r = await reporting.patch("/v1/datasets/configuration", json=body, headers={**token_for(ADMIN, "admin"), "If-Match": '"0"'})
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    [name] = body
    assert any(e["field"].startswith(f"body.{name}") for e in r.json()["errors"]), r.json()
    unchanged = await reporting.get("/v1/datasets/configuration", headers=token_for(READER, "reporting:read"))
    assert unchanged.headers["etag"] == '"0"'


@pytest.mark.parametrize("body", [{"la_code": "201"}, {"step_down_window_days": 60}])
async def test_only_administrators_change_settings(
    reporting: httpx.AsyncClient, token_for: TokenFor, body: dict[str, object],
) -> None:
    r = await reporting.patch("/v1/datasets/configuration", json=body,
                              headers={**token_for(READER, "reporting:read", "reporting:export"), "If-Match": '"0"'})
    assert r.status_code == 403
    assert r.headers["content-type"] == PROBLEM


async def test_the_environment_gives_the_defaults_and_the_stored_settings_win(
    reporting: httpx.AsyncClient, reporting_app: FastAPI, token_for: TokenFor, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """REPORTING_STEP_DOWN_WINDOW_DAYS and REPORTING_NEGLECT_CP_PLAN_MINIMUM_MONTHS are defaults only."""
    settings = reporting_app.state.settings
    monkeypatch.setattr(settings, "step_down_window_days", 14)
    monkeypatch.setattr(settings, "neglect_cp_plan_minimum_months", 3)
    read = token_for(READER, "reporting:read")
    body = (await reporting.get("/v1/datasets/configuration", headers=read)).json()
    assert (body["step_down_window_days"], body["neglect_cp_plan_minimum_months"], body["version"]) == (14, 3, 0)
    r = await reporting.patch("/v1/datasets/configuration", json={"step_down_window_days": 42},
                              headers={**token_for(ADMIN, "admin"), "If-Match": '"0"'})
    assert r.status_code == 200, r.text
    assert (r.json()["step_down_window_days"], r.json()["neglect_cp_plan_minimum_months"]) == (42, 3)
    monkeypatch.setattr(settings, "step_down_window_days", 7)
    body = (await reporting.get("/v1/datasets/configuration", headers=read)).json()
    assert (body["step_down_window_days"], body["neglect_cp_plan_minimum_months"], body["version"]) == (42, 3, 1)


async def test_changing_the_step_down_window_and_minimum_duration_changes_the_dataset(
    synth: httpx.AsyncClient, token_for: TokenFor, synthetic: Partnership,
) -> None:
    read = token_for(READER, "reporting:read", "reporting:export")
    step_down = ("NQ10", "NQ11", "NQ12")

    async def figures() -> dict[str, dict[str, object]]:
        r = await synth.get("/v1/datasets/quarterly", params={"period": "2024-25"}, headers=read)
        assert r.status_code == 200, r.text
        return {m["id"]: m for m in r.json()["metrics"] if m["id"] in step_down}

    before = await figures()
    for metric_id in step_down:
        assert served(before[metric_id]) == tallied(metric_id, Expected(synthetic, POPULATION).metrics(*YEAR)[metric_id])
    r = await synth.patch("/v1/datasets/configuration",
                          json={"step_down_window_days": 90, "neglect_cp_plan_minimum_months": 3},
                          headers={**token_for(ADMIN, "admin"), "If-Match": '"0"'})
    assert r.status_code == 200, r.text
    after = await figures()
    expected = Expected(synthetic, POPULATION, step_down_days=90, minimum_months=3).metrics(*YEAR)
    for metric_id in step_down:
        assert served(after[metric_id]) == tallied(metric_id, expected[metric_id]), metric_id
    # In 2024-25 the synthetic partnership has a neglect plan that lasted 3-6 months and early
    # help starting 40 days after a plan ended (its CIN plans start the day a CP plan ends: NQ11 stays).
    for metric_id in ("NQ10", "NQ12"):
        assert served(after[metric_id]) != served(before[metric_id]), metric_id


