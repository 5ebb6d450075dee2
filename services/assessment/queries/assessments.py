"""Reads and writes of assessments and what hangs off them.

Callers confirm with the referral service that the child is visible before
anything read here is shown; every read is by child or by an assessment whose
child is then checked.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.assessment.models import (
    Assessment,
    AssessmentJudgement,
    AssessmentRating,
    AssessmentTarget,
)
from shared.pagination import PageParams, fetch_page

AUTHORISED = "authorised"


class AssessmentQueries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, assessment_id: uuid.UUID, *, for_update: bool = False) -> Assessment | None:
        stmt = select(Assessment).where(Assessment.id == assessment_id)
        if for_update:
            stmt = stmt.with_for_update()
            # A row read before the lock was taken may be stale in the identity map.
            stmt = stmt.execution_options(populate_existing=True)
        return (await self.session.exec(stmt)).first()

    async def page(
        self, child_id: uuid.UUID, page: PageParams, *, toolkit_id: str | None, status: str | None
    ) -> tuple[Sequence[Assessment], str | None]:
        stmt = select(Assessment).where(Assessment.child_id == child_id)
        if toolkit_id is not None:
            stmt = stmt.where(Assessment.toolkit_id == toolkit_id)
        if status is not None:
            stmt = stmt.where(Assessment.status == status)
        return await fetch_page(self.session, stmt, Assessment, page)

    async def latest_revision(self, lineage_id: uuid.UUID) -> Assessment | None:
        stmt = (select(Assessment).where(Assessment.lineage_id == lineage_id)
                .order_by(col(Assessment.revision).desc()).limit(1))
        return (await self.session.exec(stmt)).first()

    async def current_authorised(self, child_id: uuid.UUID, toolkit_id: str | None = None) -> list[Assessment]:
        """The authorised assessments that count: each lineage's latest authorised revision."""
        stmt = select(Assessment).where(
            Assessment.child_id == child_id, Assessment.status == AUTHORISED,
            col(Assessment.superseded_by_id).is_(None),
        )
        if toolkit_id is not None:
            stmt = stmt.where(Assessment.toolkit_id == toolkit_id)
        stmt = stmt.order_by(col(Assessment.authorised_at), col(Assessment.id))
        return list((await self.session.exec(stmt)).all())

    async def ratings(self, assessment_ids: Sequence[uuid.UUID]) -> list[AssessmentRating]:
        if not assessment_ids:
            return []
        stmt = (select(AssessmentRating).where(col(AssessmentRating.assessment_id).in_(list(assessment_ids)))
                .order_by(col(AssessmentRating.item_id), col(AssessmentRating.rated_on),
                          col(AssessmentRating.rater_key)))
        return list((await self.session.exec(stmt)).all())

    async def judgements(self, assessment_ids: Sequence[uuid.UUID]) -> list[AssessmentJudgement]:
        if not assessment_ids:
            return []
        stmt = select(AssessmentJudgement).where(col(AssessmentJudgement.assessment_id).in_(list(assessment_ids)))
        return list((await self.session.exec(stmt)).all())

    async def targets(self, assessment_id: uuid.UUID) -> list[AssessmentTarget]:
        stmt = (select(AssessmentTarget).where(AssessmentTarget.assessment_id == assessment_id)
                .order_by(col(AssessmentTarget.created_at), col(AssessmentTarget.id)))
        return list((await self.session.exec(stmt)).all())

    async def rating(self, assessment_id: uuid.UUID, item_id: str, rater_key: str) -> AssessmentRating | None:
        stmt = select(AssessmentRating).where(
            AssessmentRating.assessment_id == assessment_id, AssessmentRating.item_id == item_id,
            AssessmentRating.rater_key == rater_key,
        )
        return (await self.session.exec(stmt)).first()

    async def count_ratings(self, assessment_id: uuid.UUID) -> int:
        stmt = select(func.count()).select_from(AssessmentRating).where(AssessmentRating.assessment_id == assessment_id)
        return int((await self.session.exec(stmt)).one())

    async def add(self, *rows: object) -> None:
        self.session.add_all(rows)
        await self.session.flush()
