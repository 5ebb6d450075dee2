"""The multi-agency chronology through HTTP on a real database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select

from services.referral.domain.chronology import Chronology
from shared.models import AuditEvent, OutboxMessage
from tests.referral.factories import make_agency, make_child
from tests.support import TokenFor

PROBLEM = "application/problem+json"


class Setting:
    def __init__(self, school: dict[str, Any], csc: dict[str, Any], police: dict[str, Any], child: dict[str, Any]) -> None:
        self.school, self.csc, self.police = (uuid.UUID(x["id"]) for x in (school, csc, police))
        self.school_name, self.csc_name = school["name"], csc["name"]
        self.child = uuid.UUID(child["id"])
        self.url = f"/v1/children/{self.child}/chronology"


@pytest.fixture
async def setting(referral: httpx.AsyncClient, token_for: TokenFor) -> Setting:
    school = await make_agency(referral, token_for, "school")
    csc = await make_agency(referral, token_for, "childrens_social_care")
    police = await make_agency(referral, token_for, "police")
    child = await make_child(referral, token_for, school["id"])
    return Setting(school, csc, police, child)


def entry(kind: str = "was_not_brought", significance: str = "medium", when: datetime | None = None, **extra: Any) -> dict[str, Any]:
    moment = when or datetime.now(UTC) - timedelta(days=1)
    return {"kind": kind, "significance": significance, "summary": f"{kind} noted.",
            "occurred_at": moment.isoformat(), **extra}


async def add(client: httpx.AsyncClient, token_for: TokenFor, s: Setting, agency: uuid.UUID, body: dict[str, Any]) -> dict[str, Any]:
    r = await client.post(s.url, json=body, headers=token_for(agency, "referral:write"))
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


def at(days_ago: int, hour: int = 10) -> datetime:
    day = datetime.now(UTC).date() - timedelta(days=days_ago)
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


async def test_entries_from_two_agencies_stand_side_by_side_in_order(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI, setting: Setting
) -> None:
    school = await add(referral, token_for, setting, setting.school, entry("school_attendance_concern", when=at(30)))
    csc = await add(referral, token_for, setting, setting.csc, entry("home_conditions", "high", when=at(10)))
    later = await add(referral, token_for, setting, setting.school, entry("presentation_hunger", when=at(3)))
    async with referral_app.state.db.sessions() as session:
        system = Chronology(session).add(setting.child, "assessment.started", "Child and family assessment started.",
                                         occurred=at(20).date(), agency_id=setting.csc, source_type="episode",
                                         source_id=uuid.uuid4())
        await session.commit()
    r = await referral.get(setting.url, headers=token_for(setting.school, "referral:read"))
    assert r.status_code == 200
    items = r.json()["items"]
    assert [i["id"] for i in items] == [later["id"], csc["id"], str(system.id), school["id"]]
    assert [i["agency"]["name"] for i in items] == [setting.school_name, setting.csc_name, setting.csc_name, setting.school_name]
    assert items[1]["kind"] == "home_conditions"
    assert items[1]["significance"] == "high"
    assert items[1]["summary"] == "home_conditions noted."
    assert items[1]["source"] == {"type": "partner", "id": None}
    assert items[2]["source"]["type"] == "episode"
    oldest_first = await referral.get(setting.url, params={"order": "asc"}, headers=token_for(setting.csc, "referral:read"))
    assert [i["id"] for i in oldest_first.json()["items"]] == [i["id"] for i in reversed(items)]


async def test_filters_by_significance_kind_and_dates(
    referral: httpx.AsyncClient, token_for: TokenFor, setting: Setting
) -> None:
    low = await add(referral, token_for, setting, setting.school, entry("lateness", "low", when=at(40)))
    high = await add(referral, token_for, setting, setting.csc, entry("home_conditions", "high", when=at(20)))
    critical = await add(referral, token_for, setting, setting.school, entry("injury_seen", "critical", when=at(5)))
    headers = token_for(setting.school, "referral:read")

    async def ids(**params: Any) -> list[str]:
        r = await referral.get(setting.url, params=params, headers=headers)
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    assert await ids(significance_at_least="high") == [critical["id"], high["id"]]
    assert await ids(significance_at_least="low") == [critical["id"], high["id"], low["id"]]
    assert await ids(kind=["lateness", "injury_seen"]) == [critical["id"], low["id"]]
    assert await ids(**{"from": at(20).date().isoformat()}) == [critical["id"], high["id"]]
    assert await ids(to=at(20).date().isoformat()) == [high["id"], low["id"]]
    assert await ids(**{"from": at(25).date().isoformat(), "to": at(10).date().isoformat()}) == [high["id"]]
    bad = await referral.get(setting.url, params={"significance_at_least": "urgent"}, headers=headers)
    assert bad.status_code == 422


@pytest.mark.parametrize("order", ["desc", "asc"])
async def test_keyset_pages_on_when_it_happened_walk_every_entry_once(
    referral: httpx.AsyncClient, token_for: TokenFor, setting: Setting, order: str
) -> None:
    same_moment = at(7)
    for n in range(3):
        await add(referral, token_for, setting, setting.school, entry(f"event_{n}", when=same_moment))
    await add(referral, token_for, setting, setting.csc, entry("earlier", when=at(9)))
    await add(referral, token_for, setting, setting.csc, entry("later", when=at(2)))
    headers = token_for(setting.school, "referral:read")
    full = await referral.get(setting.url, params={"order": order}, headers=headers)
    expected = [i["id"] for i in full.json()["items"]]
    assert len(expected) == 5
    seen: list[str] = []
    url: str | None = f"{setting.url}?limit=2&order={order}"
    while url:
        r = await referral.get(url, headers=headers)
        assert r.status_code == 200
        seen += [i["id"] for i in r.json()["items"]]
        link = r.headers.get("link")
        url = link.split(";")[0].strip("<>") if link else None
    assert seen == expected
    bad = await referral.get(setting.url, params={"cursor": "garbage"}, headers=headers)
    assert bad.status_code == 400


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"occurred_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()}, "body.occurred_at"),
        ({"occurred_at": "2026-01-05T10:00:00"}, "body.occurred_at"),
        ({"summary": "x" * 2001}, "body.summary"),
        ({"summary": ""}, "body.summary"),
        ({"kind": "icpc.held"}, "body.kind"),
        ({"kind": "Not Snake"}, "body.kind"),
        ({"significance": "severe"}, "body.significance"),
        ({"agency_id": str(uuid.uuid4())}, "body.agency_id"),
    ],
)
async def test_a_bad_entry_is_refused_and_nothing_written(
    referral: httpx.AsyncClient, token_for: TokenFor, setting: Setting, change: dict[str, Any], field: str
) -> None:
    r = await referral.post(setting.url, json={**entry(), **change}, headers=token_for(setting.school, "referral:write"))
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    assert field in [e["field"] for e in r.json()["errors"]]
    listed = await referral.get(setting.url, headers=token_for(setting.school, "referral:read"))
    assert listed.json()["items"] == []


async def test_the_chronology_is_append_only(referral: httpx.AsyncClient, token_for: TokenFor, setting: Setting) -> None:
    created = await add(referral, token_for, setting, setting.school, entry())
    headers = token_for(setting.school, "referral:write", "referral:read")
    one = f"{setting.url}/{created['id']}"
    for method, url in (("PATCH", one), ("DELETE", one), ("PUT", one), ("PATCH", setting.url), ("DELETE", setting.url)):
        r = await referral.request(method, url, json={"summary": "changed"}, headers=headers)
        assert r.status_code == 405, (method, url)
        assert r.headers["content-type"] == PROBLEM
    again = await referral.get(one, headers=headers)
    assert again.status_code == 200
    assert again.json()["summary"] == created["summary"]


async def test_a_foreign_agency_cannot_read_or_add(referral: httpx.AsyncClient, token_for: TokenFor, setting: Setting) -> None:
    created = await add(referral, token_for, setting, setting.school, entry())
    police = token_for(setting.police, "referral:read", "referral:write")
    for r in (
        await referral.get(setting.url, headers=police),
        await referral.get(f"{setting.url}/{created['id']}", headers=police),
        await referral.post(setting.url, json=entry(), headers=police),
    ):
        assert r.status_code == 404
        assert r.headers["content-type"] == PROBLEM
    # An entry id under another child is not found either.
    assert (await referral.get(f"/v1/children/{uuid.uuid4()}/chronology/{created['id']}",
                               headers=token_for(setting.csc, "referral:read"))).status_code == 404


async def test_scopes(referral: httpx.AsyncClient, token_for: TokenFor, setting: Setting) -> None:
    assert (await referral.get(setting.url)).status_code == 401
    assert (await referral.post(setting.url, json=entry(), headers=token_for(setting.school, "referral:read"))).status_code == 403
    assert (await referral.get(setting.url, headers=token_for(setting.school, "referral:write"))).status_code == 403


async def test_adding_is_idempotent_audited_and_emits_a_thin_event(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI, setting: Setting
) -> None:
    headers = {**token_for(setting.school, "referral:write"), "Idempotency-Key": "chron-1"}
    body = entry("was_not_brought")
    first = await referral.post(setting.url, json=body, headers=headers)
    again = await referral.post(setting.url, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert first.headers["location"] == f"{setting.url}/{first.json()['id']}"
    assert first.json()["agency"] == {"id": str(setting.school), "name": setting.school_name}
    other = await referral.post(setting.url, json=entry("lateness"), headers=headers)
    assert other.status_code == 422
    listed = await referral.get(setting.url, headers=token_for(setting.school, "referral:read"))
    assert len(listed.json()["items"]) == 1
    async with referral_app.state.db.sessions() as session:
        messages = (await session.exec(select(OutboxMessage).where(OutboxMessage.event_type == "chronology.entry_added"))).all()
        audits = (await session.exec(select(AuditEvent).where(AuditEvent.resource == "chronology"))).all()
    [message] = messages
    assert message.payload["data"] == {"child_id": str(setting.child), "entry_id": first.json()["id"],
                                       "agency_id": str(setting.school)}
    assert {(a.action, tuple(a.child_ids)) for a in audits} == {("create", (str(setting.child),)), ("list", (str(setting.child),))}
