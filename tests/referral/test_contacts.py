"""Contacts at the front door: recorded with their source and outcome, seen as referrals are,
converted into referrals through the same rules; and referrals CSC records on someone's behalf."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlmodel import col, select

from shared.models import OutboxMessage
from tests.referral.factories_referrals import referral_body
from tests.referral.test_referrals import Partners
from tests.referral.test_referrals import partners as partners

PROBLEM = "application/problem+json"


def contact_body(child_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"child_id": child_id, "received_at": "2026-03-02T09:15:00Z",
                            "concern_summary": "Caller worried the child is left alone at night.",
                            "outcome": "information_advice"}
    body.update(overrides)
    return body


async def _events(app: FastAPI, event_type: str) -> list[dict[str, Any]]:
    async with app.state.db.sessions() as session:
        rows = (await session.exec(select(OutboxMessage).where(col(OutboxMessage.event_type) == event_type))).all()
    return [r.payload["data"] for r in rows]


async def test_a_contact_from_a_family_member_ends_at_the_front_door(
    referral: httpx.AsyncClient, partners: Partners, referral_app: FastAPI,
) -> None:
    csc = partners.headers("childrens_social_care")
    r = await referral.post("/v1/contacts", json=contact_body(partners.child["id"], referral_source="1A"), headers=csc)
    assert r.status_code == 201, r.text
    contact = r.json()
    assert (contact["referral_source"], contact["outcome"], contact["referral_id"]) == ("1A", "information_advice", None)
    assert r.headers["location"] == f"/v1/contacts/{contact['id']}"
    assert r.headers["etag"] == '"1"'
    got = await referral.get(f"/v1/contacts/{contact['id']}", headers=csc)
    assert got.status_code == 200
    assert got.json() == contact
    listed = await referral.get("/v1/contacts", params={"child_id": partners.child["id"], "outcome": "information_advice"},
                                headers=csc)
    assert [c["id"] for c in listed.json()["items"]] == [contact["id"]]
    # Not a referral: nothing at the referrals endpoint.
    referrals = await referral.get("/v1/referrals", params={"child_id": partners.child["id"]}, headers=csc)
    assert referrals.json()["items"] == []
    [event] = await _events(referral_app, "contact.recorded")
    assert event == {"contact_id": contact["id"], "child_id": partners.child["id"], "received_at": "2026-03-02T09:15:00+00:00",
                     "referral_source": "1A", "outcome": "information_advice", "referring_agency_type": None,
                     "recorded_by_agency_type": "childrens_social_care"}


async def test_contact_sources_are_checked_like_referrals(referral: httpx.AsyncClient, partners: Partners) -> None:
    csc, school = partners.headers("childrens_social_care"), partners.headers("school")
    bad = await referral.post("/v1/contacts", json=contact_body(partners.child["id"], referral_source="1Z"), headers=csc)
    assert bad.status_code == 422
    assert bad.headers["content-type"] == PROBLEM
    assert bad.json()["type"].endswith("invalid-contact")
    assert [e["field"] for e in bad.json()["errors"]] == ["body.referral_source"]
    # A partner's source follows from its type: a school cannot record a family member's concern as such.
    assert (await referral.post("/v1/contacts", json=contact_body(partners.child["id"], referral_source="1A"),
                                headers=school)).status_code == 422
    own = await referral.post("/v1/contacts", json=contact_body(partners.child["id"], concern_summary=None, outcome="nfa"),
                              headers=school)
    assert own.status_code == 201, own.text
    assert (own.json()["referral_source"], own.json()["concern_summary"]) == ("2A", None)
    default = await referral.post("/v1/contacts", json=contact_body(partners.child["id"]), headers=csc)
    assert default.json()["referral_source"] == "5A"
    assert (await referral.post("/v1/contacts", json=contact_body(partners.child["id"], outcome="closed"),
                                headers=csc)).status_code == 422


async def test_a_contact_is_seen_by_its_recorder_and_those_who_see_the_record(
    referral: httpx.AsyncClient, partners: Partners,
) -> None:
    r = await referral.post("/v1/contacts", json=contact_body(partners.child["id"], outcome="nfa"),
                            headers=partners.headers("school"))
    contact = r.json()
    for kind, status in (("school", 200), ("childrens_social_care", 200), ("health_visiting", 200), ("police", 404)):
        got = await referral.get(f"/v1/contacts/{contact['id']}", headers=partners.headers(kind))
        assert got.status_code == status, kind
        listed = await referral.get("/v1/contacts", headers=partners.headers(kind))
        assert (contact["id"] in [c["id"] for c in listed.json()["items"]]) is (status == 200), kind
    missing = await referral.get(f"/v1/contacts/{contact['id']}", headers=partners.headers("police"))
    assert missing.json()["type"].endswith("contact-not-found")


async def test_csc_converts_a_contact_into_a_referral_once(
    referral: httpx.AsyncClient, partners: Partners, referral_app: FastAPI,
) -> None:
    r = await referral.post("/v1/contacts", json=contact_body(partners.child["id"], outcome="referral"),
                            headers=partners.headers("school"))
    contact = r.json()
    url = f"/v1/contacts/{contact['id']}/referral"
    body = {"neglect_types": ["supervision"]}
    assert (await referral.post(url, json=body, headers=partners.headers("school", '"1"'))).status_code == 403
    assert (await referral.post(url, json=body, headers=partners.headers("childrens_social_care"))).status_code == 428
    assert (await referral.post(url, json=body, headers=partners.headers("childrens_social_care", '"2"'))).status_code == 412
    early = await referral.post(url, json={**body, "received_at": "2026-03-01T09:00:00Z"},
                                headers=partners.headers("childrens_social_care", '"1"'))
    assert early.status_code == 422
    assert [e["field"] for e in early.json()["errors"]] == ["body.received_at"]

    made = await referral.post(url, json=body, headers=partners.headers("childrens_social_care", '"1"'))
    assert made.status_code == 201, made.text
    ref = made.json()
    assert made.headers["location"] == f"/v1/referrals/{ref['id']}"
    # The contact's recorder refers, with the contact's source, date and concern.
    assert ref["referring_agency_id"] == partners.id("school")
    assert (ref["referral_source"], ref["received_at"], ref["status"]) == ("2A", "2026-03-02T09:15:00Z", "received")
    assert ref["concern_summary"] == contact["concern_summary"]
    converted = await referral.get(f"/v1/contacts/{contact['id']}", headers=partners.headers("school"))
    assert (converted.json()["outcome"], converted.json()["referral_id"]) == ("referral", ref["id"])
    assert converted.headers["etag"] == '"2"'
    # The school follows its referral as it would one it sent itself.
    assert (await referral.get(f"/v1/referrals/{ref['id']}", headers=partners.headers("school"))).status_code == 200
    again = await referral.post(url, json=body, headers=partners.headers("childrens_social_care", '"2"'))
    assert again.status_code == 409
    [received] = await _events(referral_app, "referral.received")
    assert (received["contact_id"], received["referral_source"], received["referring_agency_type"]) == (
        contact["id"], "2A", "school")
    [event] = await _events(referral_app, "contact.converted")
    assert event == {"contact_id": contact["id"], "child_id": partners.child["id"], "referral_id": ref["id"],
                     "date": "2026-03-02"}


async def test_a_contact_without_a_concern_needs_one_to_become_a_referral(
    referral: httpx.AsyncClient, partners: Partners,
) -> None:
    csc = partners.headers("childrens_social_care")
    contact = (await referral.post("/v1/contacts", json=contact_body(partners.child["id"], concern_summary=None,
                                                                        referral_source="1C", outcome="referral"),
                                   headers=csc)).json()
    url = f"/v1/contacts/{contact['id']}/referral"
    r = await referral.post(url, json={"neglect_types": ["emotional"]}, headers={**csc, "If-Match": '"1"'})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["body.concern_summary"]
    r = await referral.post(url, json={"neglect_types": ["emotional"], "concern_summary": "The child rang: no food at home.",
                                       "received_at": "2026-03-03T08:00:00Z"}, headers={**csc, "If-Match": '"1"'})
    assert r.status_code == 201, r.text
    assert (r.json()["referral_source"], r.json()["received_at"]) == ("1C", "2026-03-03T08:00:00Z")


# --- every census referral source (item 3) --------------------------------------------------------


async def test_csc_records_a_referral_on_behalf_of_an_individual(
    referral: httpx.AsyncClient, partners: Partners, referral_app: FastAPI,
) -> None:
    csc = partners.headers("childrens_social_care")
    for code in ("1A", "1B", "1C", "1D", "9", "10", "3A"):
        r = await referral.post("/v1/referrals", json=referral_body(partners.child["id"], referral_source=code), headers=csc)
        assert r.status_code == 201, r.text
        assert r.json()["referral_source"] == code
    own = await referral.post("/v1/referrals", json=referral_body(partners.child["id"]), headers=csc)
    assert own.json()["referral_source"] == "5A"
    bad = await referral.post("/v1/referrals", json=referral_body(partners.child["id"], referral_source="11"), headers=csc)
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["body.referral_source"]
    # Only children's social care records on someone's behalf.
    school = await referral.post("/v1/referrals", json=referral_body(partners.child["id"], referral_source="1A"),
                                 headers=partners.headers("school"))
    assert school.status_code == 422
    events = await _events(referral_app, "referral.received")
    by_source = {e["referral_source"]: e for e in events}
    assert (by_source["1A"]["referring_agency_type"], by_source["1A"]["recorded_by_agency_type"]) == (
        None, "childrens_social_care")
    assert by_source["5A"]["referring_agency_type"] == "childrens_social_care"
    assert "recorded_by_agency_type" not in by_source["5A"]
