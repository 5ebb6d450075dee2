"""Reading the audit trail: who accessed a child's records, and what one agency's clients accessed.

Every service that writes ``audit_event`` rows mounts ``audit_router(<service>, ...)``, so
``GET /v1/audit/<service>/children/{child_id}`` and ``GET /v1/audit/<service>/agencies/{agency_id}``
answer from that service's own table (the gateway routes ``/v1/audit/<service>/...`` to it).

Who may read it (scope ``audit:read``, a privileged information-governance scope; ``admin``
implies it):

- an agency's listing: your own agency only, unless the token has ``admin``;
- a child's listing: only a child your agency may see now (the service's usual visibility
  rule, asked of the owner of children), unless the token has ``admin``. It lists every
  agency's access to that child: that is what an information-governance officer needs to
  answer "who looked at this child". A child you may not see is a 404, as everywhere.

Reading the audit is itself audited (action ``read``/``list``, resource ``audit``).
"""


import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, and_, cast, exists, func, literal, or_
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.audit import AuditDep
from shared.auth import require_scopes
from shared.db import SessionDep
from shared.errors import BadRequest, DomainError, Forbidden, NotFound, problems
from shared.models import AuditEvent
from shared.pagination import InvalidCursor, PageDep, keyset_position, pack_cursor, set_link_header
from shared.tokens import Principal

AUDIT_SCOPE = "audit:read"
CanReadAudit = Annotated[Principal, Depends(require_scopes(AUDIT_SCOPE))]

#: ``async (who, child_id) -> bool``: may ``who``'s agency see the child now?
ChildCheck = Callable[[Principal, uuid.UUID], Awaitable[bool]]


class AuditChildNotFound(NotFound):
    slug, title = "audit-child-not-found", "No such child for this agency"


class AuditAgencyForbidden(Forbidden):
    slug, title = "audit-agency-forbidden", "Only your own agency's audit trail, unless you are an administrator"


class InvalidAuditPeriod(BadRequest):
    slug, title = "invalid-audit-period", "The period is not valid"


class AuditEventRead(BaseModel):
    """One access: when, which partner system of which agency, the person there (when the system
    named one), what was done to which kind of record, why, and the request id to trace it."""

    id: uuid.UUID
    occurred_at: datetime
    service: str = Field(description="The service that recorded it.", examples=["referral"])
    client_id: str = Field(examples=["police-niche"])
    agency_id: uuid.UUID
    acting_user: str | None = Field(description="The partner system's own id of the person acting, when it named one "
                                                "(`acting_user` at the token endpoint).", examples=["staff-4711"])
    action: str = Field(examples=["read"])
    resource: str = Field(examples=["child"])
    resource_id: str | None = Field(default=None, description="The one record acted on when it is not a child "
                                                              "(an API client's id in the gateway's trail).")
    child_ids: list[uuid.UUID] = Field(
        description="The children touched. In a child's listing only that child is shown, even when the "
                    "request touched others (their ids are not yours to see).")
    purpose: str = Field(description="From the request's `X-Purpose` header (default `safeguarding`).",
                         examples=["safeguarding"])
    request_id: str


class AuditPage(BaseModel):
    items: list[AuditEventRead]
    next_cursor: str | None


@dataclass(frozen=True)
class AuditFilters:
    from_date: date | None = None
    to_date: date | None = None
    client_id: str | None = None
    acting_user: str | None = None

    def __post_init__(self) -> None:
        if self.from_date and self.to_date and self.from_date > self.to_date:
            raise InvalidAuditPeriod("`from` is after `to`.")


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def mentions_child(child_id: uuid.UUID, dialect: str) -> ColumnElement[bool]:
    """``child_ids`` (a JSON list of strings) contains the child.

    PostgreSQL: JSON containment on the column cast to jsonb, which the GIN expression index
    ``ix_audit_event_child_ids`` serves. SQLite: ``json_each`` (a scan; the embedded default is
    for one machine's worth of data).
    """
    wanted = str(child_id)
    if dialect == "postgresql":
        return cast(col(AuditEvent.child_ids), JSONB).contains([wanted])
    each = func.json_each(col(AuditEvent.child_ids)).table_valued("value")
    return exists(sa_select(literal(1)).select_from(each).where(each.c.value == wanted))


