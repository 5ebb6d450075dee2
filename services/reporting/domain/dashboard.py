"""Dashboard figures: caseload by stage, drift alerts against the statutory clocks, timeliness
in a period and toolkit trajectories. Limits come from the timescales data (the same file
as the referral service's); each clock says where its figures come from."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

from services.reporting.domain.calendar import WorkingCalendar, add_months
from services.reporting.domain.configuration import Configuration
from services.reporting.domain.memo import Memo
from services.reporting.domain.periods import Period
from services.reporting.domain.read_model import ReadModel
from services.reporting.domain.reference import Clock
from services.reporting.domain.suppression import SUPPRESSED, primary
from services.reporting.queries.dashboard import STAGES, ClockCount, DashboardQueries
from services.reporting.settings import ReportingSettings
from shared.tokens import Principal

WORKING_DAY_CLOCKS = ("referral_decision", "referrer_feedback", "assessment_completion", "icpc_timeliness", "core_group_first")
REVIEW_CLOCKS = ("cp_first_review", "cp_subsequent_review")
NOT_ANNOUNCED = "No service announces the events this clock starts or stops on yet."


def shown(value: int, suppress: bool) -> int | str:
    return SUPPRESSED if suppress and primary(value) else value


def percent(part: int, whole: int, suppress: bool) -> float | str | None:
    if whole == 0:
        return None
    if suppress and (primary(part) or primary(whole)):
        return SUPPRESSED
    return round(100 * part / whole, 1)


class Dashboard:
    def __init__(self, queries: DashboardQueries, configuration: Configuration, settings: ReportingSettings,
                 clocks: dict[str, Clock], calendar: WorkingCalendar, toolkit_events: bool,
                 read_model: ReadModel | None = None, memo: Memo | None = None) -> None:
        self.read_model = read_model
        self.memo = memo
        self.queries = queries
        self.configuration = configuration
        self.settings = settings
        self.clocks = clocks
        self.calendar = calendar
        self.toolkit_events = toolkit_events

    async def _suppress(self, who: Principal) -> bool:
        return (await self.configuration.current()).suppress_for(who)

    async def _cached(self, key: tuple[Any, ...], compute: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        if self.memo is None or self.read_model is None:
            return await compute()
        found: dict[str, Any] = await self.memo.get((*key, await self.read_model.generation()), compute)
        return found

    async def caseload(self, who: Principal, at: date) -> dict[str, Any]:
        suppress = await self._suppress(who)
        return await self._cached(("caseload", at, suppress), lambda: self._caseload(at, suppress))

    async def _caseload(self, at: date, suppress: bool) -> dict[str, Any]:
        stages = await self.queries.caseload(at)
        return {
            "at": at, "suppressed": suppress,
            "children_by_stage": [{"stage": s, "children": shown(stages[s], suppress)} for s in STAGES],
            "children_in_statutory_work": shown(sum(n for s, n in stages.items() if s != "early_help"), suppress),
            "referrals_awaiting_decision": shown(await self.queries.awaiting_decision(at), suppress),
            "neglect_cp_plans": shown(await self.queries.neglect_plans(at), suppress),
        }

    async def alerts(self, who: Principal, at: date) -> dict[str, Any]:
        """Open items per clock on ``at``: overdue (a drift alert) and due soon."""
        suppress = await self._suppress(who)
        return await self._cached(("alerts", at, suppress), lambda: self._alerts(at, suppress))

    async def _alerts(self, at: date, suppress: bool) -> dict[str, Any]:
        soon = self.settings.due_soon_working_days
        out: list[dict[str, Any]] = []
        reviews = None
        for clock in self.clocks.values():
            entry: dict[str, Any] = {"clock": clock.id, "name": clock.name, "limit": clock.limit, "unit": clock.unit,
                                     "kind": clock.kind, "source": clock.source, "status": "counted",
                                     "reason": None, "open": None, "overdue": None, "due_soon": None}
            count: ClockCount | None = None
            if clock.kind in ("counting_window", "validity_window"):
                continue  # rules for counting and validity, not clocks that run
            if clock.limit is None:
                entry |= {"status": "not_configured", "reason": "No limit is set for this clock; set one in the timescales data."}
            elif clock.id in WORKING_DAY_CLOCKS:
                count = await self.queries.working_day_clock(
                    clock.id, at, clock.limit, soon, from_start=self.settings.assessment_clock_start == "assessment_start")
            elif clock.id in REVIEW_CLOCKS:
                if reviews is None:
                    until = self.calendar.add_working_days(at, soon)
                    reviews = await self.queries.review_clock(at, until, self._limit("cp_first_review", 3),
                                                              self._limit("cp_subsequent_review", 6))
                count = reviews[0] if clock.id == "cp_first_review" else reviews[1]
            elif clock.id == "cp_plan_long_duration":
                count = await self.queries.long_plans(at, clock.limit)
            elif clock.id == "neglect_cp_plan_minimum":
                # An alert on ending: neglect plans that ended in the last 12 months before the minimum.
                count = await self.queries.short_neglect_plans(add_months(at, -12) + timedelta(days=1), at, clock.limit)
                entry["reason"] = "open = neglect plans ended in the 12 months to the date; overdue = those that ended early."
            else:
                entry |= {"status": "not_available", "reason": NOT_ANNOUNCED}
            if count is not None:
                entry |= {"open": shown(count.open, suppress), "overdue": shown(count.overdue, suppress),
                          "due_soon": shown(count.due_soon, suppress)}
            out.append(entry)
        return {"at": at, "suppressed": suppress, "due_soon_working_days": soon, "clocks": out}

    def _limit(self, clock: str, default: int) -> int:
        found = self.clocks.get(clock)
        return found.limit if found is not None and found.limit is not None else default

    async def timeliness(self, who: Principal, period: Period) -> dict[str, Any]:
        """Per clock: items whose clock stopped in the period and the share within the limit."""
        suppress = await self._suppress(who)
        return await self._cached(("timeliness", period, suppress), lambda: self._timeliness(period, suppress))

    async def _timeliness(self, period: Period, suppress: bool) -> dict[str, Any]:
        rows: list[dict[str, Any]] = []
        first, later = await self.queries.reviews_on_time(period.start, period.end, self._limit("cp_first_review", 3),
                                                          self._limit("cp_subsequent_review", 6))
        for clock in self.clocks.values():
            if clock.limit is None or clock.kind != "deadline":
                continue
            if clock.id in WORKING_DAY_CLOCKS:
                done, timely = await self.queries.completed_on_time(
                    clock.id, period.start, period.end, clock.limit,
                    from_start=self.settings.assessment_clock_start == "assessment_start")
                status, reason = "counted", None
            elif clock.id in REVIEW_CLOCKS:
                done, timely = first if clock.id == "cp_first_review" else later
                status, reason = "counted", None
            else:
                done, timely, status, reason = 0, 0, "not_available", NOT_ANNOUNCED
            rows.append({"clock": clock.id, "name": clock.name, "limit": clock.limit, "unit": clock.unit,
                         "status": status, "reason": reason,
                         "completed": shown(done, suppress) if status == "counted" else None,
                         "on_time": shown(timely, suppress) if status == "counted" else None,
                         "percent_on_time": percent(timely, done, suppress) if status == "counted" else None})
        return {"period": {"name": period.name, "kind": period.kind, "start": period.start, "end": period.end},
                "suppressed": suppress, "clocks": rows}

    async def trajectories(self, who: Principal, period: Period) -> dict[str, Any]:
        suppress = await self._suppress(who)
        return await self._cached(("trajectories", period, suppress), lambda: self._trajectories(period, suppress))

    async def _trajectories(self, period: Period, suppress: bool) -> dict[str, Any]:
        base: dict[str, Any] = {"period": {"name": period.name, "kind": period.kind, "start": period.start, "end": period.end},
                                "suppressed": suppress, "available": self.toolkit_events, "reason": None, "tools": []}
        if not self.toolkit_events:
            base["reason"] = "Toolkit assessment events (assessment.authorised from the assessment service) do not feed this read model."
            return base
        ways = self.settings.toolkit_scale_directions
        tools: dict[str, dict[str, int]] = {}
        for tool, trajectory, n in await self.queries.trajectories(
                period.start, period.end, [t for t, w in ways.items() if w == "higher_is_worse"],
                [t for t, w in ways.items() if w == "higher_is_better"]):
            tools.setdefault(tool, {})[trajectory] = n
        base["tools"] = [{"tool": t, "children_by_trajectory": {k: shown(v, suppress) for k, v in sorted(found.items())}}
                         for t, found in sorted(tools.items())]
        return base
