"""Partnership configuration: LA code, population, suppression per scope; admin only, with If-Match."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.reporting.factories import READER
from tests.support import TokenFor

ADMIN = uuid.UUID("00000000-0000-4000-8000-00000000a0a0")
PROBLEM = "application/problem+json"


async def test_defaults_come_from_settings(reporting: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await reporting.get("/v1/datasets/configuration", headers=token_for(READER, "reporting:read"))
    assert r.status_code == 200
    assert r.headers["etag"] == '"0"'
    body = r.json()
    assert (body["la_code"], body["population_0_17"], body["version"]) == ("", None, 0)
    assert body["suppression"] == {"reporting:read": True, "reporting:export": False}


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


@pytest.mark.parametrize("body", [{"la_code": "12"}, {"population_0_17": 0}, {"suppression": {"Not A Scope": True}}, {"colour": "red"}])
async def test_invalid_settings_are_422(reporting: httpx.AsyncClient, token_for: TokenFor, body: dict[str, object]) -> None:
    r = await reporting.patch("/v1/datasets/configuration", json=body, headers={**token_for(ADMIN, "admin"), "If-Match": '"0"'})
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM


async def test_only_administrators_change_settings(reporting: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await reporting.patch("/v1/datasets/configuration", json={"la_code": "201"},
                              headers={**token_for(READER, "reporting:read", "reporting:export"), "If-Match": '"0"'})
    assert r.status_code == 403
