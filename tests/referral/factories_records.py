"""A child's whole record, made through the API by the agencies that hold it, for visibility tests.

Children's social care registers the child and records practice, sharing and family
records; a health visitor's referral is decided and opens a children in need episode with
an authorised assessment and a CIN plan. A school has no part in any of it: the tests then
let it refer the child by id and check what it may see (README "Who sees what").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from tests.referral.factories_practice import (
    Partner,
    child_of,
    days_ago,
    make_household,
    make_offer,
    make_person,
    partner,
    record_event,
)
from tests.referral.factories_referrals import AssessmentStub, decision_body, referral_body
from tests.support import TokenFor


@dataclass
class ChildRecord:
    csc: Partner
    hv: Partner
    school: Partner
    child_id: str
    entry_id: str
    person_id: str
    household_id: str
    offer_id: str
    hv_referral_id: str
    episode_id: str
    involvement_id: str

    def url(self, path: str = "") -> str:
        return f"/v1/children/{self.child_id}{path}"


def created(r: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    return body


async def decide(client: httpx.AsyncClient, app: FastAPI, csc: Partner, referral_id: str, version: int,
                 **decision: Any) -> dict[str, Any]:
    """CSC's decision, with the assessment service stubbed (no toolkit results): the engine asks it."""
    stub = AssessmentStub()
    before = getattr(app.state, "assessment_client", None)
    app.state.assessment_client = stub.client()
    try:
        r = await client.post(f"/v1/referrals/{referral_id}/decision", json=decision_body(**decision),
                              headers=csc.headers(**{"If-Match": f'"{version}"'}))
    finally:
        await app.state.assessment_client.aclose()
        app.state.assessment_client = before
    return created(r, 200)


async def child_record(client: httpx.AsyncClient, token_for: TokenFor, app: FastAPI) -> ChildRecord:
    csc = await partner(client, token_for, "childrens_social_care")
    hv = await partner(client, token_for, "health_visiting")
    school = await partner(client, token_for, "school")
    child = (await child_of(client, token_for, csc))["id"]
    base = f"/v1/children/{child}"

    entry = created(await client.post(f"{base}/chronology", headers=csc.headers(), json={
        "kind": "home_visit_concern", "significance": "high", "summary": "Home conditions poor (test text).",
        "occurred_at": f"{days_ago(12)}T10:00:00Z"}))
    created(await client.post(f"{base}/voice", headers=csc.headers(), json={
        "recorded_on": days_ago(11), "words": "Words of the child (test text).", "safety_rating": 3,
        "participation": "in_person", "context": "direct_work"}))
    created(await client.post(f"{base}/visits", headers=csc.headers(), json={
        "visited_on": days_ago(11), "statutory": True, "announced": False, "child_seen": True, "seen_alone": True,
        "bedroom_seen": True, "home_conditions": "poor"}))
    mother = await make_person(client, csc)
    household = await make_household(client, csc, [
        {"child_id": child, "role": "child"},
        {"person_id": mother["id"], "role": "parent", "relationship": "mother", "parental_responsibility": True}])
    created(await client.post(f"{base}/consents", headers=csc.headers(), json={
        "person_id": mother["id"], "subject": "sharing with health", "status": "given", "recorded_on": days_ago(10)}))
    created(await client.post(f"{base}/information-shares", headers=csc.headers(), json={
        "to_agency_id": str(hv.id), "shared": True, "what": ["chronology"], "purpose": "Health follow-up",
        "lawful_basis": "UK GDPR Art 6(1)(e)", "special_category_condition": "DPA 2018 Sch 1 para 18",
        "decided_by": "Practice manager A"}))
    offer = await make_offer(client, csc, child, offered_on=days_ago(10))
    created(await record_event(client, csc, child, "was_not_brought", days_ago(9)))
    involvement = created(await client.post(f"{base}/involvements", headers=csc.headers(), json={
        "role": "allocated_social_worker", "start_date": days_ago(12)}))

    # The health visitor's earlier referral, decided: a children in need episode with a plan.
    hv_referral = created(await client.post("/v1/referrals", headers=hv.headers(), json=referral_body(
        child, received_at=f"{days_ago(20)}T09:00:00Z")))
    decided = await decide(client, app, csc, hv_referral["id"], hv_referral["version"], level="4",
                           outcome="s17_assessment", primary_need="N1", override_reason="Test reason.",
                           decided_at=f"{days_ago(20)}T15:00:00Z")
    episode_id = decided["episode_id"]
    episode = f"/v1/episodes/{episode_id}"
    etag = (await client.get(episode, headers=csc.headers())).headers["etag"]
    r = await client.post(f"{episode}/assessments", json={"start_date": days_ago(19)},
                          headers=csc.headers(**{"If-Match": etag}))
    assessment_id = created(r, 200)["assessments"][0]["id"]
    r = await client.post(f"{episode}/assessments/{assessment_id}/authorisation", json={
        "authorised_date": days_ago(8), "factors": ["16A"], "authorised_by": "Team manager 4"},
        headers=csc.headers(**{"If-Match": r.headers["etag"]}))
    created(r, 200)
    r = await client.post(f"{episode}/cin-plans", json={"start_date": days_ago(7)},
                          headers=csc.headers(**{"If-Match": r.headers["etag"]}))
    created(r, 200)
    return ChildRecord(csc=csc, hv=hv, school=school, child_id=child, entry_id=entry["id"], person_id=mother["id"],
                       household_id=household["id"], offer_id=offer["id"], hv_referral_id=hv_referral["id"],
                       episode_id=episode_id, involvement_id=involvement["id"])
