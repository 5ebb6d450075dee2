"""Contacts: concerns received at the front door. Seen, like referrals, by the agency that
recorded them and by every agency that may see the child's record (``visible_to``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from services.referral.models import Child, Contact
from services.referral.queries.children import visible_to
from shared.pagination import PageParams, fetch_page
from shared.tokens import Principal


class ContactQueries:
    def __init__(self, session: AsyncSession, full_access_types: Sequence[str]) -> None:
        self.session = session
        self.full_access_types = list(full_access_types)

    def _visible_to(self, who: Principal) -> SelectOfScalar[Contact]:
        sees_child = visible_to(who, self.full_access_types)
        return (
            select(Contact)
            .join(Child, col(Child.id) == col(Contact.child_id))
            .where(or_(col(Contact.recording_agency_id) == who.agency_id, sees_child))
        )

    async def get(self, who: Principal, contact_id: uuid.UUID, *, for_update: bool = False) -> Contact | None:
        stmt = self._visible_to(who).where(Contact.id == contact_id)
        if for_update:
            stmt = stmt.execution_options(populate_existing=True)
            if self.session.bind.dialect.name == "postgresql":  # type: ignore[union-attr]
                stmt = stmt.with_for_update(of=Contact)
        return (await self.session.exec(stmt)).first()

    async def page(
        self, who: Principal, page: PageParams, *, child_id: uuid.UUID | None, outcome: str | None,
        received_from: datetime | None, received_before: datetime | None,
    ) -> tuple[Sequence[Contact], str | None]:
        stmt = self._visible_to(who)
        if child_id is not None:
            stmt = stmt.where(Contact.child_id == child_id)
        if outcome is not None:
            stmt = stmt.where(Contact.outcome == outcome)
        if received_from is not None:
            stmt = stmt.where(col(Contact.received_at) >= received_from)
        if received_before is not None:
            stmt = stmt.where(col(Contact.received_at) < received_before)
        return await fetch_page(self.session, stmt, Contact, page)

    async def add(self, row: Contact) -> None:
        self.session.add(row)
        await self.session.flush()
