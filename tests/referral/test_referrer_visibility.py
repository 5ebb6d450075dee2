"""Referring a child opens the referral to the referrer, not the child's record (issue 9).

A school with no involvement refers, by id, a child whose whole record children's social
care holds. It sees its referral and the outcome; every part of the record is a 404, as
for any foreign record, until CSC gives it an involvement, and again once that ends.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select

from services.referral.models import REFERRER_ROLE, Involvement
from tests.referral.factories_practice import assert_problem, days_ago, today
from tests.referral.factories_records import ChildRecord, child_record, created, decide
from tests.referral.factories_referrals import referral_body
from tests.support import TokenFor


@pytest.fixture
async def record(referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI) -> ChildRecord:
    return await child_record(referral, token_for, referral_app)


def record_reads(rec: ChildRecord) -> list[str]:
    """Every read of the child's record (and of records hanging off it) by id."""
    return [
        rec.url(), rec.url("/chronology"), f"{rec.url('/chronology')}/{rec.entry_id}", rec.url("/voice"),
        rec.url("/visits"), rec.url("/consents"), rec.url("/information-shares"), rec.url("/involvements"),
        rec.url("/alerts"), rec.url("/service-offers"), rec.url("/engagement-events"), rec.url("/non-engagement"),
        rec.url("/household"), f"/v1/episodes?child_id={rec.child_id}", f"/v1/episodes/{rec.episode_id}", f"/v1/service-offers/{rec.offer_id}",
        f"/v1/people/{rec.person_id}", f"/v1/households/{rec.household_id}", f"/v1/involvements/{rec.involvement_id}",
        f"/v1/referrals/{rec.hv_referral_id}", f"/v1/referrals/{rec.hv_referral_id}/recommendations",
    ]


async def refer(client: httpx.AsyncClient, rec: ChildRecord) -> dict[str, object]:
    return created(await client.post("/v1/referrals", json=referral_body(rec.child_id), headers=rec.school.headers()))


async def test_the_csc_record_is_real_and_readable_by_csc(referral: httpx.AsyncClient, record: ChildRecord) -> None:
    for path in record_reads(record):
        r = await referral.get(path, headers=record.csc.headers())
        assert r.status_code == 200, (path, r.text)


async def test_a_referrer_sees_its_referral_and_not_the_record(
    referral: httpx.AsyncClient, record: ChildRecord, referral_app: FastAPI
) -> None:
    mine = await refer(referral, record)
    # What it sent, and ids: nothing that existed before its referral.
    assert mine["child_id"] == record.child_id
    assert mine["referring_agency_id"] == str(record.school.id)
    assert (mine["re_referral"], mine["previous_referral_id"], mine["episode_id"]) == (None, None, None)
    seen = await referral.get(f"/v1/referrals/{mine['id']}", headers=record.school.headers())
    assert seen.status_code == 200
    listed = (await referral.get("/v1/referrals", headers=record.school.headers())).json()["items"]
    assert [r["id"] for r in listed] == [mine["id"]]
    by_child = await referral.get("/v1/referrals", params={"child_id": record.child_id}, headers=record.school.headers())
    assert [r["id"] for r in by_child.json()["items"]] == [mine["id"]]
    # CSC sees the same referral in full: it is a re-referral after the health visitor's.
    full = (await referral.get(f"/v1/referrals/{mine['id']}", headers=record.csc.headers())).json()
    assert (full["re_referral"], full["previous_referral_id"]) == (True, record.hv_referral_id)

    for path in [*record_reads(record), f"/v1/referrals/{mine['id']}/recommendations"]:
        r = await referral.get(path, headers=record.school.headers())
        assert_problem(r, 404)
    assert_problem(await referral.post(f"/v1/referrals/{mine['id']}/recommendation", headers=record.school.headers()), 404)
    # Lists of record data leave the child out.
    for path in ("/v1/children", "/v1/alerts", "/v1/information-shares"):
        r = await referral.get(path, headers=record.school.headers())
        assert r.status_code == 200, (path, r.text)
        assert record.child_id not in r.text, path
    # Nor may it write into the record.
    r = await referral.post(record.url("/voice"), headers=record.school.headers(), json={
        "recorded_on": days_ago(1), "participation": "declined", "context": "conference"})
    assert_problem(r, 404, "child-not-found")
    r = await referral.post(record.url("/involvements"), headers=record.school.headers(),
                            json={"role": "pastoral_lead", "start_date": days_ago(1)})
    assert_problem(r, 404, "child-not-found")
    # Referring made the school no involvement with the child.
    async with referral_app.state.db.sessions() as session:
        rows = (await session.exec(select(Involvement).where(Involvement.agency_id == record.school.id))).all()
    assert rows == []


