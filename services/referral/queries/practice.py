"""Visits, the child's voice, service offers, engagement and the pathway: reads scoped to visible children."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from services.referral.models import (
    REFERRER_ROLE,
    CpPlan,
    EngagementEvent,
    Episode,
    Involvement,
    NonEngagementCase,
    Professional,
    ServiceOffer,
    StatutoryAssessment,
    Visit,
)
from services.referral.models import ChildVoice as Voice
from services.referral.queries.people import ScopedQueries
from shared.pagination import InvalidCursor, PageParams, fetch_page, pack_cursor, unpack_cursor
from shared.tokens import Principal

T = TypeVar("T")
#: A sort key of a newest-first list: the column and how to read its value back from a cursor.
SortKey = tuple[Any, Callable[[str], Any]]
NEGLECT_CATEGORY = "NEG"
NEGLECT_FACTOR = "16A"
ABUSE_OR_NEGLECT_NEED = "N1"


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, (date, datetime)) else str(value)


def _before(keys: Sequence[SortKey], values: Sequence[Any]) -> ColumnElement[bool]:
    (column, _), *rest = keys
    earlier: ColumnElement[bool] = col(column) < values[0]
    if not rest:
        return earlier
    return or_(earlier, and_(col(column) == values[0], _before(rest, values[1:])))


async def fetch_newest_first(
    session: Any, stmt: SelectOfScalar[T], page: PageParams, keys: Sequence[SortKey]
) -> tuple[list[T], str | None]:
    """Keyset pagination in descending order of ``keys`` (the last one unique, e.g. the id).

    The shared ``fetch_page`` walks oldest first by (created_at, id); logs and
    visit lists read newest first by the date of the event itself.
    """
    if page.cursor is not None:
        raw = unpack_cursor(page.cursor, len(keys))
        try:
            values = [parse(str(v)) for (_, parse), v in zip(keys, raw, strict=True)]
        except (ValueError, TypeError) as exc:
            raise InvalidCursor("Use the cursor exactly as given in the Link header.") from exc
        stmt = stmt.where(_before(keys, values))
    stmt = stmt.order_by(*(col(column).desc() for column, _ in keys)).limit(page.limit + 1)
    rows = list((await session.exec(stmt)).all())
    if len(rows) <= page.limit:
        return rows, None
    rows = rows[: page.limit]
    last = [_text(getattr(rows[-1], column.key)) for column, _ in keys]
    return rows, pack_cursor(last)


class PracticeQueries(ScopedQueries):
    def _of_child(self, who: Principal, child_column: Any, child_id: uuid.UUID) -> list[ColumnElement[bool]]:
        return [col(child_column) == child_id, col(child_column).in_(self.visible_ids(who))]

    async def professional(self, professional_id: uuid.UUID) -> Professional | None:
        return await self.session.get(Professional, professional_id)

    # --- visits and voice --------------------------------------------------------------

    async def visits_page(self, who: Principal, child_id: uuid.UUID, page: PageParams) -> tuple[list[Visit], str | None]:
        stmt = select(Visit).where(*self._of_child(who, Visit.child_id, child_id))
        keys: list[SortKey] = [(Visit.visited_on, date.fromisoformat), (Visit.created_at, datetime.fromisoformat), (Visit.id, uuid.UUID)]
        return await fetch_newest_first(self.session, stmt, page, keys)

    async def visit_summary(self, who: Principal, child_id: uuid.UUID) -> tuple[date | None, date | None, date | None]:
        """Last seen, last seen alone and last statutory visit (Annex A), over every visit, not one page."""
        scope = self._of_child(who, Visit.child_id, child_id)
        seen = select(func.max(Visit.visited_on)).where(*scope, col(Visit.child_seen).is_(True))
        alone = select(func.max(Visit.visited_on)).where(*scope, col(Visit.seen_alone).is_(True))
        statutory = select(func.max(Visit.visited_on)).where(*scope, col(Visit.statutory).is_(True))
        return (
            (await self.session.exec(seen)).one(),
            (await self.session.exec(alone)).one(),
            (await self.session.exec(statutory)).one(),
        )

    async def voices_page(self, who: Principal, child_id: uuid.UUID, page: PageParams) -> tuple[list[Voice], str | None]:
        stmt = select(Voice).where(*self._of_child(who, Voice.child_id, child_id))
        keys: list[SortKey] = [(Voice.recorded_on, date.fromisoformat), (Voice.created_at, datetime.fromisoformat), (Voice.id, uuid.UUID)]
        return await fetch_newest_first(self.session, stmt, page, keys)

    # --- service offers and engagement ---------------------------------------------------

    async def offer(self, who: Principal, offer_id: uuid.UUID, *, for_update: bool = False) -> ServiceOffer | None:
        stmt = select(ServiceOffer).where(
            ServiceOffer.id == offer_id, col(ServiceOffer.child_id).in_(self.visible_ids(who))
        )
        if for_update:
            stmt = self.locked(stmt, ServiceOffer)
        return (await self.session.exec(stmt)).first()

    async def offers_page(self, who: Principal, child_id: uuid.UUID, page: PageParams) -> tuple[Sequence[ServiceOffer], str | None]:
        stmt = select(ServiceOffer).where(*self._of_child(who, ServiceOffer.child_id, child_id))
        return await fetch_page(self.session, stmt, ServiceOffer, page)

    async def events_page(self, who: Principal, child_id: uuid.UUID, page: PageParams) -> tuple[Sequence[EngagementEvent], str | None]:
        stmt = select(EngagementEvent).where(*self._of_child(who, EngagementEvent.child_id, child_id))
        return await fetch_page(self.session, stmt, EngagementEvent, page)

    async def events_of(self, who: Principal, child_id: uuid.UUID) -> list[EngagementEvent]:
        """Every engagement event of the child, oldest first (a handful per child)."""
        stmt = (
            select(EngagementEvent)
            .where(*self._of_child(who, EngagementEvent.child_id, child_id))
            .order_by(col(EngagementEvent.occurred_on), col(EngagementEvent.created_at), col(EngagementEvent.id))
        )
        return list((await self.session.exec(stmt)).all())

    # --- the pathway -------------------------------------------------------------------------

    async def cases_of(self, who: Principal, child_id: uuid.UUID) -> list[NonEngagementCase]:
        """The child's non-engagement cases, oldest first."""
        stmt = (
            select(NonEngagementCase)
            .where(*self._of_child(who, NonEngagementCase.child_id, child_id))
            .order_by(col(NonEngagementCase.created_at), col(NonEngagementCase.id))
        )
        return list((await self.session.exec(stmt)).all())

    async def case(self, who: Principal, case_id: uuid.UUID, *, for_update: bool = False) -> NonEngagementCase | None:
        stmt = select(NonEngagementCase).where(
            NonEngagementCase.id == case_id, col(NonEngagementCase.child_id).in_(self.visible_ids(who))
        )
        if for_update:
            stmt = self.locked(stmt, NonEngagementCase)
        return (await self.session.exec(stmt)).first()

    async def has_open_cin_episode(self, child_id: uuid.UUID) -> bool:
        """An open children in need episode (a CIN or CP plan sits inside one); NFA episodes are closed at decision."""
        stmt = select(Episode.id).where(
            Episode.child_id == child_id, Episode.kind == "cin", col(Episode.closure_date).is_(None),
            or_(col(Episode.nfa).is_(None), col(Episode.nfa).is_(False)),
        )
        return (await self.session.exec(stmt)).first() is not None

    async def involved_agency_ids(self, child_id: uuid.UUID, on: date) -> list[uuid.UUID]:
        stmt = select(Involvement.agency_id).where(
            Involvement.child_id == child_id,
            Involvement.role != REFERRER_ROLE,
            col(Involvement.start_date) <= on,
            or_(col(Involvement.end_date).is_(None), col(Involvement.end_date) >= on),
        ).distinct()
        return sorted((await self.session.exec(stmt)).all(), key=str)

    async def chronic_neglect(self, child_id: uuid.UUID) -> bool:
        """Neglect known to the partnership: a neglect CP plan, a neglect factor at assessment,
        or an open episode whose primary need is abuse or neglect."""
        plans = (
            select(CpPlan.id)
            .join(Episode, col(Episode.id) == col(CpPlan.episode_id))
            .where(Episode.child_id == child_id,
                   or_(col(CpPlan.initial_category) == NEGLECT_CATEGORY, col(CpPlan.latest_category) == NEGLECT_CATEGORY))
        )
        if (await self.session.exec(plans)).first() is not None:
            return True
        open_need = select(Episode.id).where(
            Episode.child_id == child_id, col(Episode.closure_date).is_(None), Episode.primary_need == ABUSE_OR_NEGLECT_NEED
        )
        if (await self.session.exec(open_need)).first() is not None:
            return True
        factors = (
            select(StatutoryAssessment.factors)
            .join(Episode, col(Episode.id) == col(StatutoryAssessment.episode_id))
            .where(Episode.child_id == child_id)
        )
        return any(NEGLECT_FACTOR in (f or []) for f in (await self.session.exec(factors)).all())
