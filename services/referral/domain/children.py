"""Children and unborn children: registration and look-up, audited."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy.engine import RowMapping

from services.referral import events as ev
from services.referral.domain import journey as j
from services.referral.domain.chronology import Chronology
from services.referral.domain.errors import (
    AgencyNotRegistered,
    ChildNotFound,
    DuplicateChildId,
    DuplicateExternalRef,
    DuplicateNhsNumber,
    NotStatutoryAgency,
    UnbornChildRule,
)
from services.referral.models import Child
from services.referral.queries.children import CHILD_DEFAULTS, AgencyQueries, ChildQueries
from services.referral.queries.journey import JourneyQueries
from services.referral.schemas.children import (
    BirthRecord,
    ChildCreate,
    ChildUpdate,
    DeathRecord,
    PlansElsewhere,
)
from shared.audit import Audit
from shared.contracts import publish
from shared.db import utcnow
from shared.etag import Precondition, check_version
from shared.events import Outbox
from shared.pagination import PageParams
from shared.tokens import Principal


def census_facts(child: Child | SimpleNamespace) -> dict[str, Any]:
    """What the reporting read model needs of a child: codes and the census identifiers.

    No names and no NHS number. These events go only to the partnership's own
    services over signed HTTP; reporting keeps the identifiers apart, behind the
    export scope (docs/events.md).
    """
    return {
        "child_id": child.id,
        "unborn": child.birth_date is None,
        "birth_date": child.birth_date,
        "expected_birth_date": child.expected_birth_date,
        "death_date": child.death_date,
        "gender": child.gender,
        "ethnicity": child.ethnicity,
        "disabilities": list(child.disabilities),
        "la_child_id": child.la_child_id,
        "upn": child.upn,
        "upn_unknown": child.upn_unknown,
    }


def plans_elsewhere_facts(child: Child) -> dict[str, Any]:
    end = child.cp_plans_elsewhere_latest_end_date
    return {"child_id": child.id, "previous_plans": child.cp_plans_elsewhere,
            "latest_end_date": end, "version": child.version}


class ChildReads:
    """Looking children up, audited: all a read uses (no outbox, no agency queries)."""

    def __init__(self, queries: ChildQueries, audit: Audit) -> None:
        self.queries = queries
        self.audit = audit

    async def get(self, who: Principal, child_id: uuid.UUID) -> tuple[RowMapping, str | None]:
        """One child's columns and the caller's reference, audited (read with Core: nothing changes)."""
        found = await self.queries.read(who, child_id)
        if found is None:
            raise ChildNotFound(f"No child {child_id} visible to your agency.")
        self.audit.record(who, "read", "child", [child_id])
        return found

    async def page(
        self, who: Principal, page: PageParams, **filters: str | None
    ) -> tuple[list[tuple[Child, str | None]], str | None]:
        children, next_cursor = await self.queries.page(who, page, **filters)
        ids: Sequence[uuid.UUID] = [c.id for c in children]
        refs = await self.queries.external_refs(who, ids)
        if ids:
            self.audit.record(who, "list", "child", ids)
        return [(c, refs.get(c.id)) for c in children], next_cursor


class Children(ChildReads):
    def __init__(self, queries: ChildQueries, agencies: AgencyQueries, audit: Audit, outbox: Outbox) -> None:
        super().__init__(queries, audit)
        self.agencies = agencies
        self.outbox = outbox

    async def register(self, who: Principal, body: ChildCreate) -> tuple[dict[str, Any], str | None]:
        """Register a child; the registering agency becomes involved from today.

        Returns the new child's columns (the rows are inserted with Core: no ORM instance is
        built, validated or flushed) and the caller's reference."""
        if not await self.agencies.exists(who.agency_id):
            raise AgencyNotRegistered("Ask the partnership to register your agency before sending children.")
        if body.external_ref and await self.queries.ref_taken(who.agency_id, body.external_ref):
            raise DuplicateExternalRef("Your agency already uses this external reference for a child.")
        if body.la_child_id and await self.queries.la_child_id_taken(body.la_child_id):
            raise DuplicateChildId("Another child already has this LA child id.")
        if body.nhs_number:
            await self._refuse_visible_duplicate(who, body.nhs_number)
        now = utcnow()
        child: dict[str, Any] = {
            **CHILD_DEFAULTS, **body.model_dump(exclude={"external_ref"}, exclude_none=True),
            "id": uuid.uuid4(), "created_by_agency_id": who.agency_id, "created_at": now, "updated_at": now,
        }
        child.setdefault("disabilities", [])
        await self.queries.insert_registration(child, body.external_ref or None, "registering_agency",
                                               datetime.now(UTC).date())
        self.audit.record(who, "create", "child", [child["id"]])
        await publish(self.outbox, ev.ChildRegistered(agency_id=who.agency_id, **census_facts(SimpleNamespace(**child))))
        return child, body.external_ref

    async def _refuse_visible_duplicate(self, who: Principal, nhs_number: str, child_id: uuid.UUID | None = None) -> None:
        """409 when the caller can already see another child with this NHS number.

        A child the caller may not see is never mentioned, not even by a different answer:
        the registration goes ahead exactly as for an NHS number nobody holds, and children's
        social care, who sees both records, reconciles them. Otherwise any agency could learn
        whether a child is known to safeguarding services (or is sealed) by probing numbers.
        """
        await self.queries.serialise_nhs_number(nhs_number)
        existing = await self.queries.visible_with_nhs_number(who, nhs_number, other_than=child_id)
        if existing:
            raise DuplicateNhsNumber("Your agency can already see a child with this NHS number; use that record "
                                     "(existing_child_ids) rather than a second one.",
                                     existing_child_ids=[str(i) for i in existing])

    async def _for_change(self, who: Principal, child_id: uuid.UUID, version: Precondition) -> Child:
        child = await self.queries.get(who, child_id)
        if child is None:
            raise ChildNotFound(f"No child {child_id} visible to your agency.")
        check_version(child.version, version)
        return child

    def _changed(self, who: Principal, child: Child) -> None:
        child.version += 1
        child.updated_at = utcnow()
        self.queries.session.add(child)
        self.audit.record(who, "update", "child", [child.id])

    async def update(self, who: Principal, child_id: uuid.UUID, version: Precondition, body: ChildUpdate) -> tuple[Child, str | None]:
        """Correct or complete what is known about a child (If-Match on its version)."""
        child = await self._for_change(who, child_id, version)
        changes = body.model_dump(exclude_unset=True)
        if child.birth_date is None and changes.get("gender", "0") != "0":
            raise UnbornChildRule("An unborn child's gender stays 0 until the birth is recorded (DfE 8750).")
        if changes.get("la_child_id") and changes["la_child_id"] != child.la_child_id and \
                await self.queries.la_child_id_taken(changes["la_child_id"]):
            raise DuplicateChildId("Another child already has this LA child id.")
        if changes.get("nhs_number") and changes["nhs_number"] != child.nhs_number:
            await self._refuse_visible_duplicate(who, changes["nhs_number"], child.id)
        if changes.get("upn_unknown") == "UN7" and await self.queries.has_further_action(child.id):
            raise UnbornChildRule("UPN unknown reason UN7 is only for children whose referrals led to no further action (DfE 8772).",
                                  rule="8772")
        if "disabilities" in changes and not changes["disabilities"] and child.birth_date is not None and \
                await self.queries.has_further_action(child.id):
            # DfE 8540 asks for a disability of a child with a birth date: an unborn child may have none yet.
            raise UnbornChildRule("A child with further action keeps a disability record (NONE if none) (DfE 8540).", rule="8540")
        if "upn" in changes and changes["upn"] is not None:
            changes["upn_unknown"] = None
        if "upn_unknown" in changes and changes["upn_unknown"] is not None:
            changes["upn"] = None
        for name, value in changes.items():
            setattr(child, name, [] if name == "disabilities" and value is None else value)
        self._changed(who, child)
        await publish(self.outbox, ev.ChildUpdated(fields=sorted(changes), **census_facts(child)))
        refs = await self.queries.external_refs(who, [child.id])
        return child, refs.get(child.id)

    async def record_birth(self, who: Principal, child_id: uuid.UUID, version: Precondition, body: BirthRecord) -> tuple[Child, str | None]:
        """An unborn child is born: the birth date replaces the expected date. A child with further
        action gets its disability record now (DfE 8540 asks it of every born child), and its
        referrals stay within 40 weeks before the birth (DfE 8606)."""
        child = await self._for_change(who, child_id, version)
        if child.birth_date is not None:
            raise UnbornChildRule("The birth is already recorded.")
        if body.birth_date > datetime.now(UTC).date():
            raise UnbornChildRule("The birth date is in the future.")
        if not (body.disabilities or child.disabilities) and await self.queries.has_further_action(child.id):
            raise UnbornChildRule("The child has further action: record its disability (NONE if none) with the birth "
                                  "(DfE 8540).", rule="8540")
        loaded = await JourneyQueries(self.queries.session, self.queries.full_access_types).load(child, for_update=True)
        loaded.journey.record_birth(body.birth_date, datetime.now(UTC).date())
        child.birth_date, child.expected_birth_date, child.gender = body.birth_date, None, body.gender
        if body.disabilities:
            child.disabilities = list(body.disabilities)
        self._changed(who, child)
        Chronology(self.queries.session).add(child.id, "child.born", "Birth recorded.", occurred=body.birth_date,
                                             agency_id=who.agency_id, significance="medium")
        await publish(self.outbox, ev.ChildBorn(**census_facts(child)))
        refs = await self.queries.external_refs(who, [child.id])
        return child, refs.get(child.id)

    async def record_death(self, who: Principal, child_id: uuid.UUID, version: Precondition,
                           body: DeathRecord) -> tuple[Child, str | None]:
        """Record a child's death. Refused when plan activity is recorded after it (DfE 8915)."""
        child = await self._for_change(who, child_id, version)
        loaded = await JourneyQueries(self.queries.session, self.queries.full_access_types).load(child, for_update=True)
        loaded.journey.record_death(body.death_date, datetime.now(UTC).date())
        child.death_date = body.death_date
        self._changed(who, child)
        Chronology(self.queries.session).add(child.id, "child.died", "Death recorded.", occurred=body.death_date,
                                             agency_id=who.agency_id, significance="critical")
        await publish(self.outbox, ev.ChildDied(**census_facts(child)))
        refs = await self.queries.external_refs(who, [child.id])
        return child, refs.get(child.id)

    async def record_plans_elsewhere(self, who: Principal, child_id: uuid.UUID, version: Precondition,
                                     body: PlansElsewhere) -> tuple[Child, str | None]:
        """Children's social care records the child's child protection plans in other authorities."""
        agency = await self.agencies.get(who.agency_id)
        if agency is None or agency.agency_type not in self.queries.full_access_types:
            raise NotStatutoryAgency("A child's child protection history is recorded by children's social care.")
        child = await self._for_change(who, child_id, version)
        loaded = await JourneyQueries(self.queries.session, self.queries.full_access_types).load(child, for_update=True)
        loaded.journey.record_plans_elsewhere(j.PlansElsewhere(body.previous_plans, body.latest_end_date),
                                              datetime.now(UTC).date())
        child.cp_plans_elsewhere, child.cp_plans_elsewhere_latest_end_date = body.previous_plans, body.latest_end_date
        self._changed(who, child)
        await publish(self.outbox, ev.ChildCpPlansElsewhereRecorded(**plans_elsewhere_facts(child)))
        refs = await self.queries.external_refs(who, [child.id])
        return child, refs.get(child.id)
