"""The threshold recommendation: evidence from this service and the assessment service,
explained, stored, and never a decision."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.referral.domain.evidence import ToolkitResults, gather
from services.referral.domain.threshold_models import engine_facts, outcome_ids, reference_model
from services.referral.domain.thresholds import fact_key, parse_model
from services.referral.models import Child, CpPlan, EngagementEvent, Episode, Referral
from shared.models import OutboxMessage
from shared.tokens import Principal
from tests.referral.factories import make_agency, make_child
from tests.referral.factories_referrals import (
    AssessmentStub,
    decision_body,
    gcp2_result,
    make_referral,
)
from tests.support import TokenFor

PHYSICAL_CARE = fact_key("toolkit.area_grade", {"tool": "gcp2", "area": "physical_care", "max_age_days": 180})
WNB = fact_key("events.count", {"type": "was_not_brought", "window_days": 180})


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


class Case:
    def __init__(self, client: httpx.AsyncClient, token_for: TokenFor) -> None:
        self.client = client
        self.token_for = token_for
        self.last_headers: dict[str, str] = {}

    async def setup(self, **child: Any) -> Case:
        self.hv = await make_agency(self.client, self.token_for, "health_visiting")
        self.school = await make_agency(self.client, self.token_for, "school")
        self.csc = await make_agency(self.client, self.token_for, "childrens_social_care")
        self.child = await make_child(self.client, self.token_for, self.hv["id"], **child)
        return self

    def headers(self, agency: dict[str, Any], if_match: str | None = None) -> dict[str, str]:
        h = self.token_for(uuid.UUID(agency["id"]), "referral:read", "referral:write")
        if if_match:
            h["If-Match"] = if_match
        return h

    async def refer(self, **overrides: Any) -> str:
        r = await make_referral(self.client, self.token_for, self.school["id"], self.child["id"], **overrides)
        referral_id: str = r.json()["id"]
        return referral_id

    async def recommend(self, referral_id: str) -> httpx.Response:
        self.last_headers = self.headers(self.csc)
        return await self.client.post(f"/v1/referrals/{referral_id}/recommendation", headers=self.last_headers)


@pytest.fixture
async def case(referral: httpx.AsyncClient, token_for: TokenFor) -> Case:
    return await Case(referral, token_for).setup()


async def test_school_referral_recommended_then_decided_with_override(
    referral: httpx.AsyncClient, case: Case, assessment: AssessmentStub, referral_app: FastAPI
) -> None:
    """The issue's walk-through: refer, recommend (GCP2 physical care 4 -> 2b), decide 4 with a reason."""
    referral_id = await case.refer()
    seen = await referral.get(f"/v1/referrals/{referral_id}", headers=case.headers(case.csc))
    assert seen.status_code == 200
    assessment.results[case.child["id"]] = [gcp2_result(physical_care=4, care_of_safety=2, emotional_care=3, developmental_care=2)]

    r = await case.recommend(referral_id)
    assert r.status_code == 200, r.text
    rec = r.json()
    assert rec["kind"] == "recommendation"
    assert rec["label"].startswith("Recommendation")
    assert rec["partnership_id"] == "example_partnership_a"
    assert rec["ruleset_version"] == "2026.2"
    assert rec["recommended_level"] == "2b"
    assert rec["recommended_level_name"] == "Early help - assessment"
    [fired] = rec["fired_rules"]
    assert fired["id"] == "A-R01"
    assert fired["reason"] == "Recent GCP2 shows physical care needs largely unmet."
    assert fired["evidence"] == {PHYSICAL_CARE: 4}
    assert rec["inputs"][PHYSICAL_CARE] == 4
    assert rec["inputs"]["child.is_unborn"] is False
    assert rec["inputs"][WNB] == 0
    # No Signs of Safety rating: that fact is missing and its rule unevaluated, not false.
    assert rec["unevaluated_rules"] == ["A-R08"]
    assert [m.split(":")[0] for m in rec["missing_facts"]] == [fact_key("toolkit.safety_scale", {"rater": "worker", "max_age_days": 30})]
    # The caller's own token went to the assessment service.
    [sent] = assessment.requests
    assert sent.url.path == f"/v1/children/{case.child['id']}/latest-results"
    assert sent.headers["authorization"] == case.last_headers["Authorization"]

    url = f"/v1/referrals/{referral_id}/decision"
    s17 = decision_body("4", "s17_assessment", primary_need="N1")
    refused = await referral.post(url, json=s17, headers=case.headers(case.csc, '"1"'))
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("override-reason-required")
    assert [e["field"] for e in refused.json()["errors"]] == ["body.override_reason"]
    wrong = await referral.post(url, json=decision_body("4", "early_help_targeted", override_reason="x"), headers=case.headers(case.csc, '"1"'))
    assert wrong.status_code == 422
    assert [e["field"] for e in wrong.json()["errors"]] == ["body.outcome"]
    by_school = await referral.post(url, json=s17, headers=case.headers(case.school, '"1"'))
    assert by_school.status_code == 403
    after = await referral.get(f"/v1/referrals/{referral_id}", headers=case.headers(case.csc))
    assert after.json()["status"] == "received"
    assert after.json()["decision"] is None

    s17["override_reason"] = "Three agencies report the same concern; the chronology shows a pattern."
    decided = await referral.post(url, json=s17, headers=case.headers(case.csc, '"1"'))
    assert decided.status_code == 200, decided.text
    decision = decided.json()["decision"]
    assert decision["level"] == "4"
    assert decision["outcome"] == "s17_assessment"
    assert decision["overridden"] is True
    assert decision["recommended_level"] == "2b"
    assert decision["threshold_model_id"] == rec["threshold_model_id"]
    assert decision["override_reason"] == s17["override_reason"]
    episodes = await referral.get("/v1/episodes", params={"child_id": case.child["id"]}, headers=case.headers(case.csc))
    assert episodes.status_code == 200
    [episode] = episodes.json()["items"]
    assert episode["id"] == decided.json()["episode_id"]
    assert episode["nfa"] is False
    assert episode["primary_need"] == "N1"
    assert episode["referral_source"] == "2A"
    assert episode["closure_date"] is None
    # The stored recommendation is the one the decision was checked against: none recomputed.
    recs = await referral.get(f"/v1/referrals/{referral_id}/recommendations", headers=case.headers(case.csc))
    assert [x["id"] for x in recs.json()["items"]] == [rec["id"]]
    again = await referral.post(url, json=s17, headers=case.headers(case.csc, '"2"'))
    assert again.status_code == 409

    async with referral_app.state.db.sessions() as session:
        [event] = (await session.exec(select(OutboxMessage).where(OutboxMessage.event_type == "referral.decided"))).all()
        data = event.payload["data"]
        assert (data["level"], data["outcome"], data["overridden"], data["recommended_level"]) == ("4", "s17_assessment", True, "2b")
        assert "override_reason" not in data
        assert "rationale" not in data


