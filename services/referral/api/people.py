"""Think family: adults around the child, households, and the unborn child's mother."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from services.referral.api.deps import CanRead, CanWrite
from services.referral.domain.errors import AgencyNotRegistered, ChildNotFound
from services.referral.domain.people import (
    HouseholdNotFound,
    HouseholdView,
    People,
    PersonNotFound,
    UnbornOnly,
)
from services.referral.models import Child, HouseholdMember, Person
from services.referral.queries.children import AgencyQueries
from services.referral.queries.people import PeopleQueries
from services.referral.schemas.people import (
    CARER_ROLES,
    CHILD_ROLES,
    ChildHouseholdRead,
    ChildHouseholds,
    HouseholdCreate,
    HouseholdRead,
    MemberRead,
    MotherLink,
    MotherLinkRead,
    PersonCreate,
    PersonRead,
)
from shared.audit import AuditDep
from shared.db import SessionDep
from shared.errors import (
    BadRequest,
    DomainError,
    IdempotencyInFlight,
    IdempotencyKeyReused,
    PreconditionFailed,
    PreconditionRequired,
    problems,
)
from shared.etag import IfMatch, etag, set_etag
from shared.events import OutboxDep
from shared.idempotency import Created, IdempotencyDep
from shared.pagination import InvalidCursor

router = APIRouter(tags=["people"])

#: Errors every creating POST may return (Idempotency-Key), every transition (If-Match), every list (cursor).
CREATE_ERRORS: tuple[type[DomainError], ...] = (BadRequest, IdempotencyInFlight, IdempotencyKeyReused)
CHANGE_ERRORS: tuple[type[DomainError], ...] = (BadRequest, PreconditionRequired, PreconditionFailed)
LIST_ERRORS: tuple[type[DomainError], ...] = (InvalidCursor,)


def full_access_types(request: Request) -> list[str]:
    return list(request.app.state.settings.full_access_agency_types)


async def people_domain(request: Request, session: SessionDep, audit: AuditDep, outbox: OutboxDep) -> People:
    return People(PeopleQueries(session, full_access_types(request)), AgencyQueries(session), audit, outbox)


PeopleDep = Annotated[People, Depends(people_domain)]


def person_read(person: Person) -> PersonRead:
    return PersonRead.model_validate(person, from_attributes=True)


def member_read(member: HouseholdMember, view: HouseholdView) -> MemberRead | None:
    """A member as the caller may see it; a child the caller cannot see is left out (and counted)."""
    common = {
        "role": member.role, "relationship": member.relationship,
        "parental_responsibility": member.parental_responsibility,
        "from_date": member.from_date, "to_date": member.to_date,
    }
    if member.child_id is not None:
        child: Child | None = view.children.get(member.child_id)
        if child is None:
            return None
        return MemberRead(kind="child", child_id=child.id, person_id=None, given_name=child.given_name,
                          family_name=child.family_name, birth_date=child.birth_date,
                          expected_birth_date=child.expected_birth_date, **common)
    person = view.people[member.person_id] if member.person_id else None
    if person is None:  # pragma: no cover - a member is a child or a person
        return None
    return MemberRead(kind="person", child_id=None, person_id=person.id, given_name=person.given_name,
                      family_name=person.family_name, birth_date=person.birth_date, factors=person.factors, **common)


def household_read(view: HouseholdView) -> HouseholdRead:
    members = [m for m in (member_read(x, view) for x in view.members) if m is not None]
    h = view.household
    return HouseholdRead(id=h.id, label=h.label, created_by_agency_id=h.created_by_agency_id, created_at=h.created_at,
                         members=members, other_children_not_visible=view.hidden_children)


def child_household_read(child_id: uuid.UUID, view: HouseholdView, own: HouseholdMember) -> ChildHouseholdRead:
    carers, siblings, others = [], [], []
    for member in view.members:
        if member.child_id == child_id:
            continue
        read = member_read(member, view)
        if read is None:
            continue
        if read.kind == "child" or read.role in CHILD_ROLES:
            siblings.append(read)
        elif read.role in CARER_ROLES:
            carers.append(read)
        else:
            others.append(read)
    return ChildHouseholdRead(household_id=view.household.id, label=view.household.label, role=own.role,
                              from_date=own.from_date, carers=carers, siblings=siblings, other_adults=others,
                              other_children_not_visible=view.hidden_children)


@router.post("/people", status_code=201, response_model=PersonRead,
             responses=problems(AgencyNotRegistered, *CREATE_ERRORS))
async def record_person(body: PersonCreate, who: CanWrite, people: PeopleDep, idem: IdempotencyDep) -> JSONResponse:
    """Record an adult in a child's world (parent, carer, other adult) with the parental factors your
    agency knows (think family). The person is visible to your agency, and to every agency that can
    see a child in a household with them or the unborn child they are expecting. Send
    `Idempotency-Key` to retry safely. Emits `person.recorded` (ids and factor codes only)."""

    async def create() -> Created:
        person = await people.record_person(who, body)
        return Created(person_read(person), {"Location": f"/v1/people/{person.id}", "ETag": etag(person.version)})

    return await idem.run(who, body, create)


@router.get("/people/{person_id}", responses=problems(PersonNotFound))
async def get_person(person_id: uuid.UUID, who: CanRead, people: PeopleDep, response: Response) -> PersonRead:
    """One adult. A person your agency may not see is a 404, exactly like one that does not exist."""
    person = await people.person(who, person_id)
    set_etag(response, person.version)
    return person_read(person)


@router.post("/households", status_code=201, response_model=HouseholdRead,
             responses=problems(AgencyNotRegistered, ChildNotFound, PersonNotFound, *CREATE_ERRORS))
async def record_household(body: HouseholdCreate, who: CanWrite, people: PeopleDep, idem: IdempotencyDep) -> JSONResponse:
    """Record a household: the children in it (by child id; each must be visible to you) and the adults
    (by person id) with their role, relationship, parental responsibility and since when. Adds a line
    to each child's chronology. Emits `household.recorded`."""

    async def create() -> Created:
        view = await people.record_household(who, body)
        return Created(household_read(view), {"Location": f"/v1/households/{view.household.id}"})

    return await idem.run(who, body, create)


