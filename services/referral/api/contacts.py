"""Contacts: every concern received at the front door, whether or not it becomes a referral.

A contact that ends at the front door (no further action, information and advice, early help)
is never a referral; one that children's social care accepts is converted into a referral,
through the same rules as `POST /v1/referrals`. A contact is visible to the agency that recorded
it and to every agency that may see the child's record (children's social care and a MASH
see all, sealed children apart); recording one grants no sight of the child's record."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse

from services.referral.api.deps import CanRead, CanWrite
from services.referral.api.referrals import ReferralsDep, referral_read
from services.referral.domain.contacts import ContactNotFound, Contacts, InvalidContact
from services.referral.domain.errors import AgencyNotRegistered, ChildNotFound
from services.referral.domain.referrals import DecisionByCscOnly, InvalidReferral
from services.referral.models import Contact
from services.referral.queries.contacts import ContactQueries
from services.referral.schemas.contacts import (
    ContactConversion,
    ContactCreate,
    ContactOutcome,
    ContactPage,
    ContactRead,
)
from services.referral.schemas.referrals import ReferralRead
from shared.audit import AuditDep
from shared.db import SessionDep
from shared.errors import (
    IdempotencyInFlight,
    IdempotencyKeyReused,
    IllegalTransition,
    MalformedBody,
    PreconditionFailed,
    PreconditionRequired,
    problems,
)
from shared.etag import IfMatch, etag, set_etag
from shared.events import OutboxDep
from shared.idempotency import Created, IdempotencyDep
from shared.pagination import InvalidCursor, PageDep, set_link_header

router = APIRouter(prefix="/contacts", tags=["contacts"])


async def contacts_domain(session: SessionDep, audit: AuditDep, outbox: OutboxDep, referrals: ReferralsDep) -> Contacts:
    return Contacts(ContactQueries(session, referrals.full_access_types), referrals, referrals.full_access_types, audit, outbox)


ContactsDep = Annotated[Contacts, Depends(contacts_domain)]


def contact_read(contact: Contact) -> ContactRead:
    return ContactRead.model_validate(contact)


@router.post(
    "", status_code=201, response_model=ContactRead,
    responses=problems(AgencyNotRegistered, ChildNotFound, InvalidContact, MalformedBody, IdempotencyInFlight,
                       IdempotencyKeyReused),
)
async def record_contact(body: ContactCreate, who: CanWrite, contacts: ContactsDep, idem: IdempotencyDep) -> JSONResponse:
    """Record a concern received at the front door, with its outcome (scope `referral:write`; any
    registered agency, usually children's social care or the MASH). The DfE ReferralSource follows
    from your agency's type as for referrals; children's social care records contacts from people
    with no partner agency behind them with their code (`1A` family, `1B` acquaintance, `1C` the
    child, `1D` other, `9` anonymous, `10` unknown). A contact with outcome `nfa`,
    `information_advice` or `early_help` ends here and is counted in Annex A list 1 (contacts) and
    the dataset's NQ29; one with outcome `referral` is converted with
    `POST /v1/contacts/{id}/referral`. Recording a contact does not open the child's record to you.
    Send `Idempotency-Key` to retry safely. Emits `contact.recorded`."""

    async def create() -> Created:
        contact = await contacts.record(who, body)
        return Created(contact_read(contact), {"Location": f"/v1/contacts/{contact.id}", "ETag": etag(contact.version)})

    return await idem.run(who, body, create)


@router.get("", responses=problems(InvalidCursor))
async def list_contacts(
    who: CanRead,
    contacts: ContactsDep,
    page: PageDep,
    response: Response,
    child_id: Annotated[uuid.UUID | None, Query(description="Only this child's contacts.")] = None,
    outcome: Annotated[ContactOutcome | None, Query(description="Only contacts with this outcome.")] = None,
    received_from: Annotated[date | None, Query(description="Received on or after this day (UTC).")] = None,
    received_to: Annotated[date | None, Query(description="Received on or before this day (UTC).")] = None,
) -> ContactPage:
    """Contacts your agency recorded or whose child's record it may see (scope `referral:read`),
    oldest first; follow the `Link` header for more."""
    rows, next_cursor = await contacts.page(who, page, child_id=child_id, outcome=outcome,
                                            received_from=received_from, received_to=received_to)
    set_link_header(response, page, next_cursor)
    return ContactPage(items=[contact_read(c) for c in rows], next_cursor=next_cursor)


@router.get("/{contact_id}", responses=problems(ContactNotFound))
async def get_contact(contact_id: uuid.UUID, who: CanRead, contacts: ContactsDep, response: Response) -> ContactRead:
    """One contact (scope `referral:read`); `referral_id` names the referral it became. Its `ETag`
    is what the conversion needs in `If-Match`. A contact your agency may not see is a 404."""
    contact = await contacts.get(who, contact_id)
    set_etag(response, contact.version)
    return contact_read(contact)


@router.post(
    "/{contact_id}/referral", status_code=201, response_model=ReferralRead,
    responses=problems(ContactNotFound, DecisionByCscOnly, IllegalTransition, PreconditionFailed, PreconditionRequired,
                       InvalidContact, InvalidReferral, MalformedBody, IdempotencyInFlight, IdempotencyKeyReused),
)
async def convert_contact(
    contact_id: uuid.UUID, body: ContactConversion, who: CanWrite, version: IfMatch, contacts: ContactsDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    """Children's social care accepts the contact as a referral (scope `referral:write`; other
    agencies get 403). The referral is received through the same rules as `POST /v1/referrals`
    (birth checks, re-referrals, the decision clock) with the contact's recorder as the referring
    agency, the contact's ReferralSource, and by default its date and concern. The contact's
    outcome becomes `referral` and its `referral_id` names the new referral; a contact converts
    once (409 after). Send `If-Match` with the contact's ETag. Emits `referral.received` (with
    `contact_id`) and `contact.converted`; answers with the referral."""

    async def create() -> Created:
        _, shown = await contacts.convert(who, contact_id, body, version)
        r = shown.referral
        return Created(referral_read(shown), {"Location": f"/v1/referrals/{r.id}", "ETag": etag(r.version)})

    return await idem.run(who, body, create)
