from __future__ import annotations

import uuid

import httpx
import pytest
from sqlmodel import select

from shared.models import AuditEvent, OutboxDelivery, OutboxMessage
from tests.referral.factories import child_body, make_agency, make_child
from tests.support import TokenFor

PROBLEM = "application/problem+json"


async def test_register_and_read_back_a_child(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    agency = await make_agency(referral, token_for, "school")
    created = await make_child(referral, token_for, agency["id"], external_ref="SCH-1", nhs_number="9990000018")
    r = await referral.get(f"/v1/children/{created['id']}", headers=token_for(uuid.UUID(agency["id"]), "referral:read"))
    assert r.status_code == 200
    body = r.json()
    assert body["given_name"] == created["given_name"]
    assert body["external_ref"] == "SCH-1"
    assert body["nhs_number"] == "9990000018"
    assert r.headers["etag"] == '"1"'
    assert r.headers["x-request-id"]


async def test_find_by_own_external_ref_only(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    a = await make_agency(referral, token_for, "school")
    b = await make_agency(referral, token_for, "gp")
    child = await make_child(referral, token_for, a["id"], external_ref="SAME-REF")
    await make_child(referral, token_for, b["id"], external_ref="SAME-REF")
    r = await referral.get("/v1/children", params={"external_ref": "SAME-REF"},
                           headers=token_for(uuid.UUID(a["id"]), "referral:read"))
    assert r.status_code == 200
    assert [c["id"] for c in r.json()["items"]] == [child["id"]]


async def test_other_agency_gets_404_and_empty_list(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    a = await make_agency(referral, token_for, "school")
    b = await make_agency(referral, token_for, "police")
    child = await make_child(referral, token_for, a["id"])
    r = await referral.get(f"/v1/children/{child['id']}", headers=token_for(uuid.UUID(b["id"]), "referral:read"))
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM
    listed = await referral.get("/v1/children", headers=token_for(uuid.UUID(b["id"]), "referral:read"))
    assert child["id"] not in [c["id"] for c in listed.json()["items"]]


async def test_childrens_social_care_sees_every_child(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    a = await make_agency(referral, token_for, "school")
    csc = await make_agency(referral, token_for, "childrens_social_care")
    child = await make_child(referral, token_for, a["id"])
    r = await referral.get(f"/v1/children/{child['id']}", headers=token_for(uuid.UUID(csc["id"]), "referral:read"))
    assert r.status_code == 200


async def test_unregistered_agency_cannot_register_children(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await referral.post("/v1/children", json=child_body(), headers=token_for(uuid.uuid4(), "referral:write"))
    assert r.status_code == 403
    assert r.json()["type"].endswith("agency-not-registered")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"nhs_number": "9990000019"}, "body.nhs_number"),
        ({"gender": "7"}, "body.gender"),
        ({"la_child_id": "has spaces!"}, "body.la_child_id"),
        ({"nickname": "x"}, "body.nickname"),
        ({"birth_date": "2019-02-30"}, "body.birth_date"),
        ({"birth_date": None}, "body"),
        ({"birth_date": "2999-01-01"}, "body"),
        ({"birth_date": None, "expected_birth_date": "2030-01-01", "gender": "1"}, "body"),
    ],
)
async def test_bad_child_is_refused_with_each_problem_and_nothing_written(
    referral: httpx.AsyncClient, token_for: TokenFor, overrides: dict[str, object], field: str
) -> None:
    agency = await make_agency(referral, token_for, "school")
    headers = token_for(uuid.UUID(agency["id"]), "referral:write", "referral:read")
    r = await referral.post("/v1/children", json=child_body(**overrides), headers=headers)
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    problem = r.json()
    assert problem["status"] == 422
    assert field in [e["field"] for e in problem["errors"]]
    listed = await referral.get("/v1/children", headers=headers)
    assert listed.json()["items"] == []


async def test_unborn_child(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    agency = await make_agency(referral, token_for, "hospital_other")
    child = await make_child(referral, token_for, agency["id"], birth_date=None,
                             expected_birth_date="2026-12-20", gender="0")
    assert child["unborn"] is True
    assert child["birth_date"] is None


async def test_duplicate_external_ref_is_409(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    agency = await make_agency(referral, token_for)
    await make_child(referral, token_for, agency["id"], external_ref="DUP")
    r = await referral.post("/v1/children", json=child_body(external_ref="DUP"),
                            headers=token_for(uuid.UUID(agency["id"]), "referral:write"))
    assert r.status_code == 409
    assert r.json()["type"].endswith("duplicate-external-ref")


async def test_registration_writes_audit_and_outbox_in_the_same_transaction(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: object
) -> None:
    agency = await make_agency(referral, token_for)
    child = await make_child(referral, token_for, agency["id"])
    async with referral_app.state.db.sessions() as session:  # type: ignore[attr-defined]
        audits = (await session.exec(select(AuditEvent).where(AuditEvent.resource == "child"))).all()
        assert any(child["id"] in a.child_ids and a.action == "create" for a in audits)
        messages = (await session.exec(select(OutboxMessage).where(OutboxMessage.event_type == "child.registered"))).all()
        assert any(m.payload["data"]["child_id"] == child["id"] for m in messages)
        deliveries = (await session.exec(select(OutboxDelivery))).all()
        assert {d.subscriber for d in deliveries} == {"http://reporting/v1/events"}


async def test_pagination_walks_every_child_once(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    agency = await make_agency(referral, token_for)
    ids = {(await make_child(referral, token_for, agency["id"]))["id"] for _ in range(5)}
    headers = token_for(uuid.UUID(agency["id"]), "referral:read")
    seen: list[str] = []
    url: str | None = "/v1/children?limit=2"
    while url:
        r = await referral.get(url, headers=headers)
        assert r.status_code == 200
        seen += [c["id"] for c in r.json()["items"]]
        link = r.headers.get("link")
        url = link.split(";")[0].strip("<>") if link else None
    assert sorted(seen) == sorted(ids)


async def test_idempotency_key_replays_and_rejects_other_body(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    agency = await make_agency(referral, token_for)
    headers = {**token_for(uuid.UUID(agency["id"]), "referral:write", "referral:read"), "Idempotency-Key": "k-1"}
    body = child_body()
    first = await referral.post("/v1/children", json=body, headers=headers)
    again = await referral.post("/v1/children", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["idempotent-replayed"] == "true"
    other = await referral.post("/v1/children", json=child_body(), headers=headers)
    assert other.status_code == 422
    listed = await referral.get("/v1/children", headers=headers)
    assert len(listed.json()["items"]) == 1