async def test_assessment_service_down_gives_200_with_missing_facts(
    case: Case, assessment: AssessmentStub
) -> None:
    referral_id = await case.refer()
    assessment.error = httpx.ConnectError("connection refused")
    r = await case.recommend(referral_id)
    assert r.status_code == 200
    rec = r.json()
    assert rec["missing_facts"] == ["toolkit results: assessment service unavailable (ConnectError)"]
    assert {"A-R01", "A-R02", "A-R08"} <= set(rec["unevaluated_rules"])
    assert "A-R03" not in rec["unevaluated_rules"]  # this service's own facts were still used
    assert rec["recommended_level"] == "1"
    assert not any(k.startswith("toolkit.") for k in rec["inputs"])


@pytest.mark.parametrize(
    ("error", "status", "reason"),
    [
        (httpx.ReadTimeout("slow"), None, "(timed out)"),
        (None, 503, "(HTTP 503)"),
        (None, 404, "(HTTP 404"),
        (None, 403, "(HTTP 403)"),
    ],
)
async def test_every_assessment_failure_is_missing_evidence(
    case: Case, assessment: AssessmentStub, error: Exception | None, status: int | None, reason: str
) -> None:
    referral_id = await case.refer()
    assessment.error, assessment.status = error, status
    r = await case.recommend(referral_id)
    assert r.status_code == 200
    [missing] = r.json()["missing_facts"]
    assert missing.startswith("toolkit results: assessment service unavailable")
    assert reason in missing


async def test_a_timeout_against_a_real_slow_service_is_missing_evidence(
    case: Case, referral_app: FastAPI
) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("no answer in time", request=request)

    referral_app.state.assessment_client = httpx.AsyncClient(transport=httpx.MockTransport(slow))
    try:
        referral_id = await case.refer()
        r = await case.recommend(referral_id)
    finally:
        await referral_app.state.assessment_client.aclose()
        referral_app.state.assessment_client = None
    assert r.status_code == 200
    assert r.json()["missing_facts"] == ["toolkit results: assessment service unavailable (timed out)"]


