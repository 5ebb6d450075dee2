"""Plain-Python rules of the reporting service: periods, suppression, calendar months, projection."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.reporting.domain.calendar import (
    WorkingCalendar,
    add_months,
    load_holidays,
    months_between,
)
from services.reporting.domain.errors import InvalidPeriod, PeriodTooLong
from services.reporting.domain.periods import collection_year, parse_period, quarters_between
from services.reporting.domain.projection import Event, project
from services.reporting.domain.suppression import primary, secondary


@pytest.mark.parametrize(("text", "start", "end"), [
    ("2025-26-Q1", date(2025, 4, 1), date(2025, 6, 30)),
    ("2025-26-Q3", date(2025, 10, 1), date(2025, 12, 31)),
    ("2025-26-Q4", date(2026, 1, 1), date(2026, 3, 31)),
    ("2044-45-Q2", date(2044, 7, 1), date(2044, 9, 30)),
    ("2025-26", date(2025, 4, 1), date(2026, 3, 31)),
    ("2025-04-01..2025-06-30", date(2025, 4, 1), date(2025, 6, 30)),
    (" 2024-02-29..2024-02-29 ", date(2024, 2, 29), date(2024, 2, 29)),
])
def test_periods(text: str, start: date, end: date) -> None:
    period = parse_period(text, max_days=800)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize("text", ["2025-26-Q0", "2025-26-Q5", "2025-27", "25-26", "2025-26-q4", "2025-13-01..2025-13-02",
                                  "2025-06-30..2025-06-01", "last quarter", "", "0000-01-Q1", "9999-00-Q4", "1999-00",
                                  "0001-01-01..0001-01-02", "9999-12-30..9999-12-31"])
def test_malformed_periods(text: str) -> None:
    with pytest.raises(InvalidPeriod):
        parse_period(text, max_days=800)


def test_ranges_longer_than_the_maximum() -> None:
    assert parse_period("2025-01-01..2025-01-31", max_days=31).days == 31
    with pytest.raises(PeriodTooLong):
        parse_period("2025-01-01..2025-02-01", max_days=31)


def test_collection_years() -> None:
    assert collection_year("2025-26") == (date(2025, 4, 1), date(2026, 3, 31))
    with pytest.raises(InvalidPeriod):
        collection_year("2025-2026")


@given(st.integers(2000, 2040), st.integers(1, 4), st.integers(0, 12))
def test_quarters_between_are_contiguous(year: int, q: int, more: int) -> None:
    first = parse_period(f"{year}-{(year + 1) % 100:02d}-Q{q}", 800)
    last_index = (q - 1) + more
    last_year, last_q = year + last_index // 4, last_index % 4 + 1
    last = parse_period(f"{last_year}-{(last_year + 1) % 100:02d}-Q{last_q}", 800)
    quarters = quarters_between(first, last)
    assert len(quarters) == more + 1
    assert quarters[0].start == first.start
    assert quarters[-1].end == last.end
    for a, b in itertools.pairwise(quarters):
        assert b.start == a.end + timedelta(days=1)


@given(st.lists(st.integers(0, 40), min_size=1, max_size=12))
def test_no_hidden_cell_can_be_worked_out_from_the_total(counts: list[int]) -> None:
    total = sum(counts)
    hidden = secondary(counts, primary(total))
    assert {i for i, n in enumerate(counts) if 1 <= n <= 5} <= hidden
    assert all(counts[i] > 0 for i in hidden)  # zero stays 0
    if not primary(total):
        # With the total shown, a hidden cell never stands alone (it would be the total minus the rest).
        assert len(hidden) != 1


@given(st.dates(date(2000, 1, 1), date(2040, 12, 31)), st.dates(date(2000, 1, 1), date(2040, 12, 31)))
def test_completed_months(a: date, b: date) -> None:
    if b < a:
        a, b = b, a
    n = months_between(a, b)
    assert add_months(a, n) <= b < add_months(a, n + 1)


def test_working_days_skip_weekends_and_bank_holidays() -> None:
    cal = WorkingCalendar(load_holidays())
    assert cal.working_days_between(date(2025, 12, 24), date(2025, 12, 29)) == 1  # 25, 26 Dec holidays; weekend
    days = {d.day: d for d in cal.days(date(2025, 12, 20), date(2026, 1, 5))}
    assert days[date(2026, 1, 5)].wd - days[date(2025, 12, 24)].wd == cal.working_days_between(date(2025, 12, 24), date(2026, 1, 5))


def test_projection_reads_defensively() -> None:
    when = datetime(2026, 1, 5, 10, tzinfo=UTC)
    writes, problem = project(Event("e1", "cp_plan.started", "referral", when, {"date": "2026-01-05"}))
    assert writes == []
    assert problem == "cp_plan_id is missing"
    writes, problem = project(Event("e2", "made.up", "referral", when, {}))
    assert (writes, problem) == ([], None)
    writes, problem = project(Event("e3", "assessment.authorised", "assessment", when, {"assessment_id": "x"}))
    assert writes == []
    assert problem == "toolkit_id is missing"


def test_the_census_writer_describes_the_child_as_at_the_reference_date() -> None:
    import uuid
    import xml.etree.ElementTree as ET

    from services.reporting.domain.census import CensusWriter, Window
    from services.reporting.domain.reference import load_census_years

    child, episode, plan = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    batch = {
        "people": [{"child_id": child, "la_child_id": None, "upn": None, "upn_unknown": "UN1", "birth_date": date(2026, 4, 20),
                    "expected_birth_date": date(2026, 4, 25), "death_date": None, "gender": "2", "ethnicity": None,
                    "disabilities": None}],
        "episodes": [{"child_id": child, "episode_id": episode, "referral_date": date(2025, 11, 3), "referral_source": "3B",
                      "primary_need": "N1", "nfa": False, "closure_date": date(2026, 5, 1), "reason_for_closure": "RC7"}],
        "assessments": [{"episode_id": episode, "start_date": date(2025, 11, 4), "authorised_date": date(2026, 4, 2), "factors": "16A"}],
        "s47s": [], "cin_plans": [],
        "cp_plans": [{"episode_id": episode, "cp_plan_id": plan, "start_date": date(2026, 1, 12), "end_date": None,
                      "initial_category": "NEG", "end_category": None, "previous_plans": 0}],
        "reviews": [{"cp_plan_id": plan, "review_date": date(2026, 4, 10), "latest_category": "EMO"}],
    }
    year = load_census_years()["2025-26"]
    xml = CensusWriter(year, Window(date(2025, 4, 1), date(2026, 3, 31))).children(batch)
    child_el = ET.fromstring(xml)  # noqa: S314
    ids = child_el.find("ChildIdentifiers")
    assert ids is not None
    assert ids.findtext("LAchildID") == child.hex[:20].upper()  # no LA child id recorded: the backbone's own
    assert (ids.findtext("PersonBirthDate"), ids.findtext("ExpectedPersonBirthDate"), ids.findtext("Sex")) == (None, "2026-04-25", "U")
    assert child_el.findtext("ChildCharacteristics/Ethnicity") == "NOBT"
    assert child_el.find("ChildCharacteristics/Disabilities") is None
    details = child_el.find("CINdetails")
    assert details is not None
    assert (details.findtext("CINclosureDate"), details.findtext("ReasonForClosure"), details.findtext("ReferralNFA")) == (None, None, "0")
    assessment = details.find("Assessments")
    assert assessment is not None  # open at the reference date, started in the year
    assert assessment.findtext("AssessmentAuthorisationDate") is None
    assert assessment.find("FactorsIdentifiedAtAssessment") is None
    cpp = details.find("ChildProtectionPlans")
    assert cpp is not None
    assert (cpp.findtext("LatestCategoryOfAbuse"), cpp.find("Reviews")) == ("NEG", None)
