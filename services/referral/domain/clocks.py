"""Timescale clocks: versioned definitions loaded from data, and their due dates.

The clocks (limits, units, sources) live in ``reference/timescales.yaml`` or a
partnership's own file of the same shape: configuration, never constants. A
clock whose ``limit`` is null is listed but not in force until the partnership
sets one. Working days come from the working-day calendar (bank holidays are
data too); months are calendar months clamped to the month's end.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

import yaml

from services.referral.domain.calendar import REFERENCE, WorkingCalendar, add_months

Unit = Literal["working_days", "weeks", "months"]
UNITS: tuple[Unit, ...] = ("working_days", "weeks", "months")
DEFAULT_FILE = REFERENCE / "timescales.yaml"
#: Working days are counted in England's local calendar, not UTC: a referral
#: received at 00:30 on a summer Tuesday was received on Tuesday.
LONDON = ZoneInfo("Europe/London")
_VERSION_COMMENT = re.compile(r"^#\s*Version:\s*(\S+)", re.IGNORECASE | re.MULTILINE)

# The clocks the alert engine tracks (DOMAIN.md §4); the others in the file
# are counting windows, validity windows or early help clocks used elsewhere.
REFERRAL_DECISION = "referral_decision"
REFERRER_FEEDBACK = "referrer_feedback"
ASSESSMENT_COMPLETION = "assessment_completion"
ICPC_TIMELINESS = "icpc_timeliness"
CP_FIRST_REVIEW = "cp_first_review"
CP_SUBSEQUENT_REVIEW = "cp_subsequent_review"
CORE_GROUP_FIRST = "core_group_first"
CP_PLAN_LONG_DURATION = "cp_plan_long_duration"
ALERTING = (
    REFERRAL_DECISION, REFERRER_FEEDBACK, ASSESSMENT_COMPLETION, ICPC_TIMELINESS,
    CP_FIRST_REVIEW, CP_SUBSEQUENT_REVIEW, CORE_GROUP_FIRST, CP_PLAN_LONG_DURATION,
)


class InvalidTimescales(ValueError):
    """The timescales file cannot be used; the clocks already in force stay."""


def local_date(moment: datetime) -> date:
    """The day in England on which an instant fell."""
    return moment.astimezone(LONDON).date()


@dataclass(frozen=True)
class Clock:
    id: str
    name: str
    limit: int | None
    unit: Unit
    kind: str = "deadline"
    start_event: str | None = None
    end_event: str | None = None
    configurable: bool = True
    source: str | None = None

    @property
    def enabled(self) -> bool:
        return self.limit is not None

    @property
    def in_working_days(self) -> bool:
        return self.unit == "working_days"

    def due(self, started_on: date, calendar: WorkingCalendar) -> date:
        """The last day on which the clock is still met."""
        if self.limit is None:
            raise ValueError(f"clock {self.id} has no limit set: it is not in force")
        if self.unit == "working_days":
            return calendar.add_working_days(started_on, self.limit)
        if self.unit == "weeks":
            return started_on + timedelta(weeks=self.limit)
        return add_months(started_on, self.limit)

    def overdue_by(self, due_on: date, today: date, calendar: WorkingCalendar) -> int:
        """Days past due: working days for a working-day clock, calendar days otherwise."""
        if today <= due_on:
            return 0
        if self.in_working_days:
            return calendar.working_days_between(due_on, today)
        return (today - due_on).days

    def describe(self) -> str:
        if self.limit is None:
            return f"{self.name}: no limit set yet (not in force)."
        unit = self.unit.replace("_", " ")
        if self.limit == 1:
            unit = unit.removesuffix("s")
        start = f" from {self.start_event}" if self.start_event else ""
        return f"{self.limit} {unit}{start}."


@dataclass(frozen=True)
class ClockSet:
    """The clocks of one version of the timescales file."""

    version: str
    source: str
    clocks: tuple[Clock, ...]

    def get(self, clock_id: str) -> Clock | None:
        return next((c for c in self.clocks if c.id == clock_id), None)

    def in_force(self, clock_id: str) -> Clock | None:
        """The clock when it exists and has a limit; ``None`` turns its alerts off."""
        clock = self.get(clock_id)
        return clock if clock is not None and clock.enabled else None

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(c.id for c in self.clocks)


def _clock(raw: Any, position: int) -> Clock:
    if not isinstance(raw, Mapping):
        raise InvalidTimescales(f"clock #{position} is not a mapping")
    clock_id, name, unit, limit = raw.get("id"), raw.get("name"), raw.get("unit"), raw.get("limit")
    if not isinstance(clock_id, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,59}", clock_id):
        raise InvalidTimescales(f"clock #{position} needs an id in snake_case")
    if not isinstance(name, str) or not name.strip():
        raise InvalidTimescales(f"clock {clock_id} needs a name")
    if unit not in UNITS:
        raise InvalidTimescales(f"clock {clock_id}: unit must be one of {', '.join(UNITS)}")
    # bool is an int in Python: refuse `limit: true` explicitly.
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InvalidTimescales(f"clock {clock_id}: limit must be a positive whole number or null")
    return Clock(
        id=clock_id, name=name.strip(), limit=limit, unit=cast(Unit, unit),
        kind=str(raw.get("kind") or "deadline"),
        start_event=raw.get("start_event"), end_event=raw.get("end_event"),
        configurable=bool(raw.get("configurable", True)), source=raw.get("source"),
    )


def parse_clocks(text: str, source: str) -> ClockSet:
    """Validate a timescales document; raises :class:`InvalidTimescales` naming the first problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidTimescales("the timescales file is not valid YAML") from exc
    if not isinstance(data, Mapping) or not isinstance(data.get("clocks"), list):
        raise InvalidTimescales("the timescales file needs a `clocks:` list")
    version = data.get("version")
    if version is None:
        # The bundled file carries its version in the header comment only.
        found = _VERSION_COMMENT.search(text)
        version = found.group(1) if found else None
    if not version:
        raise InvalidTimescales("the timescales file needs a version (`version:` or a `# Version:` header line)")
    clocks = tuple(_clock(raw, n) for n, raw in enumerate(data["clocks"], start=1))
    seen: set[str] = set()
    for clock in clocks:
        if clock.id in seen:
            raise InvalidTimescales(f"clock {clock.id} is defined twice")
        seen.add(clock.id)
    return ClockSet(version=str(version), source=source, clocks=clocks)


def _source_name(path: Path) -> str:
    """The file as named in responses: relative to the service, never a machine path."""
    service_dir = REFERENCE.parent
    try:
        return path.resolve().relative_to(service_dir).as_posix()
    except ValueError:
        return path.name


def load_clocks(path: str | Path | None = None) -> ClockSet:
    """Read the clocks from ``path`` (default: the bundled reference file)."""
    file = Path(path) if path else DEFAULT_FILE
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidTimescales(f"cannot read the timescales file {file.name}") from exc
    return parse_clocks(text, _source_name(file))


def alerting_clocks(clocks: ClockSet) -> Iterable[Clock]:
    """The tracked clocks that are in force, in the order the alert engine knows them."""
    for clock_id in ALERTING:
        clock = clocks.in_force(clock_id)
        if clock is not None:
            yield clock