async def test_engagement_history_and_previous_plans_raise_the_level(
    case: Case, assessment: AssessmentStub, referral_app: FastAPI
) -> None:
    child_id = uuid.UUID(case.child["id"])
    today = datetime.now(UTC).date()
    async with referral_app.state.db.sessions() as session:
        agency_id = uuid.UUID(case.hv["id"])
        for days in (10, 40, 170):
            session.add(EngagementEvent(child_id=child_id, agency_id=agency_id, kind="was_not_brought", occurred_on=today - timedelta(days=days)))
        session.add(EngagementEvent(child_id=child_id, agency_id=agency_id, kind="was_not_brought", occurred_on=today - timedelta(days=200)))
        episode = Episode(child_id=child_id, referral_date=today - timedelta(days=700), referral_source="3B", nfa=False,
                          primary_need="N1", closure_date=today - timedelta(days=150), reason_for_closure="RC7")
        session.add(episode)
        await session.flush()
        session.add(CpPlan(episode_id=episode.id, start_date=today - timedelta(days=600), end_date=today - timedelta(days=200),
                           initial_category="NEG", latest_category="NEG"))
        await session.commit()
    referral_id = await case.refer()
    assessment.results[case.child["id"]] = [gcp2_result(physical_care=5, care_of_safety=4)]
    rec = (await case.recommend(referral_id)).json()
    assert rec["inputs"][WNB] == 3
    assert rec["inputs"][fact_key("history.previous_cp_plans", {"category": "NEG", "ended_within_months": 24})] == 1
    assert rec["inputs"][fact_key("toolkit.areas_at_or_above", {"tool": "gcp2", "grade": 4, "max_age_days": 180})] == 2
    fired = {f["id"] for f in rec["fired_rules"]}
    assert fired == {"A-R01", "A-R02", "A-R03", "A-R05", "A-R06"}
    assert rec["recommended_level"] == "4"


async def test_previous_referrals_count_as_history(case: Case, assessment: AssessmentStub) -> None:
    for days in (300, 30):
        await case.refer(received_at=(datetime.now(UTC) - timedelta(days=days)).isoformat())
    referral_id = await case.refer()
    assessment.status = 503
    rec = (await case.recommend(referral_id)).json()
    assert rec["inputs"][fact_key("history.referrals", {"within_months": 12})] == 2
    assert [f["id"] for f in rec["fired_rules"]] == ["A-R09"]
    assert rec["recommended_level"] == "3"


async def test_unborn_child_with_parental_substance_misuse(
    referral: httpx.AsyncClient, token_for: TokenFor, assessment: AssessmentStub
) -> None:
    maternity = await make_agency(referral, token_for, "hospital_other")
    csc = await make_agency(referral, token_for, "childrens_social_care")
    expected = (datetime.now(UTC) + timedelta(days=60)).date().isoformat()
    unborn = await make_child(referral, token_for, maternity["id"], birth_date=None, expected_birth_date=expected, gender="0")
    r = await make_referral(referral, token_for, maternity["id"], unborn["id"], neglect_types=["pre_birth"],
                            referral_source="3F", parental_factors=["alcohol_misuse"])
    rec = await referral.post(f"/v1/referrals/{r.json()['id']}/recommendation",
                              headers=token_for(uuid.UUID(csc["id"]), "referral:read"))
    assert rec.status_code == 200
    assert rec.json()["inputs"]["child.is_unborn"] is True
    assert [f["id"] for f in rec.json()["fired_rules"]] == ["A-R07"]
    assert rec.json()["fired_rules"][0]["evidence"] == {
        "child.is_unborn": True,
        fact_key("household.parental_factor", {"factor": "substance_misuse"}): False,
        fact_key("household.parental_factor", {"factor": "alcohol_misuse"}): True,
    }


