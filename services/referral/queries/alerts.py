"""The open items behind drift and delay alerts: a few set-based reads, each joined
to the children the caller may see (never one query per child)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.referral.domain.alerts import (
    ASSESSMENT_CLOCKS,
    CP_PLAN_CLOCKS,
    REFERRAL_CLOCKS,
    S47_CLOCKS,
    Filters,
    OpenAssessment,
    OpenCpPlan,
    OpenItems,
    OpenReferral,
    OpenS47,
)
from services.referral.models import (
    Agency,
    Child,
    Conference,
    CoreGroup,
    CpPlan,
    Episode,
    Referral,
    Section47,
    StatutoryAssessment,
)
from services.referral.queries.children import active_involvement_child_ids, visible_to
from shared.tokens import Principal


class AlertQueries:
    def __init__(self, session: AsyncSession, full_access_types: Sequence[str]) -> None:
        self.session = session
        self.full_access_types = list(full_access_types)

    def _scope(self, who: Principal, filters: Filters) -> ColumnElement[bool]:
        """Only children ``who`` may see (the statement joins Child), then the child filters."""
        conditions: list[ColumnElement[bool]] = [visible_to(who, self.full_access_types)]
        if filters.child_id is not None:
            conditions.append(col(Child.id) == filters.child_id)
        if filters.agency_id is not None:
            conditions.append(col(Child.id).in_(active_involvement_child_ids(filters.agency_id)))
        return and_(*conditions)

    async def child_is_visible(self, who: Principal, child_id: uuid.UUID) -> bool:
        stmt = select(Child.id).where(Child.id == child_id, visible_to(who, self.full_access_types))
        return (await self.session.exec(stmt)).first() is not None

    async def agency_exists(self, agency_id: uuid.UUID) -> bool:
        return (await self.session.exec(select(Agency.id).where(Agency.id == agency_id))).first() is not None

    async def open_items(self, who: Principal, filters: Filters) -> OpenItems:
        items = OpenItems()
        if filters.wants(REFERRAL_CLOCKS):
            items.referrals = await self._referrals(who, filters)
        if filters.wants(ASSESSMENT_CLOCKS):
            items.assessments = await self._assessments(who, filters)
        if filters.wants(S47_CLOCKS):
            items.s47s = await self._s47s(who, filters)
        if filters.wants(CP_PLAN_CLOCKS):
            items.cp_plans = await self._cp_plans(who, filters)
        return items

    async def _referrals(self, who: Principal, filters: Filters) -> list[OpenReferral]:
        stmt = (
            select(col(Referral.id), col(Referral.child_id), col(Referral.received_at), col(Referral.decided_at))
            .join(Child, col(Child.id) == col(Referral.child_id))
            .where(
                or_(col(Referral.decided_at).is_(None), col(Referral.feedback_sent_at).is_(None)),
                self._scope(who, filters),
            )
        )
        rows = (await self.session.exec(stmt)).all()
        return [OpenReferral(*row) for row in rows]

    async def _assessments(self, who: Principal, filters: Filters) -> list[OpenAssessment]:
        stmt = (
            select(col(StatutoryAssessment.id), col(Episode.child_id), col(Episode.referral_date))
            .join(Episode, col(Episode.id) == col(StatutoryAssessment.episode_id))
            .join(Child, col(Child.id) == col(Episode.child_id))
            .where(
                col(StatutoryAssessment.authorised_date).is_(None),
                col(Episode.closure_date).is_(None),
                self._scope(who, filters),
            )
        )
        rows = (await self.session.exec(stmt)).all()
        return [OpenAssessment(*row) for row in rows]

    async def _s47s(self, who: Principal, filters: Filters) -> list[OpenS47]:
        stmt = (
            select(col(Section47.id), col(Episode.child_id), col(Section47.start_date), col(Section47.icpc_target_date))
            .join(Episode, col(Episode.id) == col(Section47.episode_id))
            .join(Child, col(Child.id) == col(Episode.child_id))
            .where(
                col(Section47.icpc_date).is_(None),
                col(Section47.icpc_not_required).is_(False),
                col(Episode.closure_date).is_(None),
                self._scope(who, filters),
            )
        )
        rows = (await self.session.exec(stmt)).all()
        return [OpenS47(*row) for row in rows]

    async def _cp_plans(self, who: Principal, filters: Filters) -> list[OpenCpPlan]:
        last_review = (
            select(col(Conference.cp_plan_id).label("cp_plan_id"), func.max(Conference.held_date).label("held_on"))
            .where(Conference.kind == "review", col(Conference.cp_plan_id).is_not(None))
            .group_by(col(Conference.cp_plan_id))
            .subquery()
        )
        core_groups = (
            select(col(CoreGroup.cp_plan_id).label("cp_plan_id"), func.count().label("meetings"))
            .group_by(col(CoreGroup.cp_plan_id))
            .subquery()
        )
        stmt = (
            select(CpPlan, col(Episode.child_id), last_review.c.held_on, core_groups.c.meetings)
            .join(Episode, col(Episode.id) == col(CpPlan.episode_id))
            .join(Child, col(Child.id) == col(Episode.child_id))
            .outerjoin(last_review, last_review.c.cp_plan_id == col(CpPlan.id))
            .outerjoin(core_groups, core_groups.c.cp_plan_id == col(CpPlan.id))
            .where(col(CpPlan.end_date).is_(None), self._scope(who, filters))
        )
        rows = (await self.session.exec(stmt)).all()
        return [
            OpenCpPlan(plan.id, child_id, plan.start_date, _as_date(held_on), bool(meetings))
            for plan, child_id, held_on, meetings in rows
        ]


def _as_date(value: object) -> date | None:
    # MAX() over a date column comes back as text on SQLite.
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
