"""Visits and the voice of the child, through HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select

from services.referral.models import ChronologyEntry
from tests.referral.factories_practice import (
    assert_problem,
    audits,
    child_of,
    days_ago,
    events_of_type,
    make_professional,
    partner,
    tomorrow,
)
from tests.support import TokenFor


def visit(**overrides: Any) -> dict[str, Any]:
    return {"visited_on": days_ago(1), "statutory": True, "announced": False, "child_seen": True,
            "seen_alone": True, "bedroom_seen": True, "home_conditions": "poor", **overrides}


async def test_visits_newest_first_with_last_seen_summary(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI
) -> None:
    csc = await partner(referral, token_for, "childrens_social_care")
    child = await child_of(referral, token_for, csc)
    worker = await make_professional(referral, csc, name="Test Social Worker", role="Social worker")
    url = f"/v1/children/{child['id']}/visits"
    r = await referral.post(url, json=visit(visited_on=days_ago(30), professional_id=worker["id"]), headers=csc.headers())
    assert r.status_code == 201, r.text
    assert r.json()["professional_id"] == worker["id"]
    assert r.json()["engagement_event_id"] is None
    await referral.post(url, json=visit(visited_on=days_ago(10), seen_alone=False, bedroom_seen=False, statutory=False,
                                        home_conditions="adequate"), headers=csc.headers())
    await referral.post(url, json=visit(visited_on=days_ago(2), child_seen=False, seen_alone=False, bedroom_seen=False,
                                        no_access=True, home_conditions=None), headers=csc.headers())
    r = await referral.get(url, headers=csc.headers())
    assert r.status_code == 200
    body = r.json()
    assert [v["visited_on"] for v in body["items"]] == [days_ago(2), days_ago(10), days_ago(30)]
    assert body["items"][0]["home_conditions"] == "not_seen"
    assert body["last_seen"] == days_ago(10)
    assert body["last_seen_alone"] == days_ago(30)
    assert body["last_statutory_visit"] == days_ago(2)

    async with referral_app.state.db.sessions() as session:
        lines = (await session.exec(select(ChronologyEntry).where(ChronologyEntry.kind == "visit"))).all()
    mine = sorted((line for line in lines if str(line.child_id) == child["id"]), key=lambda line: line.occurred_at)
    assert [line.significance for line in mine] == ["medium", "low", "high"]
    assert "Testchild" not in " ".join(line.summary for line in mine)
    recorded = [e for e in await events_of_type(referral_app, "visit.recorded") if e["child_id"] == child["id"]]
    assert len(recorded) == 3
    assert all(set(e) <= {"child_id", "visit_id", "agency_id", "visited_on", "statutory", "child_seen", "seen_alone", "no_access"}
               for e in recorded)
    assert {a.action for a in await audits(referral_app, "visit")} >= {"create", "list"}


async def test_a_no_access_visit_is_an_engagement_event(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    hv = await partner(referral, token_for)
    child = await child_of(referral, token_for, hv)
    r = await referral.post(f"/v1/children/{child['id']}/visits", headers=hv.headers(),
                            json={"visited_on": days_ago(3), "child_seen": False, "no_access": True})
    assert r.status_code == 201, r.text
    assert r.json()["engagement_event_id"]
    events = (await referral.get(f"/v1/children/{child['id']}/engagement-events", headers=hv.headers())).json()["items"]
    assert [(e["kind"], e["occurred_on"]) for e in events] == [("no_access_visit", days_ago(3))]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"child_seen": False}, "body"),  # seen alone / bedroom seen need the child seen
        ({"child_seen": False, "seen_alone": False}, "body"),
        ({"no_access": True}, "body"),  # no access, yet seen
        ({"no_access": True, "child_seen": False, "seen_alone": False, "bedroom_seen": False}, "body"),  # conditions assessed
        ({"home_conditions": "filthy"}, "body.home_conditions"),
        ({"visited_on": tomorrow()}, "body.visited_on"),
        ({"mood": "happy"}, "body.mood"),
        ({"child_seen": None}, "body.child_seen"),
    ],
)
async def test_bad_visit_is_refused_and_nothing_written(
    referral: httpx.AsyncClient, token_for: TokenFor, overrides: dict[str, Any], field: str
) -> None:
    hv = await partner(referral, token_for)
    child = await child_of(referral, token_for, hv)
    url = f"/v1/children/{child['id']}/visits"
    problem = assert_problem(await referral.post(url, json=visit(**overrides), headers=hv.headers()), 422)
    assert field in [e["field"] for e in problem["errors"]]
    listed = (await referral.get(url, headers=hv.headers())).json()
    assert listed["items"] == []
    assert listed["last_seen"] is None
    assert (await referral.get(f"/v1/children/{child['id']}/engagement-events", headers=hv.headers())).json()["items"] == []


async def test_visit_by_another_agencys_professional_is_refused(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    hv = await partner(referral, token_for)
    gp = await partner(referral, token_for, "gp")
    child = await child_of(referral, token_for, hv)
    doctor = await make_professional(referral, gp)
    r = await referral.post(f"/v1/children/{child['id']}/visits", json=visit(professional_id=doctor["id"]), headers=hv.headers())
    assert_problem(r, 422, "unrelated-reference")


async def test_visit_pages_walk_newest_first(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    hv = await partner(referral, token_for)
    child = await child_of(referral, token_for, hv)
    url = f"/v1/children/{child['id']}/visits"
    for n in (5, 1, 9, 1, 3):
        r = await referral.post(url, json=visit(visited_on=days_ago(n)), headers=hv.headers())
        assert r.status_code == 201
    seen: list[dict[str, Any]] = []
    next_url: str | None = f"{url}?limit=2"
    while next_url:
        r = await referral.get(next_url, headers=hv.headers())
        assert r.status_code == 200
        seen += r.json()["items"]
        link = r.headers.get("link")
        next_url = link.split(";")[0].strip("<>") if link else None
    assert [v["visited_on"] for v in seen] == [days_ago(n) for n in (1, 1, 3, 5, 9)]
    assert len({v["id"] for v in seen}) == 5
    assert_problem(await referral.get(url, params={"cursor": "bm9wZQ"}, headers=hv.headers()), 400, "invalid-cursor")


async def test_voice_of_the_child(referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI) -> None:
    school = await partner(referral, token_for, "school")
    child = await child_of(referral, token_for, school)
    url = f"/v1/children/{child['id']}/voice"
    r = await referral.post(url, headers=school.headers(), json={
        "recorded_on": days_ago(5), "words": "There is no food at home.", "safety_rating": 3,
        "participation": "in_person", "context": "direct_work"})
    assert r.status_code == 201, r.text
    r = await referral.post(url, headers=school.headers(), json={
        "recorded_on": days_ago(1), "participation": "declined", "context": "conference"})
    assert r.status_code == 201, r.text
    listed = (await referral.get(url, headers=school.headers())).json()["items"]
    assert [v["recorded_on"] for v in listed] == [days_ago(1), days_ago(5)]
    assert listed[1]["words"] == "There is no food at home."
    assert listed[1]["safety_rating"] == 3
    emitted = await events_of_type(referral_app, "child_voice.recorded")
    assert emitted
    assert "food" not in str(emitted)
    async with referral_app.state.db.sessions() as session:
        lines = (await session.exec(select(ChronologyEntry).where(ChronologyEntry.kind == "child_voice"))).all()
    assert lines
    assert all("food" not in line.summary for line in lines)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"safety_rating": 11}, "body.safety_rating"),
        ({"safety_rating": -1}, "body.safety_rating"),
        ({"words": ""}, "body"),
        ({"participation": "shouted"}, "body.participation"),
        ({"context": "party"}, "body.context"),
        ({"recorded_on": tomorrow()}, "body.recorded_on"),
        ({"words": "x" * 4001}, "body.words"),
        ({"feelings": "sad"}, "body.feelings"),
    ],
)
async def test_bad_voice_is_refused_and_nothing_written(
    referral: httpx.AsyncClient, token_for: TokenFor, body: dict[str, Any], field: str
) -> None:
    school = await partner(referral, token_for, "school")
    child = await child_of(referral, token_for, school)
    url = f"/v1/children/{child['id']}/voice"
    full = {"recorded_on": days_ago(1), "words": "I am hungry", "participation": "in_person", **body}
    problem = assert_problem(await referral.post(url, json=full, headers=school.headers()), 422)
    assert field in [e["field"] for e in problem["errors"]]
    assert (await referral.get(url, headers=school.headers())).json()["items"] == []


@pytest.mark.parametrize("path", ["visits", "voice"])
async def test_foreign_agency_gets_404_and_scopes_are_checked(
    referral: httpx.AsyncClient, token_for: TokenFor, path: str
) -> None:
    school = await partner(referral, token_for, "school")
    police = await partner(referral, token_for, "police")
    child = await child_of(referral, token_for, school)
    url = f"/v1/children/{child['id']}/{path}"
    body = visit() if path == "visits" else {"recorded_on": days_ago(1), "words": "ok", "participation": "written"}
    assert_problem(await referral.post(url, json=body, headers=police.headers()), 404, "child-not-found")
    assert_problem(await referral.get(url, headers=police.headers()), 404, "child-not-found")
    assert_problem(await referral.post(url, json=body, headers=school.headers("referral:read")), 403, "insufficient-scope")
    assert_problem(await referral.get(url, headers=school.headers("referral:write")), 403, "insufficient-scope")
    assert (await referral.get(url, headers=school.headers())).json()["items"] == []


async def test_idempotent_visit(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    hv = await partner(referral, token_for)
    child = await child_of(referral, token_for, hv)
    url = f"/v1/children/{child['id']}/visits"
    headers = hv.headers(**{"Idempotency-Key": "visit-1"})
    first = await referral.post(url, json=visit(), headers=headers)
    again = await referral.post(url, json=visit(), headers=headers)
    assert first.json() == again.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert len((await referral.get(url, headers=hv.headers())).json()["items"]) == 1