async def test_recommendations_are_listed_and_audited(case: Case, assessment: AssessmentStub, referral_app: FastAPI) -> None:
    referral_id = await case.refer()
    first = (await case.recommend(referral_id)).json()
    assessment.results[case.child["id"]] = [gcp2_result(physical_care=4)]
    second = (await case.recommend(referral_id)).json()
    r = await case.client.get(f"/v1/referrals/{referral_id}/recommendations", headers=case.headers(case.csc))
    assert r.status_code == 200
    assert [(x["id"], x["recommended_level"]) for x in r.json()["items"]] == [(first["id"], "1"), (second["id"], "2b")]
    # The referring school sees its referral, not the evidence drawn from the child's record (GCP2 grades).
    r = await case.client.get(f"/v1/referrals/{referral_id}/recommendations", headers=case.headers(case.school))
    assert r.status_code == 404
    async with referral_app.state.db.sessions() as session:
        events = (await session.exec(select(OutboxMessage).where(OutboxMessage.event_type == "referral.recommendation_computed"))).all()
    assert len(events) == 2


# --- evidence without HTTP ---------------------------------------------------------------


class NoHistory:
    async def other_referrals(self, *args: Any) -> int:
        return 0

    async def ended_cp_plans(self, *args: Any) -> int:
        return 0

    async def engagement_events(self, *args: Any) -> int:
        return 0


def _model_b() -> Any:
    data = reference_model("example_partnership_b")
    assert data is not None
    return parse_model(data, outcome_ids(), engine_facts())


WHO = Principal(client_id="t", agency_id=uuid.uuid4(), scopes=frozenset({"referral:read"}))


async def test_toolkit_facts_read_the_latest_recent_result() -> None:
    now = datetime.now(UTC)
    child = Child(given_name="A", family_name="B", birth_date=date(2018, 1, 1), gender="1", disabilities=["MOB"],
                  created_by_agency_id=uuid.uuid4())
    referral = Referral(child_id=child.id, referral_source="2A", concern_summary="x", neglect_types=["medical"],
                        decision_due_at=now)
    old = gcp2_result(days_ago=400, physical_care=5)
    toolkit = ToolkitResults(items=[
        old,
        {"toolkit_id": "local_neglect_screening", "authorised_at": (now - timedelta(days=5)).isoformat(),
         "items_rated": {"very_concerned": 3}},
        {"toolkit_id": "signs_of_safety", "authorised_at": (now - timedelta(days=60)).isoformat(), "safety_scale": {"worker": 1}},
    ])
    evidence = await gather(_model_b(), who=WHO, referral=referral, child=child, store=NoHistory(), toolkit=toolkit, now=now)
    facts = evidence.facts
    assert facts[fact_key("toolkit.items_rated", {"tool": "local_neglect_screening", "rating": "very_concerned", "max_age_days": 90})] == 3
    assert facts["child.has_disability"] is True
    assert facts["concern.neglect_types"] == ["medical"]
    # GCP2 is too old and the safety rating older than 30 days: missing, with the reason.
    assert PHYSICAL_CARE not in facts
    assert any(m.startswith(PHYSICAL_CARE) and "180 days" in m for m in evidence.missing)
    assert any(m.startswith("toolkit.safety_scale") for m in evidence.missing)


async def test_child_facts_never_guess() -> None:
    now = datetime.now(UTC)
    unborn = Child(given_name="A", family_name="B", expected_birth_date=now.date() + timedelta(days=30), gender="0",
                   created_by_agency_id=uuid.uuid4())
    referral = Referral(child_id=unborn.id, referral_source="3F", concern_summary="x", neglect_types=["pre_birth"],
                        parental_factors=["substance_misuse"], decision_due_at=now)
    evidence = await gather(_model_b(), who=WHO, referral=referral, child=unborn, store=NoHistory(), toolkit=None, now=now)
    assert evidence.facts["child.is_unborn"] is True
    assert "child.has_disability" not in evidence.facts
    assert "child.has_disability: disability not recorded" in evidence.missing
    hidden = await gather(_model_b(), who=WHO, referral=referral, child=None, store=NoHistory(), toolkit=None, now=now)
    assert "child.is_unborn" not in hidden.facts
    assert hidden.facts[fact_key("household.parental_factor", {"factor": "substance_misuse"})] is True
    assert "child.is_unborn: the child's record is not visible to your agency" in hidden.missing


