from __future__ import annotations

import json
import time
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select

from services.reporting.models import METADATA, EventLog
from shared.migrate import schema_drift
from tests.reporting.factories import READER, event, send, signed, summary
from tests.support import TokenFor

PROBLEM = "application/problem+json"
COUNTS = ("children_registered", "agencies_registered", "events_received")


def moved(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    return {k: after[k] - before[k] for k in COUNTS}


async def test_a_signed_event_is_applied_and_moves_the_summary(
    reporting: httpx.AsyncClient, token_for: TokenFor
) -> None:
    before = await summary(reporting, token_for)
    child = event("child.registered")
    r = await send(reporting, child)
    assert r.status_code == 200
    assert r.json() == {"status": "applied"}
    after = await summary(reporting, token_for)
    assert moved(before, after) == {"children_registered": 1, "agencies_registered": 0, "events_received": 1}
    assert datetime.fromisoformat(after["last_event_at"]) == datetime.fromisoformat(child["occurred_at"])
    r = await send(reporting, event("agency.registered", agency_id=str(uuid.uuid4()), agency_type="school"))
    assert r.json() == {"status": "applied"}
    assert moved(before, await summary(reporting, token_for)) == {
        "children_registered": 1, "agencies_registered": 1, "events_received": 2,
    }


async def test_a_redelivery_is_a_duplicate_and_changes_nothing(
    reporting: httpx.AsyncClient, token_for: TokenFor
) -> None:
    payload = event()
    assert (await send(reporting, payload)).json() == {"status": "applied"}
    after_first = await summary(reporting, token_for)
    again = await send(reporting, payload)
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate"}
    assert await summary(reporting, token_for) == after_first


async def test_unknown_event_types_are_logged_and_counted_as_received_only(
    reporting: httpx.AsyncClient, reporting_app: FastAPI, token_for: TokenFor
) -> None:
    before = await summary(reporting, token_for)
    payload = event("plan.reviewed", plan_id=str(uuid.uuid4()))
    assert (await send(reporting, payload)).json() == {"status": "applied"}
    assert moved(before, await summary(reporting, token_for)) == {
        "children_registered": 0, "agencies_registered": 0, "events_received": 1,
    }
    async with reporting_app.state.db.sessions() as session:
        logged = (await session.exec(select(EventLog).where(EventLog.webhook_id == payload["id"]))).one()
    assert (logged.event_type, logged.source, logged.version) == ("plan.reviewed", "referral", 1)
    assert logged.data == payload["data"]


async def test_bad_signature_is_401(reporting: httpx.AsyncClient, token_for: TokenFor) -> None:
    before = await summary(reporting, token_for)
    r = await send(reporting, event(), secret="not-the-shared-secret")
    assert r.status_code == 401
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["type"].endswith("invalid-event-signature")
    assert "Bearer" not in r.headers["www-authenticate"]
    assert await summary(reporting, token_for) == before


async def test_a_tampered_body_is_401(reporting: httpx.AsyncClient) -> None:
    body, headers = signed(event())
    r = await reporting.post("/v1/events", content=body.replace(b"referral", b"referrax"), headers=headers)
    assert r.status_code == 401


async def test_stale_timestamp_is_401(reporting: httpx.AsyncClient) -> None:
    r = await send(reporting, event(), now=int(time.time()) - 3600)
    assert r.status_code == 401
    assert r.headers["content-type"] == PROBLEM
    assert "window" in r.json()["detail"]


async def test_missing_signature_headers_is_401_not_422(reporting: httpx.AsyncClient) -> None:
    r = await reporting.post("/v1/events", json=event())
    assert r.status_code == 401
    assert r.headers["content-type"] == PROBLEM


async def test_a_bearer_token_does_not_replace_the_signature(reporting: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await reporting.post("/v1/events", json=event(), headers=token_for(READER, "admin"))
    assert r.status_code == 401


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe"])
async def test_malformed_json_is_400(reporting: httpx.AsyncClient, body: bytes) -> None:
    r = await send(reporting, body)
    assert r.status_code == 400
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["type"].endswith("malformed-body")


def _without(key: str) -> dict[str, Any]:
    payload = event()
    del payload[key]
    return payload


def _with(**changes: Any) -> dict[str, Any]:
    return {**event(), **changes}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (_without("type"), "body.type"),
        (_without("occurred_at"), "body.occurred_at"),
        (_with(extra="x"), "body.extra"),
        (_with(type="Child Registered"), "body.type"),
        (_with(occurred_at="2026-01-01T10:00:00"), "body.occurred_at"),
        (_with(version=0), "body.version"),
        (_with(data={"child": {"name": "nested records are refused"}}), "body.data.child"),
        (_with(data={"child_ids": [{"nested": "record"}]}), "body.data.child_ids"),
        (_with(data={"Not A Key": "x"}), "body.data.Not A Key.[key]"),
        (_with(data={"note": "x" * 201}), "body.data.note"),
        ([], "body"),
    ],
)
async def test_wrong_shape_is_422_with_field_errors(
    reporting: httpx.AsyncClient, token_for: TokenFor, payload: Any, field: str
) -> None:
    before = await summary(reporting, token_for)
    body, headers = signed(json_bytes(payload), webhook_id=payload.get("id") if isinstance(payload, dict) else None)
    r = await reporting.post("/v1/events", content=body, headers=headers)
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    problem = r.json()
    assert [e["field"] for e in problem["errors"]] == [field]
    assert "nested records are refused" not in r.text
    assert await summary(reporting, token_for) == before