@router.get("/households/{household_id}", responses=problems(HouseholdNotFound))
async def get_household(household_id: uuid.UUID, who: CanRead, people: PeopleDep) -> HouseholdRead:
    """A household and its members. You see it when you can see a child in it; children in it you may
    not see are counted in `other_children_not_visible`, never shown."""
    return household_read(await people.household(who, household_id))


@router.get("/children/{child_id}/household", responses=problems(ChildNotFound))
async def get_child_household(child_id: uuid.UUID, who: CanRead, people: PeopleDep) -> ChildHouseholds:
    """The child's current household(s), from the child's side: carers (parents and carers), siblings
    and other adults, with parental factors."""
    rows = await people.households_of_child(who, child_id)
    return ChildHouseholds(child_id=child_id, households=[child_household_read(child_id, v, own) for v, own in rows])


@router.post("/children/{child_id}/mother",
             responses=problems(ChildNotFound, PersonNotFound, UnbornOnly, *CHANGE_ERRORS))
async def link_mother(child_id: uuid.UUID, body: MotherLink, who: CanWrite, version: IfMatch, people: PeopleDep,
                      response: Response) -> MotherLinkRead:
    """Link an unborn child to the expectant mother's person record (pre-birth neglect starts in
    pregnancy). Send `If-Match` with the child's ETag; the child's version goes up. A born child is a
    409: record a household instead. Emits `child.mother_linked`."""
    child, mother = await people.link_mother(who, child_id, version, body)
    set_etag(response, child.version)
    return MotherLinkRead(child_id=child.id, mother=person_read(mother), child_version=child.version)
