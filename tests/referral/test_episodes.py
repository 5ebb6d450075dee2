"""A child's statutory journey through the API: each step a transition, census rules enforced."""

from __future__ import annotations

import uuid
from datetime import date
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import col, select

from services.referral.domain.calendar import england_and_wales
from services.referral.domain.episodes import Journeys
from services.referral.events import EMITTED
from services.referral.queries.children import AgencyQueries
from services.referral.queries.journey import JourneyQueries
from shared.audit import Audit
from shared.events import Outbox
from shared.models import OutboxMessage
from shared.tokens import Principal
from tests.referral.factories import make_agency, make_child
from tests.referral.factories_practice import Partner, make_offer, record_event
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
    w.hv = Partner(hv, token_for)  # type: ignore[attr-defined]
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


async def outbox_of_episode(app: FastAPI, episode_id: str) -> list[tuple[str, dict[str, Any]]]:
    async with app.state.db.sessions() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.occurred_at)))).all()
    return [(r.event_type, r.payload["data"]) for r in rows if r.payload["data"].get("episode_id") == episode_id]


async def chronology(client: httpx.AsyncClient, walk: Walk) -> list[dict[str, Any]]:
    r = await client.get(f"/v1/children/{walk.child_id}/chronology", params={"order": "asc", "limit": 100},  # type: ignore[attr-defined]
                         headers=walk.headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def test_transfer_in_conference_starts_the_plan_with_an_episode_level_icpc(
    walk: Walk, referral: httpx.AsyncClient, referral_app: FastAPI
) -> None:
    ep = (await walk.step("/conferences", {"kind": "transfer_in", "held_date": "2026-01-12", "outcome": "plan",
                                            "category": "NEG"})).json()
    plan = ep["cp_plans"][0]
    assert ep["icpc_date"] == "2026-01-12"
    assert (plan["start_date"], plan["initial_category"], plan["next_review_due"]) == ("2026-01-12", "NEG", "2026-04-12")
    assert [(c["kind"], c["outcome"], c["cp_plan_id"], c["s47_id"]) for c in ep["conferences"]] == [
        ("transfer_in", "plan", plan["id"], None)]
    assert ep["s47s"] == []
    events = [(t, d) for t, d in await outbox_of_episode(referral_app, walk.episode_id) if t != "episode.opened"]
    assert [t for t, _ in events] == ["transfer_in.held", "cp_plan.started"]
    assert {t for t, _ in events} <= set(EMITTED)  # catalogued (docs/events.md)
    assert events[0][1]["cp_plan_id"] == events[1][1]["cp_plan_id"] == plan["id"]
    assert (events[0][1]["date"], events[0][1]["conference_id"]) == ("2026-01-12", ep["conferences"][0]["id"])
    assert (events[1][1]["category"], events[1][1]["previous_plans"]) == ("NEG", 0)
    line = next(e for e in await chronology(referral, walk) if e["kind"] == "transfer_in.held")
    assert line["summary"] == "Transfer-in child protection conference: the plan continues here (NEG)."
    # The plan runs as any other: reviewed, ended; the episode's one conference made its one plan.
    ep = (await walk.step("/conferences", {"kind": "review", "held_date": "2026-04-08", "cp_plan_id": plan["id"],
                                            "outcome": "end_plan"})).json()
    r = await walk.step("/conferences", {"kind": "transfer_in", "held_date": "2026-04-13", "outcome": "plan",
                                         "category": "NEG"}, expect=409)
    assert r.json()["rule"] == "icpc-recorded"


@pytest.mark.parametrize(
    "body",
    [
        {"outcome": "plan"},  # no category
        {"outcome": "no_plan", "category": "NEG"},
        {"outcome": "plan", "category": "NEG", "s47_id": str(uuid.uuid4())},
        {"outcome": "plan", "category": "NEG", "cp_plan_id": str(uuid.uuid4())},
        {"outcome": "plan", "category": "NEG", "step_down": "cin_plan"},
    ],
)
async def test_transfer_in_shape_is_422(walk: Walk, body: dict[str, Any]) -> None:
    r = await walk.step("/conferences", {"kind": "transfer_in", "held_date": "2026-01-12", **body}, expect=422)
    assert r.headers["content-type"] == PROBLEM


async def test_2884_s47_conference_and_transfer_in_exclude_each_other(walk: Walk) -> None:
    ep = (await walk.step("/strategy-discussions", {"held_date": "2026-01-07", "start_s47": True})).json()
    await walk.step("/conferences", {"kind": "initial", "held_date": "2026-01-12", "s47_id": ep["s47s"][0]["id"],
                                     "outcome": "no_plan"})
    before = await walk.read()
    r = await walk.step("/conferences", {"kind": "transfer_in", "held_date": "2026-01-19", "outcome": "plan",
                                         "category": "NEG"}, expect=409)
    assert (r.headers["content-type"], r.json()["rule"]) == (PROBLEM, "2884")
    assert await walk.read() == before


async def test_2884_after_a_transfer_in_an_s47_conference_is_refused(walk: Walk) -> None:
    ep = (await walk.step("/conferences", {"kind": "transfer_in", "held_date": "2026-01-12", "outcome": "plan",
                                            "category": "NEG"})).json()
    ep = (await walk.step(f"/cp-plans/{ep['cp_plans'][0]['id']}/end", {"end_date": "2026-03-02"})).json()
    # Not in the census year of the transfer-in: the census would match its plan to the s47 (2885) ...
    r = await walk.step("/strategy-discussions", {"held_date": "2026-03-09", "start_s47": True}, expect=409)
    assert (r.headers["content-type"], r.json()["rule"]) == (PROBLEM, "2885")
    # ... from 1 April an s47 may run, but its conference cannot sit beside the episode's (2884).
    ep = (await walk.step("/strategy-discussions", {"held_date": "2026-04-06", "start_s47": True})).json()
    before = await walk.read()
    r = await walk.step("/conferences", {"kind": "initial", "held_date": "2026-04-13", "s47_id": ep["s47s"][0]["id"],
                                         "outcome": "plan", "category": "NEG"}, expect=409)
    assert r.json()["rule"] == "2884"
    assert await walk.read() == before


async def test_closure_reports_partners_open_work_without_closing_it(
    walk: Walk, referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI
) -> None:
    hv: Partner = walk.hv  # type: ignore[attr-defined]
    offers = [await make_offer(referral, hv, walk.child_id, "2026-01-10") for _ in range(2)]  # type: ignore[attr-defined]
    ended = await make_offer(referral, hv, walk.child_id, "2026-01-10")  # type: ignore[attr-defined]
    r = await referral.post(f"/v1/service-offers/{ended['id']}/end", json={"ended_on": "2026-01-20", "outcome": "completed"},
                            headers=hv.headers(**{"If-Match": '"1"'}))
    assert r.status_code == 200, r.text
    for day in ("2026-01-13", "2026-01-20"):
        assert (await record_event(referral, hv, walk.child_id, "was_not_brought", day)).status_code == 201  # type: ignore[attr-defined]
    ep = (await walk.step("/assessments", {"start_date": "2026-01-06"})).json()
    await walk.step(f"/assessments/{ep['assessments'][0]['id']}/authorisation",
                    {"authorised_date": "2026-01-27", "factors": ["16A"], "authorised_by": "TM"})
    ep = (await walk.step("/closure", {"closure_date": "2026-01-28", "reason": "RC9"})).json()
    assert ep["reason_for_closure"] == "RC9"
    [closed] = [d for t, d in await outbox_of_episode(referral_app, walk.episode_id) if t == "episode.closed"]
    assert (closed["open_service_offers"], closed["open_non_engagement_case"]) == (2, True)
    lines = await chronology(referral, walk)
    review = [e for e in lines if e["kind"] == "episode.open_work"]
    assert [e["summary"] for e in review] == [
        "Episode closed with 2 open service offers and an open non-engagement case: review them."]
    assert [e["kind"] for e in lines].index("episode.closed") < [e["kind"] for e in lines].index("episode.open_work")
    # Nothing was closed for the partners.
    for offer in offers:
        assert (await referral.get(f"/v1/service-offers/{offer['id']}", headers=hv.headers())).json()["status"] == "offered"
    cases = (await referral.get(f"/v1/children/{walk.child_id}/non-engagement", headers=hv.headers())).json()  # type: ignore[attr-defined]
    assert [c["stage"] for c in cases["cases"]] == ["monitoring"]
    assert cases["open_case_id"] is not None


async def test_closure_without_open_work_says_so_and_adds_no_review_line(
    walk: Walk, referral: httpx.AsyncClient, referral_app: FastAPI
) -> None:
    ep = (await walk.step("/assessments", {"start_date": "2026-01-06"})).json()
    await walk.step(f"/assessments/{ep['assessments'][0]['id']}/authorisation",
                    {"authorised_date": "2026-01-27", "factors": ["21"], "authorised_by": "TM"})
    await walk.step("/closure", {"closure_date": "2026-01-28", "reason": "RC8"})
    [closed] = [d for t, d in await outbox_of_episode(referral_app, walk.episode_id) if t == "episode.closed"]
    assert (closed["open_service_offers"], closed["open_non_engagement_case"]) == (0, False)
    assert "episode.open_work" not in [e["kind"] for e in await chronology(referral, walk)]


async def test_an_early_help_episode_is_not_a_census_episode(walk: Walk, referral: httpx.AsyncClient) -> None:
    r = await referral.post("/v1/early-help-episodes", json={"child_id": walk.child_id, "start_date": "2026-01-05"},  # type: ignore[attr-defined]
                            headers=walk.headers)
    assert r.status_code == 201, r.text
    early = r.json()["id"]
    assert (await referral.get(f"/v1/episodes/{early}", headers=walk.headers)).status_code == 404
    r = await referral.post(f"/v1/episodes/{early}/assessments", json={"start_date": "2026-01-06"},
                            headers={**walk.headers, "If-Match": '"1"'})
    assert (r.status_code, r.headers["content-type"]) == (404, PROBLEM)


async def test_an_nfa_closure_reports_open_work_too(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI
) -> None:
    csc = await make_agency(referral, token_for, "childrens_social_care")
    hv = Partner(await make_agency(referral, token_for, "health_visiting"), token_for)
    child = await make_child(referral, token_for, hv.id)
    await make_offer(referral, hv, child["id"], "2026-01-02")
    # The referral decision API opens (and, for NFA, closes) the episode; it has its own tests.
    who = Principal(client_id="test", agency_id=uuid.UUID(csc["id"]), scopes=frozenset({"referral:write"}))
    request: Any = SimpleNamespace(app=referral_app, headers={})
    types = referral_app.state.settings.full_access_agency_types
    async with referral_app.state.db.sessions() as session:
        journeys = Journeys(JourneyQueries(session, types), AgencyQueries(session), england_and_wales(), types,
                            Audit(session, request), Outbox(session, request))
        episode_id = await journeys.open_episode(who, uuid.UUID(child["id"]), date(2026, 1, 5), "3B", nfa=True,
                                                 primary_need=None, decided_on=date(2026, 1, 5))
        await session.commit()
    [closed] = [d for t, d in await outbox_of_episode(referral_app, str(episode_id)) if t == "episode.closed"]
    assert (closed["reason"], closed["open_service_offers"], closed["open_non_engagement_case"]) == ("RC7", 1, False)
    r = await referral.get(f"/v1/children/{child['id']}/chronology", params={"kind": "episode.open_work"},
                           headers=token_for(uuid.UUID(csc["id"]), "referral:read"))
    assert [e["summary"] for e in r.json()["items"]] == ["Episode closed with 1 open service offer: review them."]
