"""Partner agencies of the partnership."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from services.referral import events as ev
from services.referral.domain.errors import AgencyNotFound, DuplicateExternalRef
from services.referral.models import Agency
from services.referral.queries.children import AgencyQueries
from services.referral.schemas.children import AgencyCreate
from shared.contracts import publish
from shared.events import Outbox
from shared.pagination import PageParams


class Agencies:
    def __init__(self, queries: AgencyQueries, outbox: Outbox) -> None:
        self.queries = queries
        self.outbox = outbox

    async def register(self, body: AgencyCreate) -> Agency:
        if body.external_ref and await self.queries.by_external_ref(body.external_ref):
            raise DuplicateExternalRef("Another agency already has this external reference.")
        agency = Agency(name=body.name, agency_type=body.agency_type, external_ref=body.external_ref)
        await self.queries.add(agency)
        await publish(self.outbox, ev.AgencyRegistered(agency_id=agency.id, agency_type=agency.agency_type))
        return agency

    async def get(self, agency_id: uuid.UUID) -> Agency:
        agency = await self.queries.get(agency_id)
        if agency is None:
            raise AgencyNotFound(f"No agency {agency_id}.")
        return agency

    async def page(self, page: PageParams, agency_type: str | None) -> tuple[Sequence[Agency], str | None]:
        return await self.queries.page(page, agency_type)
