"""Drift and delay alerts through HTTP on a real database.

Rows for open items are inserted through the app's own session (joined to the
test's rolled-back transaction); "today" is fixed by overriding its dependency.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select

from services.referral.api.alerts import alerts_today
from services.referral.domain.calendar import add_months, england_and_wales
from services.referral.models import (
    Conference,
    CoreGroup,
    CpPlan,
    Episode,
    Referral,
    Section47,
    StatutoryAssessment,
)
from shared.models import AuditEvent
from tests.referral.factories import ADMIN_AGENCY, make_agency, make_child
from tests.support import TokenFor

CAL = england_and_wales()
PROBLEM = "application/problem+json"
SetToday = Callable[[date], None]


@pytest.fixture
def set_today(referral_app: FastAPI) -> Iterator[SetToday]:
    def fix(day: date) -> None:
        referral_app.dependency_overrides[alerts_today] = lambda: day

    yield fix
    referral_app.dependency_overrides.pop(alerts_today, None)


async def insert(app: FastAPI, *rows: Any) -> None:
    async with app.state.db.sessions() as session:
        for row in rows:
            session.add(row)
            await session.flush()  # parents first: rows here have no relationships to order them
        await session.commit()


class World:
    """A school with one child, a GP with another, children's social care and the police."""

    def __init__(self, school: dict[str, Any], gp: dict[str, Any], csc: dict[str, Any], police: dict[str, Any],
                 child: dict[str, Any], other_child: dict[str, Any]) -> None:
        self.school, self.gp, self.csc, self.police = (uuid.UUID(x["id"]) for x in (school, gp, csc, police))
        self.child, self.other_child = uuid.UUID(child["id"]), uuid.UUID(other_child["id"])


@pytest.fixture
async def world(referral: httpx.AsyncClient, token_for: TokenFor) -> World:
    school = await make_agency(referral, token_for, "school")
    gp = await make_agency(referral, token_for, "gp")
    csc = await make_agency(referral, token_for, "childrens_social_care")
    police = await make_agency(referral, token_for, "police")
    child = await make_child(referral, token_for, school["id"])
    other = await make_child(referral, token_for, gp["id"])
    return World(school, gp, csc, police, child, other)


def referral_row(child_id: uuid.UUID, received_at: datetime, **extra: Any) -> Referral:
    return Referral(child_id=child_id, referral_source="2A", received_at=received_at, concern_summary="Concern.",
                    decision_due_at=received_at + timedelta(days=1), **extra)


def episode_row(child_id: uuid.UUID, referral_date: date, **extra: Any) -> Episode:
    return Episode(child_id=child_id, referral_date=referral_date, referral_source="2A", nfa=False, primary_need="N1", **extra)


async def cp_plan(app: FastAPI, child_id: uuid.UUID, start: date, *, core_group: bool = True,
                  reviews: tuple[date, ...] = ()) -> CpPlan:
    episode = episode_row(child_id, start - timedelta(days=30))
    plan = CpPlan(episode_id=episode.id, start_date=start, initial_category="NEG", latest_category="NEG")
    rows: list[Any] = [episode, plan]
    rows += [Conference(episode_id=episode.id, kind="review", held_date=d, cp_plan_id=plan.id, outcome="continue_plan")
             for d in reviews]
    if core_group:
        rows.append(CoreGroup(cp_plan_id=plan.id, held_date=start + timedelta(days=7)))
    await insert(app, *rows)
    return plan