class WatchingAssessment(AssessmentStub):
    """Notes, at the moment of each call, whether any referral session had a transaction open
    and which row-locking statements had run before it."""

    def __init__(self, app: FastAPI) -> None:
        super().__init__()
        self.sessions: list[AsyncSession] = []
        self.statements: list[str] = []
        self.at_call: list[tuple[bool, int]] = []
        db = app.state.db
        factory = db.sessions

        def sessions(*args: Any, **kwargs: Any) -> AsyncSession:
            session = factory(*args, **kwargs)
            self.sessions.append(session)
            return session

        db.sessions = sessions
        self._restore = lambda: setattr(db, "sessions", factory)

        def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            self.statements.append(statement)

        event.listen(db.engine.sync_engine, "before_cursor_execute", note)
        self._unlisten = lambda: event.remove(db.engine.sync_engine, "before_cursor_execute", note)

    def handle(self, request: httpx.Request) -> httpx.Response:
        open_tx = any(s.in_transaction() for s in self.sessions)
        self.at_call.append((open_tx, len(self.statements)))
        return super().handle(request)

    def locks(self) -> list[int]:
        return [i for i, s in enumerate(self.statements) if "FOR UPDATE" in s.upper()]

    def close(self) -> None:
        self._restore()
        self._unlisten()


@pytest.fixture
async def watching(referral: httpx.AsyncClient, referral_app: FastAPI) -> AsyncIterator[WatchingAssessment]:
    stub = WatchingAssessment(referral_app)
    client = stub.client()
    referral_app.state.assessment_client = client
    try:
        yield stub
    finally:
        referral_app.state.assessment_client = None
        stub.close()
        await client.aclose()


async def test_the_recommendation_asks_assessment_with_no_transaction_open(
    case: Case, watching: WatchingAssessment,
) -> None:
    referral_id = await case.refer()
    watching.results[case.child["id"]] = [gcp2_result(physical_care=4)]
    r = await case.recommend(referral_id)
    assert r.status_code == 200, r.text
    assert r.json()["recommended_level"] == "2b"  # the evidence fetched first is the evidence used
    [(open_tx, _)] = watching.at_call
    assert not open_tx, "a referral transaction was open while the assessment service was called"


async def test_the_decision_asks_assessment_before_it_locks_the_referral(
    referral: httpx.AsyncClient, case: Case, watching: WatchingAssessment, referral_app: FastAPI,
) -> None:
    """No recommendation yet: the decision computes one, asking for the toolkit results before
    it takes the referral's row lock (PostgreSQL) or any write lock (SQLite), never while holding it."""
    referral_id = await case.refer()
    watching.results[case.child["id"]] = [gcp2_result(physical_care=4)]
    r = await referral.post(f"/v1/referrals/{referral_id}/decision",
                            json=decision_body("2b", "early_help_assessment"), headers=case.headers(case.csc, '"1"'))
    assert r.status_code == 200, r.text
    assert r.json()["decision"]["recommended_level"] == "2b"
    [(open_tx, statements_before)] = watching.at_call
    assert not open_tx, "a referral transaction was open while the assessment service was called"
    if referral_app.state.db.is_postgres:
        locks = watching.locks()
        assert locks, "the decision locks the referral"
        assert all(i >= statements_before for i in locks), "the referral was locked before the call"


async def test_a_migrated_toolkit_result_is_as_old_as_its_authorisation_day() -> None:
    now = datetime.now(UTC)
    child = Child(given_name="A", family_name="B", birth_date=date(2018, 1, 1), gender="1", disabilities=["MOB"],
                  created_by_agency_id=uuid.uuid4())
    referral = Referral(child_id=child.id, referral_source="2A", concern_summary="x", neglect_types=["medical"],
                        decision_due_at=now)
    # Recorded today (a migration) but authorised 400 days ago: too old for a 180-day fact.
    migrated = {**gcp2_result(days_ago=0, physical_care=5), "authorised_on": (now - timedelta(days=400)).date().isoformat()}
    evidence = await gather(_model_b(), who=WHO, referral=referral, child=child, store=NoHistory(),
                            toolkit=ToolkitResults(items=[migrated]), now=now)
    assert PHYSICAL_CARE not in evidence.facts
    recent = {**migrated, "authorised_on": (now - timedelta(days=20)).date().isoformat()}
    evidence = await gather(_model_b(), who=WHO, referral=referral, child=child, store=NoHistory(),
                            toolkit=ToolkitResults(items=[recent]), now=now)
    assert evidence.facts[PHYSICAL_CARE] == 5


# --- the referrer's own neglect indicators ---------------------------------------------------

