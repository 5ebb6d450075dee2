"""People, households, professionals and involvements, with agency scoping inside every query.

A person is visible to the agency that recorded them and to any agency that can
see a child in a household with them, or the unborn child they are expecting.
A household is visible through the children in it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from services.referral.models import (
    REFERRER_ROLE,
    Agency,
    Child,
    Household,
    HouseholdMember,
    Involvement,
    Person,
    Professional,
)
from services.referral.queries.children import visible_child_ids, visible_to
from shared.pagination import PageParams, fetch_page
from shared.tokens import Principal

T = TypeVar("T")


class ScopedQueries:
    """The session and the agency types that see every child: what every scoped query needs."""

    def __init__(self, session: AsyncSession, full_access_types: Sequence[str]) -> None:
        self.session = session
        self.full_access_types = list(full_access_types)

    def visible_ids(self, who: Principal) -> SelectOfScalar[uuid.UUID]:
        """Ids of the children ``who`` may see: every child-level query filters on it."""
        return visible_child_ids(who, self.full_access_types)

    async def visible_child(self, who: Principal, child_id: uuid.UUID, *, for_update: bool = False) -> Child | None:
        stmt = select(Child).where(Child.id == child_id, visible_to(who, self.full_access_types))
        if for_update:
            # Serialise changes about one child (e.g. two events racing to open one case).
            stmt = self.locked(stmt, Child)
        return (await self.session.exec(stmt)).first()

    def locked(self, stmt: SelectOfScalar[T], model: Any) -> SelectOfScalar[T]:
        """The row(s) locked until the transaction ends (PostgreSQL; SQLite serialises writers)."""
        if self.session.bind.dialect.name == "postgresql":  # type: ignore[union-attr]
            return stmt.with_for_update(of=model)
        return stmt

    async def add(self, *rows: object) -> None:
        # Flush at once: rows without relationships are not ordered by foreign key.
        self.session.add_all(rows)
        await self.session.flush()


class PeopleQueries(ScopedQueries):
    def _visible_households(self, who: Principal) -> ColumnElement[bool]:
        with_visible_child = select(HouseholdMember.household_id).where(
            col(HouseholdMember.child_id).in_(self.visible_ids(who))
        )
        return col(Household.id).in_(with_visible_child)

    def _visible_people(self, who: Principal) -> ColumnElement[bool]:
        children = self.visible_ids(who)
        households = select(HouseholdMember.household_id).where(col(HouseholdMember.child_id).in_(children))
        housemates = select(HouseholdMember.person_id).where(
            col(HouseholdMember.household_id).in_(households), col(HouseholdMember.person_id).is_not(None)
        )
        mothers = select(Child.mother_id).where(
            col(Child.id).in_(children), col(Child.mother_id).is_not(None)
        )
        return or_(
            col(Person.created_by_agency_id) == who.agency_id,
            col(Person.id).in_(housemates),
            col(Person.id).in_(mothers),
        )

    async def person(self, who: Principal, person_id: uuid.UUID) -> Person | None:
        stmt = select(Person).where(Person.id == person_id, self._visible_people(who))
        return (await self.session.exec(stmt)).first()

    async def people(self, who: Principal, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Person]:
        if not ids:
            return {}
        stmt = select(Person).where(col(Person.id).in_(list(ids)), self._visible_people(who))
        return {p.id: p for p in (await self.session.exec(stmt)).all()}

    async def children(self, who: Principal, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Child]:
        if not ids:
            return {}
        stmt = select(Child).where(col(Child.id).in_(list(ids)), visible_to(who, self.full_access_types))
        return {c.id: c for c in (await self.session.exec(stmt)).all()}

    async def children_linked_to_person(self, who: Principal, person_id: uuid.UUID) -> list[uuid.UUID]:
        """Visible children sharing a household with the person, or whose mother they are."""
        households = select(HouseholdMember.household_id).where(HouseholdMember.person_id == person_id)
        in_household = select(HouseholdMember.child_id).where(col(HouseholdMember.household_id).in_(households))
        stmt = select(Child.id).where(
            visible_to(who, self.full_access_types),
            or_(col(Child.id).in_(in_household), col(Child.mother_id) == person_id),
        )
        return list((await self.session.exec(stmt)).all())

    async def household(self, who: Principal, household_id: uuid.UUID) -> Household | None:
        stmt = select(Household).where(Household.id == household_id, self._visible_households(who))
        return (await self.session.exec(stmt)).first()

    async def households_of_child(self, who: Principal, child_id: uuid.UUID) -> list[tuple[Household, HouseholdMember]]:
        """The child's current households (membership not ended), with the child's own membership row."""
        today = datetime.now(UTC).date()
        stmt = (
            select(Household, HouseholdMember)
            .join(HouseholdMember, col(HouseholdMember.household_id) == col(Household.id))
            .where(
                HouseholdMember.child_id == child_id,
                col(HouseholdMember.child_id).in_(self.visible_ids(who)),
                or_(col(HouseholdMember.to_date).is_(None), col(HouseholdMember.to_date) >= today),
            )
            .order_by(col(Household.created_at), col(Household.id))
        )
        return [(h, m) for h, m in (await self.session.exec(stmt)).all()]

    async def members(self, household_ids: Sequence[uuid.UUID]) -> list[HouseholdMember]:
        """Members of households the caller has already been shown to see."""
        if not household_ids:
            return []
        stmt = (
            select(HouseholdMember)
            .where(col(HouseholdMember.household_id).in_(list(household_ids)))
            .order_by(col(HouseholdMember.created_at), col(HouseholdMember.id))
        )
        return list((await self.session.exec(stmt)).all())


class InvolvementQueries(ScopedQueries):
    async def agency(self, agency_id: uuid.UUID) -> Agency | None:
        return await self.session.get(Agency, agency_id)

    async def agencies(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Agency]:
        if not ids:
            return {}
        stmt = select(Agency).where(col(Agency.id).in_(list(set(ids))))
        return {a.id: a for a in (await self.session.exec(stmt)).all()}

    async def professional(self, professional_id: uuid.UUID) -> Professional | None:
        return await self.session.get(Professional, professional_id)

    async def professionals(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Professional]:
        if not ids:
            return {}
        stmt = select(Professional).where(col(Professional.id).in_(list(set(ids))))
        return {p.id: p for p in (await self.session.exec(stmt)).all()}

    async def professionals_page(
        self, page: PageParams, agency_id: uuid.UUID | None
    ) -> tuple[Sequence[Professional], str | None]:
        stmt = select(Professional)
        if agency_id is not None:
            stmt = stmt.where(Professional.agency_id == agency_id)
        return await fetch_page(self.session, stmt, Professional, page)

    async def involvement(self, who: Principal, involvement_id: uuid.UUID, *, for_update: bool = False) -> Involvement | None:
        stmt = select(Involvement).where(
            Involvement.id == involvement_id,
            Involvement.role != REFERRER_ROLE,
            col(Involvement.child_id).in_(self.visible_ids(who)),
        )
        if for_update:
            stmt = self.locked(stmt, Involvement)
        return (await self.session.exec(stmt)).first()

    async def involvements_page(
        self, who: Principal, child_id: uuid.UUID, page: PageParams, *, active_only: bool
    ) -> tuple[Sequence[Involvement], str | None]:
        # Involvements with the role `referrer`, which earlier versions made for every referral,
        # are not shown: they grant nothing and would name a referrer to every reader of the record.
        stmt = select(Involvement).where(
            Involvement.child_id == child_id,
            Involvement.role != REFERRER_ROLE,
            col(Involvement.child_id).in_(self.visible_ids(who)),
        )
        if active_only:
            today = datetime.now(UTC).date()
            stmt = stmt.where(
                col(Involvement.start_date) <= today,
                or_(col(Involvement.end_date).is_(None), col(Involvement.end_date) >= today),
            )
        return await fetch_page(self.session, stmt, Involvement, page)

    async def open_involvement(self, child_id: uuid.UUID, agency_id: uuid.UUID, role: str) -> Involvement | None:
        stmt = select(Involvement).where(
            Involvement.child_id == child_id, Involvement.agency_id == agency_id, Involvement.role == role,
            or_(col(Involvement.end_date).is_(None), col(Involvement.end_date) >= datetime.now(UTC).date()),
        )
        return (await self.session.exec(stmt)).first()
