"""Drift and delay alerts: which statutory clocks are overdue or about to be.

The queries gather the open items (a few set-based reads, already limited to
the children the caller may see); the rules here turn them into alerts with
the clocks in force and the working-day calendar. An alert is a prompt, never
a refusal: overdue CP reviews are drift (DOMAIN.md INV-16).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, Protocol

from services.referral.domain import clocks as c
from services.referral.domain.calendar import WorkingCalendar
from services.referral.domain.errors import AgencyNotFound, ChildNotFound
from shared.audit import Audit
from shared.errors import Unprocessable
from shared.pagination import InvalidCursor, pack_cursor, unpack_cursor
from shared.tokens import Principal

Status = Literal["overdue", "due_soon"]
RecordType = Literal["referral", "assessment", "s47", "cp_plan"]

#: Which query feeds which clocks: a clock filter skips the reads it does not need.
REFERRAL_CLOCKS = frozenset({c.REFERRAL_DECISION, c.REFERRER_FEEDBACK})
ASSESSMENT_CLOCKS = frozenset({c.ASSESSMENT_COMPLETION})
S47_CLOCKS = frozenset({c.ICPC_TIMELINESS})
CP_PLAN_CLOCKS = frozenset({c.CP_FIRST_REVIEW, c.CP_SUBSEQUENT_REVIEW, c.CORE_GROUP_FIRST, c.CP_PLAN_LONG_DURATION})


class UnknownClock(Unprocessable):
    slug, title = "unknown-clock", "No such clock in the timescales in force"


# --- open items, as the queries find them ------------------------------------------

@dataclass(frozen=True)
class OpenReferral:
    """A referral still waiting for its decision, or decided and not yet fed back."""

    id: uuid.UUID
    child_id: uuid.UUID
    received_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True)
class OpenAssessment:
    """An assessment not yet authorised, in an open episode."""

    id: uuid.UUID
    child_id: uuid.UUID
    referral_date: date


@dataclass(frozen=True)
class OpenS47:
    """An s47 enquiry with neither an ICPC date nor ICPC-not-required."""

    id: uuid.UUID
    child_id: uuid.UUID
    start_date: date
    icpc_target_date: date


@dataclass(frozen=True)
class OpenCpPlan:
    id: uuid.UUID
    child_id: uuid.UUID
    start_date: date
    last_review_on: date | None
    has_core_group: bool


@dataclass
class OpenItems:
    referrals: list[OpenReferral] = field(default_factory=list)
    assessments: list[OpenAssessment] = field(default_factory=list)
    s47s: list[OpenS47] = field(default_factory=list)
    cp_plans: list[OpenCpPlan] = field(default_factory=list)


@dataclass(frozen=True)
class Filters:
    child_id: uuid.UUID | None = None
    agency_id: uuid.UUID | None = None
    status: Status | None = None
    clock: str | None = None

    def wants(self, clock_ids: frozenset[str]) -> bool:
        return self.clock is None or self.clock in clock_ids


class AlertQueriesPort(Protocol):
    async def open_items(self, who: Principal, filters: Filters) -> OpenItems: ...

    async def child_is_visible(self, who: Principal, child_id: uuid.UUID) -> bool: ...

    async def agency_exists(self, agency_id: uuid.UUID) -> bool: ...


# --- alerts ------------------------------------------------------------------------

@dataclass(frozen=True)
class Alert:
    clock: c.Clock
    child_id: uuid.UUID
    record_type: RecordType
    record_id: uuid.UUID
    started_on: date
    due_on: date
    status: Status
    days_overdue: int
    working_days_left: int

    @property
    def key(self) -> tuple[date, str, str]:
        """Stable order: most overdue first, then clock, then record."""
        return self.due_on, self.clock.id, str(self.record_id)


@dataclass(frozen=True)
class _Started:
    clock_id: str
    child_id: uuid.UUID
    record_type: RecordType
    record_id: uuid.UUID
    started_on: date
    #: A due date recorded on the item itself, which wins over the clock's arithmetic.
    recorded_due_on: date | None = None


def _started(items: OpenItems) -> Iterable[_Started]:
    for r in items.referrals:
        if r.decided_at is None:
            # Counted from receipt in England's calendar, not from our insert.
            yield _Started(c.REFERRAL_DECISION, r.child_id, "referral", r.id, c.local_date(r.received_at))
        else:
            yield _Started(c.REFERRER_FEEDBACK, r.child_id, "referral", r.id, c.local_date(r.decided_at))
    for a in items.assessments:
        yield _Started(c.ASSESSMENT_COMPLETION, a.child_id, "assessment", a.id, a.referral_date)
    for s in items.s47s:
        # The census InitialCPCtarget was fixed when the enquiry started (15 working days,
        # never a weekend: DfE 8870Q); the alert keeps to the date the partners were given.
        yield _Started(c.ICPC_TIMELINESS, s.child_id, "s47", s.id, s.start_date, s.icpc_target_date)
    for p in items.cp_plans:
        if p.last_review_on is None:
            yield _Started(c.CP_FIRST_REVIEW, p.child_id, "cp_plan", p.id, p.start_date)
        else:
            yield _Started(c.CP_SUBSEQUENT_REVIEW, p.child_id, "cp_plan", p.id, p.last_review_on)
        if not p.has_core_group:
            # The plan starts on the day of the ICPC (DfE 2885).
            yield _Started(c.CORE_GROUP_FIRST, p.child_id, "cp_plan", p.id, p.start_date)
        yield _Started(c.CP_PLAN_LONG_DURATION, p.child_id, "cp_plan", p.id, p.start_date)


def evaluate(
    items: OpenItems,
    clocks: c.ClockSet,
    calendar: WorkingCalendar,
    today: date,
    due_soon_working_days: int,
) -> list[Alert]:
    """Alerts for the open items: overdue, or due within ``due_soon_working_days`` working days."""
    alerts: list[Alert] = []
    for item in _started(items):
        clock = clocks.in_force(item.clock_id)
        if clock is None:
            continue
        due_on = item.recorded_due_on or clock.due(item.started_on, calendar)
        if today > due_on:
            status: Status = "overdue"
            left = 0
        else:
            left = calendar.working_days_between(today, due_on)
            if left > due_soon_working_days:
                continue
            status = "due_soon"
        alerts.append(Alert(
            clock=clock, child_id=item.child_id, record_type=item.record_type, record_id=item.record_id,
            started_on=item.started_on, due_on=due_on, status=status,
            days_overdue=clock.overdue_by(due_on, today, calendar), working_days_left=left,
        ))
    alerts.sort(key=lambda a: a.key)
    return alerts


def select_alerts(alerts: Iterable[Alert], filters: Filters) -> list[Alert]:
    return [
        a for a in alerts
        if (filters.status is None or a.status == filters.status)
        and (filters.clock is None or a.clock.id == filters.clock)
    ]


def encode_cursor(alert: Alert) -> str:
    return pack_cursor([alert.due_on.isoformat(), alert.clock.id, str(alert.record_id)])


def decode_cursor(cursor: str) -> tuple[date, str, str]:
    raw = unpack_cursor(cursor, 3)
    try:
        return date.fromisoformat(raw[0]), str(raw[1]), str(uuid.UUID(raw[2]))
    except (ValueError, TypeError) as exc:
        raise InvalidCursor("Use the cursor exactly as given in the Link header.") from exc


def page_of(alerts: Sequence[Alert], limit: int, cursor: str | None) -> tuple[list[Alert], str | None]:
    """A page after ``cursor`` in due-date order; alerts are recomputed on every call, so the
    cursor is a position in that order (due date, clock, record), not a row offset."""
    after = decode_cursor(cursor) if cursor else None
    remaining = [a for a in alerts if after is None or a.key > after]
    page = remaining[:limit]
    return page, encode_cursor(page[-1]) if len(remaining) > limit else None


@dataclass(frozen=True)
class SummaryLine:
    clock: c.Clock
    overdue: int
    due_soon: int


def summarise(alerts: Iterable[Alert], clocks: c.ClockSet) -> list[SummaryLine]:
    """Counts by clock and status, one line per tracked clock in force (zeros included)."""
    counts = Counter((a.clock.id, a.status) for a in alerts)
    return [
        SummaryLine(clock, counts[(clock.id, "overdue")], counts[(clock.id, "due_soon")])
        for clock in c.alerting_clocks(clocks)
    ]


class Alerts:
    """Reads alerts for the caller: scoped, filtered and audited."""

    def __init__(
        self,
        queries: AlertQueriesPort,
        clocks: c.ClockSet,
        calendar: WorkingCalendar,
        due_soon_working_days: int,
        audit: Audit,
    ) -> None:
        self.queries = queries
        self.clocks = clocks
        self.calendar = calendar
        self.due_soon_working_days = due_soon_working_days
        self.audit = audit

    async def _alerts(self, who: Principal, today: date, filters: Filters) -> list[Alert]:
        if filters.clock is not None and filters.clock not in self.clocks.ids:
            raise UnknownClock(f"No clock {filters.clock!r} in timescales {self.clocks.version}; see GET /v1/timescales.")
        if filters.agency_id is not None and not await self.queries.agency_exists(filters.agency_id):
            raise AgencyNotFound(f"No agency {filters.agency_id}.")
        items = await self.queries.open_items(who, filters)
        alerts = evaluate(items, self.clocks, self.calendar, today, self.due_soon_working_days)
        return select_alerts(alerts, filters)

    async def page(
        self, who: Principal, today: date, filters: Filters, limit: int, cursor: str | None
    ) -> tuple[list[Alert], str | None]:
        alerts, next_cursor = page_of(await self._alerts(who, today, filters), limit, cursor)
        if alerts:
            self.audit.record(who, "list", "alert", [a.child_id for a in alerts])
        return alerts, next_cursor

    async def of_child(
        self, who: Principal, child_id: uuid.UUID, today: date, filters: Filters
    ) -> list[Alert]:
        if not await self.queries.child_is_visible(who, child_id):
            raise ChildNotFound(f"No child {child_id} visible to your agency.")
        alerts = await self._alerts(who, today, Filters(child_id, None, filters.status, filters.clock))
        self.audit.record(who, "list", "alert", [child_id])
        return alerts

    async def summary(self, who: Principal, today: date, agency_id: uuid.UUID | None) -> list[SummaryLine]:
        alerts = await self._alerts(who, today, Filters(agency_id=agency_id))
        if alerts:
            # Counts only, but built from child-level records: say whose.
            self.audit.record(who, "summary", "alert", [a.child_id for a in alerts])
        return summarise(alerts, self.clocks)
