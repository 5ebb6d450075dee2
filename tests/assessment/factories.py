"""Typed factories that go through the APIs, as partner systems would.

Neutral words only: no licensed toolkit wording ever appears in test data.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from tests.referral.factories import make_agency, make_child
from tests.support import TokenFor

PROBLEM = "application/problem+json"
GCP2_AREAS: dict[str, list[str]] = {
    "physical_care": ["nutrition", "housing", "clothing", "hygiene", "health"],
    "care_of_safety": ["safety_carer_present", "safety_carer_absent", "online_safety", "road_safety", "home_safety"],
    "emotional_care": ["carer_responsiveness", "mutual_engagement"],
    "developmental_care": ["stimulation", "approval", "disapproval", "acceptance"],
}
READ_WRITE = ("assessment:read", "assessment:write", "referral:read")


def today() -> date:
    return datetime.now(UTC).date()


def days_ago(n: int) -> str:
    return (today() - timedelta(days=n)).isoformat()


@dataclass
class People:
    """A health visiting team that registered the child, a school with no involvement,
    and children's social care (which sees every child that is not sealed)."""

    child_id: str
    hv_agency: uuid.UUID
    school_agency: uuid.UUID
    csc_agency: uuid.UUID
    token_for: TokenFor

    def practitioner(self, *scopes: str) -> dict[str, str]:
        return self.token_for(self.hv_agency, *(scopes or READ_WRITE), client_id="hv-system", acting_user="hv-practitioner-17")

    def manager(self, *scopes: str) -> dict[str, str]:
        return self.token_for(self.hv_agency, *(scopes or READ_WRITE), client_id="hv-system", acting_user="hv-manager-4")

    def stranger(self, *scopes: str) -> dict[str, str]:
        return self.token_for(self.school_agency, *(scopes or READ_WRITE), client_id="school-system")

    def csc(self, *scopes: str) -> dict[str, str]:
        return self.token_for(self.csc_agency, *(scopes or READ_WRITE), client_id="csc-system", acting_user="sw-9")


async def make_people(referral: httpx.AsyncClient, token_for: TokenFor) -> People:
    hv = await make_agency(referral, token_for, "health_visiting")
    school = await make_agency(referral, token_for, "school")
    csc = await make_agency(referral, token_for, "childrens_social_care")
    child = await make_child(referral, token_for, hv["id"])
    return People(child["id"], uuid.UUID(hv["id"]), uuid.UUID(school["id"]), uuid.UUID(csc["id"]), token_for)


def if_match(body: dict[str, Any]) -> dict[str, str]:
    return {"If-Match": f'"{body["version"]}"'}


def ok(r: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    return body


async def start(client: httpx.AsyncClient, headers: dict[str, str], child_id: str, toolkit_id: str = "gcp2",
                *, start_days_ago: int = 40, end_days_ago: int | None = 20, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "child_id": child_id, "toolkit_id": toolkit_id,
        "window_start_date": days_ago(start_days_ago),
        "window_end_date": days_ago(end_days_ago) if end_days_ago is not None else None,
        "assessor": {"name": "Assessor (user 3107)", "role": "Health visitor",
                     "accreditation": "Licensed practitioner, ref LP-0042"},
    }
    body.update(overrides)
    return ok(await client.post("/v1/assessments", json=body, headers=headers), 201)


async def rate(client: httpx.AsyncClient, headers: dict[str, str], a: dict[str, Any], item_id: str, value: int | str,
               **extra: Any) -> dict[str, Any]:
    body = {"value": value, "evidence": "Seen on a visit (test text).", "strengths": "Engaged well (test text).", **extra}
    return ok(await client.put(f"/v1/assessments/{a['id']}/ratings/{item_id}", json=body,
                               headers={**headers, **if_match(a)}))


async def judge(client: httpx.AsyncClient, headers: dict[str, str], a: dict[str, Any], area_id: str, value: int | str,
                rationale: str | None = "Practitioner's reasons (test text).") -> dict[str, Any]:
    return ok(await client.put(f"/v1/assessments/{a['id']}/judgements/{area_id}",
                               json={"value": value, "rationale": rationale}, headers={**headers, **if_match(a)}))


async def write_analysis(client: httpx.AsyncClient, headers: dict[str, str], a: dict[str, Any]) -> dict[str, Any]:
    return ok(await client.patch(f"/v1/assessments/{a['id']}", json={"overall_judgement": "Analysis (test text)."},
                                 headers={**headers, **if_match(a)}))


async def submit(client: httpx.AsyncClient, headers: dict[str, str], a: dict[str, Any]) -> dict[str, Any]:
    return ok(await client.post(f"/v1/assessments/{a['id']}/submission", headers={**headers, **if_match(a)}))


async def authorise(client: httpx.AsyncClient, headers: dict[str, str], a: dict[str, Any]) -> dict[str, Any]:
    return ok(await client.post(f"/v1/assessments/{a['id']}/authorisation", json={"authorised_by": "Team manager (test)"},
                                headers={**headers, **if_match(a)}))


async def gcp2_scored(client: httpx.AsyncClient, people: People, grades: dict[str, int], *,
                      start_days_ago: int = 40, end_days_ago: int = 20, rate_all: bool = False,
                      headers: dict[str, str] | None = None) -> dict[str, Any]:
    """A complete GCP2 assessment, submitted (by the practitioner unless ``headers`` say who):
    each area judged at ``grades``; with ``rate_all`` every sub-area is rated at the area's grade
    too (so the suggestion agrees)."""
    headers = headers or people.practitioner()
    a = await start(client, headers, people.child_id, "gcp2", start_days_ago=start_days_ago, end_days_ago=end_days_ago)
    for area, grade in grades.items():
        if rate_all:
            for sub_area in GCP2_AREAS[area]:
                a = await rate(client, headers, a, sub_area, grade)
        a = await judge(client, headers, a, area, grade)
    a = await write_analysis(client, headers, a)
    return await submit(client, headers, a)


async def gcp2_authorised(client: httpx.AsyncClient, people: People, grades: dict[str, int], **kw: Any) -> dict[str, Any]:
    return await authorise(client, people.manager(), await gcp2_scored(client, people, grades, **kw))