PHYSICAL_SEVERITY = fact_key("concern.indicator_severity", {"domain": "physical_care"})
HIGH_COUNT = fact_key("concern.indicator_count", {"min_severity": "high"})
SAFETY_HIGH = fact_key("concern.high_severity_indicator", {"domain": "safety_and_supervision"})


async def test_a_high_severity_physical_care_indicator_raises_the_level(case: Case, assessment: AssessmentStub) -> None:
    """The concern itself counts: no toolkit results and no history, only what the referrer saw."""
    referral_id = await case.refer(indicators=[
        {"domain": "physical_care", "indicator": "hunger_at_school", "severity": "high"},
        {"domain": "emotional_care", "indicator": "withdrawn", "severity": "low"}])
    rec = (await case.recommend(referral_id)).json()
    assert rec["ruleset_version"] == "2026.2"
    assert rec["recommended_level"] == "2b"
    [fired] = rec["fired_rules"]
    assert (fired["id"], fired["min_level"]) == ("A-R10", "2b")
    assert fired["evidence"] == {PHYSICAL_SEVERITY: 3}
    # The explanation lists every indicator fact the model read, fired or not.
    assert rec["inputs"][PHYSICAL_SEVERITY] == 3
    assert rec["inputs"][HIGH_COUNT] == 1
    assert rec["inputs"][SAFETY_HIGH] is False
    assert not {"A-R10", "A-R11", "A-R12"} & set(rec["unevaluated_rules"])


async def test_medium_indicators_alone_stay_at_the_default_level(case: Case, assessment: AssessmentStub) -> None:
    referral_id = await case.refer()  # one medium physical care indicator
    rec = (await case.recommend(referral_id)).json()
    assert (rec["recommended_level"], rec["fired_rules"]) == ("1", [])
    assert rec["inputs"][PHYSICAL_SEVERITY] == 2


async def test_several_high_severity_indicators_and_safety(case: Case, assessment: AssessmentStub) -> None:
    referral_id = await case.refer(indicators=[
        {"domain": "safety_and_supervision", "indicator": "left_alone_at_night", "severity": "high"},
        {"domain": "health_and_medical", "indicator": "untreated_infection", "severity": "high"}])
    rec = (await case.recommend(referral_id)).json()
    assert [f["id"] for f in rec["fired_rules"]] == ["A-R11", "A-R12"]
    assert rec["recommended_level"] == "3"
    assert rec["inputs"][PHYSICAL_SEVERITY] == 0  # no physical care indicator: none recorded, not unknown


async def test_indicator_facts_from_the_referral() -> None:
    from services.referral.domain.evidence import _indicator_fact

    indicators = [{"domain": "physical_care", "indicator": "a", "severity": "high"},
                  {"domain": "physical_care", "indicator": "b", "severity": "low"},
                  {"domain": "emotional_care", "indicator": "c", "severity": "medium"}]
    assert _indicator_fact("concern.indicator_severity", {}, indicators) == 3
    assert _indicator_fact("concern.indicator_severity", {"domain": "emotional_care"}, indicators) == 2
    assert _indicator_fact("concern.indicator_severity", {"domain": "pre_birth"}, indicators) == 0
    assert _indicator_fact("concern.indicator_count", {}, indicators) == 3
    assert _indicator_fact("concern.indicator_count", {"severity": "low"}, indicators) == 1
    assert _indicator_fact("concern.indicator_count", {"min_severity": "medium"}, indicators) == 2
    assert _indicator_fact("concern.indicator_count", {"domain": "physical_care", "min_severity": "low"}, indicators) == 2
    assert _indicator_fact("concern.high_severity_indicator", {}, indicators) is True
    assert _indicator_fact("concern.high_severity_indicator", {"domain": "emotional_care"}, indicators) is False
    assert _indicator_fact("concern.indicator_count", {}, []) == 0


def test_indicator_vocabulary_matches_the_referral_body() -> None:
    from typing import get_args

    from services.referral.domain.evidence import FACT_PARAMS, INDICATOR_DOMAINS, SEVERITY_RANK
    from services.referral.schemas.referrals import IndicatorDomain, Severity

    assert set(get_args(IndicatorDomain)) == INDICATOR_DOMAINS
    assert list(get_args(Severity)) == sorted(SEVERITY_RANK, key=SEVERITY_RANK.__getitem__)
    # Every fact the engine is told about is one this service computes, and the other way round.
    assert set(engine_facts()) == set(FACT_PARAMS)
