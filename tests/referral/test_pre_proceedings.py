"""Pre-proceedings under the Public Law Outline (census PreProceedingsandFGDM, 2025-26 on),
through the API: one open record per episode, dated within it, and tidy closure (INV-17)."""

from __future__ import annotations

import typing
import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.referral.domain.journey import PP_OUTCOMES
from services.referral.events import EMITTED
from services.referral.schemas.episodes import PreProceedingsOutcome
from tests.referral.factories import make_agency, make_child
from tests.referral.journey_support import open_episode
from tests.referral.test_episodes import PROBLEM, Walk, chronology, outbox_of_episode
from tests.support import TokenFor

REFERRAL = "2026-01-05"


@pytest.fixture
async def plo(referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI) -> Walk:
    csc = await make_agency(referral, token_for, "childrens_social_care")
    hv = await make_agency(referral, token_for, "health_visiting")
    child = await make_child(referral, token_for, hv["id"])
    episode_id = await open_episode(referral_app, uuid.UUID(csc["id"]), uuid.UUID(child["id"]), date.fromisoformat(REFERRAL))
    w = Walk(referral, token_for(uuid.UUID(csc["id"]), "referral:read", "referral:write"), str(episode_id))
    w.hv_headers = token_for(uuid.UUID(hv["id"]), "referral:read", "referral:write")  # type: ignore[attr-defined]
    w.child_id = child["id"]  # type: ignore[attr-defined]
    await w.read()
    return w


async def start(w: Walk, on: str = "2026-02-02") -> str:
    ep = (await w.step("/pre-proceedings", {"start_date": on})).json()
    pp_id: str = next(pp["id"] for pp in ep["pre_proceedings"] if pp["start_date"] == on)
    return pp_id


def test_outcome_slugs_agree_between_schema_and_domain() -> None:
    # Our own slugs, not DfE PPOutcome codes: one list, in two places that must agree.
    assert typing.get_args(PreProceedingsOutcome) == PP_OUTCOMES


async def test_pre_proceedings_from_start_to_court_application(
    plo: Walk, referral: httpx.AsyncClient, referral_app: FastAPI
) -> None:
    pp_id = await start(plo)
    url = f"/pre-proceedings/{pp_id}"
    await plo.step(f"{url}/letter", {"sent_date": "2026-02-02"})
    await plo.step(f"{url}/meetings", {"held_date": "2026-02-16"})
    await plo.step(f"{url}/fgdm", {"offered": True, "held": False})
    await plo.step(f"{url}/fgdm", {"offered": True, "held": True})
    ep = (await plo.step(f"{url}/decision", {"decision_date": "2026-04-13", "outcome": "continue_pre_proceedings"})).json()
    assert ep["pre_proceedings"][0]["open"] is True
    await plo.step(f"{url}/meetings", {"held_date": "2026-05-11"})
    ep = (await plo.step(f"{url}/decision", {"decision_date": "2026-06-01", "outcome": "proceedings_issued",
                                              "court_application_date": "2026-06-08"})).json()
    [pp] = ep["pre_proceedings"]
    assert pp == {
        "id": pp_id, "start_date": "2026-02-02", "letter_before_proceedings_sent": "2026-02-02",
        "fgdm_offered": True, "fgdm_held": True, "meeting_dates": ["2026-02-16", "2026-05-11"], "meeting_count": 2,
        "decision_date": "2026-06-01", "outcome": "proceedings_issued", "court_application_date": "2026-06-08",
        "open": False, "version": 8,
    }
    events = [(t, d) for t, d in await outbox_of_episode(referral_app, plo.episode_id) if t.startswith("pre_proceedings.")]
    assert [t for t, _ in events] == ["pre_proceedings.started", *["pre_proceedings.updated"] * 4,
                                      "pre_proceedings.decided", "pre_proceedings.updated", "pre_proceedings.decided"]
    assert {d["pre_proceedings_id"] for _, d in events} == {pp_id}
    assert {t for t, _ in events} <= set(EMITTED)  # catalogued (docs/events.md)
    assert [d["change"] for t, d in events if t == "pre_proceedings.updated"] == ["letter", "meeting", "fgdm", "fgdm", "meeting"]
    decided = events[-1][1]
    assert (decided["date"], decided["outcome"], decided["court_application_date"], decided["open"], decided["meeting_count"]) == (
        "2026-06-01", "proceedings_issued", "2026-06-08", False, 2)
    lines = [(e["kind"], e["summary"]) for e in await chronology(referral, plo) if e["kind"].startswith("pre_proceedings.")]
    assert ("pre_proceedings.started", "Pre-proceedings (PLO) started.") in lines
    assert ("pre_proceedings.updated", "Letter before proceedings sent.") in lines
    assert ("pre_proceedings.updated", "Family group decision making: held.") in lines  # dated the day it was recorded
    assert [summary for kind, summary in lines if kind == "pre_proceedings.decided"] == [
        "Pre-proceedings decision: pre-proceedings continue.",
        "Pre-proceedings decision: care proceedings to be issued. Court application made on 2026-06-08."]
    # Decided: read-only; the episode may now close, and a new record may start after the decision.
    r = await plo.step(f"{url}/meetings", {"held_date": "2026-06-15"}, expect=409)
    assert r.json()["rule"] == "PP-decided"
    await start(plo, "2026-06-15")


