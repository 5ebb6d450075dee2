"""Whether the caller may see the child is the referral service's answer, asked once per request
with the caller's own token; without a clear answer nothing is shown and nothing is written."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select

from services.assessment.models import Assessment, AssessmentRating
from shared.models import AuditEvent, IdempotencyRecord, OutboxMessage
from tests.assessment.conftest import CountingTransport, referral_transport
from tests.assessment.factories import (
    PROBLEM,
    People,
    days_ago,
    gcp2_authorised,
    gcp2_scored,
    if_match,
    ok,
    start,
)
from tests.referral.factories_referrals import referral_body

Handler = Callable[[httpx.Request], Any]


def refused(exc: Exception) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        raise exc
    return handle


def answering(status: int) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"title": "stub"})
    return handle


async def _hang(request: httpx.Request) -> httpx.Response:
    await asyncio.sleep(30)
    return httpx.Response(200)


FAILURES: list[tuple[str, Handler]] = [
    ("down", refused(httpx.ConnectError("connection refused"))),
    ("read timeout", refused(httpx.ReadTimeout("slow"))),
    ("500", answering(500)),
    ("503", answering(503)),
    ("401", answering(401)),
    ("broken", refused(RuntimeError("bug in the other service"))),
]


async def _count(app: FastAPI, model: Any) -> int:
    async with app.state.db.sessions() as session:
        return len((await session.exec(select(model))).all())


@pytest.mark.parametrize(("why", "handler"), FAILURES, ids=[f[0] for f in FAILURES])
async def test_referral_unavailable_on_create_writes_nothing(
    assessment: httpx.AsyncClient, assessment_app: FastAPI, people: People, why: str, handler: Handler
) -> None:
    body = {"child_id": people.child_id, "toolkit_id": "gcp2", "window_start_date": "2026-01-05",
            "assessor": {"name": "Assessor (test)"}}
    with referral_transport(assessment_app, httpx.MockTransport(handler)):
        r = await assessment.post("/v1/assessments", json=body,
                                  headers={**people.practitioner(), "Idempotency-Key": "create-while-down"})
    assert r.status_code == 503
    assert r.headers["content-type"] == PROBLEM
    assert r.headers["retry-after"] == "5"
    assert r.json()["type"].endswith("/referral-unavailable")
    for model in (Assessment, AuditEvent, IdempotencyRecord, OutboxMessage):
        assert await _count(assessment_app, model) == 0, model
    # Once the referral service answers again, the same key goes through.
    r = await assessment.post("/v1/assessments", json=body,
                              headers={**people.practitioner(), "Idempotency-Key": "create-while-down"})
    assert r.status_code == 201


async def test_a_timeout_is_a_503(assessment: httpx.AsyncClient, assessment_app: FastAPI, people: People,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    a = await start(assessment, people.practitioner(), people.child_id)
    monkeypatch.setattr(assessment_app.state.settings, "referral_timeout_seconds", 0.05)
    with referral_transport(assessment_app, httpx.MockTransport(_hang)):
        r = await assessment.put(f"/v1/assessments/{a['id']}/ratings/nutrition", json={"value": 4},
                                 headers={**people.practitioner(), **if_match(a)})
        assert r.status_code == 503
        assert "in time" in r.json()["detail"]
        assert (await assessment.get(f"/v1/children/{people.child_id}/trajectory",
                                     headers=people.practitioner())).status_code == 503
    assert await _count(assessment_app, AssessmentRating) == 0
    assert ok(await assessment.get(f"/v1/assessments/{a['id']}", headers=people.practitioner()))["version"] == 1


@pytest.mark.parametrize("status", [500, 502])
async def test_reads_and_transitions_stop_on_a_5xx(assessment: httpx.AsyncClient, assessment_app: FastAPI,
                                                   people: People, status: int) -> None:
    submitted = await gcp2_scored(assessment, people, {"physical_care": 3, "care_of_safety": 3,
                                                       "emotional_care": 3, "developmental_care": 3})
    with referral_transport(assessment_app, httpx.MockTransport(answering(status))):
        for method, path, body in [
            ("GET", f"/v1/assessments/{submitted['id']}", None),
            ("GET", f"/v1/assessments?child_id={people.child_id}", None),
            ("GET", f"/v1/children/{people.child_id}/latest-results", None),
            ("POST", f"/v1/assessments/{submitted['id']}/authorisation", {"authorised_by": "Manager (test)"}),
        ]:
            r = await assessment.request(method, path, json=body, headers={**people.manager(), **if_match(submitted)})
            assert r.status_code == 503, path
    after = ok(await assessment.get(f"/v1/assessments/{submitted['id']}", headers=people.manager()))
    assert after["status"] == "submitted"


async def test_the_callers_own_token_is_passed_on(
    assessment: httpx.AsyncClient, people: People, referral_calls: CountingTransport
) -> None:
    headers = {**people.practitioner(), "X-Request-ID": "req-visibility-0001", "X-Purpose": "core_group_review"}
    a = await start(assessment, headers, people.child_id)
    sent = referral_calls.requests[-1]
    assert sent.method == "GET"
    assert sent.url.path == f"/v1/children/{people.child_id}"
    assert sent.headers["authorization"] == headers["Authorization"]
    assert sent.headers["x-request-id"] == "req-visibility-0001"
    assert sent.headers["x-purpose"] == "core_group_review"
    assert a["child_id"] == people.child_id


async def test_one_call_per_request(assessment: httpx.AsyncClient, people: People,
                                    referral_calls: CountingTransport) -> None:
    h = people.practitioner()
    a = await start(assessment, h, people.child_id)
    for method, path, body in [
        ("GET", f"/v1/assessments/{a['id']}", None),
        ("GET", f"/v1/assessments?child_id={people.child_id}", None),
        ("PUT", f"/v1/assessments/{a['id']}/ratings/nutrition", {"value": 3}),
        ("GET", f"/v1/children/{people.child_id}/trajectory", None),
        ("GET", f"/v1/children/{people.child_id}/latest-results", None),
    ]:
        current = ok(await assessment.get(f"/v1/assessments/{a['id']}", headers=h))
        before = len(referral_calls.requests)
        r = await assessment.request(method, path, json=body, headers={**h, **if_match(current)})
        assert r.status_code == 200, r.text
        assert len(referral_calls.requests) == before + 1, path


async def test_without_referral_read_the_child_cannot_be_confirmed(assessment: httpx.AsyncClient,
                                                                   people: People) -> None:
    r = await assessment.post("/v1/assessments", json={
        "child_id": people.child_id, "toolkit_id": "gcp2", "window_start_date": "2026-01-05",
        "assessor": {"name": "Assessor (test)"}}, headers=people.practitioner("assessment:write", "assessment:read"))
    assert r.status_code == 403
    assert r.json()["type"].endswith("/child-check-refused")
    assert "referral:read" in r.json()["detail"]


async def test_an_unknown_assessment_and_a_hidden_one_look_the_same(assessment: httpx.AsyncClient,
                                                                     people: People) -> None:
    a = await start(assessment, people.practitioner(), people.child_id)
    hidden = await assessment.get(f"/v1/assessments/{a['id']}", headers=people.stranger())
    missing = await assessment.get(f"/v1/assessments/{uuid.uuid4()}", headers=people.stranger())
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["type"] == missing.json()["type"]
    assert hidden.json()["title"] == missing.json()["title"]


async def test_the_client_is_made_at_start_and_closed_at_shutdown(keys: Any, tmp_path: Any) -> None:
    from services.assessment.app import create_app
    from services.assessment.settings import AssessmentSettings
    from tests.support import common_settings, create_database, drop_database

    url = await create_database("assessment", tmp_path)
    try:
        app = create_app(AssessmentSettings(**common_settings(keys, url)))  # type: ignore[arg-type]
        assert app.state.referral_client is None
        async with app.router.lifespan_context(app):
            client = app.state.referral_client
            assert isinstance(client, httpx.AsyncClient)
            assert not client.is_closed
        assert client.is_closed
        assert app.state.referral_client is None
    finally:
        await drop_database(url)


async def test_a_school_that_only_referred_the_child_sees_no_toolkit_results(
    assessment: httpx.AsyncClient, referral: httpx.AsyncClient, people: People
) -> None:
    """The referral service's rule, asked as the caller: referring opens no sight of the child (issue 9)."""
    a = await gcp2_authorised(assessment, people, {"physical_care": 4, "care_of_safety": 2, "emotional_care": 2, "developmental_care": 3})
    r = await referral.post("/v1/referrals", json=referral_body(people.child_id),
                            headers=people.stranger("referral:write"))
    assert r.status_code == 201, r.text
    for path in (f"/v1/children/{people.child_id}/trajectory", f"/v1/children/{people.child_id}/latest-results",
                 f"/v1/assessments/{a['id']}", f"/v1/assessments?child_id={people.child_id}"):
        hidden = await assessment.get(path, headers=people.stranger())
        assert hidden.status_code == 404, (path, hidden.text)
        assert hidden.headers["content-type"] == PROBLEM
        assert (await assessment.get(path, headers=people.csc())).status_code == 200, path
    # Once children's social care involves the school, it reads them too.
    r = await referral.post(f"/v1/children/{people.child_id}/involvements", headers=people.csc(
        "referral:read", "referral:write"), json={"agency_id": str(people.school_agency), "role": "core_group_member",
                                                 "start_date": days_ago(1)})
    assert r.status_code == 201, r.text
    assert (await assessment.get(f"/v1/children/{people.child_id}/trajectory", headers=people.stranger())).status_code == 200
