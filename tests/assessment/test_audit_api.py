"""The assessment service's audit trail through HTTP: who accessed a child's assessments, asked
of the referral service whether the caller may see the child; and the four-eyes rule between two
people of one partner system, told apart by the acting user in their tokens."""

from __future__ import annotations

import uuid

import httpx

from tests.assessment.conftest import CountingTransport
from tests.assessment.factories import People, authorise, gcp2_scored, ok, start
from tests.support import TokenFor

PROBLEM = "application/problem+json"
GRADES = {"physical_care": 3, "care_of_safety": 2, "emotional_care": 2, "developmental_care": 3}


def _auditor(people: People, token_for: TokenFor, agency: uuid.UUID | None = None, *scopes: str) -> dict[str, str]:
    return token_for(agency or people.hv_agency, *(scopes or ("audit:read", "referral:read")),
                     client_id="hv-ig", acting_user="ig-officer-3")


async def test_who_accessed_a_childs_assessments(
    assessment: httpx.AsyncClient, people: People, token_for: TokenFor, referral_calls: CountingTransport
) -> None:
    a = await start(assessment, people.practitioner(), people.child_id)
    assert (await assessment.get(f"/v1/assessments/{a['id']}", headers=people.csc())).status_code == 200

    r = await assessment.get(f"/v1/audit/assessment/children/{people.child_id}", headers=_auditor(people, token_for))
    body = ok(r)
    assert [(e["client_id"], e["acting_user"], e["action"], e["resource"], e["service"]) for e in body["items"]] == [
        ("csc-system", "sw-9", "read", "assessment", "assessment"),
        ("hv-system", "hv-practitioner-17", "create", "assessment", "assessment"),
    ]
    assert {e["agency_id"] for e in body["items"]} == {str(people.csc_agency), str(people.hv_agency)}
    assert all(e["child_ids"] == [people.child_id] for e in body["items"])
    # The visibility check went to the referral service as the auditor.
    assert referral_calls.requests[-1].url.path == f"/v1/children/{people.child_id}"

    # Its own reading is audited: the next listing starts with it.
    again = ok(await assessment.get(f"/v1/audit/assessment/children/{people.child_id}", headers=_auditor(people, token_for)))
    assert (again["items"][0]["action"], again["items"][0]["resource"], again["items"][0]["acting_user"]) == (
        "read", "audit", "ig-officer-3")


async def test_a_child_the_auditors_agency_cannot_see_is_404_unless_admin(
    assessment: httpx.AsyncClient, people: People, token_for: TokenFor, referral_calls: CountingTransport
) -> None:
    await start(assessment, people.practitioner(), people.child_id)
    r = await assessment.get(f"/v1/audit/assessment/children/{people.child_id}",
                             headers=_auditor(people, token_for, people.school_agency))
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM

    calls = len(referral_calls.requests)
    admin = token_for(people.school_agency, "admin", client_id="lscp-admin")
    body = ok(await assessment.get(f"/v1/audit/assessment/children/{people.child_id}", headers=admin))
    assert [e["action"] for e in body["items"]] == ["create"]
    assert len(referral_calls.requests) == calls  # an administrator's read asks nobody


async def test_without_referral_read_the_check_is_refused(
    assessment: httpx.AsyncClient, people: People, token_for: TokenFor
) -> None:
    r = await assessment.get(f"/v1/audit/assessment/children/{people.child_id}",
                             headers=_auditor(people, token_for, None, "audit:read"))
    assert r.status_code == 403
    assert r.json()["type"].endswith("/child-check-refused")


async def test_audit_read_scope_is_needed(assessment: httpx.AsyncClient, people: People) -> None:
    r = await assessment.get(f"/v1/audit/assessment/children/{people.child_id}", headers=people.practitioner())
    assert r.status_code == 403
    assert r.json()["type"].endswith("/insufficient-scope")
    r = await assessment.get(f"/v1/audit/assessment/agencies/{people.hv_agency}", headers=people.practitioner())
    assert r.status_code == 403


async def test_an_agencys_trail_is_its_own(assessment: httpx.AsyncClient, people: People, token_for: TokenFor) -> None:
    await start(assessment, people.practitioner(), people.child_id)
    mine = ok(await assessment.get(f"/v1/audit/assessment/agencies/{people.hv_agency}", headers=_auditor(people, token_for)))
    assert [(e["action"], e["acting_user"]) for e in mine["items"]] == [("create", "hv-practitioner-17")]
    theirs = await assessment.get(f"/v1/audit/assessment/agencies/{people.csc_agency}", headers=_auditor(people, token_for))
    assert theirs.status_code == 403
    assert theirs.json()["type"].endswith("/audit-agency-forbidden")


async def test_two_people_of_one_client_are_four_eyes(assessment: httpx.AsyncClient, people: People) -> None:
    """Submitter and authoriser share the client hv-system; their tokens name different acting users."""
    submitted = await gcp2_scored(assessment, people, GRADES)
    authorised = await authorise(assessment, people.manager(), submitted)
    assert authorised["submitted_by"] == {"client_id": "hv-system", "acting_user": "hv-practitioner-17"}
    assert authorised["authorised_by"]["client_id"] == "hv-system"
    assert authorised["authorised_by"]["acting_user"] == "hv-manager-4"


async def test_an_unnamed_submitter_cannot_be_told_apart_from_a_named_authoriser(
    assessment: httpx.AsyncClient, people: People, token_for: TokenFor
) -> None:
    """A system that submitted without naming anyone may have been the manager: the same client
    must name two different people for four eyes."""
    unnamed = token_for(people.hv_agency, "assessment:read", "assessment:write", "referral:read", client_id="hv-system")
    submitted = await gcp2_scored(assessment, people, GRADES, headers=unnamed)
    assert submitted["submitted_by"] == {"client_id": "hv-system", "acting_user": None}
    r = await assessment.post(f"/v1/assessments/{submitted['id']}/authorisation", json={"authorised_by": "Manager (test)"},
                              headers={**people.manager(), "If-Match": f'"{submitted["version"]}"'})
    assert r.status_code == 409
    assert r.json()["rule"] == "assessment.four_eyes"
