"""Factories for people, involvements, practice records and sharing: through the API where one exists."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlmodel import select

from services.referral.models import Child, Episode
from shared.models import AuditEvent, OutboxMessage
from tests.referral.factories import make_agency, make_child
from tests.support import TokenFor

PROBLEM = "application/problem+json"
READ_WRITE = ("referral:read", "referral:write")


def today() -> date:
    return datetime.now(UTC).date()


def days_ago(n: int) -> str:
    return (today() - timedelta(days=n)).isoformat()


def tomorrow() -> str:
    return (today() + timedelta(days=1)).isoformat()


class Partner:
    """One agency and its tokens."""

    def __init__(self, agency: dict[str, Any], token_for: TokenFor) -> None:
        self.agency = agency
        self.id = uuid.UUID(agency["id"])
        self._token_for = token_for

    def headers(self, *scopes: str, **extra: str) -> dict[str, str]:
        return {**self._token_for(self.id, *(scopes or READ_WRITE)), **extra}


async def partner(client: httpx.AsyncClient, token_for: TokenFor, agency_type: str = "health_visiting") -> Partner:
    return Partner(await make_agency(client, token_for, agency_type), token_for)


async def child_of(client: httpx.AsyncClient, token_for: TokenFor, p: Partner, **overrides: Any) -> dict[str, Any]:
    return await make_child(client, token_for, p.id, **overrides)


async def make_person(client: httpx.AsyncClient, p: Partner, **overrides: Any) -> dict[str, Any]:
    body = {"given_name": "Testparent", "family_name": "Example", "birth_date": "1990-01-01",
            "factors": ["substance_misuse"], **overrides}
    r = await client.post("/v1/people", json=body, headers=p.headers())
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


async def make_household(client: httpx.AsyncClient, p: Partner, members: list[dict[str, Any]]) -> dict[str, Any]:
    r = await client.post("/v1/households", json={"label": "Household A", "members": members}, headers=p.headers())
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


async def make_professional(client: httpx.AsyncClient, p: Partner, **overrides: Any) -> dict[str, Any]:
    body = {"name": "Test Worker", "role": "Health visitor", **overrides}
    r = await client.post("/v1/professionals", json=body, headers=p.headers())
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


async def make_offer(client: httpx.AsyncClient, p: Partner, child_id: str, offered_on: str | None = None) -> dict[str, Any]:
    r = await client.post(f"/v1/children/{child_id}/service-offers",
                          json={"service": "Parenting programme", "offered_on": offered_on or days_ago(20)},
                          headers=p.headers())
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


async def record_event(client: httpx.AsyncClient, p: Partner, child_id: str, kind: str, occurred_on: str,
                       **extra: Any) -> httpx.Response:
    return await client.post(f"/v1/children/{child_id}/engagement-events",
                             json={"kind": kind, "occurred_on": occurred_on, **extra}, headers=p.headers())


def if_match(version: int | str) -> dict[str, str]:
    return {"If-Match": f'"{version}"'}


async def open_cin_episode(app: FastAPI, child_id: str, *, primary_need: str = "N1") -> uuid.UUID:
    """An open children in need episode, written directly (the referral decision that opens one is another area)."""
    async with app.state.db.sessions() as session:
        episode = Episode(child_id=uuid.UUID(child_id), referral_date=today() - timedelta(days=30),
                          referral_source="3B", nfa=False, primary_need=primary_need)
        session.add(episode)
        await session.commit()
        return episode.id


async def seal(app: FastAPI, child_id: str) -> None:
    """Mark a child restricted (sealed): no API sets it yet."""
    async with app.state.db.sessions() as session:
        child = await session.get(Child, uuid.UUID(child_id))
        assert child is not None
        child.restricted = True
        session.add(child)
        await session.commit()


async def events_of_type(app: FastAPI, event_type: str) -> list[dict[str, Any]]:
    async with app.state.db.sessions() as session:
        rows = (await session.exec(select(OutboxMessage).where(OutboxMessage.event_type == event_type))).all()
        return [r.payload["data"] for r in rows]


async def audits(app: FastAPI, resource: str) -> list[AuditEvent]:
    async with app.state.db.sessions() as session:
        return list((await session.exec(select(AuditEvent).where(AuditEvent.resource == resource))).all())


def assert_problem(r: httpx.Response, status: int, slug: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body: dict[str, Any] = r.json()
    if slug is not None:
        assert body["type"].endswith(slug), body
    return body
