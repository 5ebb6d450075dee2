"""Consent and the information-sharing log (DOMAIN.md §9).

Protection from neglect outranks privacy: consent is recorded, and never gates a
safeguarding share. Each share, and each decision not to share, appends a log
entry with what, to whom, why, the lawful basis, who decided and the consent
position at the time. Nothing here is ever updated or deleted.
"""

from __future__ import annotations

import uuid

from services.referral import events as ev
from services.referral.domain.chronology import Chronology
from services.referral.domain.errors import ChildNotFound
from services.referral.domain.involvements import UnknownAgency
from services.referral.domain.people import PersonNotFound
from services.referral.domain.practice import Practice
from services.referral.models import Agency, Child, ConsentRecord, InformationShare
from services.referral.queries.people import PeopleQueries
from services.referral.queries.sharing import SharingQueries
from services.referral.schemas.sharing import ConsentCreate, InformationShareCreate
from shared.audit import Audit
from shared.contracts import publish
from shared.db import utcnow
from shared.errors import Unprocessable
from shared.events import Outbox
from shared.pagination import PageParams
from shared.tokens import Principal


class ShareToSelf(Unprocessable):
    slug, title = "share-to-self", "An agency does not share with itself"

    def __init__(self) -> None:
        super().__init__("to_agency_id is your own agency.", errors=[
            {"field": "body.to_agency_id", "message": "your own agency", "code": "share_to_self"}])


class Sharing:
    def __init__(self, queries: SharingQueries, people: PeopleQueries, practice: Practice, audit: Audit, outbox: Outbox) -> None:
        self.queries = queries
        self.people = people
        self.practice = practice
        self.audit = audit
        self.outbox = outbox
        self.chronology = Chronology(queries.session)

    async def _child(self, who: Principal, child_id: uuid.UUID, *, for_update: bool = False) -> Child:
        child = await self.queries.visible_child(who, child_id, for_update=for_update)
        if child is None:
            raise ChildNotFound(f"No child {child_id} visible to your agency.")
        return child

    async def record_consent(self, who: Principal, child_id: uuid.UUID, body: ConsentCreate) -> ConsentRecord:
        """Record a consent position. Withdrawn consent is also an engagement event (open disengagement)."""
        child = await self._child(who, child_id, for_update=body.status == "withdrawn")
        if body.person_id is not None and await self.people.person(who, body.person_id) is None:
            raise PersonNotFound(f"No person {body.person_id} visible to your agency.")
        consent = ConsentRecord(child_id=child.id, agency_id=who.agency_id, **body.model_dump())
        await self.queries.add(consent)
        self.chronology.add(child.id, "consent.recorded", f"Consent {consent.status.replace('_', ' ')}.",
                            occurred=consent.recorded_on, agency_id=who.agency_id,
                            significance="low" if consent.status in ("given", "not_sought") else "medium",
                            source_type="consent_record", source_id=consent.id)
        self.audit.record(who, "create", "consent_record", [child.id])
        await publish(self.outbox, ev.ConsentRecorded(child_id=child.id, consent_id=consent.id, agency_id=who.agency_id,
                                                      status=consent.status, recorded_on=consent.recorded_on))
        if consent.status == "withdrawn":
            await self.practice.engage(who, child, "consent_withdrawn", consent.recorded_on, None)
        return consent

    async def consents(self, who: Principal, child_id: uuid.UUID, page: PageParams) -> tuple[list[ConsentRecord], str | None]:
        await self._child(who, child_id)
        rows, next_cursor = await self.queries.consents_page(who, child_id, page)
        self.audit.record(who, "list", "consent_record", [child_id])
        return rows, next_cursor

    async def record_share(self, who: Principal, child_id: uuid.UUID, body: InformationShareCreate) -> InformationShare:
        """Log a share or a decision not to share, with the consent position at the time (never a gate)."""
        child = await self._child(who, child_id)
        if body.to_agency_id is not None:
            if body.to_agency_id == who.agency_id:
                raise ShareToSelf()
            if await self.queries.session.get(Agency, body.to_agency_id) is None:
                raise UnknownAgency(f"No agency {body.to_agency_id}.", "body.to_agency_id")
        consent = await self.queries.latest_consent(who, child.id)
        share = InformationShare(
            child_id=child.id, from_agency_id=who.agency_id,
            **body.model_dump(exclude={"decided_at"}),
            decided_at=body.decided_at or utcnow(),
            consent_status=consent.status if consent else None,
        )
        await self.queries.add(share)
        line = "Information shared" if share.shared else "Decision not to share information"
        self.chronology.add(child.id, "information_share", f"{line} ({len(share.what)} item(s)).",
                            occurred=share.decided_at, agency_id=who.agency_id, significance="low",
                            source_type="information_share", source_id=share.id)
        self.audit.record(who, "create", "information_share", [child.id])
        await publish(self.outbox, ev.InformationShareRecorded(
            child_id=child.id, share_id=share.id, from_agency_id=who.agency_id, to_agency_id=share.to_agency_id,
            shared=share.shared, decided_at=share.decided_at, consent_status=share.consent_status))
        return share

    async def shares_of_child(self, who: Principal, child_id: uuid.UUID, page: PageParams) -> tuple[list[InformationShare], str | None]:
        await self._child(who, child_id)
        rows, next_cursor = await self.queries.shares_of_child(who, child_id, page)
        self.audit.record(who, "list", "information_share", [child_id])
        return rows, next_cursor

    async def shares_of_agency(
        self, who: Principal, page: PageParams, *, to_agency_id: uuid.UUID | None, direction: str | None
    ) -> tuple[list[InformationShare], str | None]:
        rows, next_cursor = await self.queries.shares_of_agency(who, page, to_agency_id=to_agency_id, direction=direction)
        if rows:
            self.audit.record(who, "list", "information_share", [r.child_id for r in rows])
        return rows, next_cursor

