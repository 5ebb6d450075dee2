"""The quarterly dataset on the synthetic partnership equals the figures computed
independently from the generator's own records; suppression; period handling."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import httpx
import pytest

from scripts.synthetic import Partnership
from tests.reporting.conftest import POPULATION
from tests.reporting.expected import Expected, Tally, served, tallied
from tests.reporting.factories import READER
from tests.support import TokenFor

PROBLEM = "application/problem+json"
UNSUPPRESSED = ("reporting:read", "reporting:export")


async def dataset(client: httpx.AsyncClient, token_for: TokenFor, period: str, *scopes: str) -> dict[str, Any]:
    r = await client.get("/v1/datasets/quarterly", params={"period": period}, headers=token_for(READER, *(scopes or UNSUPPRESSED)))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.mark.parametrize("period", ["2025-26", "2025-26-Q4", "2024-25-Q2", "2024-25", "2024-11-15..2025-08-31"])
async def test_figures_equal_those_computed_from_the_generators_records(
    synth: httpx.AsyncClient, token_for: TokenFor, synthetic: Partnership, period: str,
) -> None:
    body = await dataset(synth, token_for, period)
    start, end = (body["period"]["start"], body["period"]["end"])
    from datetime import date

    expected = Expected(synthetic, POPULATION).metrics(date.fromisoformat(start), date.fromisoformat(end))
    compared = 0
    for metric in body["metrics"]:
        if not metric["available"]:
            continue
        assert metric["suppressed"] is False
        want = tallied(metric["id"], expected.get(metric["id"], Tally()))
        assert served(metric) == want, metric["id"]
        compared += 1
    assert compared == 30  # every metric, NQ06b included
    # The partnership is big enough that the comparison is not all zeros.
    figures = {m["id"]: m["total"]["count"] for m in body["metrics"] if m["total"]}
    assert figures["NQ15"] > 20
    if period == "2025-26":
        for metric_id in ("NQ01", "NQ06", "NQ10", "NQ11", "NQ12", "NQ13", "NQ14", "NQ20", "NQ21", "NQ23",
                          "NQ24", "NQ25", "NQ26", "NQ27", "NQ28"):
            assert figures[metric_id] > 0, metric_id


async def test_rates_and_percentages(synth: httpx.AsyncClient, token_for: TokenFor) -> None:
    metrics = {m["id"]: m for m in (await dataset(synth, token_for, "2025-26"))["metrics"]}
    nq01 = metrics["NQ01"]["total"]["count"]
    rate = metrics["NQ03"]["total"]
    assert (rate["count"], rate["denominator"]) == (nq01, POPULATION)
    assert rate["value"] == round(nq01 * 10000 / POPULATION, 1)
    share = metrics["NQ04"]["total"]
    assert share["value"] == round(100 * share["count"] / share["denominator"], 1)
    assert metrics["NQ04"]["unit"] == "percent"


async def test_each_figure_carries_its_definition_and_period_basis(synth: httpx.AsyncClient, token_for: TokenFor) -> None:
    metrics = {m["id"]: m for m in (await dataset(synth, token_for, "2025-26-Q4"))["metrics"]}
    assert metrics["NQ01"]["period_basis"] == "snapshot"
    assert (metrics["NQ01"]["at"], metrics["NQ01"]["from"]) == ("2026-03-31", None)
    assert (metrics["NQ05"]["period_basis"], metrics["NQ05"]["from"], metrics["NQ05"]["to"]) == ("in_period", "2026-01-01", "2026-03-31")
    assert (metrics["NQ13"]["period_basis"], metrics["NQ13"]["from"]) == ("rolling_12_months", "2025-04-01")
    assert "latest category of abuse is NEG" in metrics["NQ01"]["definition"]
    assert {"age_band", "gender", "ethnicity_group", "disability"} == set(metrics["NQ01"]["breakdowns"])
    assert set(metrics["NQ16"]["breakdowns"]) == {"referring_agency_type", "level", "outcome", "followed_recommendation"}


async def test_toolkit_metrics_come_from_the_assessment_services_events(synth: httpx.AsyncClient, token_for: TokenFor) -> None:
    metrics = {m["id"]: m for m in (await dataset(synth, token_for, "2025-26"))["metrics"]}
    assert metrics["NQ27"]["total"]["count"] > 0
    assert {c["key"] for c in metrics["NQ27"]["breakdowns"]["tool"] if c["count"]} == {"gcp2", "signs_of_safety"}
    classes = {c["key"]: c["count"] for c in metrics["NQ28"]["breakdowns"]["trajectory_class"]}
    assert sum(classes.values()) == metrics["NQ28"]["total"]["count"] > 0
    assert classes["improved"] > 0


async def test_small_numbers_are_suppressed_for_readers(synth: httpx.AsyncClient, token_for: TokenFor) -> None:
    raw = {m["id"]: m for m in (await dataset(synth, token_for, "2025-26"))["metrics"]}
    shown = {m["id"]: m for m in (await dataset(synth, token_for, "2025-26", "reporting:read"))["metrics"]}
    hidden_somewhere = False
    for metric_id, metric in shown.items():
        if not metric["available"]:
            continue
        assert metric["suppressed"] is True
        for dim, cells in metric["breakdowns"].items():
            truth = {c["key"]: c["count"] for c in raw[metric_id]["breakdowns"][dim]}
            for cell in cells:
                true_count = truth[cell["key"]]
                if 1 <= true_count <= 5:
                    assert cell["count"] == "c", (metric_id, dim, cell)
                    if cell["percent"] is not None:
                        assert cell["percent"] == "c"
                    hidden_somewhere = True
                elif true_count == 0:
                    assert cell["count"] == 0
                elif cell["count"] != "c":
                    assert cell["count"] == true_count
            hidden = [c for c in cells if c["count"] == "c"]
            total_hidden = metric["total"]["count"] == "c"
            if "S5" in metric["suppression_rules"] and not total_hidden and dim != "escalations_in_period":
                # Secondary suppression: one hidden cell alone could be worked out from the total
                # (escalations are a list beside the split, not a share of the total).
                assert len(hidden) != 1, (metric_id, dim)
    assert hidden_somewhere


async def test_csv_has_one_row_per_figure_with_its_definition(synth: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await synth.get("/v1/datasets/quarterly", params={"period": "2025-26-Q4"},
                        headers={**token_for(READER, "reporting:read"), "Accept": "text/csv"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    nq01 = [row for row in rows if row["id"] == "NQ01"]
    assert nq01[0]["breakdown"] == ""
    assert nq01[0]["key"] == "total"
    assert {row["period_basis"] for row in nq01} == {"snapshot"}
    assert all(row["definition"].startswith("CP plans open at period end") for row in nq01)
    assert {row["available"] for row in rows} == {"True"}
    json_body = await dataset(synth, token_for, "2025-26-Q4", "reporting:read")
    assert len(rows) == sum(1 + sum(len(c) for c in m["breakdowns"].values()) for m in json_body["metrics"])


@pytest.mark.parametrize(("period", "status", "slug"), [
    ("2025-26-Q5", 422, "invalid-period"),
    ("2025-27", 422, "invalid-period"),
    ("2025", 422, "invalid-period"),
    ("2025-02-30..2025-03-31", 422, "invalid-period"),
    ("2025-06-30..2025-04-01", 422, "invalid-period"),
    ("2020-01-01..2025-12-31", 422, "period-too-long"),
])
async def test_bad_periods_are_problems(reporting: httpx.AsyncClient, token_for: TokenFor, period: str, status: int, slug: str) -> None:
    r = await reporting.get("/v1/datasets/quarterly", params={"period": period}, headers=token_for(READER, "reporting:read"))
    assert r.status_code == status
    assert r.headers["content-type"] == PROBLEM
    problem = r.json()
    assert problem["type"].endswith(slug)
    assert problem["errors"][0]["field"] == "query.period"


async def test_a_missing_period_is_422(reporting: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await reporting.get("/v1/datasets/quarterly", headers=token_for(READER, "reporting:read"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "query.period"


async def test_an_unserved_media_type_is_406(reporting: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await reporting.get("/v1/datasets/quarterly", params={"period": "2025-26"},
                            headers={**token_for(READER, "reporting:read"), "Accept": "application/xml"})
    assert r.status_code == 406
    assert r.headers["content-type"] == PROBLEM


async def test_the_dataset_needs_reporting_read(reporting: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await reporting.get("/v1/datasets/quarterly", params={"period": "2025-26"}, headers=token_for(uuid.uuid4(), "referral:read"))
    assert r.status_code == 403
