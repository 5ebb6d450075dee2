"""The referral service's audit trail through HTTP: who accessed a child, what an agency accessed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.referral.factories import make_agency, make_child
from tests.support import TokenFor

PROBLEM = "application/problem+json"


def _ig(token_for: TokenFor, agency: str | uuid.UUID) -> dict[str, str]:
    return token_for(uuid.UUID(str(agency)), "audit:read", client_id="ig-system", acting_user="ig-officer-1")


async def test_a_childs_trail_names_every_agency_and_only_that_child(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    hv = await make_agency(referral, token_for)
    csc = await make_agency(referral, token_for, "childrens_social_care")
    child = await make_child(referral, token_for, hv["id"])
    sibling = await make_child(referral, token_for, hv["id"])
    social_worker = token_for(uuid.UUID(csc["id"]), "referral:read", client_id="csc-system", acting_user="sw-2")
    assert (await referral.get(f"/v1/children/{child['id']}", headers=social_worker)).status_code == 200
    # One list request touches both children: the child's trail shows only the child asked about.
    listed = await referral.get("/v1/children", headers={**token_for(uuid.UUID(hv["id"]), "referral:read",
                                                                    client_id="hv-system", acting_user="hv-1"),
                                                         "X-Purpose": "case_review"})
    assert listed.status_code == 200

    r = await referral.get(f"/v1/audit/referral/children/{child['id']}", headers=_ig(token_for, hv["id"]))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [(e["client_id"], e["acting_user"], e["action"], e["purpose"]) for e in items] == [
        ("hv-system", "hv-1", "list", "case_review"),
        ("csc-system", "sw-2", "read", "safeguarding"),
        ("test-client", None, "create", "safeguarding"),
    ]
    assert all(e["child_ids"] == [child["id"]] for e in items)
    assert sibling["id"] not in r.text
    assert items[1]["agency_id"] == csc["id"]


async def test_a_child_the_agency_cannot_see_is_404_but_admin_reads_it(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    hv = await make_agency(referral, token_for)
    school = await make_agency(referral, token_for, "school")
    child = await make_child(referral, token_for, hv["id"])
    r = await referral.get(f"/v1/audit/referral/children/{child['id']}", headers=_ig(token_for, school["id"]))
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM
    unknown = await referral.get(f"/v1/audit/referral/children/{uuid.uuid4()}", headers=_ig(token_for, hv["id"]))
    assert unknown.status_code == 404

    admin = await referral.get(f"/v1/audit/referral/children/{child['id']}",
                               headers=token_for(uuid.UUID(school["id"]), "admin"))
    assert admin.status_code == 200
    assert [e["action"] for e in admin.json()["items"]] == ["create"]


async def test_an_agencys_trail_is_its_own_unless_admin(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    hv = await make_agency(referral, token_for)
    other = await make_agency(referral, token_for, "school")
    child = await make_child(referral, token_for, hv["id"])
    mine = await referral.get(f"/v1/audit/referral/agencies/{hv['id']}", headers=_ig(token_for, hv["id"]))
    assert [(e["action"], e["resource"], e["child_ids"]) for e in mine.json()["items"]] == [("create", "child", [child["id"]])]
    theirs = await referral.get(f"/v1/audit/referral/agencies/{hv['id']}", headers=_ig(token_for, other["id"]))
    assert theirs.status_code == 403
    assert theirs.json()["type"].endswith("/audit-agency-forbidden")
    admin = await referral.get(f"/v1/audit/referral/agencies/{hv['id']}", headers=token_for(uuid.UUID(other["id"]), "admin"))
    assert admin.status_code == 200
    # The first read of the trail is in it now, as a list of the audit.
    again = await referral.get(f"/v1/audit/referral/agencies/{hv['id']}", headers=_ig(token_for, hv["id"]))
    assert next((e["action"], e["resource"], e["acting_user"]) for e in again.json()["items"]) == ("list", "audit", "ig-officer-1")
    by_client = await referral.get(f"/v1/audit/referral/agencies/{hv['id']}", params={"client_id": "test-client"},
                                   headers=_ig(token_for, hv["id"]))
    assert [e["action"] for e in by_client.json()["items"]] == ["create"]


async def test_scope_audit_read_is_needed(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    hv = await make_agency(referral, token_for)
    child = await make_child(referral, token_for, hv["id"])
    reader = token_for(uuid.UUID(hv["id"]), "referral:read", "referral:write")
    for path in [f"/v1/audit/referral/children/{child['id']}", f"/v1/audit/referral/agencies/{hv['id']}"]:
        r = await referral.get(path, headers=reader)
        assert r.status_code == 403
        assert r.json()["type"].endswith("/insufficient-scope")
        assert (await referral.get(path)).status_code == 401


async def test_pages_newest_first_and_days(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    hv = await make_agency(referral, token_for)
    child = await make_child(referral, token_for, hv["id"])
    reader = token_for(uuid.UUID(hv["id"]), "referral:read", client_id="reader")
    for _ in range(3):
        assert (await referral.get(f"/v1/children/{child['id']}", headers=reader)).status_code == 200
    admin = token_for(uuid.UUID(hv["id"]), "admin", client_id="auditor")
    url = f"/v1/audit/referral/children/{child['id']}"

    seen: list[dict[str, Any]] = []
    r = await referral.get(url, params={"limit": 2}, headers=admin)
    while True:
        assert r.status_code == 200, r.text
        seen += r.json()["items"]
        if "link" not in r.headers:
            break
        link = r.headers["link"]
        r = await referral.get(link[1:link.index(">")], headers=admin)
    mine = [e for e in seen if e["client_id"] != "auditor"]
    assert [e["action"] for e in mine] == ["read", "read", "read", "create"]
    stamps = [e["occurred_at"] for e in mine]
    assert stamps == sorted(stamps, reverse=True)
    assert len({e["id"] for e in seen}) == len(seen)

    today = datetime.now(UTC).date()
    for params, expected in [({"from": str(today), "to": str(today)}, 4),
                             ({"to": str(today - timedelta(days=1))}, 0),
                             ({"from": str(today + timedelta(days=1))}, 0)]:
        r = await referral.get(url, params={**params, "limit": 200}, headers=admin)
        assert len([e for e in r.json()["items"] if e["client_id"] != "auditor"]) == expected, params


@pytest.mark.parametrize("params", [{"from": "2026-02-02", "to": "2026-02-01"}, {"cursor": "not-a-cursor"},
                                    {"from": "yesterday"}])
async def test_bad_filters_are_4xx(referral: httpx.AsyncClient, token_for: TokenFor, params: dict[str, str]) -> None:
    hv = await make_agency(referral, token_for)
    r = await referral.get(f"/v1/audit/referral/agencies/{hv['id']}", params=params, headers=_ig(token_for, hv["id"]))
    assert r.status_code in (400, 422)
    assert r.headers["content-type"] == PROBLEM
