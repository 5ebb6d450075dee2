"""``GET /v1/children/{id}/latest-results`` is a fixed contract: the referral service's threshold
engine reads it. Checked here for its shape, and with the referral service's own client and fact
readers against this service's real endpoint."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI

from services.referral.domain.evidence import AssessmentService, _toolkit_fact
from tests.assessment.factories import (
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


async def _screening(client: httpx.AsyncClient, people: People, ratings: dict[str, str]) -> dict[str, Any]:
    h = people.practitioner()
    a = await start(client, h, people.child_id, "local_neglect_screening")
    for item, value in ratings.items():
        a = await rate(client, h, a, item, value)
    for area in ["emotional_behavioural", "environmental", "health_physical_care", "parenting", "education", "feeding"]:
        a = await judge(client, h, a, area, "sometimes_concerned")
    return await authorise(client, people.manager(), await submit(client, h, await write_analysis(client, h, a)))


async def test_shape(assessment: httpx.AsyncClient, people: People) -> None:
    h = people.practitioner()
    empty = ok(await assessment.get(f"/v1/children/{people.child_id}/latest-results", headers=h))
    assert empty == {"child_id": people.child_id, "items": []}

    gcp2 = await gcp2_authorised(assessment, people, {"physical_care": 4, "care_of_safety": 2, "emotional_care": 2,
                                                      "developmental_care": 3})
    draft = await start(assessment, h, people.child_id)  # drafts never count
    screening = await _screening(assessment, people, {"regular_meals": "very_concerned", "food_in_the_home": "very_concerned",
                                                      "attendance": "very_concerned", "personal_hygiene": "sometimes_concerned",
                                                      "boundaries": "not_concerned"})
    body = ok(await assessment.get(f"/v1/children/{people.child_id}/latest-results", headers=h))
    assert set(body) == {"child_id", "items"}
    by_tool = {i["toolkit_id"]: i for i in body["items"]}
    assert list(by_tool) == ["gcp2", "local_neglect_screening"]
    g = by_tool["gcp2"]
    assert set(g) == {"toolkit_id", "toolkit_version", "assessment_id", "authorised_at", "authorised_on", "areas"}
    assert (g["toolkit_version"], g["assessment_id"]) == ("2-structure-1", gcp2["id"])
    assert draft["id"] not in str(body)
    assert datetime.fromisoformat(g["authorised_at"].replace("Z", "+00:00")).tzinfo is not None
    assert g["authorised_at"].endswith("Z") or g["authorised_at"].endswith("+00:00")
    # Nothing was rated, so there is no suggestion to give: the key is left out.
    assert g["areas"] == {"physical_care": {"practitioner_grade": 4}, "care_of_safety": {"practitioner_grade": 2},
                          "emotional_care": {"practitioner_grade": 2}, "developmental_care": {"practitioner_grade": 3}}
    s = by_tool["local_neglect_screening"]
    assert s["assessment_id"] == screening["id"]
    assert s["items_rated"] == {"not_concerned": 1, "sometimes_concerned": 1, "very_concerned": 3}
    assert s["items_rated_by_domain"]["feeding"] == {"not_concerned": 0, "sometimes_concerned": 0, "very_concerned": 2}
    assert s["areas"]["feeding"] == {"practitioner_grade": 2, "suggestion": 3}
    assert "safety_scale" not in s
    assert "totals" not in s


async def test_the_latest_authorised_per_tool(assessment: httpx.AsyncClient, people: People) -> None:
    grades = {"physical_care": 4, "care_of_safety": 3, "emotional_care": 3, "developmental_care": 3}
    await gcp2_authorised(assessment, people, grades, start_days_ago=150, end_days_ago=120)
    newer = await gcp2_authorised(assessment, people, {**grades, "physical_care": 2}, start_days_ago=40, end_days_ago=20)
    body = ok(await assessment.get(f"/v1/children/{people.child_id}/latest-results", headers=people.practitioner()))
    assert [(i["assessment_id"], i["areas"]["physical_care"]["practitioner_grade"]) for i in body["items"]] == [
        (newer["id"], 2)]


async def test_read_by_the_referral_services_own_client(
    assessment: httpx.AsyncClient, assessment_app: FastAPI, people: People
) -> None:
    await gcp2_authorised(assessment, people, {"physical_care": 4, "care_of_safety": 2, "emotional_care": 2,
                                               "developmental_care": 3}, rate_all=True)
    await _screening(assessment, people, {"regular_meals": "very_concerned", "food_in_the_home": "very_concerned",
                                          "attendance": "very_concerned"})
    h = people.practitioner()
    safety = await start(assessment, h, people.child_id, "signs_of_safety")
    for kind, label, value in [("professional", "Health visitor", 2), ("parent_carer", "Father", 5)]:
        safety = await rate(assessment, h, safety, "safety_scale", value, rater={"kind": kind, "label": label},
                            rated_on=safety["window_end_date"])
    safety = await judge(assessment, h, safety, "safety", 2)
    await authorise(assessment, people.manager(), await submit(assessment, h, await write_analysis(assessment, h, safety)))

    token = h["Authorization"].removeprefix("Bearer ")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=assessment_app)) as client:
        service = AssessmentService("http://assessment", 2.0, client)
        results = await service.latest_results(uuid.UUID(people.child_id), token)
        stranger = people.stranger()["Authorization"].removeprefix("Bearer ")
        hidden = await service.latest_results(uuid.UUID(people.child_id), stranger)
    assert results.unavailable is None
    now = datetime.now(UTC)
    facts: list[tuple[str, dict[str, Any], int]] = [
        ("toolkit.area_grade", {"tool": "gcp2", "area": "physical_care"}, 4),
        ("toolkit.area_grade", {"tool": "gcp2", "area": "physical_care", "judgement": "suggestion"}, 4),
        ("toolkit.areas_at_or_above", {"tool": "gcp2", "grade": 3}, 2),
        ("toolkit.items_rated", {"tool": "local_neglect_screening", "rating": "very_concerned", "max_age_days": 90}, 3),
        ("toolkit.items_rated", {"tool": "local_neglect_screening", "rating": "very_concerned", "domain": "feeding"}, 2),
        ("toolkit.safety_scale", {"rater": "worker", "max_age_days": 30}, 2),
        ("toolkit.safety_scale", {"rater": "parent"}, 5),
    ]
    for fact, params, expected in facts:
        assert _toolkit_fact(fact, params, results.items, now) == expected, (fact, params)
    assert hidden.unavailable is not None
    assert "404" in hidden.unavailable
