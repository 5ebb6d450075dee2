"""Referrals, recommendations, threshold models and the facts the engine reads.

Child-level reads start from ``visible_to``; the few look-ups that do not are
named for why (a partner may refer a child it cannot see yet).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from services.referral.models import (
    Agency,
    Child,
    CpPlan,
    EngagementEvent,
    Episode,
    Recommendation,
    Referral,
    ThresholdModelVersion,
)
from services.referral.queries.children import visible_to
from shared.pagination import PageParams, fetch_page
from shared.tokens import Principal


class ThresholdModelQueries:
    """Threshold models are partnership configuration, not child data: no agency scoping."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def active(self, partnership_id: str) -> ThresholdModelVersion | None:
        stmt = (
            select(ThresholdModelVersion)
            .where(ThresholdModelVersion.partnership_id == partnership_id, col(ThresholdModelVersion.active).is_(True))
            .order_by(col(ThresholdModelVersion.created_at).desc())
        )
        return (await self.session.exec(stmt)).first()

    async def get(self, partnership_id: str, ruleset_version: str) -> ThresholdModelVersion | None:
        stmt = select(ThresholdModelVersion).where(
            ThresholdModelVersion.partnership_id == partnership_id,
            ThresholdModelVersion.ruleset_version == ruleset_version,
        )
        return (await self.session.exec(stmt)).first()

    async def by_ids(self, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, ThresholdModelVersion]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        rows = (await self.session.exec(select(ThresholdModelVersion).where(col(ThresholdModelVersion.id).in_(wanted)))).all()
        return {r.id: r for r in rows}

    async def page(
        self, page: PageParams, partnership_id: str | None, active: bool | None
    ) -> tuple[Sequence[ThresholdModelVersion], str | None]:
        stmt = select(ThresholdModelVersion)
        if partnership_id is not None:
            stmt = stmt.where(ThresholdModelVersion.partnership_id == partnership_id)
        if active is not None:
            stmt = stmt.where(col(ThresholdModelVersion.active).is_(active))
        return await fetch_page(self.session, stmt, ThresholdModelVersion, page)

    async def insert(self, row: ThresholdModelVersion) -> bool:
        """Add a version; False when that (partnership, version) exists already, even if added concurrently."""
        try:
            async with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            return False
        return True

    async def activate(self, partnership_id: str, model_id: uuid.UUID) -> None:
        """Make one version the partnership's active one; the others stay, inactive."""
        # Every other version, not only the active one: a concurrent activation's row is then
        # locked and re-checked, so exactly one version ends up active. Plain values (no SQL
        # expressions) keep the session's loaded rows in step without reloading them.
        await self.session.exec(
            update(ThresholdModelVersion)
            .where(col(ThresholdModelVersion.partnership_id) == partnership_id, col(ThresholdModelVersion.id) != model_id)
            .values(active=False)
        )
        await self.session.exec(
            update(ThresholdModelVersion).where(col(ThresholdModelVersion.id) == model_id).values(active=True)
        )