async def test_the_referrer_is_told_the_outcome_not_the_reasoning(
    referral: httpx.AsyncClient, record: ChildRecord, referral_app: FastAPI
) -> None:
    mine = await refer(referral, record)
    decided = await decide(referral, referral_app, record.csc, str(mine["id"]), 1, level="4", outcome="s17_assessment",
                           primary_need="N1", override_reason="Record shows an open plan (test text).")
    assert decided["episode_id"] == record.episode_id  # joined the open episode
    r = await referral.post(f"/v1/referrals/{mine['id']}/feedback", json={},
                            headers=record.csc.headers(**{"If-Match": f'"{decided["version"]}"'}))
    assert r.status_code == 200, r.text

    seen = await referral.get(f"/v1/referrals/{mine['id']}", headers=record.school.headers())
    assert seen.status_code == 200
    body = seen.json()
    assert body["status"] == "decided"
    assert body["feedback_sent_at"] is not None
    assert body["feedback_due_date"] == decided["feedback_due_date"]
    decision = body["decision"]
    assert (decision["level"], decision["outcome"], decision["decided_by"]) == ("4", "s17_assessment",
                                                                                 "Team manager (user 4711)")
    assert decision["decided_at"] == decided["decision"]["decided_at"]
    # The reasoning draws on the record; so does the episode the decision joined.
    assert (decision["rationale"], decision["override_reason"], decision["overridden"],
            decision["recommended_level"]) == (None, None, None, None)
    assert body["episode_id"] is None
    assert decided["decision"]["rationale"] is not None  # CSC's own view keeps it


async def test_an_involvement_opens_the_record_and_its_end_closes_it(
    referral: httpx.AsyncClient, record: ChildRecord
) -> None:
    mine = await refer(referral, record)
    involvement = created(await referral.post(record.url("/involvements"), headers=record.csc.headers(), json={
        "agency_id": str(record.school.id), "role": "core_group_member", "start_date": days_ago(5)}))
    for path in record_reads(record):
        r = await referral.get(path, headers=record.school.headers())
        assert r.status_code == 200, (path, r.text)
    full = (await referral.get(f"/v1/referrals/{mine['id']}", headers=record.school.headers())).json()
    assert (full["re_referral"], full["previous_referral_id"]) == (True, record.hv_referral_id)

    ended = await referral.post(f"/v1/involvements/{involvement['id']}/end", json={"end_date": days_ago(1)},
                                headers=record.csc.headers(**{"If-Match": f'"{involvement["version"]}"'}))
    assert ended.status_code == 200, ended.text
    for path in record_reads(record):
        assert_problem(await referral.get(path, headers=record.school.headers()), 404)
    # Its own referral stays its own.
    assert (await referral.get(f"/v1/referrals/{mine['id']}", headers=record.school.headers())).status_code == 200


async def test_a_referrer_involvement_from_before_grants_nothing(
    referral: httpx.AsyncClient, record: ChildRecord, referral_app: FastAPI
) -> None:
    """Databases from before keep the involvements referrals used to create: they open nothing."""
    await refer(referral, record)
    async with referral_app.state.db.sessions() as session:
        session.add(Involvement(child_id=uuid.UUID(record.child_id), agency_id=record.school.id, role=REFERRER_ROLE,
                                start_date=today()))
        await session.commit()
    for path in record_reads(record):
        assert_problem(await referral.get(path, headers=record.school.headers()), 404)
    # Nor is it listed to those who see the record: it would name the referrer to every reader.
    listed = await referral.get(record.url("/involvements"), headers=record.csc.headers())
    assert listed.status_code == 200, listed.text
    assert REFERRER_ROLE not in [i["role"] for i in listed.json()["items"]]
    # And no new one can be made.
    r = await referral.post(record.url("/involvements"), headers=record.csc.headers(), json={
        "agency_id": str(record.school.id), "role": REFERRER_ROLE, "start_date": days_ago(1)})
    problem = assert_problem(r, 422)
    assert [e["field"] for e in problem["errors"]] == ["body.role"]
