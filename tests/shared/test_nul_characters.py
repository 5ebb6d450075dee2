"""U+0000 in any string is refused with 422 before the database (PostgreSQL cannot store it)."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.referral.factories import child_body
from tests.referral.factories_practice import assert_problem, child_of, days_ago, partner
from tests.support import TokenFor

# As a client would send them: a JSON escape, written by json.dumps from a string holding U+0000.
NUL = "\x00"


async def test_nul_in_a_json_field_is_422_and_nothing_is_written(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    school = await partner(referral, token_for, "school")
    for field in ("given_name", "external_ref"):
        body = child_body(external_ref="NUL-TEST")
        body[field] = f"Test{NUL}child"
        content = json.dumps(body)
        assert "\\u0000" in content
        r = await referral.post("/v1/children", content=content,
                                headers={**school.headers(), "content-type": "application/json"})
        problem = assert_problem(r, 422, "validation-error")
        assert "NUL" in problem["detail"]
        assert NUL not in r.text  # the value is never echoed
        assert "Test" not in r.text
    listed = await referral.get("/v1/children", params={"external_ref": "NUL-TEST"}, headers=school.headers())
    assert listed.status_code == 200
    assert listed.json()["items"] == []


async def test_nul_in_the_childs_own_words_is_422(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    school = await partner(referral, token_for, "school")
    child = await child_of(referral, token_for, school)
    url = f"/v1/children/{child['id']}/voice"
    r = await referral.post(url, headers=school.headers(), json={
        "recorded_on": days_ago(2), "words": f"No food{NUL} at home.", "participation": "in_person",
        "context": "direct_work"})
    assert_problem(r, 422, "validation-error")
    assert (await referral.get(url, headers=school.headers())).json()["items"] == []


@pytest.mark.parametrize("query", ["external_ref=A%00B", "external_ref=%00", "limit=1%00"])
async def test_nul_in_a_filter_is_422(referral: httpx.AsyncClient, token_for: TokenFor, query: str) -> None:
    school = await partner(referral, token_for, "school")
    r = await referral.get(f"/v1/children?{query}", headers=school.headers())
    assert_problem(r, 422, "validation-error")


async def test_nul_in_a_path_is_422(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    school = await partner(referral, token_for, "school")
    r = await referral.get("/v1/children/abc%00def", headers=school.headers())
    assert_problem(r, 422, "validation-error")


async def test_an_escaped_backslash_before_u0000_is_ordinary_text(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    # The JSON text \\u0000 is a backslash followed by "u0000": no NUL in it.
    school = await partner(referral, token_for, "school")
    body = child_body(external_ref="SLASH-\\u0000-REF")
    r = await referral.post("/v1/children", json=body, headers=school.headers())
    assert r.status_code == 201, r.text
    assert r.json()["external_ref"] == "SLASH-\\u0000-REF"
