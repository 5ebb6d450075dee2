"""Every dated step takes its date: a migrated toolkit assessment is submitted and authorised on
its own days, checked against the domain's order, and reporting counts it in the right quarter."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlmodel import col, select

from shared.models import OutboxMessage
from tests.assessment.factories import (
    GCP2_AREAS,
    People,
    if_match,
    judge,
    ok,
    start,
    today,
    write_analysis,
)
from tests.reporting.conftest import reporting, reporting_app, reporting_url  # noqa: F401 - fixtures
from tests.reporting.factories import READER, send
from tests.support import TokenFor

GRADES = {"physical_care": 4, "care_of_safety": 3, "emotional_care": 2, "developmental_care": 2}
#: A partner's record from an earlier year (2024-25 Q4: January to March 2025).
WINDOW = {"window_start_date": "2025-01-06", "window_end_date": "2025-01-31"}


def problem(r: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert body["type"].endswith("/" + slug), body
    return body


async def complete_draft(client: httpx.AsyncClient, people: People, **window: Any) -> dict[str, Any]:
    h = people.practitioner()
    a = await start(client, h, people.child_id, "gcp2", **(window or WINDOW))
    for area_id, grade in GRADES.items():
        assert area_id in GCP2_AREAS
        a = await judge(client, h, a, area_id, grade)
    return await write_analysis(client, h, a)


async def submit_on(client: httpx.AsyncClient, people: People, a: dict[str, Any], on: str | None) -> httpx.Response:
    return await client.post(f"/v1/assessments/{a['id']}/submission", json={"submitted_on": on} if on else None,
                             headers={**people.practitioner(), **if_match(a)})


async def authorise_on(client: httpx.AsyncClient, people: People, a: dict[str, Any], on: str | None) -> httpx.Response:
    body: dict[str, Any] = {"authorised_by": "Team manager (test)"}
    if on is not None:
        body["authorised_on"] = on
    return await client.post(f"/v1/assessments/{a['id']}/authorisation", json=body,
                             headers={**people.manager(), **if_match(a)})


async def test_a_migrated_assessment_keeps_its_days(assessment: httpx.AsyncClient, assessment_app: FastAPI,
                                                    people: People) -> None:
    a = await complete_draft(assessment, people)
    tomorrow = (today() + timedelta(days=1)).isoformat()
    # Not in the future, not before the window started, not before the window ended (complete as at that day).
    problem(await submit_on(assessment, people, a, tomorrow), 422, "invalid-dates")
    assert problem(await submit_on(assessment, people, a, "2025-01-05"), 422, "invalid-dates")["errors"][0]["field"] \
        == "submitted_on"
    body = problem(await submit_on(assessment, people, a, "2025-01-20"), 409, "assessment-incomplete")
    assert [e["field"] for e in body["errors"]] == ["window_end_date"]
    submitted = ok(await submit_on(assessment, people, a, "2025-02-03"))
    assert (submitted["status"], submitted["submitted_on"]) == ("submitted", "2025-02-03")
    assert submitted["submitted_at"].startswith(today().isoformat())  # when we recorded it

    # Not in the future, not before it was submitted.
    problem(await authorise_on(assessment, people, submitted, tomorrow), 422, "invalid-dates")
    problem(await authorise_on(assessment, people, submitted, "2025-02-02"), 422, "invalid-dates")
    authorised = ok(await authorise_on(assessment, people, submitted, "2025-02-10"))
    assert (authorised["status"], authorised["authorised_on"]) == ("authorised", "2025-02-10")

    async with assessment_app.state.db.sessions() as session:
        events = (await session.exec(select(OutboxMessage).where(
            col(OutboxMessage.event_type).like("assessment.%")).order_by(col(OutboxMessage.occurred_at)))).all()
    assert events[0].payload["data"]["submitted_on"] == "2025-02-03"
    assert events[1].payload["data"]["authorised_on"] == "2025-02-10"

    # An amendment is authorised on or after the revision it amends was.
    amendment = ok(await assessment.post(f"/v1/assessments/{authorised['id']}/amendment", json={"reason": "A fix (test)."},
                                         headers={**people.practitioner(), **if_match(authorised)}), 201)
    amendment = ok(await submit_on(assessment, people, amendment, "2025-02-05"))
    problem(await authorise_on(assessment, people, amendment, "2025-02-07"), 422, "invalid-dates")
    assert ok(await authorise_on(assessment, people, amendment, "2025-02-11"))["authorised_on"] == "2025-02-11"
    # The threshold engine reads a result's age from the day it was authorised.
    [latest] = ok(await assessment.get(f"/v1/children/{people.child_id}/latest-results",
                                       headers=people.practitioner()))["items"]
    assert latest["authorised_on"] == "2025-02-11"


async def test_without_a_day_it_is_today(assessment: httpx.AsyncClient, people: People) -> None:
    a = await complete_draft(assessment, people, start_days_ago=40, end_days_ago=20)
    submitted = ok(await submit_on(assessment, people, a, None))
    authorised = ok(await authorise_on(assessment, people, submitted, None))
    assert (submitted["submitted_on"], authorised["authorised_on"]) == (today().isoformat(), today().isoformat())


async def test_reporting_counts_a_backdated_assessment_in_its_quarter(
    assessment: httpx.AsyncClient, assessment_app: FastAPI, reporting: httpx.AsyncClient,  # noqa: F811
    people: People, token_for: TokenFor,
) -> None:
    a = await complete_draft(assessment, people)
    submitted = ok(await submit_on(assessment, people, a, "2025-02-03"))
    ok(await authorise_on(assessment, people, submitted, "2025-03-28"))
    async with assessment_app.state.db.sessions() as session:
        [message] = (await session.exec(select(OutboxMessage).where(
            OutboxMessage.event_type == "assessment.authorised"))).all()
    assert (await send(reporting, dict(message.payload))).json() == {"status": "applied"}

    async def toolkits(period: str) -> int:
        r = await reporting.get("/v1/datasets/quarterly", params={"period": period},
                                headers=token_for(READER, "reporting:read", "reporting:export"))
        assert r.status_code == 200, r.text
        count: int = {m["id"]: m for m in r.json()["metrics"]}["NQ27"]["total"]["count"]
        return count

    assert await toolkits("2024-25-Q4") == 1  # authorised on 28 March 2025, whenever it was recorded
    assert await toolkits("2024-25-Q3") == 0