async def alerts(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    r = await client.get("/v1/alerts", params=params, headers=headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def test_a_friday_referral_is_due_monday_and_overdue_on_tuesday(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI, world: World, set_today: SetToday
) -> None:
    row = referral_row(world.child, datetime(2026, 11, 20, 15, 0, tzinfo=UTC))  # a Friday
    await insert(referral_app, row)
    headers = token_for(world.csc, "referral:read")
    set_today(date(2026, 11, 23))
    [soon] = await alerts(referral, headers, clock="referral_decision")
    assert soon["status"] == "due_soon"
    assert (soon["started_on"], soon["due_on"], soon["working_days_left"]) == ("2026-11-20", "2026-11-23", 0)
    assert soon["record"] == {"type": "referral", "id": str(row.id)}
    set_today(date(2026, 11, 24))
    [late] = await alerts(referral, headers, clock="referral_decision")
    assert (late["status"], late["days_overdue"], late["days_unit"]) == ("overdue", 1, "working_days")
    assert late["clock_name"] == "Referral to threshold decision"
    assert late["rule"]["limit"] == 1
    assert late["rule"]["timescales_version"] == "2026.1"
    assert "WT2023" in late["rule"]["source"]
    assert late["child_id"] == str(world.child)


async def test_a_bank_holiday_pushes_the_decision_further(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI, world: World, set_today: SetToday
) -> None:
    # Friday 28 August 2026; Monday 31 August is the summer bank holiday.
    await insert(referral_app, referral_row(world.child, datetime(2026, 8, 28, 9, 0, tzinfo=UTC)))
    headers = token_for(world.csc, "referral:read")
    set_today(date(2026, 9, 1))
    [soon] = await alerts(referral, headers)
    assert (soon["status"], soon["due_on"]) == ("due_soon", "2026-09-01")
    set_today(date(2026, 9, 2))
    [late] = await alerts(referral, headers)
    assert (late["status"], late["days_overdue"]) == ("overdue", 1)


async def test_a_decided_referral_waits_for_feedback_until_it_is_sent(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI, world: World, set_today: SetToday
) -> None:
    received = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
    waiting = referral_row(world.child, received, status="decided", decided_at=received + timedelta(hours=5))
    told = referral_row(world.child, received, status="decided", decided_at=received + timedelta(hours=5),
                        feedback_sent_at=received + timedelta(hours=6))
    await insert(referral_app, waiting, told)
    set_today(date(2026, 11, 18))
    [alert] = await alerts(referral, token_for(world.csc, "referral:read"))
    assert (alert["clock"], alert["record"]["id"], alert["status"]) == ("referrer_feedback", str(waiting.id), "overdue")


async def test_an_s47_is_due_soon_at_14_working_days_and_overdue_at_16(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI, world: World, set_today: SetToday
) -> None:
    start = date(2026, 3, 2)
    episode = episode_row(world.child, date(2026, 2, 20))
    s47 = Section47(episode_id=episode.id, start_date=start, icpc_target_date=CAL.add_working_days(start, 15))
    concluded = Section47(episode_id=episode.id, start_date=start, icpc_target_date=s47.icpc_target_date,
                          icpc_not_required=True)
    await insert(referral_app, episode, s47, concluded)
    headers = token_for(world.school, "referral:read")
    set_today(CAL.add_working_days(start, 14))
    [soon] = await alerts(referral, headers, clock="icpc_timeliness")
    assert (soon["status"], soon["record"], soon["working_days_left"]) == ("due_soon", {"type": "s47", "id": str(s47.id)}, 1)
    set_today(CAL.add_working_days(start, 16))
    [late] = await alerts(referral, headers, clock="icpc_timeliness")
    assert (late["status"], late["days_overdue"], late["due_on"]) == ("overdue", 1, "2026-03-23")


async def test_an_open_assessment_runs_45_working_days_from_the_referral(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI, world: World, set_today: SetToday
) -> None:
    open_episode = episode_row(world.child, date(2026, 1, 5))
    closed_episode = episode_row(world.other_child, date(2026, 1, 5), closure_date=date(2026, 3, 1), reason_for_closure="RC8")
    open_one = StatutoryAssessment(episode_id=open_episode.id, start_date=date(2026, 1, 6))
    done = StatutoryAssessment(episode_id=open_episode.id, start_date=date(2025, 12, 1), authorised_date=date(2026, 1, 2))
    in_closed = StatutoryAssessment(episode_id=closed_episode.id, start_date=date(2026, 1, 6))
    await insert(referral_app, open_episode, closed_episode, open_one, done, in_closed)
    set_today(date(2026, 3, 10))
    [alert] = await alerts(referral, token_for(world.csc, "referral:read"))
    assert (alert["clock"], alert["record"]["type"], alert["record"]["id"]) == ("assessment_completion", "assessment", str(open_one.id))
    assert (alert["started_on"], alert["due_on"], alert["days_overdue"]) == ("2026-01-05", "2026-03-09", 1)


async def test_a_plan_three_months_and_a_day_without_review_is_an_overdue_review(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI, world: World, set_today: SetToday
) -> None:
    start = date(2026, 5, 10)
    plan = await cp_plan(referral_app, world.child, start)
    set_today(add_months(start, 3) + timedelta(days=1))
    [alert] = await alerts(referral, token_for(world.school, "referral:read"))
    assert alert["clock"] == "cp_first_review"
    assert alert["record"] == {"type": "cp_plan", "id": str(plan.id)}
    assert (alert["status"], alert["due_on"], alert["days_overdue"], alert["days_unit"]) == ("overdue", "2026-08-10", 1, "days")
    assert alert["kind"] == "deadline"


async def test_after_a_review_the_next_is_due_six_months_later(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI, world: World, set_today: SetToday
) -> None:
    await cp_plan(referral_app, world.child, date(2026, 5, 10), reviews=(date(2026, 6, 1), date(2026, 7, 20)))
    headers = token_for(world.school, "referral:read")
    set_today(date(2026, 8, 11))
    assert await alerts(referral, headers) == []
    set_today(date(2027, 1, 19))
    [soon] = await alerts(referral, headers)
    assert (soon["clock"], soon["status"], soon["started_on"], soon["due_on"]) == (
        "cp_subsequent_review", "due_soon", "2026-07-20", "2027-01-20")
    set_today(date(2027, 1, 21))
    [late] = await alerts(referral, headers)
    assert (late["clock"], late["status"], late["days_overdue"]) == ("cp_subsequent_review", "overdue", 1)


async def test_first_core_group_within_ten_working_days_and_long_plans_are_flagged(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI, world: World, set_today: SetToday
) -> None:
    no_group = await cp_plan(referral_app, world.child, date(2026, 3, 31), core_group=False, reviews=(date(2026, 4, 20),))
    long_plan = await cp_plan(referral_app, world.other_child, date(2024, 6, 1),
                              reviews=(date(2026, 5, 20),))
    set_today(date(2026, 6, 2))
    found = {(x["clock"], x["record"]["id"]): x for x in await alerts(referral, token_for(world.csc, "referral:read"))}
    assert set(found) == {("core_group_first", str(no_group.id)), ("cp_plan_long_duration", str(long_plan.id))}
    group = found[("core_group_first", str(no_group.id))]
    assert (group["due_on"], group["status"]) == ("2026-04-16", "overdue")
    flag = found[("cp_plan_long_duration", str(long_plan.id))]
    assert (flag["kind"], flag["due_on"], flag["status"]) == ("monitoring_flag", "2026-06-01", "overdue")


async def test_ended_plans_raise_nothing(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI, world: World, set_today: SetToday
) -> None:
    episode = episode_row(world.child, date(2024, 1, 2))
    ended = CpPlan(episode_id=episode.id, start_date=date(2024, 2, 1), end_date=date(2024, 9, 1),
                   initial_category="NEG", latest_category="NEG")
    await insert(referral_app, episode, ended)
    set_today(date(2026, 6, 2))
    assert await alerts(referral, token_for(world.csc, "referral:read")) == []


async def test_a_foreign_agency_sees_none_of_another_childs_alerts(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI, world: World, set_today: SetToday
) -> None:
    await cp_plan(referral_app, world.child, date(2026, 1, 5), core_group=False)
    await insert(referral_app, referral_row(world.child, datetime(2026, 5, 1, 9, tzinfo=UTC)))
    set_today(date(2026, 6, 2))
    assert len(await alerts(referral, token_for(world.school, "referral:read"))) == 3
    police = token_for(world.police, "referral:read")
    assert await alerts(referral, police) == []
    assert await alerts(referral, police, agency_id=str(world.school)) == []
    assert await alerts(referral, police, child_id=str(world.child)) == []
    r = await referral.get(f"/v1/children/{world.child}/alerts", headers=police)
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM
    summary = await referral.get("/v1/alerts/summary", params={"agency_id": str(world.school)}, headers=police)
    assert (summary.json()["overdue"], summary.json()["due_soon"]) == (0, 0)
    # The GP registered the other child and sees only that one's (none).
    assert await alerts(referral, token_for(world.gp, "referral:read")) == []


async def test_filters_by_child_agency_status_and_clock(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI, world: World, set_today: SetToday
) -> None:
    school_plan = await cp_plan(referral_app, world.child, date(2026, 1, 5))
    gp_plan = await cp_plan(referral_app, world.other_child, date(2026, 3, 4))
    start = date(2026, 5, 18)
    episode = episode_row(world.other_child, date(2026, 5, 11))
    s47 = Section47(episode_id=episode.id, start_date=start, icpc_target_date=CAL.add_working_days(start, 15))
    await insert(referral_app, episode, s47)
    # First reviews are due 5 April and 4 June; the ICPC target is 9 June (25 May is a bank holiday).
    assert s47.icpc_target_date == date(2026, 6, 9)
    csc = token_for(world.csc, "referral:read")
    set_today(date(2026, 6, 3))
    assert [(x["clock"], x["record"]["id"], x["status"]) for x in await alerts(referral, csc)] == [
        ("cp_first_review", str(school_plan.id), "overdue"),
        ("cp_first_review", str(gp_plan.id), "due_soon"),
    ]
    set_today(date(2026, 6, 5))
    everything = await alerts(referral, csc)
    assert [(x["record"]["id"], x["status"]) for x in everything] == [
        (str(school_plan.id), "overdue"), (str(gp_plan.id), "overdue"), (str(s47.id), "due_soon")]
    assert [x["record"]["id"] for x in await alerts(referral, csc, child_id=str(world.other_child))] == [str(gp_plan.id), str(s47.id)]
    assert [x["record"]["id"] for x in await alerts(referral, csc, agency_id=str(world.school))] == [str(school_plan.id)]
    assert [x["record"]["id"] for x in await alerts(referral, csc, agency_id=str(world.gp))] == [str(gp_plan.id), str(s47.id)]
    assert [x["record"]["id"] for x in await alerts(referral, csc, status="overdue")] == [str(school_plan.id), str(gp_plan.id)]
    assert [x["record"]["id"] for x in await alerts(referral, csc, status="due_soon", clock="icpc_timeliness")] == [str(s47.id)]
    assert await alerts(referral, csc, clock="cp_subsequent_review") == []
    unknown = await referral.get("/v1/alerts", params={"clock": "tea_break"}, headers=csc)
    assert unknown.status_code == 422
    assert unknown.json()["type"].endswith("unknown-clock")
    bad_status = await referral.get("/v1/alerts", params={"status": "late"}, headers=csc)
    assert bad_status.status_code == 422
    no_agency = await referral.get("/v1/alerts", params={"agency_id": str(uuid.uuid4())}, headers=csc)
    assert no_agency.status_code == 404
    child_view = await referral.get(f"/v1/children/{world.other_child}/alerts", params={"status": "due_soon"}, headers=csc)
    assert child_view.status_code == 200
    assert child_view.json()["as_of"] == "2026-06-05"
    assert [x["record"]["id"] for x in child_view.json()["items"]] == [str(s47.id)]


async def test_summary_counts_by_clock_and_status(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI, world: World, set_today: SetToday
) -> None:
    await cp_plan(referral_app, world.child, date(2026, 1, 5), core_group=False)
    await cp_plan(referral_app, world.other_child, date(2026, 3, 4))
    await insert(referral_app, referral_row(world.child, datetime(2026, 6, 3, 9, tzinfo=UTC)))
    set_today(date(2026, 6, 4))
    csc = token_for(world.csc, "referral:read")
    r = await referral.get("/v1/alerts/summary", headers=csc)
    assert r.status_code == 200
    body = r.json()
    counts = {line["clock"]: (line["overdue"], line["due_soon"]) for line in body["by_clock"]}
    assert counts["cp_first_review"] == (1, 1)
    assert counts["core_group_first"] == (1, 0)
    assert counts["referral_decision"] == (0, 1)
    assert counts["cp_subsequent_review"] == (0, 0)
    assert (body["overdue"], body["due_soon"], body["agency_id"], body["timescales_version"]) == (2, 2, None, "2026.1")
    school = (await referral.get("/v1/alerts/summary", params={"agency_id": str(world.school)}, headers=csc)).json()
    assert (school["overdue"], school["due_soon"], school["agency_id"]) == (2, 1, str(world.school))


async def test_pages_walk_every_alert_once_in_due_order(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI, world: World, set_today: SetToday
) -> None:
    for day in (1, 2, 3, 4, 5):
        await insert(referral_app, referral_row(world.child, datetime(2026, 6, day, 9, tzinfo=UTC)))
    set_today(date(2026, 6, 30))
    headers = token_for(world.school, "referral:read")
    seen: list[str] = []
    url: str | None = "/v1/alerts?limit=2&clock=referral_decision"
    while url:
        r = await referral.get(url, headers=headers)
        assert r.status_code == 200
        seen += [x["due_on"] for x in r.json()["items"]]
        link = r.headers.get("link")
        url = link.split(";")[0].strip("<>") if link else None
    assert seen == ["2026-06-02", "2026-06-03", "2026-06-04", "2026-06-05", "2026-06-08"]
    bad = await referral.get("/v1/alerts", params={"cursor": "nope"}, headers=headers)
    assert bad.status_code == 400


async def test_alert_reads_are_audited_with_the_children_shown(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI, world: World, set_today: SetToday
) -> None:
    await cp_plan(referral_app, world.child, date(2026, 1, 5))
    set_today(date(2026, 6, 4))
    headers = token_for(world.csc, "referral:read")
    assert (await referral.get("/v1/alerts", headers=headers)).status_code == 200
    assert (await referral.get(f"/v1/children/{world.other_child}/alerts", headers=headers)).status_code == 200
    assert (await referral.get("/v1/alerts/summary", headers=headers)).status_code == 200
    async with referral_app.state.db.sessions() as session:
        rows = (await session.exec(select(AuditEvent).where(AuditEvent.resource == "alert"))).all()
    assert {(r.action, tuple(r.child_ids)) for r in rows} == {
        ("list", (str(world.child),)), ("list", (str(world.other_child),)), ("summary", (str(world.child),))}
    assert {r.agency_id for r in rows} == {world.csc}


async def test_alerts_need_a_token_and_the_read_scope(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    for path in ("/v1/alerts", "/v1/alerts/summary", f"/v1/children/{uuid.uuid4()}/alerts", "/v1/timescales"):
        assert (await referral.get(path)).status_code == 401
        assert (await referral.get(path, headers=token_for(uuid.uuid4(), "referral:write"))).status_code == 403


async def test_today_is_not_a_parameter_partners_can_set(
    referral: httpx.AsyncClient, token_for: TokenFor, world: World
) -> None:
    r = await referral.get("/v1/alerts", params={"today": "2030-01-01"}, headers=token_for(world.csc, "referral:read"))
    assert r.status_code == 200
    assert r.json()["as_of"] != "2030-01-01"


async def test_timescales_list_the_clocks_in_force_with_version_and_source(
    referral: httpx.AsyncClient, token_for: TokenFor
) -> None:
    r = await referral.get("/v1/timescales", headers=token_for(uuid.uuid4(), "referral:read"))
    assert r.status_code == 200
    body = r.json()
    assert (body["version"], body["source"], body["calendar"]) == ("2026.1", "reference/timescales.yaml", "england_and_wales")
    clocks = {c["id"]: c for c in body["items"]}
    assert clocks["icpc_timeliness"]["limit"] == 15
    assert clocks["icpc_timeliness"]["alerts"] is True
    assert clocks["cp_first_review"]["unit"] == "months"
    assert (clocks["cp_statutory_visit"]["enabled"], clocks["cp_statutory_visit"]["alerts"]) == (False, False)
    assert clocks["re_referral_window"]["alerts"] is False


async def test_an_admin_reloads_a_partnerships_own_timescales(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI, world: World, set_today: SetToday,
    tmp_path: Path,
) -> None:
    await insert(referral_app, referral_row(world.child, datetime(2026, 11, 20, 15, tzinfo=UTC)))
    ours = tmp_path / "partnership.yaml"
    ours.write_text('version: "local-3"\nclocks:\n  - {id: referral_decision, name: Decision, limit: 3, unit: working_days, source: local}\n',
                    encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nclocks: [{id: x, name: X, limit: 1, unit: fortnights}]\n", encoding="utf-8")
    settings = referral_app.state.settings
    admin = token_for(ADMIN_AGENCY, "admin")
    set_today(date(2026, 11, 24))
    try:
        assert (await referral.post("/v1/timescales/reload", headers=token_for(world.csc, "referral:read"))).status_code == 403
        settings.timescales_file = str(ours)
        r = await referral.post("/v1/timescales/reload", headers=admin)
        assert r.status_code == 200
        assert (r.json()["version"], r.json()["source"]) == ("local-3", "partnership.yaml")
        [alert] = await alerts(referral, token_for(world.csc, "referral:read"))
        assert (alert["due_on"], alert["status"], alert["rule"]["timescales_version"]) == ("2026-11-25", "due_soon", "local-3")
        settings.timescales_file = str(broken)
        refused = await referral.post("/v1/timescales/reload", headers=admin)
        assert refused.status_code == 422
        assert "unit must be" in refused.json()["detail"]
        assert (await referral.get("/v1/timescales", headers=admin)).json()["version"] == "local-3"
    finally:
        settings.timescales_file = ""
        assert (await referral.post("/v1/timescales/reload", headers=admin)).status_code == 200
    assert (await referral.get("/v1/timescales", headers=admin)).json()["version"] == "2026.1"
