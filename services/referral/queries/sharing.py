"""Consent records and the information-sharing log: append-only, scoped to visible children."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import or_
from sqlmodel import col, select

from services.referral.models import ConsentRecord, InformationShare
from services.referral.queries.people import ScopedQueries
from services.referral.queries.practice import SortKey, fetch_newest_first
from shared.pagination import PageParams
from shared.tokens import Principal

CONSENT_KEYS: list[SortKey] = [
    (ConsentRecord.recorded_on, date.fromisoformat), (ConsentRecord.created_at, datetime.fromisoformat),
    (ConsentRecord.id, uuid.UUID),
]
SHARE_KEYS: list[SortKey] = [(InformationShare.decided_at, datetime.fromisoformat), (InformationShare.id, uuid.UUID)]


class SharingQueries(ScopedQueries):
    async def consents_page(self, who: Principal, child_id: uuid.UUID, page: PageParams) -> tuple[list[ConsentRecord], str | None]:
        stmt = select(ConsentRecord).where(
            ConsentRecord.child_id == child_id, col(ConsentRecord.child_id).in_(self.visible_ids(who))
        )
        return await fetch_newest_first(self.session, stmt, page, CONSENT_KEYS)

    async def latest_consent(self, who: Principal, child_id: uuid.UUID) -> ConsentRecord | None:
        stmt = (
            select(ConsentRecord)
            .where(ConsentRecord.child_id == child_id, col(ConsentRecord.child_id).in_(self.visible_ids(who)))
            .order_by(col(ConsentRecord.recorded_on).desc(), col(ConsentRecord.created_at).desc(), col(ConsentRecord.id).desc())
        )
        return (await self.session.exec(stmt)).first()

    async def shares_of_child(self, who: Principal, child_id: uuid.UUID, page: PageParams) -> tuple[list[InformationShare], str | None]:
        stmt = select(InformationShare).where(
            InformationShare.child_id == child_id, col(InformationShare.child_id).in_(self.visible_ids(who))
        )
        return await fetch_newest_first(self.session, stmt, page, SHARE_KEYS)

    async def shares_of_agency(
        self, who: Principal, page: PageParams, *, to_agency_id: uuid.UUID | None, direction: str | None
    ) -> tuple[list[InformationShare], str | None]:
        """Shares the caller's agency made or received, about children it can see."""
        mine = {
            "outgoing": col(InformationShare.from_agency_id) == who.agency_id,
            "incoming": col(InformationShare.to_agency_id) == who.agency_id,
        }
        stmt = select(InformationShare).where(
            mine[direction] if direction else or_(*mine.values()),
            col(InformationShare.child_id).in_(self.visible_ids(who)),
        )
        if to_agency_id is not None:
            stmt = stmt.where(InformationShare.to_agency_id == to_agency_id)
        return await fetch_newest_first(self.session, stmt, page, SHARE_KEYS)
