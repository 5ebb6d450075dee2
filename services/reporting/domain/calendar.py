"""Calendar facts for clocks that run in SQL: working days and calendar months.

Plain Python. Working days skip weekends and the configured bank holidays
(data, not code); months are calendar months, same day of month, clamped to
the month's end (as the referral service counts them). The reporting
database holds one row per day (``calendar_day``) so that timeliness and
durations are computed by the database, never by loading rows.
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import yaml

REFERENCE = Path(__file__).resolve().parent.parent / "reference"
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2045, 12, 31)


def load_holidays(path: str | Path | None = None) -> frozenset[date]:
    with Path(path or REFERENCE / "bank_holidays_england_wales.yaml").open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return frozenset(date.fromisoformat(d) for days in data["dates"].values() for d in days)


def ym(day: date) -> int:
    return day.year * 12 + day.month - 1


def last_of_month(day: date) -> bool:
    return day.day == _calendar.monthrange(day.year, day.month)[1]


def add_months(start: date, months: int) -> date:
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, _calendar.monthrange(year, month)[1]))


def months_between(start: date, end: date) -> int:
    """Completed calendar months from ``start`` to ``end`` (``end >= add_months(start, n)``)."""
    months = ym(end) - ym(start)
    if end.day < start.day and not last_of_month(end):
        months -= 1
    return months


@dataclass(frozen=True)
class Day:
    day: date
    ord: int
    wd: int
    ym: int
    dom: int
    last_dom: bool

    def row(self) -> dict[str, object]:
        return {"day": self.day, "ord": self.ord, "wd": self.wd, "ym": self.ym, "dom": self.dom, "last_dom": self.last_dom}


class WorkingCalendar:
    def __init__(self, holidays: Iterable[date]) -> None:
        self.holidays = frozenset(holidays)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
        count, current = 0, start
        while current < end:
            current += timedelta(days=1)
            count += self.is_working_day(current)
        return count

    def add_working_days(self, start: date, days: int) -> date:
        current, remaining = start, days
        while remaining > 0:
            current += timedelta(days=1)
            remaining -= self.is_working_day(current)
        return current

    def days(self, first: date = FIRST_DAY, last: date = LAST_DAY) -> Iterator[Day]:
        wd, current = 0, first
        while current <= last:
            wd += self.is_working_day(current)
            yield Day(current, current.toordinal(), wd, ym(current), current.day, last_of_month(current))
            current += timedelta(days=1)
