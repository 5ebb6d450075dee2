"""Dashboard figures as SQL: caseload by stage, clocks open and overdue, timeliness in a period.

Every figure is one aggregate statement over indexed columns; nothing loads rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Integer, and_, case, func, literal, not_, or_, select, union_all
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel.ext.asyncio.session import AsyncSession

from services.reporting.domain.calendar import last_of_month, ym
from services.reporting.models import RmCoreGroup
from services.reporting.queries.dataset import (
    ASSESSMENT,
    CAL,
    CIN,
    EARLY_HELP,
    EPISODE,
    PLAN,
    REFERRAL,
    REVIEW,
    S47,
    category_at,
    d,
    flag,
    months_between,
    open_at,
    trajectory_units,
    within_months,
)

CORE = RmCoreGroup.__table__  # type: ignore[attr-defined]

STAGES = ("cp_plan", "cin_plan", "s47_enquiry", "assessment", "open_episode_other", "early_help")


@dataclass(frozen=True)
class ClockCount:
    open: int
    overdue: int
    due_soon: int


def _wd_at(day: date) -> ColumnElement[Any]:
    return select(CAL.c.wd).where(CAL.c.day == d(day)).scalar_subquery()


class DashboardQueries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _execute(self, stmt: Any, params: Any = None) -> Any:
        """Core statements run on the session's connection (same transaction)."""
        connection = await self.session.connection()
        return await connection.execute(stmt, params) if params is not None else await connection.execute(stmt)

    async def _one(self, stmt: Any) -> tuple[int, ...]:
        row = (await self._execute(stmt)).one()
        return tuple(int(v or 0) for v in row)

    # --- caseload -----------------------------------------------------------------------------

    async def caseload(self, at: date) -> dict[str, int]:
        """Children by the furthest stage they are in on ``at`` (each child once; early help last)."""
        day = d(at)
        s47_open = and_(S47.c.start_date <= day, or_(S47.c.icpc_date.is_(None), S47.c.icpc_date > day),
                        or_(S47.c.concluded_date.is_(None), S47.c.concluded_date > day))
        assessment_open = and_(ASSESSMENT.c.start_date <= day,
                               or_(ASSESSMENT.c.authorised_date.is_(None), ASSESSMENT.c.authorised_date > day))
        episode_open = and_(EPISODE.c.referral_date <= day, or_(EPISODE.c.closure_date.is_(None), EPISODE.c.closure_date > day),
                            or_(EPISODE.c.nfa.is_(None), not_(EPISODE.c.nfa)))
        parts = union_all(
            select(PLAN.c.child_id, literal(0, Integer).label("rank")).where(open_at(PLAN, day)),
            select(CIN.c.child_id, literal(1, Integer)).where(open_at(CIN, day)),
            select(S47.c.child_id, literal(2, Integer)).where(s47_open),
            select(ASSESSMENT.c.child_id, literal(3, Integer)).where(assessment_open),
            select(EPISODE.c.child_id, literal(4, Integer)).where(episode_open),
            select(EARLY_HELP.c.child_id, literal(5, Integer)).where(
                EARLY_HELP.c.start_date <= day, or_(EARLY_HELP.c.closure_date.is_(None), EARLY_HELP.c.closure_date > day)),
        ).subquery("stages")
        per_child = select(func.min(parts.c.rank).label("rank")).where(parts.c.child_id.is_not(None)).group_by(parts.c.child_id).subquery()
        rows = (await self._execute(select(per_child.c.rank, func.count()).group_by(per_child.c.rank))).all()
        counts = dict.fromkeys(STAGES, 0)
        for rank, n in rows:
            counts[STAGES[int(rank)]] = int(n)
        return counts

    async def awaiting_decision(self, at: date) -> int:
        day = d(at)
        stmt = select(func.count()).where(REFERRAL.c.received_date <= day,
                                          or_(REFERRAL.c.decided_date.is_(None), REFERRAL.c.decided_date > day))
        return (await self._one(stmt))[0]

    async def neglect_plans(self, at: date) -> int:
        day = d(at)
        stmt = select(func.count()).where(open_at(PLAN, day), category_at(PLAN, day) == "NEG")
        return (await self._one(stmt))[0]

    # --- clocks: open items now -----------------------------------------------------------------

    async def working_day_clock(self, clock: str, at: date, limit: int, soon: int, from_start: bool = False) -> ClockCount:
        """Open items of a working-day clock on ``at``: how many, how many past the limit, how many
        due within ``soon`` working days."""
        day = d(at)
        start = CAL.alias("c_start")
        if clock == "referral_decision":
            source: Any = REFERRAL.join(start, start.c.day == REFERRAL.c.received_date)
            where: Any = and_(REFERRAL.c.received_date <= day, or_(REFERRAL.c.decided_date.is_(None), REFERRAL.c.decided_date > day))
        elif clock == "referrer_feedback":
            source = REFERRAL.join(start, start.c.day == REFERRAL.c.decided_date)
            where = and_(REFERRAL.c.decided_date <= day, or_(REFERRAL.c.feedback_date.is_(None), REFERRAL.c.feedback_date > day))
        elif clock == "assessment_completion":
            clock_start = ASSESSMENT.c.start_date if from_start else EPISODE.c.referral_date
            source = ASSESSMENT.join(EPISODE, EPISODE.c.episode_id == ASSESSMENT.c.episode_id).join(start, start.c.day == clock_start)
            where = and_(ASSESSMENT.c.start_date <= day,
                         or_(ASSESSMENT.c.authorised_date.is_(None), ASSESSMENT.c.authorised_date > day),
                         or_(EPISODE.c.closure_date.is_(None), EPISODE.c.closure_date > day))
        elif clock == "icpc_timeliness":
            source = S47.join(start, start.c.day == S47.c.start_date)
            where = and_(S47.c.start_date <= day, or_(S47.c.icpc_date.is_(None), S47.c.icpc_date > day),
                         or_(S47.c.concluded_date.is_(None), S47.c.concluded_date > day))
        elif clock == "core_group_first":
            met = select(CORE.c.cp_plan_id).where(CORE.c.held_date <= day)
            source = PLAN.join(start, start.c.day == PLAN.c.start_date)
            where = and_(open_at(PLAN, day), PLAN.c.cp_plan_id.not_in(met))
        else:
            raise KeyError(clock)
        elapsed = _wd_at(at) - start.c.wd
        stmt = select(func.count(), func.sum(flag(elapsed > limit)),
                      func.sum(flag(and_(elapsed <= limit, limit - elapsed <= soon)))).select_from(source).where(where)
        return ClockCount(*(await self._one(stmt)))

    async def review_clock(self, at: date, soon_until: date, first: int, later: int) -> tuple[ClockCount, ClockCount]:
        """Open plans waiting for their first review, and for a later one: how many, overdue, due soon."""
        day = d(at)
        last = (select(func.max(REVIEW.c.review_date)).where(REVIEW.c.cp_plan_id == PLAN.c.cp_plan_id,
                                                             REVIEW.c.review_date <= day).scalar_subquery())
        base = CAL.alias("c_last")
        limit = case((last.is_(None), first), else_=later)

        def past(when: date) -> ColumnElement[bool]:
            return not_(or_(ym(when) < base.c.ym + limit, and_(ym(when) == base.c.ym + limit, when.day <= base.c.dom)))

        rows = (await self._execute(
            select(last.is_(None).label("first"), func.count(), func.sum(flag(past(at))),
                   func.sum(flag(and_(not_(past(at)), past(soon_until)))))
            .select_from(PLAN.join(base, base.c.day == func.coalesce(last, PLAN.c.start_date)))
            .where(open_at(PLAN, day)).group_by(last.is_(None))
        )).all()
        found = {bool(r[0]): ClockCount(int(r[1] or 0), int(r[2] or 0), int(r[3] or 0)) for r in rows}
        empty = ClockCount(0, 0, 0)
        return found.get(True, empty), found.get(False, empty)

    async def long_plans(self, at: date, months: int) -> ClockCount:
        day = d(at)
        start = CAL.alias("c_start")
        on_plan = months_between(start, ym(at), at.day, last_of_month(at))
        stmt = (select(func.count(), func.sum(flag(on_plan >= months)), literal(0, Integer))
                .select_from(PLAN.join(start, start.c.day == PLAN.c.start_date)).where(open_at(PLAN, day)))
        return ClockCount(*(await self._one(stmt)))

    async def short_neglect_plans(self, since: date, at: date, months: int) -> ClockCount:
        """Neglect plans ended from ``since`` to ``at``, and how many of them lasted under ``months``."""
        start, end = CAL.alias("c_start"), CAL.alias("c_end")
        lasted = months_between(start, end.c.ym, end.c.dom, end.c.last_dom)
        category = func.coalesce(PLAN.c.end_category, category_at(PLAN, PLAN.c.end_date))
        stmt = (select(func.count(), func.sum(flag(lasted < months)), literal(0, Integer))
                .select_from(PLAN.join(start, start.c.day == PLAN.c.start_date).join(end, end.c.day == PLAN.c.end_date))
                .where(PLAN.c.end_date.between(d(since), d(at)), category == "NEG"))
        return ClockCount(*(await self._one(stmt)))

    # --- timeliness in a period --------------------------------------------------------------------

    async def completed_on_time(self, clock: str, start: date, end: date, limit: int, from_start: bool = False) -> tuple[int, int]:
        """Items whose clock stopped in the period, and how many stopped within the limit."""
        a, b = CAL.alias("c_a"), CAL.alias("c_b")
        period = (d(start), d(end))
        if clock == "referral_decision":
            source: Any = REFERRAL.join(a, a.c.day == REFERRAL.c.received_date).join(b, b.c.day == REFERRAL.c.decided_date)
            where: Any = REFERRAL.c.decided_date.between(*period)
            on_time: Any = b.c.wd - a.c.wd <= limit
        elif clock == "referrer_feedback":
            source = REFERRAL.join(a, a.c.day == REFERRAL.c.decided_date).join(b, b.c.day == REFERRAL.c.feedback_date)
            where, on_time = REFERRAL.c.feedback_date.between(*period), b.c.wd - a.c.wd <= limit
        elif clock == "assessment_completion":
            clock_start = ASSESSMENT.c.start_date if from_start else EPISODE.c.referral_date
            source = (ASSESSMENT.outerjoin(EPISODE, EPISODE.c.episode_id == ASSESSMENT.c.episode_id)
                      .outerjoin(a, a.c.day == clock_start).join(b, b.c.day == ASSESSMENT.c.authorised_date))
            where, on_time = ASSESSMENT.c.authorised_date.between(*period), and_(a.c.wd.is_not(None), b.c.wd - a.c.wd <= limit)
        elif clock == "icpc_timeliness":
            source = S47.outerjoin(a, a.c.day == S47.c.start_date).join(b, b.c.day == S47.c.icpc_date)
            where, on_time = S47.c.icpc_date.between(*period), and_(a.c.wd.is_not(None), b.c.wd - a.c.wd <= limit)
        elif clock == "core_group_first":
            first = select(CORE.c.cp_plan_id, func.min(CORE.c.held_date).label("held")).group_by(CORE.c.cp_plan_id).subquery()
            source = first.join(PLAN, PLAN.c.cp_plan_id == first.c.cp_plan_id).join(a, a.c.day == PLAN.c.start_date).join(b, b.c.day == first.c.held)
            where, on_time = first.c.held.between(*period), b.c.wd - a.c.wd <= limit
        else:
            raise KeyError(clock)
        stmt = select(func.count(), func.sum(flag(on_time))).select_from(source).where(where)
        done, timely = await self._one(stmt)
        return done, timely

    async def reviews_on_time(self, start: date, end: date, first: int, later: int) -> tuple[tuple[int, int], tuple[int, int]]:
        """Review conferences held in the period, first and later ones: how many, and how many on time."""
        ordered = select(
            REVIEW.c.cp_plan_id, REVIEW.c.review_date,
            func.lag(REVIEW.c.review_date).over(partition_by=REVIEW.c.cp_plan_id, order_by=REVIEW.c.review_date).label("previous"),
        ).subquery("ordered")
        a, b = CAL.alias("c_prev"), CAL.alias("c_review")
        months = case((ordered.c.previous.is_(None), first), else_=later)
        stmt = (
            select(ordered.c.previous.is_(None), func.count(), func.sum(flag(within_months(a, b, months))))  # type: ignore[arg-type]
            .select_from(ordered.join(PLAN, PLAN.c.cp_plan_id == ordered.c.cp_plan_id)
                         .join(a, a.c.day == func.coalesce(ordered.c.previous, PLAN.c.start_date))
                         .join(b, b.c.day == ordered.c.review_date))
            .where(ordered.c.review_date.between(d(start), d(end)))
            .group_by(ordered.c.previous.is_(None))
        )
        found = {bool(r[0]): (int(r[1] or 0), int(r[2] or 0)) for r in (await self._execute(stmt)).all()}
        return found.get(True, (0, 0)), found.get(False, (0, 0))

    # --- toolkits ---------------------------------------------------------------------------------

    async def trajectories(self, start: date, end: date, lower_is_better: Sequence[str],
                           higher_is_better: Sequence[str]) -> list[tuple[str, str, int]]:
        """Children (per tool) with a repeat toolkit assessment in the period, by trajectory class."""
        u = trajectory_units(start, end, lower_is_better, higher_is_better).subquery("u")
        stmt = select(u.c.tool, u.c.trajectory_class, func.count()).group_by(u.c.tool, u.c.trajectory_class)
        return [(str(t), str(k), int(n)) for t, k, n in (await self._execute(stmt)).all()]
