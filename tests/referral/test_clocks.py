"""Timescale clocks as data: loading, validation and due dates, without HTTP."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.referral.domain import alerts as a
from services.referral.domain import clocks as c
from services.referral.domain.calendar import WorkingCalendar, england_and_wales
from shared.pagination import InvalidCursor

CAL = england_and_wales()
CLOCKS = c.load_clocks()


def clock(clock_id: str) -> c.Clock:
    found = CLOCKS.in_force(clock_id)
    assert found is not None
    return found


def test_bundled_timescales_load_with_their_version_and_source() -> None:
    assert CLOCKS.version == "2026.1"
    assert CLOCKS.source == "reference/timescales.yaml"
    assert set(c.ALERTING) <= CLOCKS.ids
    decision = clock(c.REFERRAL_DECISION)
    assert (decision.limit, decision.unit, decision.configurable) == (1, "working_days", False)
    assert decision.source is not None
    assert "WT2023" in decision.source
    assert clock(c.CP_PLAN_LONG_DURATION).kind == "monitoring_flag"
    assert clock(c.ICPC_TIMELINESS).kind == "deadline"


def test_clocks_without_a_limit_are_listed_but_not_in_force() -> None:
    visits = CLOCKS.get("cp_statutory_visit")
    assert visits is not None
    assert not visits.enabled
    assert CLOCKS.in_force("cp_statutory_visit") is None
    with pytest.raises(ValueError, match="not in force"):
        visits.due(date(2026, 1, 5), CAL)


def test_referral_decision_friday_is_due_monday_and_a_bank_holiday_pushes_it() -> None:
    decision = clock(c.REFERRAL_DECISION)
    assert decision.due(date(2026, 11, 20), CAL) == date(2026, 11, 23)
    # Friday 28 August 2026; Monday 31 August is the summer bank holiday.
    assert decision.due(date(2026, 8, 28), CAL) == date(2026, 9, 1)


def test_working_day_clocks() -> None:
    assert clock(c.REFERRER_FEEDBACK).due(date(2026, 12, 24), CAL) == date(2026, 12, 29)
    assert clock(c.ASSESSMENT_COMPLETION).due(date(2026, 1, 5), CAL) == date(2026, 3, 9)
    # Monday 2 March 2026 + 15 working days: no holidays in between.
    assert clock(c.ICPC_TIMELINESS).due(date(2026, 3, 2), CAL) == date(2026, 3, 23)
    # ICPC on Tuesday 31 March 2026: Good Friday and Easter Monday fall in the 10 days.
    assert clock(c.CORE_GROUP_FIRST).due(date(2026, 3, 31), CAL) == date(2026, 4, 16)


def test_month_and_week_clocks() -> None:
    assert clock(c.CP_FIRST_REVIEW).due(date(2026, 5, 10), CAL) == date(2026, 8, 10)
    assert clock(c.CP_FIRST_REVIEW).due(date(2026, 11, 30), CAL) == date(2027, 2, 28)
    assert clock(c.CP_SUBSEQUENT_REVIEW).due(date(2026, 8, 31), CAL) == date(2027, 2, 28)
    assert clock(c.CP_PLAN_LONG_DURATION).due(date(2024, 2, 29), CAL) == date(2026, 2, 28)
    assert clock("pre_birth_referral_window").due(date(2026, 1, 1), CAL) == date(2026, 10, 8)


def test_days_overdue_are_working_days_for_working_day_clocks() -> None:
    icpc = clock(c.ICPC_TIMELINESS)
    due = date(2026, 11, 20)  # a Friday
    assert icpc.overdue_by(due, date(2026, 11, 20), CAL) == 0
    assert icpc.overdue_by(due, date(2026, 11, 23), CAL) == 1  # the weekend does not count
    review = clock(c.CP_FIRST_REVIEW)
    assert review.overdue_by(due, date(2026, 11, 23), CAL) == 3


def test_referral_days_are_days_in_england() -> None:
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (BST); in winter London is on UTC.
    assert c.local_date(datetime(2026, 6, 30, 23, 30, tzinfo=UTC)) == date(2026, 7, 1)
    assert c.local_date(datetime(2026, 12, 1, 23, 30, tzinfo=UTC)) == date(2026, 12, 1)


def test_describe_names_limit_and_start() -> None:
    assert clock(c.REFERRAL_DECISION).describe() == "1 working day from referral.received."
    assert clock(c.CP_SUBSEQUENT_REVIEW).describe() == "6 months from cp_review.held."


GOOD = """
version: "local-7"
clocks:
  - {id: referral_decision, name: Decision, limit: 1, unit: working_days}
  - {id: cp_statutory_visit, name: Visits, limit: null, unit: working_days}
