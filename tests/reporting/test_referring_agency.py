"""The referring agency type in the quarterly dataset, from real events: the referral service's
outbox relayed to reporting. DfE ReferralSource 3F is shared by hospital wards (``hospital_other``)
and other health services (``health_other``), so the type comes from the events, never the code."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from shared.events import OutboxRelay
from tests.referral.factories_practice import Partner, child_of, partner
from tests.referral.factories_records import created, decide
from tests.referral.factories_referrals import referral_body
from tests.reporting.factories import READER
from tests.support import WEBHOOK_SECRET, TokenFor


async def step(client: httpx.AsyncClient, csc: Partner, episode: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    etag = (await client.get(f"/v1/episodes/{episode}", headers=csc.headers())).headers["etag"]
    return created(await client.post(f"/v1/episodes/{episode}{path}", json=body, headers=csc.headers(**{"If-Match": etag})), 200)


def by_type(metric: dict[str, Any]) -> dict[str, Any]:
    return {c["key"]: c["count"] for c in metric["breakdowns"]["referring_agency_type"] if c["count"]}


async def test_a_hospital_referral_is_reported_as_hospital_in_nq05_and_nq22(
    referral: httpx.AsyncClient, referral_app: FastAPI, reporting: httpx.AsyncClient, token_for: TokenFor,
) -> None:
    ward = await partner(referral, token_for, "hospital_other")
    csc = await partner(referral, token_for, "childrens_social_care")
    child = await child_of(referral, token_for, csc)
    sent = created(await referral.post("/v1/referrals", headers=ward.headers(), json=referral_body(
        child["id"], received_at="2026-01-05T09:00:00Z", referral_source="3F")))
    decided = await decide(referral, referral_app, csc, sent["id"], sent["version"], level="4", outcome="s17_assessment",
                           primary_need="N1", override_reason="Test reason.", decided_at="2026-01-05T15:00:00Z")
    episode = decided["episode_id"]
    ep = await step(referral, csc, episode, "/assessments", {"start_date": "2026-01-06"})
    assessment = ep["assessments"][0]["id"]
    ep = await step(referral, csc, episode, "/strategy-discussions", {"held_date": "2026-01-07", "start_s47": True})
    await step(referral, csc, episode, "/conferences", {"kind": "initial", "held_date": "2026-01-26",
                                                        "s47_id": ep["s47s"][0]["id"], "outcome": "plan", "category": "NEG"})
    await step(referral, csc, episode, f"/assessments/{assessment}/authorisation",
               {"authorised_date": "2026-01-27", "factors": ["16A"], "authorised_by": "Team manager 4"})

    relay = OutboxRelay(referral_app.state.db, WEBHOOK_SECRET, reporting)
    while await relay.run_once():
        pass
    r = await reporting.get("/v1/datasets/quarterly", params={"period": "2025-26-Q4"},
                            headers=token_for(READER, "reporting:read", "reporting:export"))
    assert r.status_code == 200, r.text
    metrics = {m["id"]: m for m in r.json()["metrics"]}
    assert by_type(metrics["NQ15"]) == {"hospital_other": 1}  # the referral itself, as before
    assert by_type(metrics["NQ05"]) == {"hospital_other": 1}  # the plan, from the episode the referral opened
    assert by_type(metrics["NQ22"]) == {"hospital_other": 1}  # the assessment, likewise
