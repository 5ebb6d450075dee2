from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.referral.domain.calendar import WorkingCalendar, add_months, england_and_wales


def test_one_working_day_after_friday_is_monday() -> None:
    cal = WorkingCalendar([])
    assert cal.add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)


def test_bank_holidays_are_skipped() -> None:
    cal = england_and_wales()
    # Thursday 2 April 2026 + 1 working day: Good Friday and Easter Monday are holidays.
    assert cal.add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 7)
    # Christmas 2026: 25th Friday, 28th substitute Monday.
    assert cal.add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)


def test_45_working_days() -> None:
    cal = england_and_wales()
    assert cal.add_working_days(date(2026, 1, 5), 45) == date(2026, 3, 9)


def test_months_clamp_to_month_end() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2026, 8, 15), 6) == date(2027, 2, 15)


@given(st.dates(date(2023, 1, 1), date(2027, 6, 30)), st.integers(0, 60))
def test_adding_then_counting_round_trips(start: date, days: int) -> None:
    cal = england_and_wales()
    end = cal.add_working_days(start, days)
    assert cal.working_days_between(start, end) == days
    assert days == 0 or cal.is_working_day(end)
    assert end - start >= timedelta(days=days)