def json_bytes(payload: Any) -> bytes:
    return json.dumps(payload).encode()


async def test_body_id_must_match_webhook_id(reporting: httpx.AsyncClient) -> None:
    r = await send(reporting, event(), webhook_id=str(uuid.uuid4()))
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {"field": "body.id", "message": "must equal the webhook-id header", "code": "webhook_id_mismatch"}
    ]


async def test_events_must_be_json(reporting: httpx.AsyncClient) -> None:
    body, headers = signed(event())
    r = await reporting.post("/v1/events", content=body, headers={**headers, "content-type": "text/plain"})
    assert r.status_code == 415


async def test_summary_needs_a_token_with_reporting_read(reporting: httpx.AsyncClient, token_for: TokenFor) -> None:
    anonymous = await reporting.get("/v1/dashboard/summary")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == PROBLEM
    wrong = await reporting.get("/v1/dashboard/summary", headers=token_for(READER, "referral:read", "reporting:export"))
    assert wrong.status_code == 403
    assert wrong.json()["type"].endswith("insufficient-scope")


async def test_openapi_documents_the_signed_route(reporting: httpx.AsyncClient) -> None:
    spec = (await reporting.get("/openapi.json")).json()
    operation = spec["paths"]["/v1/events"]["post"]
    assert operation["security"] == []
    assert {p["name"] for p in operation["parameters"]} == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert "occurred_at" in operation["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert {"400", "401", "413", "415", "422"} <= set(operation["responses"])
    assert "403" not in operation["responses"]
    summary_op = spec["paths"]["/v1/dashboard/summary"]["get"]
    assert {"401", "403"} <= set(summary_op["responses"])


async def test_health(reporting: httpx.AsyncClient) -> None:
    assert (await reporting.get("/livez")).json() == {"status": "ok"}
    assert (await reporting.get("/readyz")).status_code == 200


async def test_migrations_match_the_models(reporting_url: str) -> None:
    assert await schema_drift(reporting_url, METADATA) == []


@pytest.mark.parametrize(
    ("event_type", "grades", "status"),
    [("assessment.authorised", {"physical_care": 4, "emotional_care": 3}, 200),
     # A map of codes passes the envelope, but the assessment service's contract grades in numbers.
     ("assessment.submitted", {"feeding": "very_concerned"}, 200),
     ("assessment.authorised", {"feeding": "very_concerned"}, 422),
     ("assessment.submitted", {"feeding": "Child seen hungry at school"}, 422)],
)
async def test_toolkit_area_grades_are_numbers_or_codes_never_text(
    reporting: httpx.AsyncClient, event_type: str, grades: dict[str, Any], status: int
) -> None:
    payload = event(event_type, assessment_id=str(uuid.uuid4()), child_id=str(uuid.uuid4()),
                    toolkit_id="local_neglect_screening", area_grades=grades)
    payload["source"] = "assessment"
    r = await send(reporting, payload)
    assert r.status_code == status, r.text
