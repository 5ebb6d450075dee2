"""Issue 5's walk through the gateway, all services as real processes: a practitioner scores
a child on GCP2 twice, three months apart, and on the screening tool; a manager authorises;
the trajectory shows the change per area and its direction; the referral service's
recommendation for the child cites those results; an agency with no involvement sees none of it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import pytest

from tests.assessment.factories import (
    authorise,
    gcp2_authorised,
    judge,
    ok,
    rate,
    start,
    submit,
    write_analysis,
)
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e
PROBLEM = "application/problem+json"
RW = ["referral:read", "referral:write", "assessment:read", "assessment:write"]


@dataclass
class GatewayPeople:
    """The factories' People, with real tokens from the gateway: two clients of the same agency,
    because the manager who authorises must not be the practitioner who submitted."""

    child_id: str
    practitioner_headers: dict[str, str]
    manager_headers: dict[str, str]

    def practitioner(self) -> dict[str, str]:
        return self.practitioner_headers

    def manager(self) -> dict[str, str]:
        return self.manager_headers


async def test_scores_trajectory_recommendation_and_no_leak(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=30) as gw:
        admin = await stack.token(gw, *(await stack.register_client(uuid.uuid4(), ["admin"])))
        ids = {}
        for name, kind in (("Toolkit HV", "health_visiting"), ("Toolkit School", "school"), ("Toolkit CSC", "childrens_social_care")):
            r = await gw.post("/v1/agencies", json={"name": name, "agency_type": kind}, headers=admin)
            ids[kind] = uuid.UUID(r.json()["id"])
        practitioner = await stack.token(gw, *(await stack.register_client(ids["health_visiting"], RW)))
        manager = await stack.token(gw, *(await stack.register_client(ids["health_visiting"], RW)))
        school = await stack.token(gw, *(await stack.register_client(ids["school"], RW)))
        csc = await stack.token(gw, *(await stack.register_client(ids["childrens_social_care"], RW)))
        child = ok(await gw.post("/v1/children", headers=practitioner, json={
            "given_name": "Toolkit", "family_name": "Example", "birth_date": "2022-03-01", "gender": "1"}), 201)
        people = GatewayPeople(child["id"], practitioner, manager)

        baseline = await gcp2_authorised(gw, people, {"physical_care": 3, "care_of_safety": 3, "emotional_care": 3,
                                                      "developmental_care": 2}, start_days_ago=130, end_days_ago=110)
        rescore = await gcp2_authorised(gw, people, {"physical_care": 4, "care_of_safety": 3, "emotional_care": 4,
                                                     "developmental_care": 2}, start_days_ago=30, end_days_ago=15)
        assert rescore["previous_assessment_id"] == baseline["id"]
        screening = await start(gw, practitioner, child["id"], "local_neglect_screening")
        for item, rating in [("regular_meals", "very_concerned"), ("food_in_the_home", "very_concerned"),
                             ("personal_hygiene", "very_concerned")]:
            screening = await rate(gw, practitioner, screening, item, rating)
        for area in ["emotional_behavioural", "environmental", "health_physical_care", "parenting", "education", "feeding"]:
            screening = await judge(gw, practitioner, screening, area, "very_concerned" if area == "feeding" else "not_concerned")
        screening = await authorise(gw, manager, await submit(gw, practitioner, await write_analysis(gw, practitioner, screening)))
        assert screening["status"] == "authorised"

        trajectory = ok(await gw.get(f"/v1/children/{child['id']}/trajectory", headers=practitioner))
        gcp2 = {t["toolkit_id"]: t for t in trajectory["toolkits"]}["gcp2"]
        change = gcp2["assessments"][1]["from_previous"]
        assert change["areas"]["physical_care"]["change"] == 1
        assert change["areas"]["emotional_care"]["direction"] == "deteriorating"
        assert change["areas"]["developmental_care"]["direction"] == "static"
        assert gcp2["direction_from_baseline"] == "deteriorating"

        # A referral about the child: the recommendation cites the authorised toolkit results.
        r = await gw.post("/v1/referrals", headers=practitioner, json={
            "child_id": child["id"], "concern_summary": "Home conditions worsening (test text).",
            "neglect_types": ["basic_provision"], "indicators": []})
        assert r.status_code == 201, r.text
        rec = ok(await gw.post(f"/v1/referrals/{r.json()['id']}/recommendation", headers=csc))
        fired = {f["id"]: f for f in rec["fired_rules"]}
        assert "A-R01" in fired, (rec["missing_facts"], rec["inputs"], rec["unevaluated_rules"])  # GCP2 physical care 4+
        assert any(k.startswith("toolkit.area_grade") and v == 4 for k, v in fired["A-R01"]["evidence"].items())
        assert "A-R02" in fired  # two areas at 4 or worse
        # Only the Signs of Safety rating is missing (none was done); nothing about GCP2, and the service answered.
        assert not [m for m in rec["missing_facts"] if "unavailable" in m or "area_grade" in m], rec["missing_facts"]

        # The school has no involvement: it sees none of it.
        for path in (f"/v1/children/{child['id']}/trajectory", f"/v1/children/{child['id']}/latest-results",
                     f"/v1/assessments/{baseline['id']}", f"/v1/assessments?child_id={child['id']}"):
            r = await gw.get(path, headers=school)
            assert r.status_code == 404, (path, r.status_code, r.text[:200])
            assert r.headers["content-type"] == PROBLEM