@pytest.mark.parametrize(
    ("before", "path", "body", "rule"),
    [
        ([], "/pre-proceedings", {"start_date": "2026-01-02"}, "PP-dates"),
        ([], "/pre-proceedings", {"start_date": "2999-01-04"}, "future-date"),
        ([], "/pre-proceedings", {"start_date": "2026-02-03"}, "PP-one-open"),
        ([], "PP/meetings", {"held_date": "2026-02-01"}, "PP-dates"),
        ([], "PP/letter", {"sent_date": "2026-01-30"}, "PP-dates"),
        ([], "PP/decision", {"decision_date": "2026-02-01", "outcome": "other"}, "PP-dates"),
        ([], "PP/fgdm", {"offered": False, "held": True}, "PP-fgdm"),
        ([], "PP/decision", {"decision_date": "2026-03-02", "outcome": "pre_proceedings_ended_no_proceedings",
                             "court_application_date": "2026-03-09"}, "PP-court"),
        ([], "PP/decision", {"decision_date": "2026-03-02", "outcome": "proceedings_issued",
                             "court_application_date": "2026-02-27"}, "PP-court"),
        ([("PP/meetings", {"held_date": "2026-02-16"})], "PP/meetings", {"held_date": "2026-02-16"}, "PP-meeting-recorded"),
        ([("PP/meetings", {"held_date": "2026-02-16"})], "PP/decision", {"decision_date": "2026-02-09", "outcome": "other"}, "PP-dates"),
        ([("PP/letter", {"sent_date": "2026-02-02"})], "PP/letter", {"sent_date": "2026-02-03"}, "PP-letter-sent"),
        ([("PP/decision", {"decision_date": "2026-03-02", "outcome": "other"})], "PP/fgdm", {"offered": True, "held": True}, "PP-decided"),
        ([("PP/decision", {"decision_date": "2026-03-02", "outcome": "other"})], "/pre-proceedings", {"start_date": "2026-02-23"}, "PP-dates"),
        ([], "/closure", {"closure_date": "2026-03-02", "reason": "RC7"}, "INV-17"),
    ],
)
async def test_pre_proceedings_rules_are_409_naming_the_rule_and_change_nothing(
    plo: Walk, before: list[tuple[str, dict[str, Any]]], path: str, body: dict[str, Any], rule: str
) -> None:
    pp_id = await start(plo)
    for step, step_body in before:
        await plo.step(step.replace("PP", f"/pre-proceedings/{pp_id}"), step_body)
    unchanged = await plo.read()
    r = await plo.step(path.replace("PP", f"/pre-proceedings/{pp_id}"), body, expect=409)
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["rule"] == rule
    assert await plo.read() == unchanged


