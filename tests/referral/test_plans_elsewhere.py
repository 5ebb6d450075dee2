"""Child protection plans in other local authorities: recorded on the child or with a transfer-in
conference, counted in each later plan's NumberOfPreviousCPP and carried on cp_plan.started."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import col, select

from services.referral.domain import journey as j
from shared.models import OutboxMessage
from tests.referral.test_episodes import PROBLEM, Walk, outbox_of_episode, walk  # noqa: F401 - walk is a fixture


async def child_of(client: httpx.AsyncClient, w: Walk) -> httpx.Response:
    r = await client.get(f"/v1/children/{w.child_id}", headers=w.headers)  # type: ignore[attr-defined]
    assert r.status_code == 200, r.text
    return r


async def record(client: httpx.AsyncClient, w: Walk, body: dict[str, Any], *, headers: dict[str, str] | None = None,
                 expect: int = 200) -> httpx.Response:
    etag = (await child_of(client, w)).headers["etag"]
    r = await client.put(f"/v1/children/{w.child_id}/cp-plans-elsewhere", json=body,  # type: ignore[attr-defined]
                         headers={**(headers or w.headers), "If-Match": etag})
    assert r.status_code == expect, r.text
    return r


async def recorded(app: FastAPI, child_id: str) -> list[dict[str, Any]]:
    async with app.state.db.sessions() as session:
        rows = (await session.exec(select(OutboxMessage).where(
            OutboxMessage.event_type == "child.cp_plans_elsewhere_recorded").order_by(col(OutboxMessage.occurred_at)))).all()
    return [r.payload["data"] for r in rows if r.payload["data"]["child_id"] == child_id]


async def test_a_transfer_in_brings_the_plans_before_it(walk: Walk, referral: httpx.AsyncClient,  # noqa: F811
                                                        referral_app: FastAPI) -> None:
    ep = (await walk.step("/conferences", {"kind": "transfer_in", "held_date": "2026-01-12", "outcome": "plan",
                                            "category": "NEG",
                                            "plans_elsewhere": {"previous_plans": 2, "latest_end_date": "2025-06-30"}})).json()
    plan = ep["cp_plans"][0]
    assert (plan["previous_plans"], plan["previous_plan_end_date"]) == (2, "2025-06-30")
    started = [d for t, d in await outbox_of_episode(referral_app, walk.episode_id) if t == "cp_plan.started"]
    assert [(d["previous_plans"], d["previous_plan_end_date"]) for d in started] == [(2, "2025-06-30")]
    child = (await child_of(referral, walk)).json()
    assert child["cp_plans_elsewhere"] == {"previous_plans": 2, "latest_end_date": "2025-06-30"}
    assert [(d["previous_plans"], d["latest_end_date"]) for d in await recorded(referral_app, walk.child_id)] == [  # type: ignore[attr-defined]
        (2, "2025-06-30")]


async def test_a_plan_elsewhere_cannot_end_after_the_transfer_in(walk: Walk) -> None:  # noqa: F811
    before = await walk.read()
    r = await walk.step("/conferences", {"kind": "transfer_in", "held_date": "2026-01-12", "outcome": "plan",
                                         "category": "NEG",
                                         "plans_elsewhere": {"previous_plans": 1, "latest_end_date": "2026-01-13"}},
                        expect=409)
    assert (r.headers["content-type"], r.json()["rule"]) == (PROBLEM, "8940")
    assert await walk.read() == before


async def test_only_a_transfer_in_carries_plans_elsewhere(walk: Walk) -> None:  # noqa: F811
    ep = (await walk.step("/strategy-discussions", {"held_date": "2026-01-07", "start_s47": True})).json()
    await walk.step("/conferences", {"kind": "initial", "held_date": "2026-01-12", "s47_id": ep["s47s"][0]["id"],
                                     "outcome": "plan", "category": "NEG",
                                     "plans_elsewhere": {"previous_plans": 1, "latest_end_date": "2025-01-13"}}, expect=422)


async def test_plans_recorded_on_the_child_count_in_the_next_plan(walk: Walk, referral: httpx.AsyncClient,  # noqa: F811
                                                                  referral_app: FastAPI) -> None:
    body = {"previous_plans": 1, "latest_end_date": "2025-10-01"}
    # Children's social care records it, with If-Match on the child; the pair goes together; not in the future.
    r = await record(referral, walk, body, headers=walk.hv_headers, expect=403)  # type: ignore[attr-defined]
    assert r.headers["content-type"] == PROBLEM
    r = await referral.put(f"/v1/children/{walk.child_id}/cp-plans-elsewhere", json=body, headers=walk.headers)  # type: ignore[attr-defined]
    assert r.status_code == 428
    await record(referral, walk, {"previous_plans": 1}, expect=422)
    await record(referral, walk, {"previous_plans": 0, "latest_end_date": "2025-10-01"}, expect=422)
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    assert (await record(referral, walk, {"previous_plans": 1, "latest_end_date": tomorrow}, expect=409)).json()["rule"] \
        == "future-date"
    version = int((await child_of(referral, walk)).headers["etag"].strip('"'))
    r = await record(referral, walk, body)
    assert r.json()["cp_plans_elsewhere"] == body
    assert r.headers["etag"] == f'"{version + 1}"'

    ep = (await walk.step("/strategy-discussions", {"held_date": "2026-01-07", "start_s47": True})).json()
    ep = (await walk.step("/conferences", {"kind": "initial", "held_date": "2026-01-26", "s47_id": ep["s47s"][0]["id"],
                                            "outcome": "plan", "category": "NEG"})).json()
    plan = ep["cp_plans"][0]
    assert (plan["previous_plans"], plan["previous_plan_end_date"]) == (1, "2025-10-01")
    started = [d for t, d in await outbox_of_episode(referral_app, walk.episode_id) if t == "cp_plan.started"]
    assert [(d["previous_plans"], d["previous_plan_end_date"]) for d in started] == [(1, "2025-10-01")]
    # A plan elsewhere cannot have ended inside the plan here (DfE 8940: plans do not overlap).
    r = await record(referral, walk, {"previous_plans": 2, "latest_end_date": "2026-02-02"}, expect=409)
    assert r.json()["rule"] == "8940"
    # A correction counts for later plans; the plan here keeps the count it started with.
    await record(referral, walk, {"previous_plans": 2, "latest_end_date": "2025-12-01"})
    assert (await walk.read())["cp_plans"][0]["previous_plans"] == 1


# --- the state machine alone ---------------------------------------------------------------


def test_the_journey_counts_plans_here_and_elsewhere() -> None:
    today = date(2026, 6, 1)
    journey = j.Journey(birth_date=date(2019, 1, 1), expected_birth_date=None)
    journey.record_plans_elsewhere(j.PlansElsewhere(2, date(2024, 5, 1)), today)
    e = journey.receive_referral(date(2025, 1, 6), "3B", today)
    journey.decide(e, nfa=False, primary_need="N1", decided_on=date(2025, 1, 6), today=today)
    first = journey.hold_transfer_in(e, date(2025, 1, 13), "NEG", today)
    assert (first.previous_plans, first.previous_plan_end_date) == (2, date(2024, 5, 1))
    journey.end_cp_plan(e, first, date(2025, 6, 2), today)
    s47 = journey.start_s47(e, date(2025, 9, 1), today)
    # A 2884 episode cannot hold an s47 conference after its transfer-in: close it and start again.
    journey.conclude_s47_without_icpc(e, s47, date(2025, 9, 5), today)
    journey.close_episode(e, date(2025, 9, 8), "RC1", today)
    e2 = journey.receive_referral(date(2025, 10, 6), "3B", today)
    journey.decide(e2, nfa=False, primary_need="N1", decided_on=date(2025, 10, 6), today=today)
    s = journey.start_s47(e2, date(2025, 10, 7), today)
    journey.hold_icpc(e2, s, date(2025, 10, 13), today)
    second = journey.start_cp_plan(e2, date(2025, 10, 13), "NEG", today)
    assert (second.previous_plans, second.previous_plan_end_date) == (3, date(2025, 6, 2))
    assert j.census_errors(journey) == []
    # Neither in the future nor inside a plan here (8940); the pair goes together.
    for history, rule in [(j.PlansElsewhere(1, date(2026, 6, 2)), "future-date"),
                          (j.PlansElsewhere(1, date(2025, 11, 1)), "8940"),
                          (j.PlansElsewhere(1, date(2025, 3, 1)), "8940"),
                          (j.PlansElsewhere(1, None), "cp-history")]:
        with pytest.raises(j.RuleBroken) as raised:
            journey.record_plans_elsewhere(history, today)
        assert raised.value.rule == rule