"""


def test_a_partnership_file_with_a_version_key() -> None:
    clocks = c.parse_clocks(GOOD, "partnership.yaml")
    assert clocks.version == "local-7"
    assert [k.id for k in c.alerting_clocks(clocks)] == ["referral_decision"]
    assert clocks.get("referral_decision") == c.Clock("referral_decision", "Decision", 1, "working_days")


def test_loading_a_file_from_a_path(tmp_path: Path) -> None:
    file = tmp_path / "ours.yaml"
    file.write_text(GOOD, encoding="utf-8")
    clocks = c.load_clocks(file)
    assert (clocks.version, clocks.source) == ("local-7", "ours.yaml")
    with pytest.raises(c.InvalidTimescales, match="cannot read"):
        c.load_clocks(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("clocks: []", "needs a version"),
        ("version: 1\nclocks: {}", "clocks"),
        ("version: 1\nclocks: [{id: x, name: X, limit: 1, unit: fortnights}]", "unit must be"),
        ("version: 1\nclocks: [{id: x, name: X, limit: 0, unit: weeks}]", "positive whole number"),
        ("version: 1\nclocks: [{id: x, name: X, limit: true, unit: weeks}]", "positive whole number"),
        ("version: 1\nclocks: [{id: x, name: X, limit: 1.5, unit: weeks}]", "positive whole number"),
        ("version: 1\nclocks: [{id: Bad-Id, name: X, limit: 1, unit: weeks}]", "snake_case"),
        ("version: 1\nclocks: [{id: x, limit: 1, unit: weeks}]", "needs a name"),
        ("version: 1\nclocks: [{id: x, name: X, limit: 1, unit: weeks}, {id: x, name: Y, limit: 2, unit: weeks}]", "defined twice"),
        ("version: 1\nclocks: [3]", "not a mapping"),
        ("version: [unclosed", "not valid YAML"),
    ],
)
def test_unusable_files_are_refused_naming_the_problem(text: str, problem: str) -> None:
    with pytest.raises(c.InvalidTimescales, match=problem):
        c.parse_clocks(text, "bad.yaml")


@given(st.dates(date(2023, 1, 1), date(2027, 3, 31)))
def test_working_day_due_dates_are_working_days_exactly_the_limit_away(start: date) -> None:
    for clock_id in (c.REFERRAL_DECISION, c.ICPC_TIMELINESS, c.CORE_GROUP_FIRST):
        k = clock(clock_id)
        due = k.due(start, CAL)
        assert k.limit is not None
        assert CAL.working_days_between(start, due) == k.limit
        assert CAL.is_working_day(due)


# --- the alert rules, without HTTP ----------------------------------------------------

CHILD = uuid.uuid4()


def evaluate(items: a.OpenItems, today: date, due_soon: int = 2) -> list[a.Alert]:
    return a.evaluate(items, CLOCKS, CAL, today, due_soon)


def test_s47_is_due_soon_at_14_working_days_and_overdue_at_16() -> None:
    start = date(2026, 3, 2)
    s47 = a.OpenS47(uuid.uuid4(), CHILD, start, CAL.add_working_days(start, 15))
    items = a.OpenItems(s47s=[s47])
    assert evaluate(items, CAL.add_working_days(start, 12)) == []
    [soon] = evaluate(items, CAL.add_working_days(start, 14))
    assert (soon.status, soon.working_days_left, soon.days_overdue) == ("due_soon", 1, 0)
    [late] = evaluate(items, CAL.add_working_days(start, 16))
    assert (late.status, late.days_overdue, late.due_on) == ("overdue", 1, date(2026, 3, 23))


def test_cp_plan_reviews_follow_the_last_review() -> None:
    plan = a.OpenCpPlan(uuid.uuid4(), CHILD, date(2026, 5, 10), None, has_core_group=True)
    [first] = evaluate(a.OpenItems(cp_plans=[plan]), date(2026, 8, 11))
    assert (first.clock.id, first.status, first.days_overdue) == (c.CP_FIRST_REVIEW, "overdue", 1)
    reviewed = a.OpenCpPlan(plan.id, CHILD, plan.start_date, date(2026, 7, 20), has_core_group=True)
    assert evaluate(a.OpenItems(cp_plans=[reviewed]), date(2026, 8, 11)) == []
    [later] = evaluate(a.OpenItems(cp_plans=[reviewed]), date(2027, 1, 21))
    assert (later.clock.id, later.started_on, later.due_on) == (c.CP_SUBSEQUENT_REVIEW, date(2026, 7, 20), date(2027, 1, 20))


def test_disabled_or_missing_clocks_raise_nothing() -> None:
    only_decision = c.parse_clocks(GOOD, "partnership.yaml")
    plan = a.OpenCpPlan(uuid.uuid4(), CHILD, date(2020, 1, 1), None, has_core_group=False)
    assert a.evaluate(a.OpenItems(cp_plans=[plan]), only_decision, CAL, date(2026, 1, 1), 2) == []


def test_alerts_sort_by_due_date_and_page_by_cursor() -> None:
    start = date(2026, 3, 2)
    items = a.OpenItems(
        s47s=[a.OpenS47(uuid.uuid4(), CHILD, start, CAL.add_working_days(start, 15))],
        referrals=[a.OpenReferral(uuid.uuid4(), CHILD, datetime(2026, 3, 2, 9, tzinfo=UTC), None)],
        assessments=[a.OpenAssessment(uuid.uuid4(), CHILD, date(2026, 1, 5))],
    )
    alerts = evaluate(items, date(2026, 3, 24))
    assert [x.clock.id for x in alerts] == [c.REFERRAL_DECISION, c.ASSESSMENT_COMPLETION, c.ICPC_TIMELINESS]
    seen: list[a.Alert] = []
    cursor: str | None = None
    while True:
        page, cursor = a.page_of(alerts, 2, cursor)
        seen += page
        if cursor is None:
            break
    assert seen == alerts
    with pytest.raises(InvalidCursor):
        a.page_of(alerts, 2, "not-a-cursor")


def test_working_calendar_without_holidays_is_data_too() -> None:
    plain = WorkingCalendar([])
    assert clock(c.REFERRAL_DECISION).due(date(2026, 8, 28), plain) == date(2026, 8, 31)
