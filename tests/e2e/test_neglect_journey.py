"""Issue 4's walk, through the gateway with all services running as real processes:
partner referral -> recommendation -> decision -> assessment -> strategy discussion and
s47 -> ICPC -> CP plan under neglect -> reviews on time -> step-down to a CIN plan ->
closure; the referring school is told the outcome and sees nothing else; the chronology,
alerts and information-sharing log show it; an agency with no involvement sees none of
it; illegal transitions are 409 and change nothing.

Dates are in the past (the API refuses future dates), as when a case is recorded after the event.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e
PROBLEM = "application/problem+json"


async def agency(gw: httpx.AsyncClient, admin: dict[str, str], name: str, kind: str) -> uuid.UUID:
    r = await gw.post("/v1/agencies", json={"name": name, "agency_type": kind}, headers=admin)
    assert r.status_code == 201, r.text
    return uuid.UUID(r.json()["id"])


class Episode:
    def __init__(self, gw: httpx.AsyncClient, headers: dict[str, str], episode_id: str) -> None:
        self.gw, self.headers, self.id, self.etag = gw, headers, episode_id, ""

    async def read(self) -> dict[str, Any]:
        r = await self.gw.get(f"/v1/episodes/{self.id}", headers=self.headers)
        assert r.status_code == 200, r.text
        self.etag = r.headers["etag"]
        body: dict[str, Any] = r.json()
        return body

    async def step(self, path: str, body: dict[str, Any], expect: int = 200) -> dict[str, Any]:
        r = await self.gw.post(f"/v1/episodes/{self.id}{path}", json=body, headers={**self.headers, "If-Match": self.etag})
        assert r.status_code == expect, r.text
        if expect == 200:
            self.etag = r.headers["etag"]
        result: dict[str, Any] = r.json()
        return result


async def test_a_child_from_partner_referral_to_closure(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=30) as gw:
        admin = await stack.token(gw, *(await stack.register_client(uuid.uuid4(), ["admin", "referral:read"])))
        csc_id = await agency(gw, admin, "Journey CSC", "childrens_social_care")
        school_id = await agency(gw, admin, "Journey School", "school")
        hv_id = await agency(gw, admin, "Journey Health Visiting", "health_visiting")
        police_id = await agency(gw, admin, "Journey Police", "police")
        rw = ["referral:read", "referral:write", "assessment:read"]
        csc = await stack.token(gw, *(await stack.register_client(csc_id, rw)))
        school = await stack.token(gw, *(await stack.register_client(school_id, rw)))
        hv = await stack.token(gw, *(await stack.register_client(hv_id, rw)))
        police = await stack.token(gw, *(await stack.register_client(police_id, rw)))

        child = (await gw.post("/v1/children", headers=hv, json={
            "given_name": "Journey", "family_name": "Example", "birth_date": "2021-05-14", "gender": "2", "disabilities": ["NONE"],
            "nhs_number": "9990000026"})).json()
        child_id = child["id"]

        # 1. A partner refers: the school, which could not see the child before.
        r = await gw.post("/v1/referrals", headers={**school, "Idempotency-Key": "journey-ref-1"}, json={
            "child_id": child_id, "received_at": "2026-01-05T09:00:00Z",
            "concern_summary": "Often hungry at school; same clothes all week; missed medical appointments.",
            "neglect_types": ["basic_provision", "medical"],
            "indicators": [{"domain": "physical_care", "indicator": "hunger_at_school", "severity": "high"}]})
        assert r.status_code == 201, r.text
        referral = r.json()
        assert referral["referral_source"] == "2A"

        # 2. The engine recommends, with its reasons; children's social care decides.
        r = await gw.post(f"/v1/referrals/{referral['id']}/recommendation", headers=csc)
        assert r.status_code == 200, r.text
        recommendation = r.json()
        assert "recommended_level" in recommendation
        current = await gw.get(f"/v1/referrals/{referral['id']}", headers=csc)
        decision = {"level": "4", "outcome": "s17_assessment", "primary_need": "N1", "decided_by": "Team manager 1",
                    "rationale": "Cumulative neglect indicators from school.", "decided_at": "2026-01-05T15:00:00Z"}
        if recommendation["recommended_level"] != "4":
            decision["override_reason"] = "Concerns from several sources; statutory assessment needed."
        r = await gw.post(f"/v1/referrals/{referral['id']}/decision", json=decision,
                          headers={**csc, "If-Match": current.headers["etag"]})
        assert r.status_code == 200, r.text
        decided = r.json()
        episode_id = decided["episode_id"]
        assert episode_id
        # A referral takes one decision.
        again = await gw.post(f"/v1/referrals/{referral['id']}/decision", json=decision,
                              headers={**csc, "If-Match": r.headers["etag"]})
        assert again.status_code == 409
        r = await gw.post(f"/v1/referrals/{referral['id']}/feedback", json={"sent_at": "2026-01-06T10:00:00Z"},
                          headers={**csc, "If-Match": r.headers["etag"]})
        assert r.status_code == 200, r.text
        # The school is told the outcome of its referral; referring opened none of the child's record to it.
        told = await gw.get(f"/v1/referrals/{referral['id']}", headers=school)
        assert told.status_code == 200, told.text
        assert (told.json()["decision"]["level"], told.json()["decision"]["outcome"]) == ("4", "s17_assessment")
        assert told.json()["feedback_sent_at"] is not None
        assert (told.json()["decision"]["rationale"], told.json()["episode_id"]) == (None, None)
        for path in (f"/v1/children/{child_id}", f"/v1/children/{child_id}/chronology",
                     f"/v1/episodes/{episode_id}", f"/v1/children/{child_id}/trajectory"):
            r = await gw.get(path, headers=school)
            assert r.status_code == 404, (path, r.status_code)

        # 3. The statutory journey.
        ep = Episode(gw, csc, episode_id)
        await ep.read()
        body = await ep.step("/assessments", {"start_date": "2026-01-06"})
        assessment_id = body["assessments"][0]["id"]
        body = await ep.step("/strategy-discussions", {"held_date": "2026-01-07", "start_s47": True,
                                                        "participating_agency_ids": [str(police_id), str(hv_id)]})
        s47_id = body["s47s"][0]["id"]
        body = await ep.step("/conferences", {"kind": "initial", "held_date": "2026-01-26", "s47_id": s47_id,
                                              "outcome": "plan", "category": "NEG"})
        plan_id = body["cp_plans"][0]["id"]
        await ep.step(f"/assessments/{assessment_id}/authorisation",
                      {"authorised_date": "2026-01-27", "factors": ["16A"], "authorised_by": "Team manager 1"})
        await ep.step(f"/cp-plans/{plan_id}/core-groups", {"held_date": "2026-02-04"})

        # An illegal transition: a CIN plan while the CP plan is open. 409, nothing changed.
        before = await ep.read()
        refused = await gw.post(f"/v1/episodes/{episode_id}/cin-plans", json={"start_date": "2026-02-10"},
                                headers={**csc, "If-Match": ep.etag})
        assert refused.status_code == 409
        assert refused.headers["content-type"] == PROBLEM
        assert refused.json()["rule"] == "4001"
        assert await ep.read() == before

        # Reviews on time: first within 3 months, the next within 6.
        body = await ep.step("/conferences", {"kind": "review", "held_date": "2026-04-20", "cp_plan_id": plan_id,
                                              "outcome": "continue_plan"})
        assert body["cp_plans"][0]["next_review_due"] == "2026-10-20"
        body = await ep.step("/conferences", {"kind": "review", "held_date": "2026-10-12", "cp_plan_id": plan_id,
                                              "outcome": "end_plan", "step_down": "cin_plan"})
        cin_id = body["cin_plans"][0]["id"]
        await ep.step(f"/cin-plans/{cin_id}/end", {"end_date": "2026-11-20"})
        closed = await ep.step("/closure", {"closure_date": "2026-11-20", "reason": "RC7"})
        assert closed["reason_for_closure"] == "RC7"
        after_closure = await gw.post(f"/v1/episodes/{episode_id}/assessments", json={"start_date": "2026-11-21"},
                                      headers={**csc, "If-Match": ep.etag})
        assert after_closure.status_code == 409

        # 4. Sharing with the school, logged with its lawful basis.
        r = await gw.post(f"/v1/children/{child_id}/information-shares", headers=csc, json={
            "to_agency_id": str(school_id), "shared": True, "what": ["cp_plan_status", "core_group_dates"],
            "purpose": "School is a core group member", "lawful_basis": "UK GDPR Art 6(1)(e)",
            "decided_by": "Social worker 7"})
        assert r.status_code == 201, r.text
        shares = (await gw.get(f"/v1/children/{child_id}/information-shares", headers=csc)).json()["items"]
        assert [s["to_agency_id"] for s in shares] == [str(school_id)]

        # 5. The chronology shows each step, from the referral to closure, side by side.
        r = await gw.get(f"/v1/children/{child_id}/chronology", params={"order": "asc", "limit": 100}, headers=csc)
        assert r.status_code == 200, r.text
        entries = r.json()["items"]
        kinds = [e["kind"] for e in entries]
        for expected in ("referral.received", "referral.decided", "assessment.started", "strategy_discussion.held",
                         "icpc.held", "assessment.authorised", "core_group.held", "cin_plan.ended", "episode.closed"):
            assert expected in kinds, (expected, kinds)
        assert kinds.count("cp_plan.reviewed") == 2
        assert "stepped down to a child in need plan" in entries[kinds.index("cp_plan.reviewed", kinds.index("cp_plan.reviewed") + 1)]["summary"]

        # 6. Nothing is overdue for this child: every clock was met.
        r = await gw.get(f"/v1/children/{child_id}/alerts", headers=csc)
        assert r.status_code == 200, r.text
        assert [a for a in r.json()["items"] if a["status"] == "overdue"] == []

        # 7. An agency with no involvement sees none of it.
        for path in (f"/v1/children/{child_id}", f"/v1/referrals/{referral['id']}", f"/v1/episodes/{episode_id}",
                     f"/v1/children/{child_id}/chronology", f"/v1/children/{child_id}/alerts",
                     f"/v1/children/{child_id}/information-shares"):
            r = await gw.get(path, headers=police)
            assert r.status_code == 404, (path, r.status_code)
            assert r.headers["content-type"] == PROBLEM
        listed = (await gw.get("/v1/alerts", headers=police)).json()["items"]
        assert all(a["child_id"] != child_id for a in listed)