class ReferralQueries:
    def __init__(self, session: AsyncSession, full_access_types: Sequence[str]) -> None:
        self.session = session
        self.full_access_types = list(full_access_types)

    def _visible_to(self, who: Principal, *, with_record: bool = False) -> SelectOfScalar[Referral]:
        """A referral is seen by the agency that sent it and by anyone who may see the child's record.

        ``with_record``: only when ``who`` may see the child's record, whoever sent the referral
        (what the engine and the decision drew from the record is the record, not the referral).
        """
        sees_child = visible_to(who, self.full_access_types)
        return (
            select(Referral)
            .join(Child, col(Child.id) == col(Referral.child_id))
            .where(sees_child if with_record else or_(col(Referral.referring_agency_id) == who.agency_id, sees_child))
        )

    async def get(self, who: Principal, referral_id: uuid.UUID, *, for_update: bool = False,
                  with_record: bool = False) -> Referral | None:
        stmt = self._visible_to(who, with_record=with_record).where(Referral.id == referral_id)
        if for_update:
            # Read afresh: the same row may have been loaded in an earlier (ended) transaction.
            stmt = stmt.execution_options(populate_existing=True)
            if self.session.bind.dialect.name == "postgresql":  # type: ignore[union-attr]
                stmt = stmt.with_for_update(of=Referral)
        return (await self.session.exec(stmt)).first()

    async def children_with_record(self, who: Principal, child_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these children's records ``who`` may see; of the others it sees only its own
        referrals and their outcome (a referrer with no involvement)."""
        wanted = list(set(child_ids))
        if not wanted:
            return set()
        stmt = select(Child.id).where(col(Child.id).in_(wanted), visible_to(who, self.full_access_types))
        return set((await self.session.exec(stmt)).all())

    async def page(
        self,
        who: Principal,
        page: PageParams,
        *,
        child_id: uuid.UUID | None,
        status: str | None,
        received_from: datetime | None,
        received_before: datetime | None,
    ) -> tuple[Sequence[Referral], str | None]:
        stmt = self._visible_to(who)
        if child_id is not None:
            stmt = stmt.where(Referral.child_id == child_id)
        if status is not None:
            stmt = stmt.where(Referral.status == status)
        if received_from is not None:
            stmt = stmt.where(col(Referral.received_at) >= received_from)
        if received_before is not None:
            stmt = stmt.where(col(Referral.received_at) < received_before)
        return await fetch_page(self.session, stmt, Referral, page)

    async def child_to_refer(self, child_id: uuid.UUID) -> Child | None:
        """Unscoped on purpose: a partner must be able to refer a child registered by another
        agency (police referring a child a school registered). Referring grants no sight of the
        child's record: the referrer sees its referral and the outcome, nothing else."""
        return await self.session.get(Child, child_id)

    async def child_visible(self, who: Principal, child_id: uuid.UUID) -> Child | None:
        stmt = select(Child).where(Child.id == child_id, visible_to(who, self.full_access_types))
        return (await self.session.exec(stmt)).first()

    async def agency(self, agency_id: uuid.UUID) -> Agency | None:
        return await self.session.get(Agency, agency_id)

    async def latest_referral_between(self, child_id: uuid.UUID, since: datetime, before: datetime) -> Referral | None:
        """The child's latest referral received in [since, before): unscoped because a re-referral
        is a fact about the child (DfE), whoever made the earlier referral."""
        stmt = (
            select(Referral)
            .where(Referral.child_id == child_id, col(Referral.received_at) >= since, col(Referral.received_at) < before)
            .order_by(col(Referral.received_at).desc(), col(Referral.id))
        )
        return (await self.session.exec(stmt)).first()

    async def open_episode_id(self, who: Principal, child_id: uuid.UUID) -> uuid.UUID | None:
        stmt = (
            select(Episode.id)
            .join(Child, col(Child.id) == col(Episode.child_id))
            .where(Episode.child_id == child_id, Episode.kind == "cin", col(Episode.closure_date).is_(None),
                   visible_to(who, self.full_access_types))
            .order_by(col(Episode.referral_date).desc())
        )
        return (await self.session.exec(stmt)).first()

    async def latest_recommendation(self, referral_id: uuid.UUID) -> Recommendation | None:
        stmt = (
            select(Recommendation)
            .where(Recommendation.referral_id == referral_id)
            .order_by(col(Recommendation.created_at).desc(), col(Recommendation.id).desc())
        )
        return (await self.session.exec(stmt)).first()

    async def recommendations(self, referral_id: uuid.UUID) -> Sequence[Recommendation]:
        stmt = (
            select(Recommendation)
            .where(Recommendation.referral_id == referral_id)
            .order_by(col(Recommendation.created_at), col(Recommendation.id))
        )
        return (await self.session.exec(stmt)).all()

    async def add(self, *rows: object) -> None:
        # Flush at once: rows without relationships are not ordered by foreign key.
        self.session.add_all(rows)
        await self.session.flush()


class EvidenceQueries:
    """Counts the threshold engine reads, each scoped to children ``who`` may see:
    an agency that cannot see the child gets no history from it."""

    def __init__(self, session: AsyncSession, full_access_types: Sequence[str]) -> None:
        self.session = session
        self.full_access_types = list(full_access_types)

    async def other_referrals(self, who: Principal, child_id: uuid.UUID, exclude: uuid.UUID,
                              since: datetime, until: datetime) -> int:
        stmt = (
            select(func.count())
            .select_from(Referral)
            .join(Child, col(Child.id) == col(Referral.child_id))
            .where(Referral.child_id == child_id, Referral.id != exclude,
                   col(Referral.received_at) >= since, col(Referral.received_at) <= until,
                   visible_to(who, self.full_access_types))
        )
        return int((await self.session.exec(stmt)).one())

    async def ended_cp_plans(self, who: Principal, child_id: uuid.UUID, category: str | None,
                             ended_since: date | None, until: date) -> int:
        stmt = (
            select(func.count())
            .select_from(CpPlan)
            .join(Episode, col(Episode.id) == col(CpPlan.episode_id))
            .join(Child, col(Child.id) == col(Episode.child_id))
            .where(Episode.child_id == child_id, col(CpPlan.end_date).is_not(None), col(CpPlan.end_date) <= until,
                   visible_to(who, self.full_access_types))
        )
        if ended_since is not None:
            stmt = stmt.where(col(CpPlan.end_date) >= ended_since)
        if category is not None:
            stmt = stmt.where(CpPlan.latest_category == category)
        return int((await self.session.exec(stmt)).one())

    async def engagement_events(self, who: Principal, child_id: uuid.UUID, kinds: Sequence[str],
                                window_days: int, until: date) -> int:
        stmt = (
            select(func.count())
            .select_from(EngagementEvent)
            .join(Child, col(Child.id) == col(EngagementEvent.child_id))
            .where(EngagementEvent.child_id == child_id, col(EngagementEvent.kind).in_(list(kinds)),
                   col(EngagementEvent.occurred_on) > until - timedelta(days=window_days),
                   col(EngagementEvent.occurred_on) <= until,
                   visible_to(who, self.full_access_types))
        )
        return int((await self.session.exec(stmt)).one())