class AuditQueries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _dialect(self) -> str:
        bind = self.session.bind
        return bind.dialect.name if bind is not None else "sqlite"

    async def page(
        self, where: ColumnElement[bool], filters: AuditFilters, limit: int, cursor: str | None
    ) -> tuple[Sequence[AuditEvent], str | None]:
        """Newest first, in keyset pages on (occurred_at, id)."""
        occurred, row_id = col(AuditEvent.occurred_at), col(AuditEvent.id)
        stmt = select(AuditEvent).where(where)
        if filters.from_date is not None:
            stmt = stmt.where(occurred >= _start_of(filters.from_date))
        if filters.to_date is not None:
            stmt = stmt.where(occurred < _start_of(filters.to_date + timedelta(days=1)))
        if filters.client_id is not None:
            stmt = stmt.where(col(AuditEvent.client_id) == filters.client_id)
        if filters.acting_user is not None:
            stmt = stmt.where(col(AuditEvent.acting_user) == filters.acting_user)
        position = keyset_position(cursor)
        if position is not None:
            at, last_id = position
            stmt = stmt.where(or_(occurred < at, and_(occurred == at, row_id < last_id)))
        stmt = stmt.order_by(occurred.desc(), row_id.desc()).limit(limit + 1)
        rows = list((await self.session.exec(stmt)).all())
        if len(rows) <= limit:
            return rows, None
        rows = rows[:limit]
        last = rows[-1]
        return rows, pack_cursor([last.occurred_at.isoformat(), str(last.id)])

    async def for_child(
        self, child_id: uuid.UUID, filters: AuditFilters, limit: int, cursor: str | None
    ) -> tuple[Sequence[AuditEvent], str | None]:
        return await self.page(mentions_child(child_id, self._dialect()), filters, limit, cursor)

    async def for_agency(
        self, agency_id: uuid.UUID, filters: AuditFilters, limit: int, cursor: str | None
    ) -> tuple[Sequence[AuditEvent], str | None]:
        return await self.page(col(AuditEvent.agency_id) == agency_id, filters, limit, cursor)


def is_admin(who: Principal) -> bool:
    return "admin" in who.scopes


def check_agency_listing(who: Principal, agency_id: uuid.UUID) -> None:
    if agency_id != who.agency_id and not is_admin(who):
        raise AuditAgencyForbidden("You may read your own agency's audit trail; other agencies' need the admin scope.")


def event_read(event: AuditEvent, service: str, only_child: uuid.UUID | None = None) -> AuditEventRead:
    ids = [uuid.UUID(c) for c in event.child_ids]
    if only_child is not None:
        ids = [c for c in ids if c == only_child]
    return AuditEventRead(
        id=event.id, occurred_at=event.occurred_at, service=service, client_id=event.client_id,
        agency_id=event.agency_id, acting_user=event.acting_user, action=event.action, resource=event.resource,
        resource_id=event.resource_id,
        child_ids=ids, purpose=event.purpose, request_id=event.request_id,
    )


_EXAMPLE: dict[str, Any] = {
    "items": [{
        "id": "0b8e6c1e-3f0a-4a51-9d44-5d1f3c2b7a10", "occurred_at": "2026-03-02T10:15:04.120Z",
        "service": "referral", "client_id": "hv-system", "agency_id": "3f5e1d2c-8a4b-4c6d-9e7f-1a2b3c4d5e6f",
        "acting_user": "staff-4711", "action": "read", "resource": "child",
        "child_ids": ["7c9d1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f"], "purpose": "safeguarding",
        "request_id": "6f1c2e8a9b0d4c3e8f7a6b5c4d3e2f1a",
    }],
    "next_cursor": None,
}
_OK: dict[int | str, dict[str, Any]] = {200: {"content": {"application/json": {"example": _EXAMPLE}}}}


