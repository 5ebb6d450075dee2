"""Working days and calendar months for statutory clocks.

Working days skip weekends and the configured bank holidays (data, not code).
Months are calendar months, same day of month, clamped to the month's end.
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterable
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import yaml

REFERENCE = Path(__file__).resolve().parent.parent / "reference"


class WorkingCalendar:
    def __init__(self, holidays: Iterable[date]) -> None:
        self.holidays = frozenset(holidays)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: date, days: int) -> date:
        """The date ``days`` working days after ``start`` (start itself not counted)."""
        if days < 0:
            raise ValueError("days must not be negative")
        current = start
        remaining = days
        while remaining:
            current += timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count


def add_months(start: date, months: int) -> date:
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, _calendar.monthrange(year, month)[1])
    return date(year, month, day)


@cache
def england_and_wales() -> WorkingCalendar:
    with (REFERENCE / "bank_holidays_england_wales.yaml").open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return WorkingCalendar(date.fromisoformat(d) for days in data["dates"].values() for d in days)
