"""Think family: the adults around a child, the households they share, the unborn child's mother."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from services.referral import events as ev
from services.referral.domain.chronology import Chronology
from services.referral.domain.errors import AgencyNotRegistered, ChildNotFound
from services.referral.models import Child, Household, HouseholdMember, Person
from services.referral.queries.children import AgencyQueries
from services.referral.queries.people import PeopleQueries
from services.referral.schemas.people import (
    CARER_ROLES,
    HouseholdCreate,
    MotherLink,
    PersonCreate,
    today,
)
from shared.audit import Audit
from shared.contracts import publish
from shared.db import utcnow
from shared.errors import IllegalTransition, NotFound
from shared.etag import Precondition, check_version
from shared.events import Outbox
from shared.tokens import Principal


class PersonNotFound(NotFound):
    slug, title = "person-not-found", "No such person for this agency"


class HouseholdNotFound(NotFound):
    slug, title = "household-not-found", "No such household for this agency"


class UnbornOnly(IllegalTransition):
    slug, title = "unborn-only", "Only an unborn child is linked to the expectant mother"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, rule="mother-link-unborn-only")


@dataclass
class HouseholdView:
    household: Household
    members: list[HouseholdMember]
    children: dict[uuid.UUID, Child] = field(default_factory=dict)
    people: dict[uuid.UUID, Person] = field(default_factory=dict)

    @property
    def hidden_children(self) -> int:
        return sum(1 for m in self.members if m.child_id is not None and m.child_id not in self.children)

    @property
    def child_ids(self) -> list[uuid.UUID]:
        return list(self.children)


class People:
    def __init__(self, queries: PeopleQueries, agencies: AgencyQueries, audit: Audit, outbox: Outbox) -> None:
        self.queries = queries
        self.agencies = agencies
        self.audit = audit
        self.outbox = outbox
        self.chronology = Chronology(queries.session)

    async def _registered(self, who: Principal) -> None:
        if await self.agencies.get(who.agency_id) is None:
            raise AgencyNotRegistered("Ask the partnership to register your agency first.")

    async def record_person(self, who: Principal, body: PersonCreate) -> Person:
        await self._registered(who)
        person = Person(**body.model_dump(), created_by_agency_id=who.agency_id)
        await self.queries.add(person)
        self.audit.record(who, "create", "person", [])
        await publish(self.outbox, ev.PersonRecorded(person_id=person.id, agency_id=who.agency_id, factors=list(person.factors)))
        return person

    async def person(self, who: Principal, person_id: uuid.UUID) -> Person:
        person = await self.queries.person(who, person_id)
        if person is None:
            raise PersonNotFound(f"No person {person_id} visible to your agency.")
        self.audit.record(who, "read", "person", await self.queries.children_linked_to_person(who, person_id))
        return person

    async def _view(self, who: Principal, household: Household, members: Sequence[HouseholdMember]) -> HouseholdView:
        children = await self.queries.children(who, [m.child_id for m in members if m.child_id])
        people = await self.queries.people(who, [m.person_id for m in members if m.person_id])
        return HouseholdView(household, list(members), children, people)

    async def record_household(self, who: Principal, body: HouseholdCreate) -> HouseholdView:
        """Children must be visible to the caller; so must the people (recorded by them or already linked)."""
        await self._registered(who)
        child_ids = [m.child_id for m in body.members if m.child_id]
        person_ids = [m.person_id for m in body.members if m.person_id]
        children = await self.queries.children(who, child_ids)
        if missing := [c for c in child_ids if c not in children]:
            raise ChildNotFound(f"No child {missing[0]} visible to your agency.")
        people = await self.queries.people(who, person_ids)
        if missing := [p for p in person_ids if p not in people]:
            raise PersonNotFound(f"No person {missing[0]} visible to your agency.")
        household = Household(label=body.label, created_by_agency_id=who.agency_id)
        await self.queries.add(household)
        members = [HouseholdMember(household_id=household.id, **m.model_dump()) for m in body.members]
        await self.queries.add(*members)
        carers = sum(1 for m in body.members if m.person_id and m.role in CARER_ROLES)
        for child_id in child_ids:
            self.chronology.add(
                child_id, "household.recorded",
                f"Household recorded: {len(child_ids)} child(ren), {carers} parent(s)/carer(s), "
                f"{len(person_ids) - carers} other member(s).",
                occurred=utcnow(), agency_id=who.agency_id, significance="low",
                source_type="household", source_id=household.id,
            )
        self.audit.record(who, "create", "household", child_ids)
        await publish(self.outbox, ev.HouseholdRecorded(household_id=household.id, child_ids=list(child_ids),
                                                        person_ids=list(person_ids)))
        return HouseholdView(household, members, children, people)

    async def household(self, who: Principal, household_id: uuid.UUID) -> HouseholdView:
        household = await self.queries.household(who, household_id)
        if household is None:
            raise HouseholdNotFound(f"No household {household_id} visible to your agency.")
        view = await self._view(who, household, await self.queries.members([household.id]))
        self.audit.record(who, "read", "household", view.child_ids)
        return view

    async def households_of_child(self, who: Principal, child_id: uuid.UUID) -> list[tuple[HouseholdView, HouseholdMember]]:
        if await self.queries.visible_child(who, child_id) is None:
            raise ChildNotFound(f"No child {child_id} visible to your agency.")
        rows = await self.queries.households_of_child(who, child_id)
        members = await self.queries.members([h.id for h, _ in rows])
        views = []
        seen: set[uuid.UUID] = {child_id}
        for household, own in rows:
            view = await self._view(who, household, [m for m in members if m.household_id == household.id])
            seen.update(view.child_ids)
            views.append((view, own))
        self.audit.record(who, "read", "household", seen)
        return views

    async def link_mother(self, who: Principal, child_id: uuid.UUID, version: Precondition, body: MotherLink) -> tuple[Child, Person]:
        """Link an unborn child to the expectant mother's person record."""
        child = await self.queries.visible_child(who, child_id, for_update=True)
        if child is None:
            raise ChildNotFound(f"No child {child_id} visible to your agency.")
        check_version(child.version, version)
        if child.birth_date is not None:
            raise UnbornOnly("This child is born; the mother link is for unborn children (record the household instead).")
        mother = await self.queries.person(who, body.person_id)
        if mother is None:
            raise PersonNotFound(f"No person {body.person_id} visible to your agency.")
        child.mother_id = mother.id
        child.version += 1
        child.updated_at = utcnow()
        await self.queries.add(child)
        self.chronology.add(child.id, "child.mother_linked", "Unborn child linked to the expectant mother's record.",
                            occurred=today(), agency_id=who.agency_id, significance="medium",
                            source_type="person", source_id=mother.id)
        self.audit.record(who, "update", "child", [child.id])
        await publish(self.outbox, ev.ChildMotherLinked(child_id=child.id, person_id=mother.id, version=child.version))
        return child, mother
