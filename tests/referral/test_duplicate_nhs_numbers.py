"""Duplicate NHS numbers: refused with the existing record's id only when the caller may see it.

Agency A registers a child; agency B (who may not see A's record) registering the same NHS
number must learn nothing about A's record: B's answer is the one it would get for an NHS
number nobody holds.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.referral.factories import child_body, make_agency, make_child
from tests.referral.factories_practice import seal
from tests.support import TokenFor

NHS = "9990000018"
OTHER_NHS = "9990000026"


def _headers(token_for: TokenFor, agency: dict[str, Any]) -> dict[str, str]:
    return token_for(uuid.UUID(agency["id"]), "referral:write", "referral:read")


def _shape(body: dict[str, Any]) -> dict[str, Any]:
    """A registration answer without what differs between any two registrations."""
    return {k: v for k, v in body.items() if k not in ("id", "given_name", "created_at", "updated_at")}


async def test_a_second_agency_learns_nothing_of_a_record_it_may_not_see(
    referral: httpx.AsyncClient, token_for: TokenFor
) -> None:
    school = await make_agency(referral, token_for, "school")
    police = await make_agency(referral, token_for, "police")
    a_child = await make_child(referral, token_for, school["id"], nhs_number=NHS)
    b = _headers(token_for, police)

    unknown = await referral.post("/v1/children", json=child_body(nhs_number=OTHER_NHS), headers=b)
    known = await referral.post("/v1/children", json=child_body(nhs_number=NHS), headers=b)
    assert known.status_code == unknown.status_code == 201
    # Same answer as for a number nobody holds: same headers and fields, nothing of A's record.
    assert set(known.headers) == set(unknown.headers)
    assert _shape(known.json()) == {**_shape(unknown.json()), "nhs_number": NHS}
    assert a_child["id"] not in known.text
    assert known.json()["id"] != a_child["id"]
    # And no other door opens: A's record stays a 404, the NHS number finds only B's own.
    assert (await referral.get(f"/v1/children/{a_child['id']}", headers=b)).status_code == 404
    found = await referral.get("/v1/children", params={"nhs_number": NHS}, headers=b)
    assert [c["id"] for c in found.json()["items"]] == [known.json()["id"]]


async def test_the_agency_that_can_see_the_child_gets_409_with_its_id(
    referral: httpx.AsyncClient, token_for: TokenFor
) -> None:
    school = await make_agency(referral, token_for, "school")
    police = await make_agency(referral, token_for, "police")
    a_child = await make_child(referral, token_for, school["id"], nhs_number=NHS)
    b_child = await make_child(referral, token_for, police["id"], nhs_number=NHS)

    r = await referral.post("/v1/children", json=child_body(nhs_number=NHS), headers=_headers(token_for, school))
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["type"].endswith("duplicate-nhs-number")
    # A sees its own record only: B's record (same number) is not mentioned to A.
    assert problem["existing_child_ids"] == [a_child["id"]]
    assert b_child["id"] not in r.text
    assert NHS not in r.text  # the submitted number is not echoed

    csc = await make_agency(referral, token_for, "childrens_social_care")
    r = await referral.post("/v1/children", json=child_body(nhs_number=NHS), headers=_headers(token_for, csc))
    assert r.status_code == 409
    assert r.json()["existing_child_ids"] == [a_child["id"], b_child["id"]]  # sees both, oldest first, to reconcile
    listed = await referral.get("/v1/children", params={"nhs_number": NHS}, headers=_headers(token_for, csc))
    assert len(listed.json()["items"]) == 2


async def test_a_sealed_child_is_never_mentioned_even_to_childrens_social_care(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI
) -> None:
    school = await make_agency(referral, token_for, "school")
    csc = await make_agency(referral, token_for, "childrens_social_care")
    sealed = await make_child(referral, token_for, school["id"], nhs_number=NHS)
    await seal(referral_app, sealed["id"])
    r = await referral.post("/v1/children", json=child_body(nhs_number=NHS), headers=_headers(token_for, csc))
    assert r.status_code == 201
    assert sealed["id"] not in r.text


async def test_an_idempotent_retry_is_a_replay_not_a_duplicate(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    school = await make_agency(referral, token_for, "school")
    headers = {**_headers(token_for, school), "Idempotency-Key": "nhs-retry-1"}
    body = child_body(nhs_number=NHS)
    first = await referral.post("/v1/children", json=body, headers=headers)
    again = await referral.post("/v1/children", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]


@pytest.mark.parametrize("visible", [True, False])
async def test_patching_an_nhs_number_onto_another_childs(
    referral: httpx.AsyncClient, token_for: TokenFor, visible: bool
) -> None:
    school = await make_agency(referral, token_for, "school")
    police = await make_agency(referral, token_for, "police")
    holder = await make_child(referral, token_for, (school if visible else police)["id"], nhs_number=NHS)
    mine = await make_child(referral, token_for, school["id"], nhs_number=OTHER_NHS)
    headers = {**_headers(token_for, school), "If-Match": '"1"'}
    r = await referral.patch(f"/v1/children/{mine['id']}", json={"nhs_number": NHS}, headers=headers)
    if visible:
        assert r.status_code == 409
        assert r.json()["type"].endswith("duplicate-nhs-number")
        assert r.json()["existing_child_ids"] == [holder["id"]]
        unchanged = await referral.get(f"/v1/children/{mine['id']}", headers=headers)
        assert unchanged.json()["nhs_number"] == OTHER_NHS
    else:
        assert r.status_code == 200
        assert holder["id"] not in r.text
    # Re-sending a child's own number is no duplicate of itself.
    again = await referral.patch(f"/v1/children/{holder['id']}", json={"nhs_number": NHS},
                                 headers={**_headers(token_for, school if visible else police), "If-Match": '"1"'})
    assert again.status_code == 200


def test_openapi_documents_the_duplicate_with_an_example(referral_app: FastAPI) -> None:
    paths = referral_app.openapi()["paths"]
    for path, method in (("/v1/children", "post"), ("/v1/children/{child_id}", "patch")):
        examples = paths[path][method]["responses"]["409"]["content"]["application/problem+json"]["examples"]
        assert "existing_child_ids" in examples["duplicate-nhs-number"]["value"]
    assert "never mentioned" in paths["/v1/children"]["post"]["description"]
