"""Professionals and involvements: who works with a child decides who sees the child."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI

from tests.referral.factories_practice import (
    assert_problem,
    audits,
    child_of,
    days_ago,
    events_of_type,
    if_match,
    make_professional,
    partner,
    seal,
    tomorrow,
)
from tests.support import TokenFor


async def test_professionals_of_an_agency(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    hv = await partner(referral, token_for)
    school = await partner(referral, token_for, "school")
    worker = await make_professional(referral, hv, external_ref="HV-17")
    teacher = await make_professional(referral, school, name="Test Teacher", role="Designated safeguarding lead")
    assert worker["agency_id"] == str(hv.id)
    r = await referral.get("/v1/professionals", params={"agency_id": str(hv.id)}, headers=hv.headers())
    assert r.status_code == 200
    assert [p["id"] for p in r.json()["items"]] == [worker["id"]]
    r = await referral.get(f"/v1/professionals/{teacher['id']}", headers=hv.headers())
    assert r.json()["role"] == "Designated safeguarding lead"
    assert_problem(await referral.get(f"/v1/professionals/{uuid.uuid4()}", headers=hv.headers()), 404, "professional-not-found")
    assert_problem(await referral.post("/v1/professionals", json={"name": "X", "role": "Y"},
                                       headers=token_for(uuid.uuid4(), "referral:write")), 403, "agency-not-registered")
    assert_problem(await referral.post("/v1/professionals", json={"name": "X", "role": "Y", "agency_id": str(school.id)},
                                       headers=hv.headers()), 422)


async def test_an_involvement_shows_the_child_and_ending_it_hides_the_child_again(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI
) -> None:
    school = await partner(referral, token_for, "school")
    gp = await partner(referral, token_for, "gp")
    csc = await partner(referral, token_for, "childrens_social_care")
    child = await child_of(referral, token_for, school)
    doctor = await make_professional(referral, gp, name="Test Doctor", role="GP")
    child_url = f"/v1/children/{child['id']}"
    assert_problem(await referral.get(child_url, headers=gp.headers()), 404, "child-not-found")

    r = await referral.post(f"{child_url}/involvements", headers=csc.headers(), json={
        "role": "core_group_member", "agency_id": str(gp.id), "professional_id": doctor["id"], "start_date": days_ago(30)})
    assert r.status_code == 201, r.text
    involvement = r.json()
    assert r.headers["etag"] == '"1"'
    assert involvement["agency_id"] == str(gp.id)
    assert involvement["professional"]["id"] == doctor["id"]
    assert involvement["active"] is True
    assert (await referral.get(child_url, headers=gp.headers())).status_code == 200

    listed = await referral.get(f"{child_url}/involvements", headers=gp.headers())
    assert listed.status_code == 200
    roles = {(i["agency_id"], i["role"]) for i in listed.json()["items"]}
    assert (str(school.id), "registering_agency") in roles
    assert (str(gp.id), "core_group_member") in roles

    end_url = f"/v1/involvements/{involvement['id']}/end"
    r = await referral.post(end_url, json={"end_date": days_ago(1)}, headers=gp.headers(**if_match(1)))
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    assert r.json()["active"] is False
    assert_problem(await referral.get(child_url, headers=gp.headers()), 404, "child-not-found")
    assert (await referral.get(f"/v1/involvements/{involvement['id']}", headers=school.headers())).json()["end_date"] == days_ago(1)
    active = await referral.get(f"{child_url}/involvements", params={"active": "true"}, headers=school.headers())
    assert str(gp.id) not in {i["agency_id"] for i in active.json()["items"]}

    started = await events_of_type(referral_app, "involvement.started")
    ended = await events_of_type(referral_app, "involvement.ended")
    assert any(e["involvement_id"] == involvement["id"] and e["agency_id"] == str(gp.id) for e in started)
    assert any(e["involvement_id"] == involvement["id"] for e in ended)
    assert any(child["id"] in a.child_ids and a.action == "update" for a in await audits(referral_app, "involvement"))


async def test_an_agency_records_its_own_involvement(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    school = await partner(referral, token_for, "school")
    nurse = await partner(referral, token_for, "school_nursing")
    csc = await partner(referral, token_for, "childrens_social_care")
    child = await child_of(referral, token_for, school)
    url = f"/v1/children/{child['id']}/involvements"
    r = await referral.post(url, json={"role": "designated_safeguarding_lead", "start_date": days_ago(3)}, headers=school.headers())
    assert r.status_code == 201
    assert r.json()["agency_id"] == str(school.id)
    assert_problem(await referral.post(url, json={"role": "designated_safeguarding_lead", "start_date": days_ago(2)},
                                       headers=school.headers()), 409, "duplicate-involvement")
    # Only children's social care records another agency's involvement.
    assert_problem(await referral.post(url, json={"role": "school_nurse", "start_date": days_ago(1), "agency_id": str(nurse.id)},
                                       headers=school.headers()), 403, "own-agency-only")
    # An agency that cannot see the child cannot involve itself.
    assert_problem(await referral.post(url, json={"role": "school_nurse", "start_date": days_ago(1)}, headers=nurse.headers()),
                   404, "child-not-found")
    assert_problem(await referral.post(url, json={"role": "school_nurse", "start_date": days_ago(1), "agency_id": str(uuid.uuid4())},
                                       headers=csc.headers()), 422, "unknown-agency")


async def test_professional_must_belong_to_the_involved_agency(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    school = await partner(referral, token_for, "school")
    gp = await partner(referral, token_for, "gp")
    child = await child_of(referral, token_for, school)
    doctor = await make_professional(referral, gp)
    r = await referral.post(f"/v1/children/{child['id']}/involvements", headers=school.headers(),
                            json={"role": "class_teacher", "start_date": days_ago(1), "professional_id": doctor["id"]})
    problem = assert_problem(r, 422, "professional-not-in-agency")
    assert problem["errors"][0]["field"] == "body.professional_id"


async def test_ending_an_involvement_needs_if_match_and_follows_the_rules(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    school = await partner(referral, token_for, "school")
    csc = await partner(referral, token_for, "childrens_social_care")
    gp = await partner(referral, token_for, "gp")
    child = await child_of(referral, token_for, school)
    r = await referral.post(f"/v1/children/{child['id']}/involvements", headers=csc.headers(),
                            json={"role": "core_group_member", "agency_id": str(gp.id), "start_date": days_ago(10)})
    url = f"/v1/involvements/{r.json()['id']}/end"
    assert_problem(await referral.post(url, json={"end_date": days_ago(1)}, headers=gp.headers()), 428)
    assert_problem(await referral.post(url, json={"end_date": days_ago(1)}, headers=gp.headers(**if_match(5))), 412)
    assert_problem(await referral.post(url, json={"end_date": days_ago(1)}, headers=gp.headers(**{"If-Match": "junk"})), 400)
    assert_problem(await referral.post(url, json={"end_date": tomorrow()}, headers=gp.headers(**if_match(1))), 422)
    assert_problem(await referral.post(url, json={"end_date": days_ago(1), "why": "x"}, headers=gp.headers(**if_match(1))), 422)
    problem = assert_problem(await referral.post(url, json={"end_date": days_ago(20)}, headers=gp.headers(**if_match(1))),
                             409, "involvement-rule")
    assert problem["rule"] == "end-after-start"
    # The school sees the child but did not make this involvement and is not children's social care.
    assert_problem(await referral.post(url, json={"end_date": days_ago(1)}, headers=school.headers(**if_match(1))),
                   403, "own-agency-only")
    got = await referral.get(url.removesuffix("/end"), headers=gp.headers())
    assert got.headers["etag"] == '"1"'
    assert got.json()["end_date"] is None
    assert (await referral.post(url, json={"end_date": days_ago(0)}, headers=csc.headers(**if_match(1)))).status_code == 200
    problem = assert_problem(await referral.post(url, json={"end_date": days_ago(0)}, headers=csc.headers(**if_match(2))),
                             409, "involvement-rule")
    assert problem["rule"] == "involvement-ended"


async def test_sealed_child_stays_hidden_from_childrens_social_care_without_an_involvement(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI
) -> None:
    hospital = await partner(referral, token_for, "hospital_other")
    csc = await partner(referral, token_for, "childrens_social_care")
    child = await child_of(referral, token_for, hospital)
    await seal(referral_app, child["id"])
    url = f"/v1/children/{child['id']}"
    assert (await referral.get(url, headers=hospital.headers())).status_code == 200  # registering agency is involved
    assert_problem(await referral.get(url, headers=csc.headers()), 404)
    assert_problem(await referral.post(f"{url}/involvements", json={"role": "allocated_social_worker", "start_date": days_ago(1)},
                                       headers=csc.headers()), 404, "child-not-found")
    assert_problem(await referral.get(f"{url}/involvements", headers=csc.headers()), 404)
    listed = await referral.get(f"{url}/involvements", headers=hospital.headers())
    [own] = listed.json()["items"]
    assert_problem(await referral.get(f"/v1/involvements/{own['id']}", headers=csc.headers()), 404, "involvement-not-found")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "Core Group!", "start_date": "2026-01-01"}, "body.role"),
        ({"role": "core_group_member", "start_date": "2999-01-01"}, "body.start_date"),
        ({"role": "core_group_member"}, "body.start_date"),
        ({"role": "core_group_member", "start_date": "2026-01-01", "status": "active"}, "body.status"),
        ({"role": "core_group_member", "start_date": "2026-01-01", "agency_id": "not-a-uuid"}, "body.agency_id"),
    ],
)
async def test_bad_involvement_is_refused_and_nothing_written(
    referral: httpx.AsyncClient, token_for: TokenFor, body: dict[str, str], field: str
) -> None:
    school = await partner(referral, token_for, "school")
    child = await child_of(referral, token_for, school)
    url = f"/v1/children/{child['id']}/involvements"
    problem = assert_problem(await referral.post(url, json=body, headers=school.headers()), 422)
    assert field in [e["field"] for e in problem["errors"]]
    assert len((await referral.get(url, headers=school.headers())).json()["items"]) == 1


async def test_foreign_agency_and_scopes(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    school = await partner(referral, token_for, "school")
    police = await partner(referral, token_for, "police")
    child = await child_of(referral, token_for, school)
    url = f"/v1/children/{child['id']}/involvements"
    own = (await referral.get(url, headers=school.headers())).json()["items"][0]
    assert_problem(await referral.get(url, headers=police.headers()), 404)
    assert_problem(await referral.get(f"/v1/involvements/{own['id']}", headers=police.headers()), 404)
    assert_problem(await referral.post(f"/v1/involvements/{own['id']}/end", json={"end_date": days_ago(0)},
                                       headers=police.headers(**if_match(1))), 404)
    assert_problem(await referral.get(url, headers=school.headers("referral:write")), 403, "insufficient-scope")
    assert_problem(await referral.post(url, json={"role": "x_y", "start_date": days_ago(0)},
                                       headers=school.headers("referral:read")), 403, "insufficient-scope")
    assert_problem(await referral.get("/v1/professionals", headers=school.headers("assessment:read")), 403)


async def test_involvement_pages_walk_every_row_once(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    school = await partner(referral, token_for, "school")
    child = await child_of(referral, token_for, school)
    url = f"/v1/children/{child['id']}/involvements"
    for n in range(4):
        await referral.post(url, json={"role": f"role_{n}", "start_date": days_ago(n)}, headers=school.headers())
    seen: list[str] = []
    next_url: str | None = f"{url}?limit=2"
    while next_url:
        r = await referral.get(next_url, headers=school.headers())
        seen += [i["id"] for i in r.json()["items"]]
        link = r.headers.get("link")
        next_url = link.split(";")[0].strip("<>") if link else None
    assert len(seen) == len(set(seen)) == 5
