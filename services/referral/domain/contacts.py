"""Contacts: every concern received at the front door, and its conversion into a referral.

recorded (outcome nfa | information_advice | early_help | referral) --convert--> referral

Most contacts end at the front door and are never referrals; children's social care accepts
some as referrals, through the same rules as ``POST /v1/referrals`` (birth checks,
re-referrals, the decision clock), with the contact's recorder as the referring agency and the
contact's ReferralSource. Each step writes its audit row and outbox event in the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from services.referral import events as ev
from services.referral.domain.errors import AgencyNotRegistered, ChildNotFound
from services.referral.domain.referrals import (
    DecisionByCscOnly,
    Referrals,
    Shown,
    referral_source,
    source_agency_types,
)
from services.referral.models import Contact
from services.referral.queries.contacts import ContactQueries
from services.referral.schemas.contacts import ContactConversion, ContactCreate
from services.referral.schemas.referrals import ReferralCreate
from shared.audit import Audit
from shared.contracts import publish
from shared.db import utcnow
from shared.errors import IllegalTransition, NotFound, Unprocessable
from shared.etag import Precondition, check_version
from shared.events import Outbox
from shared.pagination import PageParams
from shared.tokens import Principal

REFERRAL = "referral"


class ContactNotFound(NotFound):
    slug, title = "contact-not-found", "No such contact for this agency"


class InvalidContact(Unprocessable):
    slug, title = "invalid-contact", "The contact cannot be accepted as sent"


def _problem(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message, "code": "contact_rule"}


class Contacts:
    def __init__(self, queries: ContactQueries, referrals: Referrals, full_access_types: Sequence[str],
                 audit: Audit, outbox: Outbox) -> None:
        self.queries = queries
        self.referrals = referrals
        self.full_access_types = list(full_access_types)
        self.audit = audit
        self.outbox = outbox

    async def record(self, who: Principal, body: ContactCreate) -> Contact:
        agency = await self.referrals.queries.agency(who.agency_id)
        if agency is None:
            raise AgencyNotRegistered("Ask the partnership to register your agency before recording contacts.")
        # Like referring, recording a contact is open to any partner and grants no sight of the record.
        child = await self.referrals.queries.child_to_refer(body.child_id)
        if child is None:
            raise ChildNotFound(f"No child {body.child_id}; register the child first.")
        problems: list[dict[str, str]] = []
        source = referral_source(agency.agency_type, body.referral_source, problems,
                                 full_access=agency.agency_type in self.full_access_types)
        if problems:
            raise InvalidContact(f"{len(problems)} problem(s) with the contact.", errors=problems)
        received = body.received_at.astimezone(UTC) if body.received_at else utcnow()
        contact = Contact(child_id=child.id, recording_agency_id=agency.id, referral_source=source,
                          received_at=received, concern_summary=body.concern_summary, outcome=body.outcome)
        await self.queries.add(contact)
        self.audit.record(who, "create", "contact", [child.id])
        await publish(self.outbox, ev.ContactRecorded(
            contact_id=contact.id, child_id=child.id, received_at=received, referral_source=source, outcome=body.outcome,
            **source_agency_types(agency.agency_type, source),
        ), occurred_at=received)
        return contact

    async def get(self, who: Principal, contact_id: uuid.UUID) -> Contact:
        contact = await self._visible(who, contact_id)
        self.audit.record(who, "read", "contact", [contact.child_id])
        return contact

    async def page(
        self, who: Principal, page: PageParams, *, child_id: uuid.UUID | None, outcome: str | None,
        received_from: date | None, received_to: date | None,
    ) -> tuple[Sequence[Contact], str | None]:
        start = datetime.combine(received_from, time(), tzinfo=UTC) if received_from else None
        end = (datetime.combine(received_to + timedelta(days=1), time(), tzinfo=UTC)
               if received_to and received_to < date.max else None)
        rows, next_cursor = await self.queries.page(who, page, child_id=child_id, outcome=outcome,
                                                    received_from=start, received_before=end)
        if rows:
            self.audit.record(who, "list", "contact", [r.child_id for r in rows])
        return rows, next_cursor

    async def convert(self, who: Principal, contact_id: uuid.UUID, body: ContactConversion,
                      version: Precondition) -> tuple[Contact, Shown]:
        """Children's social care accepts the contact as a referral: the referral is received through
        the same rules as any other, from the contact's recorder with the contact's ReferralSource."""
        caller = await self.referrals.queries.agency(who.agency_id)
        if caller is None or caller.agency_type not in self.full_access_types:
            raise DecisionByCscOnly("Children's social care accepts contacts as referrals.")
        contact = await self._visible(who, contact_id, for_update=True)
        check_version(contact.version, version)
        if contact.referral_id is not None:
            raise IllegalTransition(f"The contact became referral {contact.referral_id} already.", rule="convert-once")
        received = body.received_at.astimezone(UTC) if body.received_at else contact.received_at
        problems: list[dict[str, str]] = []
        if received < contact.received_at:
            problems.append(_problem("body.received_at", "before the contact was received"))
        summary = body.concern_summary or contact.concern_summary
        if summary is None:
            problems.append(_problem("body.concern_summary", "required: the contact has no concern summary"))
        if problems:
            raise InvalidContact(f"{len(problems)} problem(s) with the conversion.", errors=problems)
        recorder = await self.referrals.queries.agency(contact.recording_agency_id)
        if recorder is None:  # a foreign key: cannot happen, but never refer from nobody
            raise AgencyNotRegistered("The contact's recording agency is not registered.")
        request = ReferralCreate(
            child_id=contact.child_id, received_at=received, concern_summary=summary or "",
            neglect_types=body.neglect_types, indicators=body.indicators, parental_factors=body.parental_factors,
            referrer_identity_withheld=body.referrer_identity_withheld,
        )
        shown = await self.referrals.receive_from(who, recorder, request, contact.referral_source, contact_id=contact.id)
        contact.referral_id = shown.referral.id
        contact.outcome = REFERRAL
        contact.version += 1
        contact.updated_at = utcnow()
        await self.queries.add(contact)
        self.audit.record(who, "update", "contact", [contact.child_id])
        await publish(self.outbox, ev.ContactConverted(contact_id=contact.id, child_id=contact.child_id,
                                                       referral_id=shown.referral.id, date=received.date()),
                      occurred_at=received)
        return contact, shown

    async def _visible(self, who: Principal, contact_id: uuid.UUID, *, for_update: bool = False) -> Contact:
        contact = await self.queries.get(who, contact_id, for_update=for_update)
        if contact is None:
            raise ContactNotFound(f"No contact {contact_id} visible to your agency.")
        return contact
