"""Reads and writes, with agency scoping inside every query."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, insert, or_, text
from sqlalchemy import select as sa_select
from sqlalchemy.engine import RowMapping
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from services.referral.models import (
    REFERRER_ROLE,
    Agency,
    Child,
    ChildExternalRef,
    Episode,
    Involvement,
)
from shared.pagination import PageParams, fetch_page
from shared.tokens import Principal


def _today() -> date:
    return datetime.now(UTC).date()


def active_involvement_child_ids(agency_id: uuid.UUID) -> SelectOfScalar[uuid.UUID]:
    """Children the agency works with today (an active involvement, ends inclusive)."""
    today = datetime.now(UTC).date()
    return select(Involvement.child_id).where(
        Involvement.agency_id == agency_id,
        Involvement.role != REFERRER_ROLE,
        col(Involvement.start_date) <= today,
        or_(col(Involvement.end_date).is_(None), col(Involvement.end_date) >= today),
    )


def visible_to(who: Principal, full_access_types: Sequence[str]) -> ColumnElement[bool]:
    """The condition under which ``who`` may see a child's record (README "Who sees what").

    An agency sees a child it registered or works with now (an active
    involvement); children's social care (configurable agency types) sees every
    child except sealed ones, which only agencies with an involvement see.
    Referring a child grants nothing here: the referrer sees its own referrals
    and their outcome (``ReferralQueries``), not the child's record.
    """
    sees_all = exists().where(col(Agency.id) == who.agency_id, col(Agency.agency_type).in_(list(full_access_types)))
    return or_(
        col(Child.id).in_(active_involvement_child_ids(who.agency_id)),
        and_(col(Child.restricted).is_(False), or_(col(Child.created_by_agency_id) == who.agency_id, sees_all)),
    )


def _visible_by_params(full_access_types: tuple[str, ...]) -> ColumnElement[bool]:
    """``visible_to``'s condition with the agency and today as bound parameters
    (``visible_agency_id``, ``visible_today``), for statements built once."""
    agency: Any = bindparam("visible_agency_id", type_=Child.__table__.c.created_by_agency_id.type)  # type: ignore[attr-defined]
    today: Any = bindparam("visible_today", type_=Involvement.__table__.c.start_date.type)  # type: ignore[attr-defined]
    involved = select(Involvement.child_id).where(
        col(Involvement.agency_id) == agency,
        Involvement.role != REFERRER_ROLE,
        col(Involvement.start_date) <= today,
        or_(col(Involvement.end_date).is_(None), col(Involvement.end_date) >= today),
    )
    # One bound parameter a type, not ``in_(list)``: an expanding IN list is rendered again
    # into the SQL on every execution, though it is fixed for the statement's life.
    full_access: list[Any] = [bindparam(f"visible_full_access_{i}", t, type_=Agency.__table__.c.agency_type.type)  # type: ignore[attr-defined]
                              for i, t in enumerate(full_access_types)]
    sees_all = exists().where(col(Agency.id) == agency, col(Agency.agency_type).in_(full_access))
    return or_(
        col(Child.id).in_(involved),
        and_(col(Child.restricted).is_(False), or_(col(Child.created_by_agency_id) == agency, sees_all)),
    )


_CHILD = Child.__table__  # type: ignore[attr-defined]
_EXTERNAL_REF = ChildExternalRef.__table__  # type: ignore[attr-defined]
_AGENCY = Agency.__table__  # type: ignore[attr-defined]
_INVOLVEMENT = Involvement.__table__  # type: ignore[attr-defined]


@lru_cache(maxsize=16)
def _visible_child_by_id(full_access_types: tuple[str, ...]) -> SelectOfScalar[Child]:
    """``ChildQueries.get``'s statement, built once per configuration with bound parameters.

    The same condition as ``visible_to``; building that expression tree on every read was
    about a fifth of a child read's CPU (docs/benchmarks.md).
    """
    child_id: Any = bindparam("visible_child_id", type_=_CHILD.c.id.type)
    return select(Child).where(_visible_by_params(full_access_types), col(Child.id) == child_id)


@lru_cache(maxsize=16)
def _visible_child_row(full_access_types: tuple[str, ...]) -> Select[Any]:
    """``ChildQueries.read``'s statement: the same condition and columns as ``_visible_child_by_id``,
    as a Core select (rows, not ORM instances)."""
    child_id: Any = bindparam("visible_child_id", type_=_CHILD.c.id.type)
    return sa_select(*_CHILD.c).where(_visible_by_params(full_access_types), _CHILD.c.id == child_id)


#: The caller's own reference for one child (``ChildQueries.external_refs`` for one id).
_EXTERNAL_REF_OF = sa_select(_EXTERNAL_REF.c.external_ref).where(
    _EXTERNAL_REF.c.agency_id == bindparam("agency_id"), _EXTERNAL_REF.c.child_id == bindparam("child_id"))
_AGENCY_EXISTS = sa_select(_AGENCY.c.id).where(_AGENCY.c.id == bindparam("agency_id"))

#: A new child's columns that registration does not set, with their values (the model's defaults).
CHILD_DEFAULTS: dict[str, Any] = {
    "la_child_id": None, "birth_date": None, "expected_birth_date": None, "death_date": None,
    "cp_plans_elsewhere": 0, "cp_plans_elsewhere_latest_end_date": None, "nhs_number": None, "upn": None,
    "upn_unknown": None, "ethnicity": None, "mother_id": None, "restricted": False, "version": 1,
}
_CHILD_SET_BY_REGISTRATION = {"id", "given_name", "family_name", "gender", "disabilities", "created_by_agency_id",
                              "created_at", "updated_at"}
if set(CHILD_DEFAULTS) | _CHILD_SET_BY_REGISTRATION != set(_CHILD.c.keys()):  # a column added to Child: give its default
    raise RuntimeError("CHILD_DEFAULTS does not cover the child table's columns")


def visible_child_ids(who: Principal, full_access_types: Sequence[str]) -> SelectOfScalar[uuid.UUID]:
    """Ids of the children ``who`` may see: start every child-level read from here."""
    return select(Child.id).where(visible_to(who, full_access_types))


class AgencyQueries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, agency_id: uuid.UUID) -> Agency | None:
        return await self.session.get(Agency, agency_id)

    async def exists(self, agency_id: uuid.UUID) -> bool:
        """Whether the agency is registered (Core: no ORM instance loaded)."""
        connection = await self.session.connection()
        return (await connection.execute(_AGENCY_EXISTS, {"agency_id": agency_id})).first() is not None

    async def by_external_ref(self, external_ref: str) -> Agency | None:
        return (await self.session.exec(select(Agency).where(Agency.external_ref == external_ref))).first()

    async def page(self, page: PageParams, agency_type: str | None) -> tuple[Sequence[Agency], str | None]:
        stmt = select(Agency)
        if agency_type is not None:
            stmt = stmt.where(Agency.agency_type == agency_type)
        return await fetch_page(self.session, stmt, Agency, page)

    async def add(self, agency: Agency) -> None:
        self.session.add(agency)
        await self.session.flush()


class ChildQueries:
    def __init__(self, session: AsyncSession, full_access_types: Sequence[str]) -> None:
        self.session = session
        self.full_access_types = list(full_access_types)

    def _visible_to(self, who: Principal) -> SelectOfScalar[Child]:
        return select(Child).where(visible_to(who, self.full_access_types))

    async def get(self, who: Principal, child_id: uuid.UUID) -> Child | None:
        stmt = _visible_child_by_id(tuple(self.full_access_types))
        params = {"visible_agency_id": who.agency_id, "visible_today": _today(), "visible_child_id": child_id}
        return (await self.session.exec(stmt, params=params)).first()

    async def read(self, who: Principal, child_id: uuid.UUID) -> tuple[RowMapping, str | None] | None:
        """The child's columns and the caller's own reference for it, when ``who`` may see it:
        the same agency-scoped condition as ``get``, read with Core (no ORM instances), for
        reads that change nothing."""
        connection = await self.session.connection()
        params = {"visible_agency_id": who.agency_id, "visible_today": _today(), "visible_child_id": child_id}
        row = (await connection.execute(_visible_child_row(tuple(self.full_access_types)), params)).mappings().first()
        if row is None:
            return None
        ref = (await connection.execute(_EXTERNAL_REF_OF, {"agency_id": who.agency_id, "child_id": child_id})).first()
        return row, None if ref is None else ref[0]

    async def page(
        self,
        who: Principal,
        page: PageParams,
        *,
        external_ref: str | None = None,
        la_child_id: str | None = None,
        nhs_number: str | None = None,
    ) -> tuple[Sequence[Child], str | None]:
        stmt = self._visible_to(who)
        if external_ref is not None:
            # A partner's reference is only meaningful within that partner.
            refs = select(ChildExternalRef.child_id).where(
                ChildExternalRef.agency_id == who.agency_id, ChildExternalRef.external_ref == external_ref
            )
            stmt = stmt.where(col(Child.id).in_(refs))
        if la_child_id is not None:
            stmt = stmt.where(Child.la_child_id == la_child_id)
        if nhs_number is not None:
            stmt = stmt.where(Child.nhs_number == nhs_number)
        return await fetch_page(self.session, stmt, Child, page)

    async def external_refs(self, who: Principal, child_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not child_ids:
            return {}
        stmt = select(ChildExternalRef).where(
            ChildExternalRef.agency_id == who.agency_id, col(ChildExternalRef.child_id).in_(child_ids)
        )
        return {r.child_id: r.external_ref for r in (await self.session.exec(stmt)).all()}

    async def ref_taken(self, agency_id: uuid.UUID, external_ref: str) -> bool:
        stmt = select(ChildExternalRef.id).where(
            ChildExternalRef.agency_id == agency_id, ChildExternalRef.external_ref == external_ref
        )
        return (await self.session.exec(stmt)).first() is not None

    async def has_further_action(self, child_id: uuid.UUID) -> bool:
        """Whether any of the child's CIN episodes led to further action (not an NFA referral)."""
        stmt = select(Episode.id).where(Episode.child_id == child_id, Episode.kind == "cin", col(Episode.nfa).is_(False))
        return (await self.session.exec(stmt)).first() is not None

    async def visible_with_nhs_number(self, who: Principal, nhs_number: str, *, other_than: uuid.UUID | None = None,
                                      limit: int = 20) -> list[uuid.UUID]:
        """Children ``who`` may see that carry this NHS number, oldest first. Children it may
        not see are left out by the same condition as every read, so they can never be told."""
        stmt = select(Child.id).where(visible_to(who, self.full_access_types), Child.nhs_number == nhs_number)
        if other_than is not None:
            stmt = stmt.where(Child.id != other_than)
        stmt = stmt.order_by(col(Child.created_at), col(Child.id)).limit(limit)
        return list((await self.session.exec(stmt)).all())

    async def serialise_nhs_number(self, nhs_number: str) -> None:
        """Make concurrent registrations of one NHS number take turns (PostgreSQL; SQLite
        serialises writers anyway), so the second one sees the first and is refused."""
        if self.session.bind.dialect.name == "postgresql":  # type: ignore[union-attr]
            key = int.from_bytes(hashlib.sha256(f"child-nhs-number\x00{nhs_number}".encode()).digest()[:8], "big", signed=True)
            await self.session.exec(text("SELECT pg_advisory_xact_lock(:k)").bindparams(k=key))  # type: ignore[call-overload]

    async def la_child_id_taken(self, la_child_id: str) -> bool:
        stmt = select(Child.id).where(Child.la_child_id == la_child_id)
        return (await self.session.exec(stmt)).first() is not None

    async def insert_registration(self, child: dict[str, Any], external_ref: str | None, involvement_role: str,
                                  today: date) -> None:
        """A new child (every column given: ``CHILD_DEFAULTS`` and the registration's values), the
        registering agency's reference for it and its involvement, with Core: the child first,
        then the rows that reference it."""
        connection = await self.session.connection()
        agency_id, now = child["created_by_agency_id"], child["created_at"]
        await connection.execute(insert(_CHILD), [child])
        if external_ref is not None:
            await connection.execute(insert(_EXTERNAL_REF), [{"id": uuid.uuid4(), "child_id": child["id"],
                                                              "agency_id": agency_id, "external_ref": external_ref,
                                                              "created_at": now}])
        await connection.execute(insert(_INVOLVEMENT), [{
            "id": uuid.uuid4(), "child_id": child["id"], "agency_id": agency_id, "professional_id": None,
            "role": involvement_role, "start_date": today, "end_date": None, "created_at": now, "version": 1}])
        self.session.info["wrote"] = True  # as an ORM flush would (shared.db.end_read_transaction)
