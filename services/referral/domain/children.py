"""Children and unborn children: registration and look-up, audited."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from services.referral.domain.errors import (
    AgencyNotRegistered,
    ChildNotFound,
    DuplicateChildId,
    DuplicateExternalRef,
)
from services.referral.models import Child, ChildExternalRef, Involvement
from services.referral.queries.children import AgencyQueries, ChildQueries
from services.referral.schemas.children import ChildCreate
from shared.audit import Audit
from shared.events import Outbox
from shared.pagination import PageParams
from shared.tokens import Principal


class Children:
    def __init__(self, queries: ChildQueries, agencies: AgencyQueries, audit: Audit, outbox: Outbox) -> None:
        self.queries = queries
        self.agencies = agencies
        self.audit = audit
        self.outbox = outbox

    async def register(self, who: Principal, body: ChildCreate) -> tuple[Child, str | None]:
        """Register a child; the registering agency becomes involved from today."""
        if await self.agencies.get(who.agency_id) is None:
            raise AgencyNotRegistered("Ask the partnership to register your agency before sending children.")
        if body.external_ref and await self.queries.ref_taken(who.agency_id, body.external_ref):
            raise DuplicateExternalRef("Your agency already uses this external reference for a child.")
        if body.la_child_id and await self.queries.la_child_id_taken(body.la_child_id):
            raise DuplicateChildId("Another child already has this LA child id.")
        child = Child(
            **body.model_dump(exclude={"external_ref"}),
            created_by_agency_id=who.agency_id,
        )
        await self.queries.add(child)
        rows: list[ChildExternalRef | Involvement] = []
        if body.external_ref:
            rows.append(ChildExternalRef(child_id=child.id, agency_id=who.agency_id, external_ref=body.external_ref))
        rows.append(Involvement(child_id=child.id, agency_id=who.agency_id, role="registering_agency",
                                start_date=datetime.now(UTC).date()))
        await self.queries.add(*rows)
        self.audit.record(who, "create", "child", [child.id])
        await self.outbox.emit("child.registered", child_id=child.id, agency_id=who.agency_id, unborn=child.birth_date is None)
        return child, body.external_ref

    async def get(self, who: Principal, child_id: uuid.UUID) -> tuple[Child, str | None]:
        child = await self.queries.get(who, child_id)
        if child is None:
            raise ChildNotFound(f"No child {child_id} visible to your agency.")
        self.audit.record(who, "read", "child", [child.id])
        refs = await self.queries.external_refs(who, [child.id])
        return child, refs.get(child.id)

    async def page(
        self, who: Principal, page: PageParams, **filters: str | None
    ) -> tuple[list[tuple[Child, str | None]], str | None]:
        children, next_cursor = await self.queries.page(who, page, **filters)
        ids: Sequence[uuid.UUID] = [c.id for c in children]
        refs = await self.queries.external_refs(who, ids)
        if ids:
            self.audit.record(who, "list", "child", ids)
        return [(c, refs.get(c.id)) for c in children], next_cursor
