"""Referral factories and a stand-in for the assessment service's latest-results endpoint."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.support import TokenFor

ASSESSMENT_URL = "http://127.0.0.1:8002"


class AssessmentStub:
    """Answers ``GET /v1/children/{id}/latest-results`` from ``results``; or fails as told.

    ``error``: an exception to raise (e.g. ``httpx.ConnectError``); ``status``: an HTTP
    status to answer with instead of the results. Every request is kept for checks.
    """

    def __init__(self) -> None:
        self.results: dict[str, list[dict[str, Any]]] = {}
        self.error: Exception | None = None
        self.status: int | None = None
        self.requests: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.error is not None:
            raise self.error
        if self.status is not None:
            return httpx.Response(self.status, json={"title": "stubbed failure"})
        parts = request.url.path.strip("/").split("/")
        if len(parts) != 4 or parts[:2] != ["v1", "children"] or parts[3] != "latest-results":
            return httpx.Response(404, json={"title": "no such route"})
        return httpx.Response(200, json={"items": self.results.get(parts[2], [])})

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handle))


def gcp2_result(days_ago: int = 10, **grades: int) -> dict[str, Any]:
    """An authorised GCP2 result with practitioner grades per area (structure only, no descriptors)."""
    grades = grades or {"physical_care": 4, "care_of_safety": 2, "emotional_care": 2, "developmental_care": 3}
    return {
        "toolkit_id": "gcp2",
        "authorised_at": (datetime.now(UTC) - timedelta(days=days_ago)).isoformat(),
        "areas": {area: {"practitioner_grade": g, "suggestion": g} for area, g in grades.items()},
    }


def referral_body(child_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "child_id": child_id,
        "concern_summary": "Child often arrives hungry and in unwashed clothes.",
        "neglect_types": ["basic_provision"],
        "indicators": [{"domain": "physical_care", "indicator": "hunger_at_school", "severity": "medium"}],
    }
    body.update(overrides)
    return body


async def make_referral(client: httpx.AsyncClient, token_for: TokenFor, agency_id: str, child_id: str,
                        **overrides: Any) -> httpx.Response:
    r = await client.post("/v1/referrals", json=referral_body(child_id, **overrides),
                          headers=token_for(uuid.UUID(agency_id), "referral:write", "referral:read"))
    assert r.status_code == 201, r.text
    return r


def decision_body(level: str = "2b", outcome: str = "early_help_assessment", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"level": level, "outcome": outcome, "decided_by": "Team manager (user 4711)",
                            "rationale": "Needs match the level."}
    body.update(overrides)
    return body
