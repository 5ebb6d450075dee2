"""Professionals and agencies' involvement with a child: who works with the child decides who sees them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from services.referral import events as ev
from services.referral.domain.chronology import Chronology
from services.referral.domain.codes import agency_types
from services.referral.domain.errors import AgencyNotRegistered, ChildNotFound
from services.referral.models import Agency, Involvement, Professional
from services.referral.queries.people import InvolvementQueries
from services.referral.schemas.people import InvolvementCreate, InvolvementEnd, ProfessionalCreate
from shared.audit import Audit
from shared.contracts import publish
from shared.errors import DuplicateRecord, Forbidden, IllegalTransition, NotFound, Unprocessable
from shared.etag import Precondition, check_version
from shared.events import Outbox
from shared.pagination import PageParams
from shared.tokens import Principal


class ProfessionalNotFound(NotFound):
    slug, title = "professional-not-found", "No such professional"


class InvolvementNotFound(NotFound):
    slug, title = "involvement-not-found", "No such involvement for this agency"


class OwnAgencyOnly(Forbidden):
    slug, title = "own-agency-only", "Only children's social care records or ends another agency's involvement"


class UnknownAgency(Unprocessable):
    slug, title = "unknown-agency", "No such agency"

    def __init__(self, detail: str, field: str) -> None:
        super().__init__(detail, errors=[{"field": field, "message": "no such agency", "code": "unknown_agency"}])


class ProfessionalNotInAgency(Unprocessable):
    slug, title = "professional-not-in-agency", "The professional does not belong to that agency"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, errors=[{"field": "body.professional_id", "message": detail, "code": "professional_not_in_agency"}])


class DuplicateInvolvement(DuplicateRecord):
    slug, title = "duplicate-involvement", "The agency is already involved with the child in this role"


class InvolvementRuleBroken(IllegalTransition):
    slug, title = "involvement-rule", "The change breaks a rule of involvements"

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail, rule=rule)


@dataclass
class InvolvementView:
    involvement: Involvement
    agency: Agency
    professional: Professional | None


class Involvements:
    def __init__(self, queries: InvolvementQueries, full_access_types: Sequence[str], audit: Audit, outbox: Outbox) -> None:
        self.queries = queries
        self.full_access_types = set(full_access_types)
        self.audit = audit
        self.outbox = outbox
        self.chronology = Chronology(queries.session)

    async def _caller(self, who: Principal) -> Agency:
        agency = await self.queries.agency(who.agency_id)
        if agency is None:
            raise AgencyNotRegistered("Ask the partnership to register your agency first.")
        return agency

    # --- professionals ------------------------------------------------------------------

    async def record_professional(self, who: Principal, body: ProfessionalCreate) -> Professional:
        await self._caller(who)
        professional = Professional(agency_id=who.agency_id, **body.model_dump())
        await self.queries.add(professional)
        await publish(self.outbox, ev.ProfessionalRecorded(professional_id=professional.id, agency_id=who.agency_id))
        return professional

    async def professional(self, professional_id: uuid.UUID) -> Professional:
        professional = await self.queries.professional(professional_id)
        if professional is None:
            raise ProfessionalNotFound(f"No professional {professional_id}.")
        return professional

    async def professionals(self, page: PageParams, agency_id: uuid.UUID | None) -> tuple[Sequence[Professional], str | None]:
        return await self.queries.professionals_page(page, agency_id)

    # --- involvements ---------------------------------------------------------------------

    async def _views(self, rows: Sequence[Involvement]) -> list[InvolvementView]:
        agencies = await self.queries.agencies([r.agency_id for r in rows])
        professionals = await self.queries.professionals([r.professional_id for r in rows if r.professional_id])
        return [
            InvolvementView(r, agencies[r.agency_id], professionals.get(r.professional_id) if r.professional_id else None)
            for r in rows
        ]

    async def record(self, who: Principal, child_id: uuid.UUID, body: InvolvementCreate) -> InvolvementView:
        """Record the caller's own involvement, or (children's social care) another agency's."""
        caller = await self._caller(who)
        if await self.queries.visible_child(who, child_id, for_update=True) is None:
            raise ChildNotFound(f"No child {child_id} visible to your agency.")
        agency = caller
        if body.agency_id is not None and body.agency_id != who.agency_id:
            if caller.agency_type not in self.full_access_types:
                raise OwnAgencyOnly("Record your own agency's involvement; children's social care records others'.")
            other = await self.queries.agency(body.agency_id)
            if other is None:
                raise UnknownAgency(f"No agency {body.agency_id}.", "body.agency_id")
            agency = other
        professional = None
        if body.professional_id is not None:
            professional = await self.queries.professional(body.professional_id)
            if professional is None or professional.agency_id != agency.id:
                raise ProfessionalNotInAgency("professional_id is not one of the involved agency's professionals")
        if await self.queries.open_involvement(child_id, agency.id, body.role) is not None:
            raise DuplicateInvolvement("This agency is already involved with the child in this role; end that first.")
        involvement = Involvement(child_id=child_id, agency_id=agency.id, professional_id=body.professional_id,
                                  role=body.role, start_date=body.start_date)
        await self.queries.add(involvement)
        self.chronology.add(child_id, "involvement.started",
                            f"{agency_types()[agency.agency_type].name} involved: {body.role}.",
                            occurred=body.start_date, agency_id=who.agency_id, significance="low",
                            source_type="involvement", source_id=involvement.id)
        self.audit.record(who, "create", "involvement", [child_id])
        await publish(self.outbox, ev.InvolvementStarted(child_id=child_id, involvement_id=involvement.id,
                                                         agency_id=agency.id, role=body.role, start_date=body.start_date))
        return InvolvementView(involvement, agency, professional)

    async def get(self, who: Principal, involvement_id: uuid.UUID) -> InvolvementView:
        involvement = await self.queries.involvement(who, involvement_id)
        if involvement is None:
            raise InvolvementNotFound(f"No involvement {involvement_id} visible to your agency.")
        self.audit.record(who, "read", "involvement", [involvement.child_id])
        return (await self._views([involvement]))[0]

    async def of_child(
        self, who: Principal, child_id: uuid.UUID, page: PageParams, *, active_only: bool
    ) -> tuple[list[InvolvementView], str | None]:
        if await self.queries.visible_child(who, child_id) is None:
            raise ChildNotFound(f"No child {child_id} visible to your agency.")
        rows, next_cursor = await self.queries.involvements_page(who, child_id, page, active_only=active_only)
        self.audit.record(who, "list", "involvement", [child_id])
        return await self._views(rows), next_cursor

    async def end(self, who: Principal, involvement_id: uuid.UUID, version: Precondition, body: InvolvementEnd) -> InvolvementView:
        """End an involvement: the involved agency itself, or children's social care."""
        caller = await self._caller(who)
        involvement = await self.queries.involvement(who, involvement_id, for_update=True)
        if involvement is None:
            raise InvolvementNotFound(f"No involvement {involvement_id} visible to your agency.")
        if involvement.agency_id != who.agency_id and caller.agency_type not in self.full_access_types:
            raise OwnAgencyOnly("Only the involved agency or children's social care ends an involvement.")
        check_version(involvement.version, version)
        if involvement.end_date is not None:
            raise InvolvementRuleBroken("involvement-ended", "This involvement has already ended.")
        if body.end_date < involvement.start_date:
            raise InvolvementRuleBroken("end-after-start", "An involvement ends on or after the day it started.")
        involvement.end_date = body.end_date
        involvement.version += 1
        await self.queries.add(involvement)
        view = (await self._views([involvement]))[0]
        self.chronology.add(involvement.child_id, "involvement.ended",
                            f"{agency_types()[view.agency.agency_type].name} involvement ended: {involvement.role}.",
                            occurred=body.end_date, agency_id=who.agency_id, significance="low",
                            source_type="involvement", source_id=involvement.id)
        self.audit.record(who, "update", "involvement", [involvement.child_id])
        await publish(self.outbox, ev.InvolvementEnded(child_id=involvement.child_id, involvement_id=involvement.id,
                                                       agency_id=involvement.agency_id, end_date=body.end_date))
        return view

