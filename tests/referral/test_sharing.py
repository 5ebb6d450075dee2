"""Consent (recorded, never a gate) and the append-only information-sharing log."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.referral.factories_practice import (
    assert_problem,
    audits,
    child_of,
    days_ago,
    events_of_type,
    make_person,
    partner,
    tomorrow,
)
from tests.support import TokenFor


def share(**overrides: Any) -> dict[str, Any]:
    return {"shared": True, "what": ["chronology", "visits"], "purpose": "Strategy discussion about neglect",
            "lawful_basis": "UK GDPR Art 6(1)(e)", "special_category_condition": "DPA 2018 Sch 1 para 18",
            "decided_by": "Practice manager A", **overrides}


async def test_consents_are_recorded_newest_first(referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI) -> None:
    hv = await partner(referral, token_for)
    child = await child_of(referral, token_for, hv)
    mother = await make_person(referral, hv)
    url = f"/v1/children/{child['id']}/consents"
    r = await referral.post(url, headers=hv.headers(), json={
        "person_id": mother["id"], "subject": "sharing with school", "status": "given", "recorded_on": days_ago(10)})
    assert r.status_code == 201, r.text
    r = await referral.post(url, headers=hv.headers(), json={
        "person_id": mother["id"], "subject": "sharing with school", "status": "refused",
        "reason": "Does not want school involved", "recorded_on": days_ago(2)})
    assert r.status_code == 201
    listed = (await referral.get(url, headers=hv.headers())).json()["items"]
    assert [c["status"] for c in listed] == ["refused", "given"]
    emitted = await events_of_type(referral_app, "consent.recorded")
    assert any(e["status"] == "refused" for e in emitted)
    assert "school" not in str(emitted)


async def test_a_share_while_consent_is_refused_or_withdrawn_still_succeeds_and_records_it(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI
) -> None:
    hv = await partner(referral, token_for)
    police = await partner(referral, token_for, "police")
    child = await child_of(referral, token_for, hv)
    base = f"/v1/children/{child['id']}"
    r = await referral.post(f"{base}/information-shares", json=share(to_agency_id=str(police.id)), headers=hv.headers())
    assert r.status_code == 201, r.text
    assert r.json()["consent_status"] is None

    await referral.post(f"{base}/consents", headers=hv.headers(), json={
        "subject": "information sharing", "status": "refused", "reason": "Parent refused", "recorded_on": days_ago(3)})
    r = await referral.post(f"{base}/information-shares", json=share(to_agency_id=str(police.id)), headers=hv.headers())
    assert r.status_code == 201, r.text
    assert r.json()["consent_status"] == "refused"

    await referral.post(f"{base}/consents", headers=hv.headers(), json={
        "subject": "information sharing", "status": "withdrawn", "reason": "Parent withdrew", "recorded_on": days_ago(1)})
    r = await referral.post(f"{base}/information-shares", json=share(to_agency_id=str(police.id), criminal_offence_data=True),
                            headers=hv.headers())
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["consent_status"], body["shared"], body["criminal_offence_data"]) == ("withdrawn", True, True)
    assert body["from_agency_id"] == str(hv.id)
    assert body["lawful_basis"] == "UK GDPR Art 6(1)(e)"
    log = (await referral.get(f"{base}/information-shares", headers=hv.headers())).json()["items"]
    assert [s["consent_status"] for s in log] == ["withdrawn", "refused", None]
    # Withdrawing consent is also open disengagement (DOMAIN.md §7).
    kinds = [e["kind"] for e in (await referral.get(f"{base}/engagement-events", headers=hv.headers())).json()["items"]]
    assert kinds == ["consent_withdrawn"]
    assert any(e["to_agency_id"] == str(police.id) for e in await events_of_type(referral_app, "information_share.recorded"))
    assert {a.action for a in await audits(referral_app, "information_share")} >= {"create", "list"}


async def test_decisions_not_to_share_are_logged_too(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    police = await partner(referral, token_for, "police")
    school = await partner(referral, token_for, "school")
    child = await child_of(referral, token_for, police)
    url = f"/v1/children/{child['id']}/information-shares"
    assert_problem(await referral.post(url, json=share(shared=False, to_agency_id=str(school.id)), headers=police.headers()), 422)
    decided_at = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    r = await referral.post(url, headers=police.headers(), json=share(
        shared=False, to_agency_id=str(school.id), what=["intelligence_report"], special_category_condition=None,
        criminal_offence_data=True, reason_not_shared="Would prejudice an investigation", decided_at=decided_at))
    assert r.status_code == 201, r.text
    assert r.json()["shared"] is False
    assert r.json()["reason_not_shared"] == "Would prejudice an investigation"
    assert datetime.fromisoformat(r.json()["decided_at"]) == datetime.fromisoformat(decided_at)
    log = (await referral.get(url, headers=police.headers())).json()["items"]
    assert [s["shared"] for s in log] == [False]


async def test_agency_share_log_outgoing_and_incoming(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    hv = await partner(referral, token_for)
    csc = await partner(referral, token_for, "childrens_social_care")
    gp = await partner(referral, token_for, "gp")
    child = await child_of(referral, token_for, hv)
    url = f"/v1/children/{child['id']}/information-shares"
    to_csc = (await referral.post(url, json=share(to_agency_id=str(csc.id)), headers=hv.headers())).json()
    to_gp = (await referral.post(url, json=share(to_agency_id=str(gp.id)), headers=hv.headers())).json()
    from_csc = (await referral.post(url, json=share(to_agency_id=str(hv.id)), headers=csc.headers())).json()

    mine = (await referral.get("/v1/information-shares", headers=hv.headers())).json()["items"]
    assert [s["id"] for s in mine] == [from_csc["id"], to_gp["id"], to_csc["id"]]
    only = (await referral.get("/v1/information-shares", params={"to_agency_id": str(csc.id)}, headers=hv.headers())).json()
    assert [s["id"] for s in only["items"]] == [to_csc["id"]]
    incoming = (await referral.get("/v1/information-shares", params={"direction": "incoming"}, headers=hv.headers())).json()
    assert [s["id"] for s in incoming["items"]] == [from_csc["id"]]
    outgoing = (await referral.get("/v1/information-shares", params={"direction": "outgoing"}, headers=csc.headers())).json()
    assert [s["id"] for s in outgoing["items"]] == [from_csc["id"]]
    # The GP received a share but cannot see the child: child-level records stay behind visibility.
    assert (await referral.get("/v1/information-shares", headers=gp.headers())).json()["items"] == []
    assert_problem(await referral.get("/v1/information-shares", params={"direction": "sideways"}, headers=hv.headers()), 422)

    page1 = await referral.get("/v1/information-shares", params={"limit": 2}, headers=hv.headers())
    link = page1.headers["link"].split(";")[0].strip("<>")
    page2 = (await referral.get(link, headers=hv.headers())).json()
    assert [s["id"] for s in page1.json()["items"] + page2["items"]] == [s["id"] for s in mine]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"lawful_basis": "because we must"}, "body.lawful_basis"),
        ({"what": []}, "body.what"),
        ({"what": ["visits", "visits"]}, "body.what"),
        ({"reason_not_shared": "n/a"}, "body"),
        ({"decided_by": ""}, "body.decided_by"),
        ({"decided_at": "2999-01-01T00:00:00Z"}, "body.decided_at"),
        ({"decided_at": "2026-01-01T00:00:00"}, "body.decided_at"),
        ({"consent_status": "given"}, "body.consent_status"),
        ({"shared": "perhaps"}, "body.shared"),
    ],
)
async def test_bad_share_is_refused_and_nothing_written(
    referral: httpx.AsyncClient, token_for: TokenFor, overrides: dict[str, Any], field: str
) -> None:
    hv = await partner(referral, token_for)
    child = await child_of(referral, token_for, hv)
    url = f"/v1/children/{child['id']}/information-shares"
    problem = assert_problem(await referral.post(url, json=share(**overrides), headers=hv.headers()), 422)
    assert field in [e["field"] for e in problem["errors"]]
    assert (await referral.get(url, headers=hv.headers())).json()["items"] == []


async def test_share_to_unknown_agency_or_to_self_is_refused(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    hv = await partner(referral, token_for)
    child = await child_of(referral, token_for, hv)
    url = f"/v1/children/{child['id']}/information-shares"
    assert_problem(await referral.post(url, json=share(to_agency_id=str(uuid.uuid4())), headers=hv.headers()), 422, "unknown-agency")
    assert_problem(await referral.post(url, json=share(to_agency_id=str(hv.id)), headers=hv.headers()), 422, "share-to-self")
    assert (await referral.get(url, headers=hv.headers())).json()["items"] == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"status": "refused"}, "body"),  # a refusal needs its reason
        ({"status": "maybe"}, "body.status"),
        ({"recorded_on": tomorrow()}, "body.recorded_on"),
        ({"subject": ""}, "body.subject"),
        ({"signed": True}, "body.signed"),
    ],
)
async def test_bad_consent_is_refused_and_nothing_written(
    referral: httpx.AsyncClient, token_for: TokenFor, overrides: dict[str, Any], field: str
) -> None:
    hv = await partner(referral, token_for)
    child = await child_of(referral, token_for, hv)
    url = f"/v1/children/{child['id']}/consents"
    body = {"subject": "information sharing", "status": "given", "recorded_on": days_ago(1), **overrides}
    problem = assert_problem(await referral.post(url, json=body, headers=hv.headers()), 422)
    assert field in [e["field"] for e in problem["errors"]]
    assert (await referral.get(url, headers=hv.headers())).json()["items"] == []


async def test_consent_of_a_person_you_cannot_see_is_404(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    hv = await partner(referral, token_for)
    gp = await partner(referral, token_for, "gp")
    child = await child_of(referral, token_for, hv)
    stranger = await make_person(referral, gp)
    r = await referral.post(f"/v1/children/{child['id']}/consents", headers=hv.headers(), json={
        "person_id": stranger["id"], "subject": "x", "status": "given", "recorded_on": days_ago(1)})
    assert_problem(r, 404, "person-not-found")


async def test_the_log_is_append_only(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    hv = await partner(referral, token_for)
    child = await child_of(referral, token_for, hv)
    url = f"/v1/children/{child['id']}/information-shares"
    created = (await referral.post(url, json=share(), headers=hv.headers())).json()
    for method in ("PATCH", "PUT", "DELETE"):
        r = await referral.request(method, url, json={}, headers=hv.headers())
        assert r.status_code == 405
        r = await referral.request(method, f"{url}/{created['id']}", json={}, headers=hv.headers())
        assert r.status_code in (404, 405)
    assert len((await referral.get(url, headers=hv.headers())).json()["items"]) == 1


@pytest.mark.parametrize("path", ["consents", "information-shares"])
async def test_foreign_agency_gets_404_and_scopes_are_checked(referral: httpx.AsyncClient, token_for: TokenFor, path: str) -> None:
    hv = await partner(referral, token_for)
    police = await partner(referral, token_for, "police")
    child = await child_of(referral, token_for, hv)
    url = f"/v1/children/{child['id']}/{path}"
    body = share() if path == "information-shares" else {"subject": "x", "status": "given", "recorded_on": days_ago(1)}
    assert_problem(await referral.post(url, json=body, headers=police.headers()), 404, "child-not-found")
    assert_problem(await referral.get(url, headers=police.headers()), 404, "child-not-found")
    assert_problem(await referral.post(url, json=body, headers=hv.headers("referral:read")), 403, "insufficient-scope")
    assert_problem(await referral.get(url, headers=hv.headers("referral:write")), 403, "insufficient-scope")
    assert_problem(await referral.get("/v1/information-shares", headers=hv.headers("referral:write")), 403)


async def test_idempotent_share(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    hv = await partner(referral, token_for)
    child = await child_of(referral, token_for, hv)
    url = f"/v1/children/{child['id']}/information-shares"
    headers = hv.headers(**{"Idempotency-Key": "share-1"})
    first = await referral.post(url, json=share(), headers=headers)
    again = await referral.post(url, json=share(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert len((await referral.get(url, headers=hv.headers())).json()["items"]) == 1
