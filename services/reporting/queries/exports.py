"""Reads for the identifiable statutory exports, a batch at a time.

The census export walks the children with an episode in the collection year in
child-id order (keyset pages) and fetches each page's episodes and their
contents with ``IN`` lists, so memory holds one page however many children
there are. Annex A lists are single ordered statements read through a
server-side cursor (``stream``) in partitions.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy import and_, case, func, or_, select, union_all
from sqlmodel.ext.asyncio.session import AsyncSession

from services.reporting.models import RmChildIdentity, RmContact, RmStrategyDiscussion, RmVisit
from services.reporting.queries.dataset import (
    ASSESSMENT,
    CHILD,
    CIN,
    EPISODE,
    PLAN,
    REFERRAL,
    REVIEW,
    S47,
    Units,
    d,
)

IDENTITY = RmChildIdentity.__table__  # type: ignore[attr-defined]
CONTACT = RmContact.__table__  # type: ignore[attr-defined]
VISIT = RmVisit.__table__  # type: ignore[attr-defined]
DISCUSSION = RmStrategyDiscussion.__table__  # type: ignore[attr-defined]

Row = dict[str, Any]


def _rows(result: Any) -> list[Row]:
    return [dict(r._mapping) for r in result]


class ExportQueries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _execute(self, stmt: Any) -> Any:
        connection = await self.session.connection()
        return await connection.execute(stmt)

    # --- census ---------------------------------------------------------------------------------

    async def census_children(self, start: date, reference: date, after: uuid.UUID | None, limit: int) -> list[uuid.UUID]:
        """The next page of children with an episode open at some point in the collection year."""
        stmt = (
            select(EPISODE.c.child_id)
            .where(EPISODE.c.child_id.is_not(None), EPISODE.c.referral_date <= d(reference),
                   or_(EPISODE.c.closure_date.is_(None), EPISODE.c.closure_date >= d(start)))
            .group_by(EPISODE.c.child_id).order_by(EPISODE.c.child_id).limit(limit)
        )
        if after is not None:
            stmt = stmt.where(EPISODE.c.child_id > after)
        return [r[0] for r in (await self._execute(stmt)).all()]

    async def census_batch(self, children: Sequence[uuid.UUID], start: date, reference: date) -> dict[str, list[Row]]:
        """Everything the census says about a page of children, table by table."""
        people = _rows(await self._execute(
            select(IDENTITY, CHILD.c.gender, CHILD.c.ethnicity, CHILD.c.disabilities)
            .select_from(IDENTITY.outerjoin(CHILD, CHILD.c.child_id == IDENTITY.c.child_id))
            .where(IDENTITY.c.child_id.in_(children))))
        episodes = _rows(await self._execute(
            select(EPISODE).where(EPISODE.c.child_id.in_(children), EPISODE.c.referral_date <= d(reference),
                                  or_(EPISODE.c.closure_date.is_(None), EPISODE.c.closure_date >= d(start)))
            .order_by(EPISODE.c.child_id, EPISODE.c.referral_date)))
        ids = [e["episode_id"] for e in episodes]
        plans = _rows(await self._execute(select(PLAN).where(PLAN.c.episode_id.in_(ids)).order_by(PLAN.c.start_date)))
        return {
            "people": people,
            "episodes": episodes,
            "assessments": _rows(await self._execute(
                select(ASSESSMENT).where(ASSESSMENT.c.episode_id.in_(ids)).order_by(ASSESSMENT.c.start_date))),
            "s47s": _rows(await self._execute(select(S47).where(S47.c.episode_id.in_(ids)).order_by(S47.c.start_date))),
            "cin_plans": _rows(await self._execute(select(CIN).where(CIN.c.episode_id.in_(ids)).order_by(CIN.c.start_date))),
            "cp_plans": plans,
            "reviews": _rows(await self._execute(
                select(REVIEW).where(REVIEW.c.cp_plan_id.in_([p["cp_plan_id"] for p in plans])).order_by(REVIEW.c.review_date))),
        }

    # --- Annex A ----------------------------------------------------------------------------------

    async def stream(self, stmt: Units, partition: int = 500) -> AsyncIterator[list[Row]]:
        """Rows of ``stmt`` a partition at a time through a server-side cursor."""
        connection = await self.session.connection()
        result = await connection.stream(stmt.execution_options(yield_per=partition))
        async for chunk in result.mappings().partitions(partition):
            yield [dict(r) for r in chunk]

    @staticmethod
    def _person() -> list[Any]:
        return [IDENTITY.c.child_id, IDENTITY.c.la_child_id, IDENTITY.c.birth_date, IDENTITY.c.expected_birth_date,
                CHILD.c.gender, CHILD.c.ethnicity, CHILD.c.disabilities]

    @staticmethod
    def _joined(table: Any) -> Any:
        return (table.outerjoin(IDENTITY, IDENTITY.c.child_id == table.c.child_id)
                .outerjoin(CHILD, CHILD.c.child_id == table.c.child_id))

    def annex_contacts(self, start: date, end: date) -> Units:
        """Every concern received at the front door: each contact (ended there or converted into a
        referral, counted once, at the contact's date) and each referral received directly."""
        contacts = (select(*self._person(), CONTACT.c.contact_id.label("record_id"), CONTACT.c.received_date,
                           CONTACT.c.referral_source)
                    .select_from(self._joined(CONTACT))
                    .where(CONTACT.c.received_date.between(d(start), d(end))))
        direct = (select(*self._person(), REFERRAL.c.referral_id.label("record_id"), REFERRAL.c.received_date,
                         REFERRAL.c.referral_source)
                  .select_from(self._joined(REFERRAL))
                  .where(REFERRAL.c.received_date.between(d(start), d(end)), REFERRAL.c.contact_id.is_(None)))
        front_door = union_all(contacts, direct).subquery("front_door")
        return select(front_door).order_by(front_door.c.received_date, front_door.c.record_id)

    def annex_referrals(self, start: date, end: date) -> Units:
        return (select(*self._person(), REFERRAL.c.referral_id, REFERRAL.c.received_date, REFERRAL.c.referral_source,
                       REFERRAL.c.outcome, EPISODE.c.nfa)
                .select_from(self._joined(REFERRAL).join(EPISODE, EPISODE.c.episode_id == REFERRAL.c.episode_id))
                .where(REFERRAL.c.received_date.between(d(start), d(end)))
                .order_by(REFERRAL.c.received_date, REFERRAL.c.referral_id))

    async def referral_dates(self, children: Sequence[uuid.UUID], since: date, until: date) -> list[tuple[uuid.UUID, date]]:
        stmt = select(REFERRAL.c.child_id, REFERRAL.c.received_date).where(
            REFERRAL.c.child_id.in_(children), REFERRAL.c.received_date.between(d(since), d(until)))
        return [(r[0], r[1]) for r in (await self._execute(stmt)).all()]

    def annex_assessments(self, start: date, end: date) -> Units:
        seen = (select(func.max(VISIT.c.visited_on)).where(
            VISIT.c.child_id == ASSESSMENT.c.child_id, VISIT.c.child_seen.is_(True),
            VISIT.c.visited_on >= ASSESSMENT.c.start_date,
            VISIT.c.visited_on <= func.coalesce(ASSESSMENT.c.authorised_date, d(end))).scalar_subquery())
        later_work = or_(
            select(CIN.c.cin_plan_id).where(CIN.c.episode_id == ASSESSMENT.c.episode_id, CIN.c.start_date >= ASSESSMENT.c.authorised_date).exists(),
            select(S47.c.s47_id).where(S47.c.episode_id == ASSESSMENT.c.episode_id, S47.c.start_date >= ASSESSMENT.c.authorised_date).exists(),
        )
        support = case((ASSESSMENT.c.authorised_date.is_(None), None), (later_work, True),
                       (EPISODE.c.reason_for_closure.in_(["RC8", "RC9"]), False), else_=None)
        return (select(*self._person(), ASSESSMENT.c.assessment_id, ASSESSMENT.c.start_date, ASSESSMENT.c.authorised_date,
                       seen.label("seen_on"), support.label("needs_support"))
                .select_from(self._joined(ASSESSMENT).outerjoin(EPISODE, EPISODE.c.episode_id == ASSESSMENT.c.episode_id))
                .where(or_(ASSESSMENT.c.start_date.between(d(start), d(end)), ASSESSMENT.c.authorised_date.between(d(start), d(end)),
                           and_(ASSESSMENT.c.start_date < d(start), ASSESSMENT.c.authorised_date.is_(None))))
                .order_by(ASSESSMENT.c.start_date, ASSESSMENT.c.assessment_id))

    def annex_s47(self, start: date, end: date) -> Units:
        return (select(*self._person(), DISCUSSION.c.event_id, DISCUSSION.c.held_date, S47.c.s47_id, S47.c.icpc_date,
                       S47.c.concluded_date, S47.c.plan)
                .select_from(self._joined(DISCUSSION).outerjoin(S47, S47.c.s47_id == DISCUSSION.c.s47_id))
                .where(DISCUSSION.c.held_date.between(d(start), d(end)))
                .order_by(DISCUSSION.c.held_date, DISCUSSION.c.event_id))

    async def s47_dates(self, children: Sequence[uuid.UUID], since: date, until: date) -> list[tuple[uuid.UUID, date | None, date | None]]:
        stmt = select(S47.c.child_id, S47.c.start_date, S47.c.icpc_date).where(
            S47.c.child_id.in_(children), or_(S47.c.start_date.between(d(since), d(until)), S47.c.icpc_date.between(d(since), d(until))))
        return [(r[0], r[1], r[2]) for r in (await self._execute(stmt)).all()]

    def annex_cin(self, start: date, end: date) -> Units:
        last_seen = (select(func.max(VISIT.c.visited_on)).where(
            VISIT.c.child_id == EPISODE.c.child_id, VISIT.c.child_seen.is_(True), VISIT.c.visited_on <= d(end)).scalar_subquery())
        on_cp = select(PLAN.c.cp_plan_id).where(PLAN.c.episode_id == EPISODE.c.episode_id, PLAN.c.start_date <= d(end),
                                                or_(PLAN.c.end_date.is_(None), PLAN.c.end_date > d(end))).exists()
        on_cin = select(CIN.c.cin_plan_id).where(CIN.c.episode_id == EPISODE.c.episode_id, CIN.c.start_date <= d(end),
                                                 or_(CIN.c.end_date.is_(None), CIN.c.end_date > d(end))).exists()
        closed = and_(EPISODE.c.closure_date.is_not(None), EPISODE.c.closure_date <= d(end))
        status = case((closed, "Closed"), (on_cp, "Child protection plan"), (on_cin, "Child in need plan"), else_="Open")
        return (select(*self._person(), EPISODE.c.episode_id, EPISODE.c.referral_date, EPISODE.c.primary_need,
                       EPISODE.c.closure_date, EPISODE.c.reason_for_closure, last_seen.label("last_seen"), status.label("status"))
                .select_from(self._joined(EPISODE))
                .where(EPISODE.c.referral_date <= d(end), or_(EPISODE.c.closure_date.is_(None), EPISODE.c.closure_date >= d(start)),
                       or_(EPISODE.c.nfa.is_(None), EPISODE.c.nfa.is_(False)))
                .order_by(EPISODE.c.referral_date, EPISODE.c.episode_id))

    def annex_cp(self, start: date, end: date) -> Units:
        last_visit = (select(VISIT.c.visited_on, VISIT.c.seen_alone).where(
            VISIT.c.child_id == PLAN.c.child_id, VISIT.c.statutory.is_(True), VISIT.c.no_access.is_not(True),
            VISIT.c.visited_on >= PLAN.c.start_date, VISIT.c.visited_on <= func.coalesce(PLAN.c.end_date, d(end)))
            .order_by(VISIT.c.visited_on.desc()).limit(1))
        latest_review = (select(func.max(REVIEW.c.review_date)).where(REVIEW.c.cp_plan_id == PLAN.c.cp_plan_id,
                                                                      REVIEW.c.review_date <= d(end)).scalar_subquery())
        latest_category = (select(REVIEW.c.latest_category).where(
            REVIEW.c.cp_plan_id == PLAN.c.cp_plan_id, REVIEW.c.review_date <= d(end), REVIEW.c.latest_category.is_not(None))
            .order_by(REVIEW.c.review_date.desc()).limit(1).scalar_subquery())
        return (select(*self._person(), PLAN.c.cp_plan_id, PLAN.c.start_date, PLAN.c.initial_category,
                       func.coalesce(latest_category, PLAN.c.initial_category).label("latest_category"),
                       last_visit.with_only_columns(VISIT.c.visited_on).scalar_subquery().label("last_visit"),
                       last_visit.with_only_columns(VISIT.c.seen_alone).scalar_subquery().label("seen_alone"),
                       latest_review.label("latest_review"), PLAN.c.end_date, PLAN.c.previous_plans)
                .select_from(self._joined(PLAN))
                .where(PLAN.c.start_date <= d(end), or_(PLAN.c.end_date.is_(None), PLAN.c.end_date >= d(start)))
                .order_by(PLAN.c.start_date, PLAN.c.cp_plan_id))