async def test_closure_waits_for_the_pre_proceedings_decision(plo: Walk, referral_app: FastAPI) -> None:
    pp_id = await start(plo)
    r = await plo.step("/closure", {"closure_date": "2026-03-02", "reason": "RC7"}, expect=409)
    assert (r.json()["rule"], r.json()["detail"]) == (
        "INV-17", "Record the decision that ends pre-proceedings before closing the episode.")
    await plo.step(f"/pre-proceedings/{pp_id}/decision", {"decision_date": "2026-03-02", "outcome": "continue_pre_proceedings"})
    assert (await plo.step("/closure", {"closure_date": "2026-03-02", "reason": "RC7"}, expect=409)).json()["rule"] == "INV-17"
    await plo.step(f"/pre-proceedings/{pp_id}/decision", {"decision_date": "2026-03-09",
                                                          "outcome": "pre_proceedings_ended_no_proceedings"})
    # Nothing in the episode may be dated after its closure (DfE 8565) ...
    assert (await plo.step("/closure", {"closure_date": "2026-03-06", "reason": "RC7"}, expect=409)).json()["rule"] == "8565"
    ep = (await plo.step("/closure", {"closure_date": "2026-03-09", "reason": "RC7"})).json()
    assert ep["closure_date"] == "2026-03-09"
    # ... and nothing starts after it.
    assert (await plo.step("/pre-proceedings", {"start_date": "2026-03-10"}, expect=409)).json()["rule"] == "8565"
    closed = [d for t, d in await outbox_of_episode(referral_app, plo.episode_id) if t == "episode.closed"]
    assert [(d["open_service_offers"], d["open_non_engagement_case"]) for d in closed] == [(0, False)]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("PP/decision", {"decision_date": "2026-03-02", "outcome": "PPO1"}),  # never a guessed DfE code
        ("PP/decision", {"decision_date": "2026-03-02"}),
        ("PP/fgdm", {"offered": True}),
        ("PP/meetings", {"held_date": "2026-02-16", "count": 2}),
        ("/pre-proceedings", {}),
    ],
)
async def test_bad_bodies_are_422(plo: Walk, path: str, body: dict[str, Any]) -> None:
    pp_id = await start(plo)
    r = await plo.step(path.replace("PP", f"/pre-proceedings/{pp_id}"), body, expect=422)
    assert r.headers["content-type"] == PROBLEM


async def test_only_childrens_social_care_records_pre_proceedings(
    plo: Walk, referral: httpx.AsyncClient, token_for: TokenFor
) -> None:
    pp_id = await start(plo)
    url = f"/v1/episodes/{plo.episode_id}/pre-proceedings"
    r = await referral.post(f"{url}/{pp_id}/meetings", json={"held_date": "2026-02-16"},
                            headers={**plo.hv_headers, "If-Match": plo.etag})  # type: ignore[attr-defined]
    assert r.status_code == 403
    # The registering agency still reads the record in the episode.
    r = await referral.get(f"/v1/episodes/{plo.episode_id}", headers=plo.hv_headers)  # type: ignore[attr-defined]
    assert [pp["id"] for pp in r.json()["pre_proceedings"]] == [pp_id]
    police = await make_agency(referral, token_for, "police")
    other = token_for(uuid.UUID(police["id"]), "referral:read", "referral:write")
    r = await referral.post(url, json={"start_date": "2026-02-03"}, headers={**other, "If-Match": plo.etag})
    assert r.status_code in (403, 404)
    assert (await referral.post(url, json={"start_date": "2026-02-03"}, headers=plo.headers)).status_code == 428
    r = await referral.post(f"{url}/{pp_id}/letter", json={"sent_date": "2026-02-03"}, headers={**plo.headers, "If-Match": '"1"'})
    assert r.status_code == 412
    r = await plo.step(f"/pre-proceedings/{uuid.uuid4()}/letter", {"sent_date": "2026-02-03"}, expect=404)
    assert r.headers["content-type"] == PROBLEM
