"""Reporting periods, named as in reference/quarterly_dataset.yaml. Plain Python.

- ``2025-26-Q4``: a financial-year quarter (Q1 April-June ... Q4 January-March);
- ``2025-26``: a financial year, 1 April to 31 March;
- ``2025-04-01..2025-06-30``: any inclusive range of dates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from services.reporting.domain.calendar import FIRST_DAY, LAST_DAY, add_months
from services.reporting.domain.errors import InvalidPeriod, PeriodTooLong

_YEAR = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-(\d{2})-Q([1-4])$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
EXAMPLES = "a quarter such as 2025-26-Q4, a financial year such as 2025-26, or a range such as 2025-04-01..2025-06-30"


@dataclass(frozen=True)
class Period:
    name: str
    kind: str  # quarter | year | range
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def rolling_12_months(self) -> tuple[date, date]:
        """The 12 months ending at the period end: (end - 12 months, end], as inclusive dates."""
        return add_months(self.end, -12) + timedelta(days=1), self.end


def _supported(start: date, end: date) -> None:
    # The day table (working days, calendar months) covers these years; clocks cannot run outside.
    if start < FIRST_DAY or end > LAST_DAY:
        raise InvalidPeriod(f"Periods from {FIRST_DAY} to {LAST_DAY} are supported.")


def financial_year_start(first_year: int, second: str) -> date:
    if not FIRST_DAY.year <= first_year < LAST_DAY.year:
        raise InvalidPeriod(f"Financial years from {FIRST_DAY.year}-{(FIRST_DAY.year + 1) % 100:02d} to "
                            f"{LAST_DAY.year - 1}-{LAST_DAY.year % 100:02d} are supported.")
    if f"{(first_year + 1) % 100:02d}" != second:
        raise InvalidPeriod(f"A financial year runs over two consecutive years, e.g. {first_year}-{(first_year + 1) % 100:02d}.")
    return date(first_year, 4, 1)


def quarter(first_year: int, q: int) -> tuple[date, date]:
    start = add_months(date(first_year, 4, 1), 3 * (q - 1))
    return start, add_months(start, 3) - timedelta(days=1)


def parse_period(text: str, max_days: int) -> Period:
    """The period a caller named; refuses malformed names and ranges longer than ``max_days``."""
    text = text.strip()
    if m := _QUARTER.match(text):
        first = int(m.group(1))
        financial_year_start(first, m.group(2))
        start, end = quarter(first, int(m.group(3)))
        return Period(text, "quarter", start, end)
    if m := _YEAR.match(text):
        start = financial_year_start(int(m.group(1)), m.group(2))
        return Period(text, "year", start, date(start.year + 1, 3, 31))
    if m := _RANGE.match(text):
        try:
            start, end = date.fromisoformat(m.group(1)), date.fromisoformat(m.group(2))
        except ValueError as exc:
            raise InvalidPeriod(f"Not a calendar date: {text}.") from exc
        if end < start:
            raise InvalidPeriod("A range ends on or after its start.")
        _supported(start, end)
        period = Period(text, "range", start, end)
        if period.days > max_days:
            raise PeriodTooLong(f"The range covers {period.days} days; at most {max_days} are allowed.")
        return period
    raise InvalidPeriod(f"Name the period as {EXAMPLES}.")


def quarters_between(first: Period, last: Period) -> list[Period]:
    """The financial quarters from the one holding ``first.start`` to the one holding ``last.end``."""
    def holding(day: date) -> tuple[int, int]:
        fy = day.year if day.month >= 4 else day.year - 1
        return fy, (day.month - 4) % 12 // 3 + 1

    fy, q = holding(first.start)
    end_fy, end_q = holding(last.end)
    out: list[Period] = []
    while (fy, q) <= (end_fy, end_q):
        start, end = quarter(fy, q)
        out.append(Period(f"{fy}-{(fy + 1) % 100:02d}-Q{q}", "quarter", start, end))
        fy, q = (fy, q + 1) if q < 4 else (fy + 1, 1)
    return out


def collection_year(text: str) -> tuple[date, date]:
    """A census collection year ``2025-26``: 1 April 2025 to the reference date 31 March 2026."""
    m = _YEAR.match(text.strip())
    if not m:
        raise InvalidPeriod("Name the collection year as e.g. 2025-26.", field="query.year")
    try:
        start = financial_year_start(int(m.group(1)), m.group(2))
    except InvalidPeriod as exc:
        raise InvalidPeriod(exc.detail, field="query.year") from exc
    return start, date(start.year + 1, 3, 31)