def _filters(
    from_: Annotated[date | None, Query(alias="from", description="Accesses on or after this day (UTC).")] = None,
    to: Annotated[date | None, Query(description="Accesses on or before this day (UTC).")] = None,
) -> AuditFilters:
    return AuditFilters(from_, to)


FiltersDep = Annotated[AuditFilters, Depends(_filters)]


def audit_router(
    service: str,
    child_check: Callable[..., ChildCheck] | None = None,
    child_check_errors: Sequence[type[DomainError]] = (),
) -> APIRouter:
    """The audit reader of ``service``. ``child_check`` is a FastAPI dependency giving a
    ``ChildCheck``; without one the per-child listing is not offered (the service records no
    child ids). It runs before this request touches the database: a check that asks another
    service over HTTP never waits inside an open transaction."""
    # No ``from __future__ import annotations`` in this module: FastAPI reads the routes'
    # annotations, and the per-child one names this closure's ``child_check``.
    router = APIRouter(prefix=f"/audit/{service}", tags=["audit"])

    @router.get(
        "/agencies/{agency_id}", summary=f"What one agency accessed ({service})",
        responses={**_OK, **problems(AuditAgencyForbidden, InvalidAuditPeriod, InvalidCursor)},
        operation_id=f"audit_{service}_agency",
    )
    async def list_agency_audit(
        who: CanReadAudit, session: SessionDep, audit: AuditDep, page: PageDep, response: Response, filters: FiltersDep,
        agency_id: Annotated[uuid.UUID, Path()],
        client_id: Annotated[str | None, Query(max_length=100, description="Only this client's accesses.")] = None,
        acting_user: Annotated[str | None, Query(max_length=200, description="Only this person's accesses.")] = None,
    ) -> AuditPage:
        check_agency_listing(who, agency_id)
        narrowed = AuditFilters(filters.from_date, filters.to_date, client_id, acting_user)
        rows, next_cursor = await AuditQueries(session).for_agency(agency_id, narrowed, page.limit, page.cursor)
        audit.record(who, "list", "audit", [])
        set_link_header(response, page, next_cursor)
        return AuditPage(items=[event_read(r, service) for r in rows], next_cursor=next_cursor)

    list_agency_audit.__doc__ = (
        f"Every access the {service} service recorded by one agency's partner systems, newest first: "
        "when, client, acting user, action, record kind, children, purpose, request id. Needs "
        "`audit:read`; your own agency only, any agency with `admin` (else 403). Filter by day "
        "(`from`, `to`, UTC), `client_id` or `acting_user`; follow `Link: rel=\"next\"`. "
        "This read is itself audited."
    )

    if child_check is None:
        return router
    CheckDep = Annotated[ChildCheck, Depends(child_check)]  # noqa: N806

    @router.get(
        "/children/{child_id}", summary=f"Who accessed this child ({service})",
        responses={**_OK, **problems(AuditChildNotFound, InvalidAuditPeriod, InvalidCursor, *child_check_errors)},
        operation_id=f"audit_{service}_child",
    )
    async def list_child_audit(
        who: CanReadAudit, check: CheckDep, session: SessionDep, audit: AuditDep, page: PageDep,
        response: Response, filters: FiltersDep, child_id: Annotated[uuid.UUID, Path()],
    ) -> AuditPage:
        if not is_admin(who) and not await check(who, child_id):
            raise AuditChildNotFound(f"No child {child_id} visible to your agency.")
        rows, next_cursor = await AuditQueries(session).for_child(child_id, filters, page.limit, page.cursor)
        audit.record(who, "read", "audit", [child_id])
        set_link_header(response, page, next_cursor)
        return AuditPage(items=[event_read(r, service, child_id) for r in rows], next_cursor=next_cursor)

    list_child_audit.__doc__ = (
        f"Who accessed this child's records in the {service} service, newest first, from every "
        "agency: when, client, agency, acting user, action, record kind, purpose, request id. Needs "
        "`audit:read` and a child your agency may see now (else 404), or `admin`. Filter by day "
        "(`from`, `to`, UTC); follow `Link: rel=\"next\"`. This read is itself audited."
    )
    return router
