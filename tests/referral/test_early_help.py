"""Early help episodes: open, close, step up to CSC, step down from CSC."""

from __future__ import annotations

import uuid
from datetime import date

import httpx
from fastapi import FastAPI

from tests.referral.factories import make_agency, make_child
from tests.referral.journey_support import open_episode
from tests.support import TokenFor


async def test_early_help_opens_once_closes_and_steps_up(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    eh = await make_agency(referral, token_for, "early_help")
    headers = token_for(uuid.UUID(eh["id"]), "referral:read", "referral:write")
    child = await make_child(referral, token_for, eh["id"])
    r = await referral.post("/v1/early-help-episodes", json={"child_id": child["id"], "start_date": "2026-02-02"}, headers=headers)
    assert r.status_code == 201, r.text
    episode = r.json()
    assert (episode["lead_agency_id"], episode["closure_date"]) == (eh["id"], None)
    again = await referral.post("/v1/early-help-episodes", json={"child_id": child["id"], "start_date": "2026-02-03"}, headers=headers)
    assert again.status_code == 409
    assert again.json()["rule"] == "one-early-help"
    # Step up: a referral from early help (DfE source 5D); early help closes as stepped_up.
    url = f"/v1/early-help-episodes/{episode['id']}"
    r = await referral.post(f"{url}/step-up", headers={**headers, "If-Match": '"1"'}, json={
        "child_id": child["id"], "received_at": "2026-03-02T09:00:00Z", "concern_summary": "Plan not working; neglect worsening.",
        "neglect_types": ["basic_provision"], "indicators": []})
    assert r.status_code == 201, r.text
    assert r.json()["referral_source"] == "5D"
    closed = (await referral.get(url, headers=headers)).json()
    assert (closed["closure_date"], closed["reason_for_closure"]) == ("2026-03-02", "stepped_up")
    # Closed is final.
    r = await referral.post(f"{url}/closure", json={"closure_date": "2026-03-03", "reason": "needs_met"},
                            headers={**headers, "If-Match": f'"{closed["version"]}"'})
    assert r.status_code == 409


async def test_step_down_from_csc_to_early_help(referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI) -> None:
    csc = await make_agency(referral, token_for, "childrens_social_care")
    eh = await make_agency(referral, token_for, "early_help")
    headers = token_for(uuid.UUID(csc["id"]), "referral:read", "referral:write")
    child = await make_child(referral, token_for, csc["id"])
    episode_id = await open_episode(referral_app, uuid.UUID(csc["id"]), uuid.UUID(child["id"]), date(2026, 1, 5))
    ep = await referral.get(f"/v1/episodes/{episode_id}", headers=headers)
    r = await referral.post(f"/v1/episodes/{episode_id}/assessments", json={"start_date": "2026-01-06"},
                            headers={**headers, "If-Match": ep.headers["etag"]})
    assessment = r.json()["assessments"][0]["id"]
    r = await referral.post(f"/v1/episodes/{episode_id}/assessments/{assessment}/authorisation",
                            json={"authorised_date": "2026-02-10", "factors": ["16A"], "authorised_by": "TM"},
                            headers={**headers, "If-Match": r.headers["etag"]})
    r = await referral.post(f"/v1/episodes/{episode_id}/closure", headers={**headers, "If-Match": r.headers["etag"]},
                            json={"closure_date": "2026-02-11", "reason": "RC9", "step_down_to_early_help": True,
                                  "early_help_lead_agency_id": eh["id"]})
    assert r.status_code == 200, r.text
    early = (await referral.get("/v1/early-help-episodes", params={"child_id": child["id"]}, headers=headers)).json()["items"]
    assert [(e["start_date"], e["lead_agency_id"]) for e in early] == [("2026-02-11", eh["id"])]


async def test_foreign_agency_sees_no_early_help(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    eh = await make_agency(referral, token_for, "early_help")
    police = await make_agency(referral, token_for, "police")
    child = await make_child(referral, token_for, eh["id"])
    r = await referral.post("/v1/early-help-episodes", json={"child_id": child["id"], "start_date": "2026-02-02"},
                            headers=token_for(uuid.UUID(eh["id"]), "referral:write"))
    other = token_for(uuid.UUID(police["id"]), "referral:read")
    assert (await referral.get(f"/v1/early-help-episodes/{r.json()['id']}", headers=other)).status_code == 404
    assert (await referral.get("/v1/early-help-episodes", params={"child_id": child["id"]}, headers=other)).status_code == 404
