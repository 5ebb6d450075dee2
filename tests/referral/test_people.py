"""People, households and the unborn child's mother, through HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import func, select

from services.referral.models import ChronologyEntry, Household, Person
from tests.referral.factories_practice import (
    assert_problem,
    audits,
    child_of,
    events_of_type,
    if_match,
    make_household,
    make_person,
    partner,
    tomorrow,
)
from tests.support import TokenFor


async def _count(app: FastAPI, model: Any) -> int:
    async with app.state.db.sessions() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


async def test_record_and_read_a_person(referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI) -> None:
    hv = await partner(referral, token_for)
    person = await make_person(referral, hv, factors=["mental_health", "domestic_abuse"])
    r = await referral.get(f"/v1/people/{person['id']}", headers=hv.headers())
    assert r.status_code == 200
    assert r.headers["etag"] == '"1"'
    assert r.json()["factors"] == ["mental_health", "domestic_abuse"]
    emitted = await events_of_type(referral_app, "person.recorded")
    assert any(e["person_id"] == person["id"] for e in emitted)
    assert "Testparent" not in str(emitted)
    assert any(a.action == "read" for a in await audits(referral_app, "person"))


async def test_person_is_visible_to_creator_and_to_whoever_sees_a_child_in_their_household(
    referral: httpx.AsyncClient, token_for: TokenFor
) -> None:
    school = await partner(referral, token_for, "school")
    gp = await partner(referral, token_for, "gp")
    csc = await partner(referral, token_for, "childrens_social_care")
    child = await child_of(referral, token_for, school)
    person = await make_person(referral, school)
    assert_problem(await referral.get(f"/v1/people/{person['id']}", headers=csc.headers()), 404, "person-not-found")
    await make_household(referral, school, [
        {"child_id": child["id"], "role": "child"},
        {"person_id": person["id"], "role": "parent", "relationship": "mother", "parental_responsibility": True},
    ])
    assert (await referral.get(f"/v1/people/{person['id']}", headers=csc.headers())).status_code == 200
    assert_problem(await referral.get(f"/v1/people/{person['id']}", headers=gp.headers()), 404, "person-not-found")


async def test_household_members_and_the_childs_view_of_it(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI
) -> None:
    hv = await partner(referral, token_for)
    child = await child_of(referral, token_for, hv)
    sibling = await child_of(referral, token_for, hv, birth_date="2016-01-01")
    mother = await make_person(referral, hv, factors=["substance_misuse"])
    lodger = await make_person(referral, hv, factors=[])
    household = await make_household(referral, hv, [
        {"child_id": child["id"], "role": "child", "from_date": "2020-01-01"},
        {"child_id": sibling["id"], "role": "sibling"},
        {"person_id": mother["id"], "role": "parent", "relationship": "mother", "parental_responsibility": True},
        {"person_id": lodger["id"], "role": "other_adult", "relationship": "lodger"},
    ])
    assert len(household["members"]) == 4
    assert household["other_children_not_visible"] == 0
    r = await referral.get(f"/v1/households/{household['id']}", headers=hv.headers())
    assert r.status_code == 200
    assert {m["role"] for m in r.json()["members"]} == {"child", "sibling", "parent", "other_adult"}

    r = await referral.get(f"/v1/children/{child['id']}/household", headers=hv.headers())
    assert r.status_code == 200
    [home] = r.json()["households"]
    assert home["role"] == "child"
    assert home["from_date"] == "2020-01-01"
    assert [c["person_id"] for c in home["carers"]] == [mother["id"]]
    assert home["carers"][0]["factors"] == ["substance_misuse"]
    assert home["carers"][0]["parental_responsibility"] is True
    assert [s["child_id"] for s in home["siblings"]] == [sibling["id"]]
    assert [o["person_id"] for o in home["other_adults"]] == [lodger["id"]]

    async with referral_app.state.db.sessions() as session:
        lines = (await session.exec(select(ChronologyEntry).where(ChronologyEntry.kind == "household.recorded"))).all()
    assert {str(line.child_id) for line in lines} >= {child["id"], sibling["id"]}
    assert all("Testparent" not in line.summary for line in lines)
    assert any(child["id"] in a.child_ids for a in await audits(referral_app, "household"))


async def test_children_an_agency_cannot_see_are_counted_not_shown(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    school = await partner(referral, token_for, "school")
    gp = await partner(referral, token_for, "gp")
    csc = await partner(referral, token_for, "childrens_social_care")
    pupil = await child_of(referral, token_for, school)
    baby = await child_of(referral, token_for, gp, birth_date="2025-01-01")
    carer = await make_person(referral, csc)
    household = await make_household(referral, csc, [
        {"child_id": pupil["id"], "role": "child"},
        {"child_id": baby["id"], "role": "sibling"},
        {"person_id": carer["id"], "role": "carer"},
    ])
    r = await referral.get(f"/v1/households/{household['id']}", headers=school.headers())
    assert r.status_code == 200
    body = r.json()
    assert baby["id"] not in str(body)
    assert body["other_children_not_visible"] == 1
    view = (await referral.get(f"/v1/children/{pupil['id']}/household", headers=school.headers())).json()
    assert view["households"][0]["siblings"] == []
    assert view["households"][0]["other_children_not_visible"] == 1
    police = await partner(referral, token_for, "police")
    assert_problem(await referral.get(f"/v1/households/{household['id']}", headers=police.headers()), 404, "household-not-found")
    assert_problem(await referral.get(f"/v1/children/{pupil['id']}/household", headers=police.headers()), 404, "child-not-found")


async def test_household_needs_visible_children_and_people(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI
) -> None:
    school = await partner(referral, token_for, "school")
    gp = await partner(referral, token_for, "gp")
    theirs = await child_of(referral, token_for, gp)
    mine = await child_of(referral, token_for, school)
    their_person = await make_person(referral, gp)
    before = await _count(referral_app, Household)
    r = await referral.post("/v1/households", headers=school.headers(),
                            json={"members": [{"child_id": theirs["id"], "role": "child"}]})
    assert_problem(r, 404, "child-not-found")
    r = await referral.post("/v1/households", headers=school.headers(), json={"members": [
        {"child_id": mine["id"], "role": "child"}, {"person_id": their_person["id"], "role": "parent"}]})
    assert_problem(r, 404, "person-not-found")
    assert await _count(referral_app, Household) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"nickname": "x"}, "body.nickname"),
        ({"factors": ["gambling"]}, "body.factors.0"),
        ({"factors": ["mental_health", "mental_health"]}, "body.factors"),
        ({"birth_date": tomorrow()}, "body.birth_date"),
        ({"given_name": ""}, "body.given_name"),
    ],
)
async def test_bad_person_is_refused_and_nothing_written(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI, body: dict[str, Any], field: str
) -> None:
    hv = await partner(referral, token_for)
    before = await _count(referral_app, Person)
    full = {"given_name": "Testparent", "family_name": "Example", **body}
    problem = assert_problem(await referral.post("/v1/people", json=full, headers=hv.headers()), 422)
    assert field in [e["field"] for e in problem["errors"]]
    assert await _count(referral_app, Person) == before


@pytest.mark.parametrize(
    "members",
    [
        [],
        [{"role": "child"}],
        [{"child_id": "CHILD", "person_id": "PERSON", "role": "child"}],
        [{"child_id": "CHILD", "role": "parent"}],
        [{"child_id": "CHILD", "role": "child", "parental_responsibility": True}],
        [{"person_id": "PERSON", "role": "parent"}],
        [{"child_id": "CHILD", "role": "child"}, {"child_id": "CHILD", "role": "sibling"}],
        [{"child_id": "CHILD", "role": "child", "from_date": "2999-01-01"}],
        [{"child_id": "CHILD", "role": "grandchild"}],
        [{"child_id": "CHILD", "role": "child", "colour": "blue"}],
    ],
)
async def test_bad_household_is_refused_and_nothing_written(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI, members: list[dict[str, Any]]
) -> None:
    hv = await partner(referral, token_for)
    child = await child_of(referral, token_for, hv)
    person = await make_person(referral, hv)
    ids = {"CHILD": child["id"], "PERSON": person["id"]}
    members = [{k: ids.get(v, v) if isinstance(v, str) else v for k, v in m.items()} for m in members]
    before = await _count(referral_app, Household)
    assert_problem(await referral.post("/v1/households", json={"members": members}, headers=hv.headers()), 422)
    assert await _count(referral_app, Household) == before


async def test_link_an_unborn_child_to_the_mother(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI
) -> None:
    midwifery = await partner(referral, token_for, "hospital_other")
    csc = await partner(referral, token_for, "childrens_social_care")
    unborn = await child_of(referral, token_for, midwifery, birth_date=None, expected_birth_date="2027-03-01", gender="0")
    mother = await make_person(referral, midwifery, factors=["alcohol_misuse"])
    url = f"/v1/children/{unborn['id']}/mother"
    body = {"person_id": mother["id"]}
    assert_problem(await referral.post(url, json=body, headers=midwifery.headers()), 428)
    assert_problem(await referral.post(url, json=body, headers=midwifery.headers(**if_match(7))), 412)
    assert_problem(await referral.post(url, json={"person_id": mother["id"], "x": 1},
                                       headers=midwifery.headers(**if_match(1))), 422)
    assert_problem(await referral.post(url, json={"person_id": str(uuid.uuid4())},
                                       headers=midwifery.headers(**if_match(1))), 404, "person-not-found")
    r = await referral.post(url, json=body, headers=midwifery.headers(**if_match(1)))
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    assert r.json()["mother"]["id"] == mother["id"]
    child = await referral.get(f"/v1/children/{unborn['id']}", headers=midwifery.headers())
    assert child.headers["etag"] == '"2"'
    # The mother is now visible to whoever sees the unborn child.
    assert (await referral.get(f"/v1/people/{mother['id']}", headers=csc.headers())).status_code == 200
    assert any(e["child_id"] == unborn["id"] for e in await events_of_type(referral_app, "child.mother_linked"))


async def test_mother_link_is_only_for_unborn_children(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    hv = await partner(referral, token_for)
    police = await partner(referral, token_for, "police")
    born = await child_of(referral, token_for, hv)
    mother = await make_person(referral, hv)
    url = f"/v1/children/{born['id']}/mother"
    problem = assert_problem(await referral.post(url, json={"person_id": mother["id"]}, headers=hv.headers(**if_match(1))),
                             409, "unborn-only")
    assert problem["rule"] == "mother-link-unborn-only"
    assert (await referral.get(f"/v1/children/{born['id']}", headers=hv.headers())).headers["etag"] == '"1"'
    assert_problem(await referral.post(url, json={"person_id": mother["id"]}, headers=police.headers(**if_match(1))),
                   404, "child-not-found")


async def test_scopes_and_unregistered_agencies(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    hv = await partner(referral, token_for)
    person = await make_person(referral, hv)
    body = {"given_name": "Testparent", "family_name": "Example"}
    assert_problem(await referral.post("/v1/people", json=body, headers=hv.headers("referral:read")), 403, "insufficient-scope")
    assert_problem(await referral.get(f"/v1/people/{person['id']}", headers=hv.headers("referral:write")), 403, "insufficient-scope")
    assert_problem(await referral.post("/v1/people", json=body, headers=token_for(uuid.uuid4(), "referral:write")),
                   403, "agency-not-registered")
    assert (await referral.get(f"/v1/people/{person['id']}")).status_code == 401


async def test_idempotent_person(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    hv = await partner(referral, token_for)
    headers = hv.headers(**{"Idempotency-Key": "person-1"})
    body = {"given_name": "Testparent", "family_name": "Example"}
    first = await referral.post("/v1/people", json=body, headers=headers)
    again = await referral.post("/v1/people", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert_problem(await referral.post("/v1/people", json={**body, "family_name": "Other"}, headers=headers), 422,
                   "idempotency-key-reused")
