"""Changing what is known about a child: demographics, birth, death."""

from __future__ import annotations

import uuid
from datetime import date

import httpx
import pytest
from fastapi import FastAPI

from services.referral.domain.journey import RuleBroken
from tests.referral.factories import child_body, make_agency, make_child
from tests.referral.factories_practice import child_of, days_ago, partner
from tests.referral.factories_records import created, decide
from tests.referral.factories_referrals import referral_body
from tests.referral.journey_support import open_episode
from tests.support import TokenFor

PROBLEM = "application/problem+json"


async def test_demographics_on_dfe_code_lists(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    agency = await make_agency(referral, token_for, "school")
    headers = token_for(uuid.UUID(agency["id"]), "referral:write", "referral:read")
    child = await make_child(referral, token_for, agency["id"], upn="Y999999123456", ethnicity="WBRI", disabilities=["AUT", "COMM"])
    assert (child["upn"], child["ethnicity"], child["disabilities"]) == ("Y999999123456", "WBRI", ["AUT", "COMM"])
    r = await referral.patch(f"/v1/children/{child['id']}", json={"upn_unknown": "UN2", "disabilities": ["NONE"]},
                             headers={**headers, "If-Match": '"1"'})
    assert r.status_code == 200, r.text
    assert (r.json()["upn"], r.json()["upn_unknown"], r.json()["disabilities"]) == (None, "UN2", ["NONE"])
    assert r.headers["etag"] == '"2"'


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"upn": "A999999123456"}, "body.upn"), ({"ethnicity": "XXXX"}, "body.ethnicity"),
     ({"disabilities": ["NONE", "MOB"]}, "body.disabilities"), ({"disabilities": ["MOB", "MOB"]}, "body.disabilities"),
     ({"upn_unknown": "UN99"}, "body.upn_unknown")],
)
async def test_bad_codes_are_refused(referral: httpx.AsyncClient, token_for: TokenFor, overrides: dict[str, object], field: str) -> None:
    agency = await make_agency(referral, token_for, "school")
    r = await referral.post("/v1/children", json=child_body(**overrides), headers=token_for(uuid.UUID(agency["id"]), "referral:write"))
    assert r.status_code == 422
    assert field in [e["field"] for e in r.json()["errors"]]


