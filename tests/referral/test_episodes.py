"""A child's statutory journey through the API: each step a transition, census rules enforced."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.referral.factories import make_agency, make_child
from tests.referral.journey_support import open_episode
from tests.support import TokenFor

PROBLEM = "application/problem+json"


class Walk:
    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str], episode_id: str) -> None:
        self.client = client
        self.headers = headers
        self.episode_id = episode_id
        self.etag = ""

    async def read(self) -> dict[str, Any]:
        r = await self.client.get(f"/v1/episodes/{self.episode_id}", headers=self.headers)
        assert r.status_code == 200, r.text
        self.etag = r.headers["etag"]
        body: dict[str, Any] = r.json()
        return body

    async def step(self, path: str, body: dict[str, Any], expect: int = 200) -> httpx.Response:
        r = await self.client.post(f"/v1/episodes/{self.episode_id}{path}", json=body,
                                   headers={**self.headers, "If-Match": self.etag})
        assert r.status_code == expect, r.text
        if r.status_code == 200:
            self.etag = r.headers["etag"]
        return r


@pytest.fixture
async def walk(referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI) -> Walk:
    csc = await make_agency(referral, token_for, "childrens_social_care")
    hv = await make_agency(referral, token_for, "health_visiting")
    child = await make_child(referral, token_for, hv["id"])
    episode_id = await open_episode(referral_app, uuid.UUID(csc["id"]), uuid.UUID(child["id"]), date(2026, 1, 5))
    w = Walk(referral, token_for(uuid.UUID(csc["id"]), "referral:read", "referral:write"), str(episode_id))
    w.hv_headers = token_for(uuid.UUID(hv["id"]), "referral:read", "referral:write")  # type: ignore[attr-defined]
    w.child_id = child["id"]  # type: ignore[attr-defined]
    await w.read()
    return w


async def test_neglect_journey_to_cp_plan_step_down_and_closure(walk: Walk, referral: httpx.AsyncClient,
                                                                token_for: TokenFor) -> None:
    ep = (await walk.step("/assessments", {"start_date": "2026-01-06"})).json()
    assessment_id = ep["assessments"][0]["id"]
    assert ep["assessments"][0]["due_date"] == "2026-03-09"  # 45 working days from the referral
    ep = (await walk.step("/strategy-discussions", {"held_date": "2026-01-07", "start_s47": True})).json()
    s47 = ep["s47s"][0]
    assert s47["icpc_target_date"] == "2026-01-28"  # 15 working days
    ep = (await walk.step("/conferences", {"kind": "initial", "held_date": "2026-01-26", "s47_id": s47["id"],
                                            "outcome": "plan", "category": "NEG"})).json()
    plan = ep["cp_plans"][0]
    assert (plan["start_date"], plan["initial_category"], plan["previous_plans"]) == ("2026-01-26", "NEG", 0)
    assert plan["next_review_due"] == "2026-04-26"
    ep = (await walk.step(f"/assessments/{assessment_id}/authorisation",
                          {"authorised_date": "2026-01-27", "factors": ["16A"], "authorised_by": "Team manager 4"})).json()
    ep = (await walk.step(f"/cp-plans/{plan['id']}/core-groups", {"held_date": "2026-02-04"})).json()
    ep = (await walk.step("/conferences", {"kind": "review", "held_date": "2026-04-20", "cp_plan_id": plan["id"],
                                            "outcome": "continue_plan"})).json()
    assert ep["cp_plans"][0]["next_review_due"] == "2026-10-20"
    ep = (await walk.step("/conferences", {"kind": "review", "held_date": "2026-10-12", "cp_plan_id": plan["id"],
                                            "outcome": "end_plan", "step_down": "cin_plan"})).json()
    assert ep["cp_plans"][0]["end_date"] == "2026-10-12"
    assert ep["cp_plans"][0]["end_route"] == "step_down_cin"
    assert ep["cin_plans"][0]["start_date"] == "2026-10-12"
    ep = (await walk.step(f"/cin-plans/{ep['cin_plans'][0]['id']}/end", {"end_date": "2026-11-20"})).json()
    ep = (await walk.step("/closure", {"closure_date": "2026-11-20", "reason": "RC7"})).json()
    assert ep["reason_for_closure"] == "RC7"
    # Read-only after closure (DfE 8565).
    r = await walk.step("/assessments", {"start_date": "2026-11-21"}, expect=409)
    assert r.json()["rule"] == "8565"
    # Chronology-worthy steps were announced through the outbox.
    listed = await referral.get("/v1/episodes", params={"child_id": walk.child_id}, headers=walk.headers)  # type: ignore[attr-defined]
    assert [e["id"] for e in listed.json()["items"]] == [walk.episode_id]


async def test_cin_plan_while_cp_plan_open_is_refused_and_changes_nothing(walk: Walk) -> None:
    ep = (await walk.step("/strategy-discussions", {"held_date": "2026-01-07", "start_s47": True})).json()
    await walk.step("/conferences", {"kind": "initial", "held_date": "2026-01-26", "s47_id": ep["s47s"][0]["id"],
                                     "outcome": "plan", "category": "NEG"})
    before = await walk.read()
    r = await walk.step("/cin-plans", {"start_date": "2026-02-02"}, expect=409)
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["rule"] == "4001"
    assert await walk.read() == before


@pytest.mark.parametrize(
    ("path", "body", "rule"),
    [
        ("/conferences", {"kind": "initial", "held_date": "2026-01-24", "outcome": "no_plan", "s47_id": "S47"}, "8875"),
        ("/assessments", {"start_date": "2026-01-02"}, "1103"),
        ("/closure", {"closure_date": "2026-01-08", "reason": "RC8"}, "8868"),
        ("/assessments", {"start_date": "2999-01-01"}, "future-date"),
    ],
)
async def test_census_rules_are_409_naming_the_rule(walk: Walk, path: str, body: dict[str, Any], rule: str) -> None:
    ep = (await walk.step("/strategy-discussions", {"held_date": "2026-01-07", "start_s47": True})).json()
    body = {k: (ep["s47s"][0]["id"] if v == "S47" else v) for k, v in body.items()}
    before = await walk.read()
    r = await walk.step(path, body, expect=409)
    assert r.json()["rule"] == rule
    assert await walk.read() == before


async def test_if_match_is_required_and_checked(walk: Walk, referral: httpx.AsyncClient) -> None:
    url = f"/v1/episodes/{walk.episode_id}/assessments"
    r = await referral.post(url, json={"start_date": "2026-01-06"}, headers=walk.headers)
    assert r.status_code == 428
    r = await referral.post(url, json={"start_date": "2026-01-06"}, headers={**walk.headers, "If-Match": '"999"'})
    assert r.status_code == 412
    assert (await walk.read())["assessments"] == []


async def test_only_childrens_social_care_records_statutory_steps(walk: Walk, referral: httpx.AsyncClient) -> None:
    r = await referral.post(f"/v1/episodes/{walk.episode_id}/assessments", json={"start_date": "2026-01-06"},
                            headers={**walk.hv_headers, "If-Match": walk.etag})  # type: ignore[attr-defined]
    assert r.status_code == 403
    # ...but the registering agency still reads the episode.
    r = await referral.get(f"/v1/episodes/{walk.episode_id}", headers=walk.hv_headers)  # type: ignore[attr-defined]
    assert r.status_code == 200


async def test_foreign_agency_gets_404(walk: Walk, referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    police = await make_agency(referral, token_for, "police")
    headers = token_for(uuid.UUID(police["id"]), "referral:read", "referral:write")
    assert (await referral.get(f"/v1/episodes/{walk.episode_id}", headers=headers)).status_code == 404
    r = await referral.post(f"/v1/episodes/{walk.episode_id}/assessments", json={"start_date": "2026-01-06"},
                            headers={**headers, "If-Match": walk.etag})
    assert r.status_code in (403, 404)
    assert (await referral.get("/v1/episodes", params={"child_id": walk.child_id}, headers=headers)).status_code == 404  # type: ignore[attr-defined]


async def test_bad_codes_are_422(walk: Walk) -> None:
    r = await walk.step("/closure", {"closure_date": "2026-01-08", "reason": "RC99"}, expect=422)
    assert any(e["field"] == "body.reason" for e in r.json()["errors"])
