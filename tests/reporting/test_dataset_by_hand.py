"""The hand-written SQL of the reporting bench (scripts/dataset_by_hand.py) computes every figure of
the quarterly dataset the API serves, and the bench's replicated read model scales every figure by
its number of copies: the two checks `make bench` relies on, here on the small synthetic partnership
through HTTP against the real database. The statement is PostgreSQL's (window frames over dates,
``make_interval``, ``DISTINCT ON``), so the tests that run it run on PostgreSQL only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from scripts.dataset_by_hand import compare, hand_figures, replicate, scaled
from scripts.synthetic import UPN_LETTERS, Partnership
from tests.reporting.conftest import synthetic_reporting
from tests.reporting.factories import READER
from tests.support import (
    BACKEND,
    Keys,
    TokenFor,
    isolated,
)

postgres_only = pytest.mark.skipif(BACKEND != "postgres", reason="the hand-written dataset SQL is PostgreSQL's")

UNSUPPRESSED = ("reporting:read", "reporting:export")
COPIES = 3


async def dataset(client: httpx.AsyncClient, token_for: TokenFor, period: str) -> dict[str, Any]:
    r = await client.get("/v1/datasets/quarterly", params={"period": period}, headers=token_for(READER, *UNSUPPRESSED))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def by_hand(app: FastAPI, body: dict[str, Any]) -> dict[tuple[str, str, str], tuple[int, int]]:
    async with app.state.db.engine.connect() as connection, connection.begin():
        return await hand_figures(connection, date.fromisoformat(body["period"]["start"]),
                                  date.fromisoformat(body["period"]["end"]))


@postgres_only
@pytest.mark.parametrize("period", ["2025-26", "2025-26-Q4", "2024-25-Q2", "2024-11-15..2025-08-31"])
async def test_the_hand_written_sql_agrees_with_every_figure_of_the_dataset(
    synth: httpx.AsyncClient, synthetic_app: FastAPI, token_for: TokenFor, period: str,
) -> None:
    body = await dataset(synth, token_for, period)
    figures = await by_hand(synthetic_app, body)
    assert compare(body, figures) == []
    assert figures[("NQ15", "total", "total")][1] > 20  # not a comparison of zeros


def test_a_disagreement_is_reported() -> None:
    body = {"metrics": [{"id": "NQ01", "available": True, "reason": None,
                         "total": {"key": "total", "count": 4, "denominator": None},
                         "breakdowns": {"gender": [{"key": "male", "count": 4, "denominator": None}]}}]}
    figures = {("NQ01", "total", "total"): (5, 5), ("NQ01", "gender", "male"): (4, 4), ("NQ01", "gender", "female"): (1, 1)}
    assert compare(body, figures) == ["NQ01 total=total: count 4 (API) vs 5 (hand SQL)",
                                      "NQ01 gender=female: count 1 (hand SQL) not in the API's figures"]


@pytest.fixture(scope="module")
async def replicated_app(keys: Keys, session_tmp: Path, synthetic: Partnership) -> AsyncIterator[FastAPI]:
    """The synthetic partnership ingested into a database of its own, then replicated COPIES times over."""
    async with synthetic_reporting(keys, session_tmp / "replicated", synthetic) as app:
        async with app.state.db.engine.begin() as connection:
            await replicate(connection, COPIES)
        yield app


@postgres_only
@pytest.mark.parametrize("period", ["2025-26", "2024-25-Q3"])
async def test_the_replicated_read_model_multiplies_every_figure(
    synth: httpx.AsyncClient, replicated_app: FastAPI, token_for: TokenFor, period: str,
) -> None:
    once = await dataset(synth, token_for, period)
    async with isolated(replicated_app, "http://reporting") as client:
        thrice = await dataset(client, token_for, period)
    assert scaled(thrice, once, COPIES) == []
    assert compare(thrice, await by_hand(replicated_app, thrice)) == []


@postgres_only
async def test_replicated_census_identifiers_stay_unique(replicated_app: FastAPI) -> None:
    async with replicated_app.state.db.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT la_child_id, upn FROM rm_child_identity"))).all()
    la_ids, upns = [r.la_child_id for r in rows], [r.upn for r in rows if r.upn]
    assert len(set(la_ids)) == len(la_ids)
    assert upns
    assert len(set(upns)) == len(upns)
    for upn in upns:  # the check letter of every copied UPN is recomputed for its new digits
        assert upn[0] == UPN_LETTERS[sum(int(c) * (i + 2) for i, c in enumerate(upn[1:])) % 23], upn