async def test_update_needs_current_version(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    agency = await make_agency(referral, token_for)
    headers = token_for(uuid.UUID(agency["id"]), "referral:write", "referral:read")
    child = await make_child(referral, token_for, agency["id"])
    url = f"/v1/children/{child['id']}"
    assert (await referral.patch(url, json={"family_name": "Other"}, headers=headers)).status_code == 428
    assert (await referral.patch(url, json={"family_name": "Other"}, headers={**headers, "If-Match": '"7"'})).status_code == 412
    assert (await referral.get(url, headers=headers)).json()["family_name"] == child["family_name"]


async def test_if_match_on_a_child_per_rfc_9110(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    agency = await make_agency(referral, token_for)
    headers = token_for(uuid.UUID(agency["id"]), "referral:write", "referral:read")
    child = await make_child(referral, token_for, agency["id"])
    url = f"/v1/children/{child['id']}"
    for unknown in ('"not-a-version"', 'W/"1"', '"01"'):
        r = await referral.patch(url, json={"family_name": "Other"}, headers={**headers, "If-Match": unknown})
        assert r.status_code == 412, unknown
        assert r.json()["type"].endswith("stale-version")
    r = await referral.patch(url, json={"family_name": "Other"}, headers={**headers, "If-Match": "not even a tag"})
    assert r.status_code == 400
    assert r.json()["type"].endswith("invalid-if-match")
    assert (await referral.get(url, headers=headers)).json()["version"] == 1
    r = await referral.patch(url, json={"family_name": "Other"}, headers={**headers, "If-Match": '"7", "1"'})
    assert r.status_code == 200
    assert r.headers["etag"] == '"2"'
    r = await referral.patch(url, json={"family_name": "Again"}, headers={**headers, "If-Match": "*"})
    assert r.status_code == 200
    assert r.json()["version"] == 3


async def test_birth_of_an_unborn_child(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    agency = await make_agency(referral, token_for, "hospital_other")
    headers = token_for(uuid.UUID(agency["id"]), "referral:write", "referral:read")
    child = await make_child(referral, token_for, agency["id"], birth_date=None, expected_birth_date="2026-12-30", gender="0")
    url = f"/v1/children/{child['id']}"
    r = await referral.patch(url, json={"gender": "2"}, headers={**headers, "If-Match": '"1"'})
    assert r.status_code == 409  # DfE 8750: gender 0 until born
    r = await referral.post(f"{url}/birth", json={"birth_date": "2026-11-20", "gender": "2"}, headers={**headers, "If-Match": '"1"'})
    assert r.status_code == 200, r.text
    assert (r.json()["birth_date"], r.json()["expected_birth_date"], r.json()["unborn"]) == ("2026-11-20", None, False)
    again = await referral.post(f"{url}/birth", json={"birth_date": "2026-11-20", "gender": "2"}, headers={**headers, "If-Match": '"2"'})
    assert again.status_code == 409


async def test_death_after_plan_activity_is_refused(referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI) -> None:
    csc = await make_agency(referral, token_for, "childrens_social_care")
    headers = token_for(uuid.UUID(csc["id"]), "referral:write", "referral:read")
    child = await make_child(referral, token_for, csc["id"])
    episode = await open_episode(referral_app, uuid.UUID(csc["id"]), uuid.UUID(child["id"]), date(2026, 1, 5))
    ep = (await referral.get(f"/v1/episodes/{episode}", headers=headers))
    r = await referral.post(f"/v1/episodes/{episode}/cin-plans", json={"start_date": "2026-02-02"},
                            headers={**headers, "If-Match": ep.headers["etag"]})
    assert r.status_code == 200, r.text
    url = f"/v1/children/{child['id']}/death"
    r = await referral.post(url, json={"death_date": "2026-01-20"}, headers={**headers, "If-Match": '"1"'})
    assert r.status_code == 409
    assert r.json()["rule"] == "8915"
    r = await referral.post(url, json={"death_date": "2018-01-01"}, headers={**headers, "If-Match": '"1"'})
    assert r.json()["rule"] == "8535Q"
    r = await referral.post(url, json={"death_date": "2026-03-01"}, headers={**headers, "If-Match": '"1"'})
    assert r.status_code == 200
    assert r.json()["death_date"] == "2026-03-01"


async def test_further_action_needs_the_census_items(referral: httpx.AsyncClient, token_for: TokenFor,
                                                     referral_app: FastAPI) -> None:
    csc = await make_agency(referral, token_for, "childrens_social_care")
    headers = token_for(uuid.UUID(csc["id"]), "referral:write", "referral:read")
    bare = await make_child(referral, token_for, csc["id"], disabilities=None)
    with pytest.raises(RuleBroken) as refused:
        await open_episode(referral_app, uuid.UUID(csc["id"]), uuid.UUID(bare["id"]), date(2026, 1, 5))
    assert refused.value.rule == "8540"
    un7 = await make_child(referral, token_for, csc["id"], upn_unknown="UN7")
    with pytest.raises(RuleBroken) as refused:
        await open_episode(referral_app, uuid.UUID(csc["id"]), uuid.UUID(un7["id"]), date(2026, 1, 5))
    assert refused.value.rule == "8772"
    child = await make_child(referral, token_for, csc["id"])
    await open_episode(referral_app, uuid.UUID(csc["id"]), uuid.UUID(child["id"]), date(2026, 1, 5))
    r = await referral.patch(f"/v1/children/{child['id']}", json={"upn_unknown": "UN7"}, headers={**headers, "If-Match": '"1"'})
    assert r.status_code == 409
    assert r.json()["rule"] == "8772"
    r = await referral.patch(f"/v1/children/{child['id']}", json={"disabilities": []}, headers={**headers, "If-Match": '"1"'})
    assert r.status_code in (409, 422)


async def test_an_unborn_child_needs_no_disability_until_born(referral: httpx.AsyncClient, token_for: TokenFor,
                                                               referral_app: FastAPI) -> None:
    """DfE 8540 asks for a disability of a child with a birth date and further action; the DfE rules
    accept an unborn child without one (cin_validator rule_8540: PersonBirthDate present)."""
    midwifery = await partner(referral, token_for, "hospital_other")
    csc = await partner(referral, token_for, "childrens_social_care")
    unborn = await child_of(referral, token_for, csc, birth_date=None, expected_birth_date=days_ago(-60), gender="0",
                            disabilities=None)
    sent = created(await referral.post("/v1/referrals", headers=midwifery.headers(), json=referral_body(
        unborn["id"], received_at=f"{days_ago(30)}T09:00:00Z", referral_source="3F", neglect_types=["pre_birth"],
        indicators=[])))
    decided = await decide(referral, referral_app, csc, sent["id"], sent["version"], level="4", outcome="s17_assessment",
                           primary_need="N1", override_reason="Test reason.", decided_at=f"{days_ago(30)}T15:00:00Z")
    assert decided["episode_id"] is not None  # further action for an unborn child with no disability record
    url = f"/v1/children/{unborn['id']}"
    # No disability while unborn, even with further action ...
    r = await referral.patch(url, json={"disabilities": ["NONE"]}, headers=csc.headers(**{"If-Match": '"1"'}))
    assert r.status_code == 200, r.text
    r = await referral.patch(url, json={"disabilities": []}, headers=csc.headers(**{"If-Match": '"2"'}))
    assert (r.status_code, r.json()["disabilities"]) == (200, [])
    # ... but from birth on: the birth is refused without one, and records the one it brings.
    birth = {"birth_date": days_ago(1), "gender": "2"}
    r = await referral.post(f"{url}/birth", json=birth, headers=csc.headers(**{"If-Match": '"3"'}))
    assert (r.status_code, r.headers["content-type"], r.json()["rule"]) == (409, PROBLEM, "8540")
    r = await referral.post(f"{url}/birth", json={**birth, "disabilities": ["NONE", "VIS"]},
                            headers=csc.headers(**{"If-Match": '"3"'}))
    assert r.status_code == 422
    r = await referral.post(f"{url}/birth", json={**birth, "disabilities": ["NONE"]}, headers=csc.headers(**{"If-Match": '"3"'}))
    assert r.status_code == 200, r.text
    assert (r.json()["birth_date"], r.json()["disabilities"]) == (days_ago(1), ["NONE"])
    r = await referral.patch(url, json={"disabilities": []}, headers=csc.headers(**{"If-Match": '"4"'}))
    assert (r.status_code, r.json()["rule"]) == (409, "8540")


async def test_a_birth_more_than_40_weeks_after_a_referral_is_refused(referral: httpx.AsyncClient, token_for: TokenFor,
                                                                      referral_app: FastAPI) -> None:
    csc = await partner(referral, token_for, "childrens_social_care")
    unborn = await child_of(referral, token_for, csc, birth_date=None, expected_birth_date="2026-03-30", gender="0")
    await open_episode(referral_app, csc.id, uuid.UUID(unborn["id"]), date(2026, 1, 5))
    url = f"/v1/children/{unborn['id']}/birth"
    r = await referral.post(url, json={"birth_date": "2026-10-13", "gender": "1"}, headers=csc.headers(**{"If-Match": '"1"'}))
    assert (r.status_code, r.json()["rule"]) == (409, "8606")  # 40 weeks and 1 day after the referral
    r = await referral.post(url, json={"birth_date": "2026-10-12", "gender": "1"}, headers=csc.headers(**{"If-Match": '"1"'}))
    assert r.status_code == 200, r.text
