"""Referrals: receipt, visibility, re-referrals, decisions and feedback, through HTTP."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select

from services.referral.domain.calendar import england_and_wales
from services.referral.models import Child, ChronologyEntry, Involvement
from shared.models import AuditEvent, OutboxMessage
from tests.referral.factories import make_agency, make_child
from tests.referral.factories_referrals import (
    AssessmentStub,
    decision_body,
    make_referral,
    referral_body,
)
from tests.support import TokenFor

PROBLEM = "application/problem+json"


@pytest.fixture
async def assessment(referral_app: FastAPI) -> AsyncIterator[AssessmentStub]:
    stub = AssessmentStub()
    client = stub.client()
    referral_app.state.assessment_client = client
    try:
        yield stub
    finally:
        referral_app.state.assessment_client = None
        await client.aclose()


class Partners:
    """A health visiting team that registered the child, a school, the police, a GP and CSC."""

    def __init__(self, client: httpx.AsyncClient, token_for: TokenFor) -> None:
        self.client = client
        self.token_for = token_for
        self.agencies: dict[str, dict[str, Any]] = {}
        self.child: dict[str, Any] = {}

    async def setup(self, **child: Any) -> Partners:
        for kind in ("health_visiting", "school", "police", "gp", "childrens_social_care"):
            self.agencies[kind] = await make_agency(self.client, self.token_for, kind)
        self.child = await make_child(self.client, self.token_for, self.agencies["health_visiting"]["id"], **child)
        return self

    def id(self, kind: str) -> str:
        return str(self.agencies[kind]["id"])

    def headers(self, kind: str, if_match: str | None = None) -> dict[str, str]:
        h = self.token_for(uuid.UUID(self.id(kind)), "referral:read", "referral:write")
        if if_match is not None:
            h["If-Match"] = if_match
        return h

    async def refer(self, kind: str = "school", **overrides: Any) -> dict[str, Any]:
        r = await make_referral(self.client, self.token_for, self.id(kind), self.child["id"], **overrides)
        body: dict[str, Any] = r.json()
        return body


@pytest.fixture
async def partners(referral: httpx.AsyncClient, token_for: TokenFor) -> Partners:
    return await Partners(referral, token_for).setup()


# --- receiving ---------------------------------------------------------------------------


async def test_school_refers_child_registered_by_health_visiting(referral: httpx.AsyncClient, partners: Partners) -> None:
    before = await referral.get(f"/v1/children/{partners.child['id']}", headers=partners.headers("school"))
    assert before.status_code == 404
    r = await make_referral(referral, partners.token_for, partners.id("school"), partners.child["id"])
    body = r.json()
    assert r.headers["location"] == f"/v1/referrals/{body['id']}"
    assert r.headers["etag"] == '"1"'
    assert body["referral_source"] == "2A"
    assert body["referring_agency_id"] == partners.id("school")
    assert body["status"] == "received"
    assert body["decision"] is None
    # The school only referred: the child's earlier history is not shown to it.
    assert body["re_referral"] is None
    received = datetime.fromisoformat(body["received_at"])
    due = datetime.fromisoformat(body["decision_due_at"])
    assert due.date() == england_and_wales().add_working_days(received.date(), 1)
    assert due.time() == received.time()
    # Referring opens the referral to the school, not the child's record.
    after = await referral.get(f"/v1/children/{partners.child['id']}", headers=partners.headers("school"))
    assert after.status_code == 404
    for kind in ("school", "childrens_social_care", "health_visiting"):
        seen = await referral.get(f"/v1/referrals/{body['id']}", headers=partners.headers(kind))
        assert seen.status_code == 200, kind
        assert seen.headers["etag"] == '"1"'
        assert seen.json()["re_referral"] is (None if kind == "school" else False), kind


async def test_police_can_refer_a_child_it_cannot_see_and_is_not_made_involved(
    referral: httpx.AsyncClient, partners: Partners, referral_app: FastAPI
) -> None:
    body = await partners.refer("police")
    assert body["referral_source"] == "6"
    await partners.refer("police")
    assert (await referral.get(f"/v1/children/{partners.child['id']}", headers=partners.headers("police"))).status_code == 404
    async with referral_app.state.db.sessions() as session:
        rows = (await session.exec(select(Involvement).where(Involvement.agency_id == uuid.UUID(partners.id("police"))))).all()
    assert rows == []
    listed = await referral.get("/v1/referrals", headers=partners.headers("police"))
    assert len(listed.json()["items"]) == 2


async def test_foreign_agency_gets_404_and_an_empty_list(referral: httpx.AsyncClient, partners: Partners) -> None:
    body = await partners.refer("school")
    r = await referral.get(f"/v1/referrals/{body['id']}", headers=partners.headers("gp"))
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["type"].endswith("referral-not-found")
    listed = await referral.get("/v1/referrals", headers=partners.headers("gp"))
    assert listed.json()["items"] == []
    rec = await referral.post(f"/v1/referrals/{body['id']}/recommendation", headers=partners.headers("gp"))
    assert rec.status_code == 404


async def test_re_referral_within_12_months_is_flagged(referral: httpx.AsyncClient, partners: Partners) -> None:
    old = (datetime.now(UTC) - timedelta(days=500)).isoformat()
    recent = (datetime.now(UTC) - timedelta(days=100)).isoformat()
    first = await partners.refer("school", received_at=old)
    second = await partners.refer("police", received_at=recent)
    third = await partners.refer("school")

    async def seen_by_csc(referral_id: str) -> dict[str, Any]:
        body: dict[str, Any] = (await referral.get(f"/v1/referrals/{referral_id}",
                                                   headers=partners.headers("childrens_social_care"))).json()
        return body

    assert (await seen_by_csc(first["id"]))["re_referral"] is False
    assert (await seen_by_csc(second["id"]))["re_referral"] is False  # more than 12 months after the first
    flagged = await seen_by_csc(third["id"])
    assert flagged["re_referral"] is True
    assert flagged["previous_referral_id"] == second["id"]
    # The school only referred: that the police referred the child before is not the school's to see.
    assert (third["re_referral"], third["previous_referral_id"]) == (None, None)


async def test_referral_source_comes_from_agency_type(referral: httpx.AsyncClient, partners: Partners, token_for: TokenFor) -> None:
    hospital = await make_agency(referral, token_for, "hospital_other")
    headers = token_for(uuid.UUID(hospital["id"]), "referral:write")
    missing = await referral.post("/v1/referrals", json=referral_body(partners.child["id"]), headers=headers)
    assert missing.status_code == 422
    assert missing.json()["type"].endswith("invalid-referral")
    assert [e["field"] for e in missing.json()["errors"]] == ["body.referral_source"]
    wrong = await referral.post("/v1/referrals", json=referral_body(partners.child["id"], referral_source="6"), headers=headers)
    assert wrong.status_code == 422
    chosen = await referral.post("/v1/referrals", json=referral_body(partners.child["id"], referral_source="3F"), headers=headers)
    assert chosen.status_code == 201
    assert chosen.json()["referral_source"] == "3F"
    fixed = await referral.post("/v1/referrals", json=referral_body(partners.child["id"], referral_source="6"),
                                headers=partners.headers("school"))
    assert fixed.status_code == 422


async def test_unregistered_agency_and_unknown_child(referral: httpx.AsyncClient, partners: Partners, token_for: TokenFor) -> None:
    r = await referral.post("/v1/referrals", json=referral_body(partners.child["id"]), headers=token_for(uuid.uuid4(), "referral:write"))
    assert r.status_code == 403
    assert r.json()["type"].endswith("agency-not-registered")
    r = await referral.post("/v1/referrals", json=referral_body(str(uuid.uuid4())), headers=partners.headers("school"))
    assert r.status_code == 404
    r = await referral.post("/v1/referrals", json=referral_body(partners.child["id"]),
                            headers=token_for(uuid.UUID(partners.id("school")), "referral:read"))
    assert r.status_code == 403
    assert r.json()["type"].endswith("insufficient-scope")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"received_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()}, "body.received_at"),
        ({"received_at": "2026-01-05T10:00:00"}, "body.received_at"),
        ({"neglect_types": ["hunger"]}, "body.neglect_types.0"),
        ({"neglect_types": []}, "body.neglect_types"),
        ({"neglect_types": ["medical", "medical"]}, "body.neglect_types"),
        ({"indicators": [{"domain": "housing", "indicator": "x", "severity": "low"}]}, "body.indicators.0.domain"),
        ({"parental_factors": ["gambling"]}, "body.parental_factors.0"),
        ({"concern_summary": "x" * 4001}, "body.concern_summary"),
        ({"status": "decided"}, "body.status"),
    ],
)
async def test_bad_referral_is_refused_with_each_problem(
    referral: httpx.AsyncClient, partners: Partners, overrides: dict[str, Any], field: str
) -> None:
    r = await referral.post("/v1/referrals", json=referral_body(partners.child["id"], **overrides), headers=partners.headers("school"))
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    assert field in [e["field"] for e in r.json()["errors"]]
    listed = await referral.get("/v1/referrals", headers=partners.headers("childrens_social_care"))
    assert listed.json()["items"] == []


async def test_pre_birth_rules(referral: httpx.AsyncClient, token_for: TokenFor, partners: Partners) -> None:
    maternity = await make_agency(referral, token_for, "hospital_other")
    expected = (datetime.now(UTC) + timedelta(days=90)).date().isoformat()
    unborn = await make_child(referral, token_for, maternity["id"], birth_date=None, expected_birth_date=expected, gender="0")
    headers = token_for(uuid.UUID(maternity["id"]), "referral:write")
    body = referral_body(unborn["id"], referral_source="3F", parental_factors=["substance_misuse"])
    wrong = await referral.post("/v1/referrals", json=body, headers=headers)
    assert wrong.status_code == 422
    assert [e["field"] for e in wrong.json()["errors"]] == ["body.neglect_types"]
    body["neglect_types"] = ["pre_birth"]
    assert (await referral.post("/v1/referrals", json=body, headers=headers)).status_code == 201
    born = await referral.post("/v1/referrals", json=referral_body(partners.child["id"], neglect_types=["pre_birth"]),
                               headers=partners.headers("health_visiting"))
    assert born.status_code == 422
    assert "before the birth" in born.json()["errors"][0]["message"]
    # An agency that may not see the child's record is not told about its birth.
    born = await referral.post("/v1/referrals", json=referral_body(partners.child["id"], neglect_types=["pre_birth"]),
                               headers=partners.headers("school"))
    assert born.status_code == 422
    [problem] = born.json()["errors"]
    assert problem["field"] == "body.neglect_types"
    assert "birth" in problem["message"]
    assert "before the birth" not in problem["message"]


async def test_withheld_referrer_is_hidden_from_other_partners(referral: httpx.AsyncClient, partners: Partners) -> None:
    body = await partners.refer("school", referrer_identity_withheld=True)
    seen_by = {}
    for kind in ("school", "health_visiting", "childrens_social_care"):
        r = await referral.get(f"/v1/referrals/{body['id']}", headers=partners.headers(kind))
        seen_by[kind] = r.json()["referring_agency_id"]
    assert seen_by == {"school": partners.id("school"), "health_visiting": None,
                       "childrens_social_care": partners.id("school")}


async def test_receipt_is_audited_chronicled_and_announced(
    referral: httpx.AsyncClient, partners: Partners, referral_app: FastAPI
) -> None:
    body = await partners.refer("school", indicators=[{"domain": "physical_care", "indicator": "no_coat", "severity": "high"}])
    await referral.get(f"/v1/referrals/{body['id']}", headers=partners.headers("childrens_social_care"))
    async with referral_app.state.db.sessions() as session:
        audits = (await session.exec(select(AuditEvent).where(AuditEvent.resource == "referral"))).all()
        assert {a.action for a in audits if partners.child["id"] in a.child_ids} >= {"create", "read"}
        message = (await session.exec(select(OutboxMessage).where(OutboxMessage.event_type == "referral.received"))).one()
        assert message.payload["data"]["referral_id"] == body["id"]
        assert message.payload["data"]["referral_source"] == "2A"
        assert "concern_summary" not in message.payload["data"]
        line = (await session.exec(select(ChronologyEntry).where(ChronologyEntry.kind == "referral.received"))).one()
        assert line.significance == "high"
        assert str(line.agency_id) == partners.id("school")
        assert body["concern_summary"] not in line.summary


async def test_idempotent_retry(referral: httpx.AsyncClient, partners: Partners) -> None:
    headers = {**partners.headers("school"), "Idempotency-Key": "ref-1"}
    body = referral_body(partners.child["id"])
    first = await referral.post("/v1/referrals", json=body, headers=headers)
    again = await referral.post("/v1/referrals", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    listed = await referral.get("/v1/referrals", headers=partners.headers("school"))
    assert len(listed.json()["items"]) == 1


async def test_list_filters_and_pages(referral: httpx.AsyncClient, partners: Partners, token_for: TokenFor) -> None:
    other_child = await make_child(referral, token_for, partners.id("health_visiting"))
    old = (datetime.now(UTC) - timedelta(days=30)).replace(microsecond=0)
    ids = [(await partners.refer("school"))["id"] for _ in range(3)]
    ids.append((await partners.refer("school", received_at=old.isoformat()))["id"])
    elsewhere = await make_referral(referral, token_for, partners.id("school"), other_child["id"])
    headers = partners.headers("childrens_social_care")
    seen: list[str] = []
    url: str | None = f"/v1/referrals?limit=2&child_id={partners.child['id']}"
    while url:
        r = await referral.get(url, headers=headers)
        assert r.status_code == 200
        seen += [i["id"] for i in r.json()["items"]]
        link = r.headers.get("link")
        url = link.split(";")[0].strip("<>") if link else None
    assert seen == ids
    assert elsewhere.json()["id"] not in seen
    window = await referral.get("/v1/referrals", headers=headers, params={
        "received_from": old.date().isoformat(), "received_to": old.date().isoformat()})
    assert [i["id"] for i in window.json()["items"]] == [ids[3]]
    received = await referral.get("/v1/referrals", headers=headers, params={"status": "decided"})
    assert received.json()["items"] == []
    bad = await referral.get("/v1/referrals", headers=headers, params={"status": "maybe"})
    assert bad.status_code == 422


# --- deciding -----------------------------------------------------------------------------


async def test_decision_rules(
    referral: httpx.AsyncClient, partners: Partners, assessment: AssessmentStub, referral_app: FastAPI
) -> None:
    body = await partners.refer("school")
    url = f"/v1/referrals/{body['id']}/decision"
    # No toolkit results and no history: the model's default level, 1.
    ok = decision_body("1", "information_advice")
    r = await referral.post(url, json=ok, headers=partners.headers("school", '"1"'))
    assert r.status_code == 403
    assert r.json()["type"].endswith("childrens-social-care-only")
    r = await referral.post(url, json=ok, headers=partners.headers("childrens_social_care"))
    assert r.status_code == 428
    r = await referral.post(url, json=ok, headers=partners.headers("childrens_social_care", '"7"'))
    assert r.status_code == 412
    r = await referral.post(url, json=decision_body("2b", "s17_assessment"), headers=partners.headers("childrens_social_care", '"1"'))
    assert r.status_code == 422
    assert r.json()["type"].endswith("invalid-decision")
    assert {e["field"] for e in r.json()["errors"]} == {"body.outcome", "body.primary_need"}
    r = await referral.post(url, json=decision_body("5", "nfa"), headers=partners.headers("childrens_social_care", '"1"'))
    assert r.status_code == 422
    r = await referral.post(url, json=decision_body("1", "take_into_care"), headers=partners.headers("childrens_social_care", '"1"'))
    assert r.status_code == 422
    r = await referral.post(url, json=decision_body("2a", "early_help_single_agency"), headers=partners.headers("childrens_social_care", '"1"'))
    assert r.status_code == 422
    assert r.json()["type"].endswith("override-reason-required")
    unchanged = await referral.get(f"/v1/referrals/{body['id']}", headers=partners.headers("childrens_social_care"))
    assert unchanged.json()["status"] == "received"
    assert unchanged.headers["etag"] == '"1"'
    recs = await referral.get(f"/v1/referrals/{body['id']}/recommendations", headers=partners.headers("childrens_social_care"))
    assert recs.json()["items"] == []  # the recommendation computed for the refused decision was rolled back too

    r = await referral.post(url, json=ok, headers=partners.headers("childrens_social_care", '"1"'))
    assert r.status_code == 200, r.text
    decided = r.json()
    assert r.headers["etag"] == '"2"'
    assert decided["status"] == "decided"
    assert decided["decision"]["overridden"] is False
    assert decided["decision"]["recommended_level"] == "1"
    decided_at = datetime.fromisoformat(decided["decision"]["decided_at"])
    assert decided["feedback_due_date"] == england_and_wales().add_working_days(decided_at.date(), 1).isoformat()
    # information and advice: an NFA episode, opened and closed at once.
    episodes = await referral.get("/v1/episodes", params={"child_id": partners.child["id"]}, headers=partners.headers("childrens_social_care"))
    [episode] = episodes.json()["items"]
    assert episode["id"] == decided["episode_id"]
    assert episode["nfa"] is True
    assert episode["closure_date"] is not None
    recs = await referral.get(f"/v1/referrals/{body['id']}/recommendations", headers=partners.headers("childrens_social_care"))
    assert len(recs.json()["items"]) == 1  # computed and stored because none existed

    again = await referral.post(url, json=ok, headers=partners.headers("childrens_social_care", '"2"'))
    assert again.status_code == 409
    assert again.json()["rule"] == "one-decision"


async def test_early_help_outcome_opens_an_early_help_episode_not_a_cin_one(
    referral: httpx.AsyncClient, partners: Partners, assessment: AssessmentStub
) -> None:
    body = await partners.refer("school")
    r = await referral.post(f"/v1/referrals/{body['id']}/decision",
                            json=decision_body("2b", "early_help_assessment", override_reason="Known to early help already."),
                            headers=partners.headers("childrens_social_care", '"1"'))
    assert r.status_code == 200, r.text
    assert r.json()["episode_id"] is None
    assert r.json()["decision"]["overridden"] is True
    episodes = await referral.get("/v1/episodes", params={"child_id": partners.child["id"]}, headers=partners.headers("childrens_social_care"))
    assert episodes.json()["items"] == []
    early = await referral.get("/v1/early-help-episodes", params={"child_id": partners.child["id"]},
                               headers=partners.headers("childrens_social_care"))
    assert [(e["start_date"], e["closure_date"]) for e in early.json()["items"]] == [(r.json()["decision"]["decided_at"][:10], None)]


async def test_early_help_opened_by_a_decision_starts_on_its_own_day(
    referral: httpx.AsyncClient, partners: Partners, assessment: AssessmentStub
) -> None:
    body = await partners.refer("school", received_at="2025-03-03T09:00:00Z")
    url = f"/v1/referrals/{body['id']}/decision"
    decided = {"override_reason": "Known to early help already.", "decided_at": "2025-03-04T15:00:00Z"}
    for start, outcome in [("2025-03-03", "early_help_assessment"),  # before the decision
                           ((datetime.now(UTC).date() + timedelta(days=2)).isoformat(), "early_help_assessment"),
                           ("2025-03-10", "information_advice")]:  # not an early help outcome
        r = await referral.post(url, json=decision_body("2b" if outcome != "information_advice" else "1", outcome,
                                                        early_help_start_date=start, **decided),
                                headers=partners.headers("childrens_social_care", '"1"'))
        assert r.status_code == 422, r.text
        assert [e["field"] for e in r.json()["errors"]] == ["body.early_help_start_date"]
    r = await referral.post(url, json=decision_body("2b", "early_help_assessment", early_help_start_date="2025-03-10",
                                                    **decided),
                            headers=partners.headers("childrens_social_care", '"1"'))
    assert r.status_code == 200, r.text
    early = await referral.get("/v1/early-help-episodes", params={"child_id": partners.child["id"]},
                               headers=partners.headers("childrens_social_care"))
    assert [(e["start_date"], e["closure_date"]) for e in early.json()["items"]] == [("2025-03-10", None)]


async def test_a_second_referral_joins_the_open_episode(
    referral: httpx.AsyncClient, partners: Partners, assessment: AssessmentStub, referral_app: FastAPI
) -> None:
    first = await partners.refer("school")
    second = await partners.refer("police")
    s17 = decision_body("4", "s17_assessment", primary_need="N1", override_reason="Escalating concerns.")
    one = await referral.post(f"/v1/referrals/{first['id']}/decision", json=s17, headers=partners.headers("childrens_social_care", '"1"'))
    assert one.status_code == 200, one.text
    two = await referral.post(f"/v1/referrals/{second['id']}/decision", json=s17, headers=partners.headers("childrens_social_care", '"1"'))
    assert two.status_code == 200, two.text
    assert one.json()["episode_id"] == two.json()["episode_id"] is not None
    episodes = await referral.get("/v1/episodes", params={"child_id": partners.child["id"]}, headers=partners.headers("childrens_social_care"))
    assert len(episodes.json()["items"]) == 1
    async with referral_app.state.db.sessions() as session:
        opened = (await session.exec(select(OutboxMessage).where(OutboxMessage.event_type == "episode.opened"))).all()
        decided = (await session.exec(select(OutboxMessage).where(OutboxMessage.event_type == "referral.decided"))).all()
    assert len(opened) == 1
    assert len(decided) == 2


async def test_census_rule_broken_by_the_episode_is_409(
    referral: httpx.AsyncClient, partners: Partners, assessment: AssessmentStub
) -> None:
    body = await partners.refer("school")
    # A decision recorded as made before the referral arrived is refused before any episode opens.
    early = (datetime.fromisoformat(body["received_at"]) - timedelta(hours=1)).isoformat()
    r = await referral.post(f"/v1/referrals/{body['id']}/decision", json=decision_body("1", "nfa", decided_at=early),
                            headers=partners.headers("childrens_social_care", '"1"'))
    assert r.status_code == 422
    # An NFA episode closed today; a referral received before that closure cannot open another (DfE 8820).
    older = await partners.refer("police", received_at=(datetime.now(UTC) - timedelta(days=3)).isoformat())
    nfa = await referral.post(f"/v1/referrals/{body['id']}/decision", json=decision_body("1", "nfa"),
                              headers=partners.headers("childrens_social_care", '"1"'))
    assert nfa.status_code == 200, nfa.text
    clash = await referral.post(f"/v1/referrals/{older['id']}/decision", json=decision_body("1", "nfa"),
                                headers=partners.headers("childrens_social_care", '"1"'))
    assert clash.status_code == 409
    assert clash.json()["rule"] == "8820"
    still = await referral.get(f"/v1/referrals/{older['id']}", headers=partners.headers("childrens_social_care"))
    assert still.json()["status"] == "received"


async def test_feedback_to_the_referrer(
    referral: httpx.AsyncClient, partners: Partners, assessment: AssessmentStub, referral_app: FastAPI
) -> None:
    body = await partners.refer("school")
    url = f"/v1/referrals/{body['id']}/feedback"
    early = await referral.post(url, headers=partners.headers("childrens_social_care", '"1"'))
    assert early.status_code == 409
    assert early.json()["rule"] == "decision-first"
    await referral.post(f"/v1/referrals/{body['id']}/decision", json=decision_body("1", "information_advice"),
                        headers=partners.headers("childrens_social_care", '"1"'))
    assert (await referral.post(url, headers=partners.headers("school", '"2"'))).status_code == 403
    assert (await referral.post(url, headers=partners.headers("childrens_social_care"))).status_code == 428
    r = await referral.post(url, headers=partners.headers("childrens_social_care", '"2"'))
    assert r.status_code == 200, r.text
    assert r.json()["feedback_sent_at"] is not None
    assert r.headers["etag"] == '"3"'
    again = await referral.post(url, json={"sent_at": datetime.now(UTC).isoformat()}, headers=partners.headers("childrens_social_care", '"3"'))
    assert again.status_code == 409
    async with referral_app.state.db.sessions() as session:
        sent = (await session.exec(select(OutboxMessage).where(OutboxMessage.event_type == "referral.feedback_sent"))).one()
        assert sent.payload["data"]["on_time"] is True
        kinds = {c.kind for c in (await session.exec(select(ChronologyEntry))).all()}
    assert {"referral.received", "referral.decided", "referral.feedback_sent"} <= kinds


async def test_a_sealed_child_stays_sealed_when_referred(
    referral: httpx.AsyncClient, partners: Partners, assessment: AssessmentStub, referral_app: FastAPI
) -> None:
    async with referral_app.state.db.sessions() as session:
        child = await session.get(Child, uuid.UUID(partners.child["id"]))
        assert child is not None
        child.restricted = True
        session.add(child)
        await session.commit()
    body = await partners.refer("police")
    # The police see their own referral, but are not made involved with a sealed child.
    assert (await referral.get(f"/v1/referrals/{body['id']}", headers=partners.headers("police"))).status_code == 200
    assert (await referral.get(f"/v1/children/{partners.child['id']}", headers=partners.headers("police"))).status_code == 404
    assert (await referral.get(f"/v1/referrals/{body['id']}", headers=partners.headers("health_visiting"))).status_code == 200
    # The recommendation reads the child's record: not the police's to ask for.
    rec = await referral.post(f"/v1/referrals/{body['id']}/recommendation", headers=partners.headers("police"))
    assert rec.status_code == 404
