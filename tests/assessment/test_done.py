"""The issue's "done when", through HTTP, with the real referral app answering visibility.

A practitioner scores a child on GCP2 twice, three months apart, and on the
screening tool; a manager authorises; the trajectory shows the change per area
and its direction; an agency with no involvement sees none of it.
"""

from __future__ import annotations

import httpx

from tests.assessment.conftest import CountingTransport
from tests.assessment.factories import (
    PROBLEM,
    People,
    authorise,
    gcp2_authorised,
    judge,
    ok,
    rate,
    start,
    submit,
    write_analysis,
)


async def test_scored_twice_authorised_trajectory_and_no_leak(
    assessment: httpx.AsyncClient, people: People, referral_calls: CountingTransport
) -> None:
    baseline = await gcp2_authorised(
        assessment, people,
        {"physical_care": 4, "care_of_safety": 3, "emotional_care": 3, "developmental_care": 2},
        start_days_ago=140, end_days_ago=120, rate_all=True,
    )
    assert baseline["status"] == "authorised"
    assert baseline["authorised_by"] == {"name": "Team manager (test)", "client_id": "hv-system",
                                         "acting_user": "hv-manager-4"}
    # Three months on: physical care better, emotional care worse.
    rescore = await gcp2_authorised(
        assessment, people,
        {"physical_care": 2, "care_of_safety": 3, "emotional_care": 4, "developmental_care": 2},
        start_days_ago=45, end_days_ago=30, rate_all=True,
    )
    assert rescore["previous_assessment_id"] == baseline["id"]

    headers = people.practitioner()
    screening = await start(assessment, headers, people.child_id, "local_neglect_screening")
    for item, rating in [("regular_meals", "very_concerned"), ("food_in_the_home", "very_concerned"),
                         ("personal_hygiene", "sometimes_concerned"), ("attendance", "not_concerned")]:
        screening = await rate(assessment, headers, screening, item, rating)
    for area in ["emotional_behavioural", "environmental", "health_physical_care", "parenting", "education", "feeding"]:
        value = {"feeding": "very_concerned", "health_physical_care": "sometimes_concerned"}.get(area, "not_concerned")
        screening = await judge(assessment, headers, screening, area, value)
    screening = await authorise(assessment, people.manager(), await submit(
        assessment, headers, await write_analysis(assessment, headers, screening)))
    assert screening["status"] == "authorised"

    calls_before = len(referral_calls.requests)
    trajectory = ok(await assessment.get(f"/v1/children/{people.child_id}/trajectory", headers=headers))
    assert len(referral_calls.requests) == calls_before + 1  # one visibility check per request
    tools = {t["toolkit_id"]: t for t in trajectory["toolkits"]}
    gcp2 = tools["gcp2"]
    assert [p["assessment_id"] for p in gcp2["assessments"]] == [baseline["id"], rescore["id"]]
    change = gcp2["assessments"][1]["from_previous"]
    assert change["areas"]["physical_care"] == {"earlier": 4, "later": 2, "change": -2, "direction": "improving"}
    assert change["areas"]["emotional_care"] == {"earlier": 3, "later": 4, "change": 1, "direction": "deteriorating"}
    assert change["areas"]["care_of_safety"]["direction"] == "static"
    assert change["direction"] == "deteriorating"  # any area worse by 1 or more
    assert gcp2["direction_from_baseline"] == "deteriorating"
    assert gcp2["scale_direction"] == "higher_is_worse"
    assert gcp2["days_since_first_assessment"] == 120
    assert gcp2["sustained_improvement"]["sustained"] is False
    assert trajectory["direction"] == "deteriorating"
    assert trajectory["rule"]["worse_by"] == 1
    assert "any area worse by 1" in trajectory["rule"]["description"]["deteriorating"]
    assert len(tools["local_neglect_screening"]["assessments"]) == 1

    latest = ok(await assessment.get(f"/v1/children/{people.child_id}/latest-results", headers=headers))
    items = {i["toolkit_id"]: i for i in latest["items"]}
    assert items["gcp2"]["assessment_id"] == rescore["id"]
    assert items["gcp2"]["areas"]["physical_care"] == {"practitioner_grade": 2, "suggestion": 2}
    assert items["local_neglect_screening"]["items_rated"]["very_concerned"] == 2

    # A school with no involvement sees none of it.
    stranger = people.stranger()
    for path in [f"/v1/children/{people.child_id}/trajectory", f"/v1/children/{people.child_id}/latest-results",
                 f"/v1/assessments/{baseline['id']}", f"/v1/assessments?child_id={people.child_id}"]:
        r = await assessment.get(path, headers=stranger)
        assert r.status_code == 404, path
        assert r.headers["content-type"] == PROBLEM
        assert "physical_care" not in r.text
        assert "authorised" not in r.text

    # Children's social care sees the child, so it sees the assessments too.
    seen = ok(await assessment.get(f"/v1/assessments?child_id={people.child_id}", headers=people.csc()))
    assert len(seen["items"]) == 3
