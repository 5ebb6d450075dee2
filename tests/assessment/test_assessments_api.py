"""Assessments through HTTP, with the real referral app answering whether the child is visible."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import col, select

from services.assessment.models import Assessment
from shared.models import AuditEvent, IdempotencyRecord, OutboxMessage
from tests.assessment.factories import (
    GCP2_AREAS,
    PROBLEM,
    People,
    authorise,
    gcp2_authorised,
    gcp2_scored,
    if_match,
    judge,
    ok,
    rate,
    start,
    submit,
    write_analysis,
)
from tests.assessment.toolkit_data import home_scale_raw

ADMIN = uuid.UUID("00000000-0000-4000-8000-00000000a0a0")
GRADES = {"physical_care": 4, "care_of_safety": 3, "emotional_care": 2, "developmental_care": 2}


def area(a: dict[str, Any], area_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(x for x in a["areas"] if x["area_id"] == area_id)
    return found


def problem(r: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body: dict[str, Any] = r.json()
    assert body["type"].endswith("/" + slug), body
    assert body["request_id"]
    return body


async def rows(app: FastAPI, model: Any, *where: Any) -> list[Any]:
    async with app.state.db.sessions() as session:
        return list((await session.exec(select(model).where(*where))).all())


# --- Making and reading ------------------------------------------------------------------------


async def test_start_a_draft(assessment: httpx.AsyncClient, assessment_app: FastAPI, people: People) -> None:
    headers = {**people.practitioner(), "Idempotency-Key": "start-1"}
    a = await start(assessment, headers, people.child_id)
    assert (a["status"], a["revision"], a["version"], a["toolkit_version"]) == ("draft", 1, 1, "2-structure-1")
    assert a["lineage_id"] == a["id"]
    assert a["amends_id"] is None
    assert a["previous_assessment_id"] is None
    assert a["assessor"]["accreditation"] == "Licensed practitioner, ref LP-0042"
    assert [x["area_id"] for x in a["areas"]] == list(GCP2_AREAS)
    first = area(a, "physical_care")
    assert first["practitioner"] is None
    assert first["suggestion"]["label"] == "System suggestion - not an NSPCC method"
    assert first["suggestion"]["value"] is None
    assert first["suggestion"]["rule"] == "worst_in_area"
    assert a["created_by"] == {"client_id": "hv-system", "acting_user": "hv-practitioner-17"}
    # Retrying with the same key gives the same answer and makes nothing new.
    again = await assessment.post("/v1/assessments", json={
        "child_id": people.child_id, "toolkit_id": "gcp2", "window_start_date": a["window_start_date"],
        "window_end_date": a["window_end_date"], "assessor": {"name": "Assessor (user 3107)", "role": "Health visitor",
                                                             "accreditation": "Licensed practitioner, ref LP-0042"},
    }, headers=headers)
    assert again.status_code == 201
    assert again.json()["id"] == a["id"]
    assert again.headers["idempotent-replayed"] == "true"
    assert len(await rows(assessment_app, Assessment, Assessment.child_id == uuid.UUID(people.child_id))) == 1
    audit = await rows(assessment_app, AuditEvent, AuditEvent.resource == "assessment")
    assert [(e.action, e.child_ids) for e in audit] == [("create", [people.child_id])]

    r = await assessment.get(f"/v1/assessments/{a['id']}", headers=people.practitioner())
    assert r.status_code == 200
    assert r.headers["etag"] == '"1"'
    assert r.json() == a


@pytest.mark.parametrize(
    ("overrides", "slug", "field"),
    [
        ({"toolkit_id": "no_such_tool"}, "unknown-toolkit-version", "toolkit_id"),
        ({"toolkit_version": "9-nope"}, "unknown-toolkit-version", "toolkit_version"),
        ({"previous_assessment_id": str(uuid.uuid4())}, "invalid-previous-assessment", "previous_assessment_id"),
    ],
)
async def test_bad_references_change_nothing(
    assessment: httpx.AsyncClient, assessment_app: FastAPI, people: People,
    overrides: dict[str, Any], slug: str, field: str,
) -> None:
    body = {"child_id": people.child_id, "toolkit_id": "gcp2", "window_start_date": "2026-01-05",
            "assessor": {"name": "Assessor (test)"}, **overrides}
    r = await assessment.post("/v1/assessments", json=body, headers=people.practitioner())
    assert problem(r, 422, slug)["errors"][0]["field"] == field
    assert await rows(assessment_app, Assessment) == []


async def test_a_child_the_agency_cannot_see(assessment: httpx.AsyncClient, assessment_app: FastAPI,
                                             people: People) -> None:
    r = await assessment.post("/v1/assessments", json={
        "child_id": people.child_id, "toolkit_id": "gcp2", "window_start_date": "2026-01-05",
        "assessor": {"name": "Assessor (test)"}}, headers=people.stranger())
    body = problem(r, 404, "child-not-found")
    assert body["title"] == "No such child for this agency"
    r = await assessment.post("/v1/assessments", json={
        "child_id": str(uuid.uuid4()), "toolkit_id": "gcp2", "window_start_date": "2026-01-05",
        "assessor": {"name": "Assessor (test)"}}, headers=people.practitioner())
    problem(r, 404, "child-not-found")
    assert await rows(assessment_app, Assessment) == []


async def test_list_a_childs_assessments_in_pages(assessment: httpx.AsyncClient, people: People) -> None:
    made = [await start(assessment, people.practitioner(), people.child_id, tool)
            for tool in ("gcp2", "local_neglect_screening", "signs_of_safety")]
    seen: list[str] = []
    url: str | None = f"/v1/assessments?child_id={people.child_id}&limit=2"
    while url:
        r = await assessment.get(url, headers=people.practitioner())
        assert r.status_code == 200
        seen += [a["id"] for a in r.json()["items"]]
        link = r.headers.get("link")
        url = link.split(";")[0].strip("<>") if link else None
    assert seen == [a["id"] for a in made]
    only = ok(await assessment.get(f"/v1/assessments?child_id={people.child_id}&toolkit_id=signs_of_safety",
                                   headers=people.practitioner()))
    assert [a["toolkit_id"] for a in only["items"]] == ["signs_of_safety"]


# --- Ratings and judgements --------------------------------------------------------------------


async def test_ratings_make_a_labelled_suggestion_that_never_overwrites_the_judgement(
    assessment: httpx.AsyncClient, people: People
) -> None:
    h = people.practitioner()
    a = await start(assessment, h, people.child_id)
    a = await rate(assessment, h, a, "nutrition", 2)
    a = await rate(assessment, h, a, "housing", 4)
    suggestion = area(a, "physical_care")["suggestion"]
    assert (suggestion["value"], suggestion["based_on"]) == (4, ["housing"])
    assert "highest" in suggestion["rule_description"]
    a = await judge(assessment, h, a, "physical_care", 3, rationale="Housing is improving (test text).")
    a = await rate(assessment, h, a, "clothing", 5)
    result = area(a, "physical_care")
    assert result["practitioner"]["value"] == 3  # the judgement stands
    assert result["suggestion"]["value"] == 5
    assert result["differs_from_suggestion"] is True
    rating = next(r for r in a["ratings"] if r["item_id"] == "housing")
    assert rating["evidence"] == "Seen on a visit (test text)."
    assert rating["strengths"]
    assert rating["value_label"] == "unfavourable"
    assert rating["rater"] is None
    # Rating the same sub-area again replaces its rating.
    a = await rate(assessment, h, a, "housing", 1)
    assert [r["value"] for r in a["ratings"] if r["item_id"] == "housing"] == [1]
    assert a["version"] == 6


@pytest.mark.parametrize(
    ("item", "body", "slug", "field"),
    [
        ("nutrition", {"value": 6}, "not-on-scale", "value"),
        ("nutrition", {"value": 0}, "not-on-scale", "value"),
        ("nutrition", {"value": "very_concerned"}, "not-on-scale", "value"),
        ("no_such_item", {"value": 3}, "not-in-toolkit", "item_id"),
        ("physical_care", {"value": 3}, "not-in-toolkit", "item_id"),
        ("nutrition", {"value": 3, "rater": {"kind": "child"}, "rated_on": "2026-01-05"}, "rater-problem", "rater"),
    ],
)
async def test_bad_ratings_change_nothing(
    assessment: httpx.AsyncClient, people: People, item: str, body: dict[str, Any], slug: str, field: str
) -> None:
    a = await start(assessment, people.practitioner(), people.child_id)
    r = await assessment.put(f"/v1/assessments/{a['id']}/ratings/{item}", json=body,
                             headers={**people.practitioner(), **if_match(a)})
    assert problem(r, 422, slug)["errors"][0]["field"] == field
    assert ok(await assessment.get(f"/v1/assessments/{a['id']}", headers=people.practitioner())) == a


async def test_a_malformed_value_is_a_validation_error(assessment: httpx.AsyncClient, people: People) -> None:
    a = await start(assessment, people.practitioner(), people.child_id)
    for value in [True, 3.5, None, "Very Concerned"]:
        r = await assessment.put(f"/v1/assessments/{a['id']}/ratings/nutrition", json={"value": value},
                                 headers={**people.practitioner(), **if_match(a)})
        problem(r, 422, "validation-error")


async def test_if_match_is_required_and_checked(assessment: httpx.AsyncClient, people: People) -> None:
    h = people.practitioner()
    a = await start(assessment, h, people.child_id)
    url = f"/v1/assessments/{a['id']}/ratings/nutrition"
    problem(await assessment.put(url, json={"value": 3}, headers=h), 428, "if-match-required")
    problem(await assessment.put(url, json={"value": 3}, headers={**h, "If-Match": '"7"'}), 412, "stale-version")
    r = await assessment.put(url, json={"value": 3}, headers={**h, "If-Match": '"1"'})
    assert r.status_code == 200
    assert r.headers["etag"] == '"2"'


async def test_screening_ratings_need_evidence_when_concerned(assessment: httpx.AsyncClient, people: People) -> None:
    h = people.practitioner()
    a = await start(assessment, h, people.child_id, "local_neglect_screening")
    r = await assessment.put(f"/v1/assessments/{a['id']}/ratings/regular_meals", json={"value": "very_concerned"},
                             headers={**h, **if_match(a)})
    assert problem(r, 422, "evidence-required")["errors"][0]["field"] == "evidence"
    r = await assessment.put(f"/v1/assessments/{a['id']}/ratings/regular_meals",
                             json={"value": "not_concerned"}, headers={**h, **if_match(a)})
    a = ok(r)
    a = await rate(assessment, h, a, "food_in_the_home", "sometimes_concerned")
    assert [(x["item_id"], x["value_id"]) for x in a["ratings"]] == [
        ("food_in_the_home", "sometimes_concerned"), ("regular_meals", "not_concerned")]
    assert area(a, "feeding")["suggestion"]["value_id"] == "sometimes_concerned"
    assert area(a, "feeding")["suggestion"]["label"] == "System suggestion - not part of the tool"
    problem(await assessment.put(f"/v1/assessments/{a['id']}/judgements/no_area", json={"value": 1},
                                 headers={**h, **if_match(a)}), 422, "not-in-toolkit")


# --- Lifecycle ---------------------------------------------------------------------------------


async def test_submitting_lists_what_is_missing_and_changes_nothing(assessment: httpx.AsyncClient,
                                                                    people: People) -> None:
    h = people.practitioner()
    a = await start(assessment, h, people.child_id, end_days_ago=None)
    a = await rate(assessment, h, a, "nutrition", 4)
    a = await judge(assessment, h, a, "physical_care", 2, rationale=None)
    r = await assessment.post(f"/v1/assessments/{a['id']}/submission", headers={**h, **if_match(a)})
    body = problem(r, 409, "assessment-incomplete")
    assert body["rule"] == "assessment.complete_to_submit"
    assert [e["field"] for e in body["errors"]] == [
        "judgements.care_of_safety", "judgements.emotional_care", "judgements.developmental_care",
        "overall_judgement", "window_end_date", "judgements.physical_care.rationale"]
    assert ok(await assessment.get(f"/v1/assessments/{a['id']}", headers=h)) == a


async def test_authorised_by_someone_else_then_final(assessment: httpx.AsyncClient, assessment_app: FastAPI,
                                                     people: People) -> None:
    submitted = await gcp2_scored(assessment, people, GRADES)
    assert submitted["status"] == "submitted"
    assert submitted["submitted_by"] == {"client_id": "hv-system", "acting_user": "hv-practitioner-17"}
    url = f"/v1/assessments/{submitted['id']}"
    # The practitioner cannot authorise their own assessment.
    r = await assessment.post(f"{url}/authorisation", json={"authorised_by": "Me (test)"},
                              headers={**people.practitioner(), **if_match(submitted)})
    assert problem(r, 409, "authoriser-is-submitter")["rule"] == "assessment.four_eyes"
    # While submitted it is not edited either.
    r = await assessment.put(f"{url}/ratings/nutrition", json={"value": 3},
                             headers={**people.practitioner(), **if_match(submitted)})
    assert "return" in problem(r, 409, "assessment-locked")["detail"]
    authorised = await authorise(assessment, people.manager(), submitted)
    assert authorised["status"] == "authorised"
    assert authorised["authorised_at"]

    for method, path, body in [
        ("PUT", "/ratings/nutrition", {"value": 3}),
        ("PUT", "/judgements/physical_care", {"value": 3}),
        ("PATCH", "", {"overall_judgement": "Changed (test)."}),
        ("POST", "/targets", {"area_id": "physical_care", "current_grade": 4, "target_grade": 2,
                              "period_for_change": "P3M", "review_date": "2027-01-01"}),
    ]:
        r = await assessment.request(method, f"{url}{path}", json=body,
                                     headers={**people.practitioner(), **if_match(authorised)})
        body_ = problem(r, 409, "assessment-locked")
        assert body_["rule"] == "assessment.draft_only"
        assert "amendment" in body_["detail"]
    for path in ["/submission", "/authorisation"]:
        r = await assessment.post(f"{url}{path}", json={"authorised_by": "X"} if "author" in path else None,
                                  headers={**people.manager(), **if_match(authorised)})
        problem(r, 409, "illegal-transition")
    assert ok(await assessment.get(url, headers=people.practitioner())) == authorised

    events = await rows(assessment_app, OutboxMessage, col(OutboxMessage.event_type).like("assessment.%"))
    assert [e.event_type for e in events] == ["assessment.submitted", "assessment.authorised"]
    data = events[1].payload["data"]
    assert data["assessment_id"] == authorised["id"]
    assert data["child_id"] == people.child_id
    assert data["toolkit_id"] == "gcp2"
    assert data["toolkit_version"] == "2-structure-1"
    assert data["area_grades"] == GRADES
    assert data["window_end_date"] == authorised["window_end_date"]
    assert "test text" not in str(events[0].payload) + str(events[1].payload)  # no free text in events


async def test_return_to_draft_and_resubmit(assessment: httpx.AsyncClient, people: People) -> None:
    submitted = await gcp2_scored(assessment, people, GRADES)
    url = f"/v1/assessments/{submitted['id']}"
    returned = ok(await assessment.post(f"{url}/return", json={"reason": "Add evidence (test)."},
                                        headers={**people.manager(), **if_match(submitted)}))
    assert (returned["status"], returned["return_reason"], returned["submitted_by"]) == ("draft", "Add evidence (test).", None)
    edited = await rate(assessment, people.practitioner(), returned, "nutrition", 4)
    resubmitted = await submit(assessment, people.practitioner(), edited)
    assert resubmitted["status"] == "submitted"
    assert resubmitted["return_reason"] is None


async def test_another_agency_reads_but_does_not_change(assessment: httpx.AsyncClient, people: People) -> None:
    a = await start(assessment, people.practitioner(), people.child_id)
    csc = people.csc()
    assert ok(await assessment.get(f"/v1/assessments/{a['id']}", headers=csc))["id"] == a["id"]
    r = await assessment.put(f"/v1/assessments/{a['id']}/ratings/nutrition", json={"value": 3},
                             headers={**csc, **if_match(a)})
    problem(r, 403, "not-assessing-agency")
    r = await assessment.put(f"/v1/assessments/{a['id']}/ratings/nutrition", json={"value": 3},
                             headers={**people.stranger(), **if_match(a)})
    problem(r, 404, "assessment-not-found")


async def test_scopes(assessment: httpx.AsyncClient, people: People) -> None:
    a = await start(assessment, people.practitioner(), people.child_id)
    read_only = people.practitioner("assessment:read", "referral:read")
    r = await assessment.put(f"/v1/assessments/{a['id']}/ratings/nutrition", json={"value": 3},
                             headers={**read_only, **if_match(a)})
    problem(r, 403, "insufficient-scope")
    problem(await assessment.get(f"/v1/assessments/{a['id']}"), 401, "unauthorized")
    problem(await assessment.get(f"/v1/assessments/{a['id']}", headers=people.practitioner("referral:read")),
            403, "insufficient-scope")


# --- Amendments and re-assessment ---------------------------------------------------------------


async def test_amending_keeps_the_authorised_version(assessment: httpx.AsyncClient, people: People) -> None:
    original = await gcp2_authorised(assessment, people, GRADES, rate_all=True)
    url = f"/v1/assessments/{original['id']}/amendment"
    headers = {**people.practitioner(), **if_match(original), "Idempotency-Key": "amend-1"}
    problem(await assessment.post(url, json={"reason": "x"}, headers=people.practitioner()), 428, "if-match-required")
    r = await assessment.post(url, json={"reason": "Wrong sub-area rated (test)."}, headers=headers)
    assert r.status_code == 201, r.text
    amendment = r.json()
    assert (amendment["status"], amendment["revision"], amendment["amends_id"]) == ("draft", 2, original["id"])
    assert amendment["lineage_id"] == original["id"]
    assert amendment["amendment_reason"] == "Wrong sub-area rated (test)."
    assert len(amendment["ratings"]) == len(original["ratings"])
    assert area(amendment, "physical_care")["practitioner"]["value"] == 4
    replay = await assessment.post(url, json={"reason": "Wrong sub-area rated (test)."}, headers=headers)
    assert replay.json()["id"] == amendment["id"]
    second = await assessment.post(url, json={"reason": "Again (test)."},
                                   headers={**people.practitioner(), **if_match(original)})
    assert problem(second, 409, "amendment-in-progress")["rule"] == "assessment.one_open_amendment"

    amendment = await rate(assessment, people.practitioner(), amendment, "nutrition", 3)
    amendment = await judge(assessment, people.practitioner(), amendment, "physical_care", 3)
    amendment = await authorise(assessment, people.manager(), await submit(assessment, people.practitioner(), amendment))
    before = ok(await assessment.get(f"/v1/assessments/{original['id']}", headers=people.practitioner()))
    assert before["superseded_by_id"] == amendment["id"]
    assert before["status"] == "authorised"
    assert before["version"] == original["version"] + 1
    assert area(before, "physical_care")["practitioner"]["value"] == 4  # as it was authorised
    r = await assessment.post(url, json={"reason": "x"}, headers={**people.practitioner(), **if_match(before)})
    problem(r, 409, "illegal-transition")
    latest = ok(await assessment.get(f"/v1/children/{people.child_id}/latest-results", headers=people.practitioner()))
    assert [i["assessment_id"] for i in latest["items"]] == [amendment["id"]]
    assert latest["items"][0]["areas"]["physical_care"]["practitioner_grade"] == 3
    trajectory = ok(await assessment.get(f"/v1/children/{people.child_id}/trajectory", headers=people.practitioner()))
    assert [p["assessment_id"] for p in trajectory["toolkits"][0]["assessments"]] == [amendment["id"]]


async def test_a_draft_is_edited_not_amended(assessment: httpx.AsyncClient, people: People) -> None:
    a = await start(assessment, people.practitioner(), people.child_id)
    r = await assessment.post(f"/v1/assessments/{a['id']}/amendment", json={"reason": "x"},
                              headers={**people.practitioner(), **if_match(a)})
    problem(r, 409, "illegal-transition")


async def test_reassessment_links_to_the_one_before(assessment: httpx.AsyncClient, people: People) -> None:
    first = await gcp2_authorised(assessment, people, GRADES, start_days_ago=200, end_days_ago=180)
    second = await start(assessment, people.practitioner(), people.child_id)
    assert second["previous_assessment_id"] == first["id"]
    other_tool = await start(assessment, people.practitioner(), people.child_id, "local_neglect_screening")
    assert other_tool["previous_assessment_id"] is None
    r = await assessment.post("/v1/assessments", json={
        "child_id": people.child_id, "toolkit_id": "local_neglect_screening", "window_start_date": "2026-01-05",
        "previous_assessment_id": first["id"], "assessor": {"name": "Assessor (test)"}}, headers=people.practitioner())
    problem(r, 422, "invalid-previous-assessment")
    r = await assessment.post("/v1/assessments", json={
        "child_id": people.child_id, "toolkit_id": "gcp2", "window_start_date": second["window_start_date"],
        "previous_assessment_id": second["id"], "assessor": {"name": "Assessor (test)"}}, headers=people.practitioner())
    problem(r, 422, "invalid-previous-assessment")  # a draft is not a previous assessment


async def test_window_dates(assessment: httpx.AsyncClient, people: People) -> None:
    h = people.practitioner()
    a = await start(assessment, h, people.child_id)
    r = await assessment.patch(f"/v1/assessments/{a['id']}", json={"window_end_date": "2000-01-01"},
                               headers={**h, **if_match(a)})
    problem(r, 422, "invalid-dates")
    r = await assessment.patch(f"/v1/assessments/{a['id']}", json={"window_start_date": None},
                               headers={**h, **if_match(a)})
    problem(r, 422, "validation-error")
    r = await assessment.patch(f"/v1/assessments/{a['id']}", json={"status": "authorised"}, headers={**h, **if_match(a)})
    problem(r, 422, "validation-error")  # no free status field
    patched = ok(await assessment.patch(f"/v1/assessments/{a['id']}", json={
        "assessor": {"name": "Another assessor (test)", "accreditation": "LP-7"}}, headers={**h, **if_match(a)}))
    assert patched["assessor"]["name"] == "Another assessor (test)"
    assert patched["window_end_date"] == a["window_end_date"]


async def test_licensed_tool_needs_the_accreditation(assessment: httpx.AsyncClient, people: People) -> None:
    h = people.practitioner()
    a = await start(assessment, h, people.child_id, assessor={"name": "Assessor (test)"})
    for area_id, grade in GRADES.items():
        a = await judge(assessment, h, a, area_id, grade)
    a = await write_analysis(assessment, h, a)
    r = await assessment.post(f"/v1/assessments/{a['id']}/submission", headers={**h, **if_match(a)})
    assert [e["field"] for e in problem(r, 409, "assessment-incomplete")["errors"]] == ["assessor.accreditation"]


# --- Several raters ------------------------------------------------------------------------------


async def test_each_rater_scores_on_each_date_never_merged(assessment: httpx.AsyncClient, people: People) -> None:
    h = people.practitioner()
    a = await start(assessment, h, people.child_id, "signs_of_safety")
    url = f"/v1/assessments/{a['id']}/ratings/safety_scale"
    problem(await assessment.put(url, json={"value": 4}, headers={**h, **if_match(a)}), 422, "rater-problem")
    problem(await assessment.put(url, json={"value": 4, "rater": {"kind": "neighbour"}, "rated_on": "2026-01-05"},
                                 headers={**h, **if_match(a)}), 422, "rater-problem")
    problem(await assessment.put(url, json={"value": 11, "rater": {"kind": "child"}, "rated_on": "2026-01-05"},
                                 headers={**h, **if_match(a)}), 422, "not-on-scale")
    scores = [("professional", "Health visitor", "2026-01-05", 3), ("professional", "Social worker", "2026-01-05", 2),
              ("parent_carer", "Mother", "2026-01-05", 6), ("child", None, "2026-01-06", 5),
              ("parent_carer", "Mother", "2026-01-12", 5), ("professional", "health visitor", "2026-01-05", 4)]
    for kind, label, on, value in scores:
        a = await rate(assessment, h, a, "safety_scale", value, rater={"kind": kind, "label": label}, rated_on=on)
    kept = sorted((r["rater"]["kind"], r["rater"]["label"], r["rated_on"], r["value"]) for r in a["ratings"])
    # The health visitor's second score on the same date replaced the first; the mother's two dates are both kept.
    assert kept == [("child", None, "2026-01-06", 5), ("parent_carer", "Mother", "2026-01-05", 6),
                    ("parent_carer", "Mother", "2026-01-12", 5), ("professional", "Social worker", "2026-01-05", 2),
                    ("professional", "health visitor", "2026-01-05", 4)]
    assert area(a, "safety")["suggestion"] is None
    a = await judge(assessment, h, a, "safety", 3)
    a = await authorise(assessment, people.manager(), await submit(assessment, h, await write_analysis(assessment, h, a)))
    latest = ok(await assessment.get(f"/v1/children/{people.child_id}/latest-results", headers=h))
    result = latest["items"][0]
    assert result["toolkit_id"] == "signs_of_safety"
    # Latest per kind: the mother's 12 January score; of the professionals' same-day scores, the last recorded.
    assert result["safety_scale"] == {"child": 5, "parent": 5, "worker": 4}
    assert result["areas"] == {"safety": {"practitioner_grade": 3}}
    assert "items_rated" not in result
    assert "totals" not in result


# --- Targets -------------------------------------------------------------------------------------


async def test_targets_and_their_review(assessment: httpx.AsyncClient, people: People) -> None:
    h = people.practitioner()
    a = await start(assessment, h, people.child_id)
    target: dict[str, Any] = {"area_id": "physical_care", "sub_area_id": "nutrition", "item_ref": "b", "current_grade": 4,
              "target_grade": 2, "period_for_change": "P3M", "review_date": "2030-01-01",
              "carer_comments": "Agrees with the plan (test text).", "carer_consent_recorded": True}
    r = await assessment.post(f"/v1/assessments/{a['id']}/targets", json=target,
                              headers={**h, **if_match(a), "Idempotency-Key": "target-1"})
    assert r.status_code == 201, r.text
    a = r.json()
    assert [(t["area_id"], t["sub_area_id"], t["current_grade"], t["target_grade"]) for t in a["targets"]] == [
        ("physical_care", "nutrition", 4, 2)]
    bad: list[tuple[dict[str, Any], str]] = [
        ({"sub_area_id": "housing_x"}, "not-in-toolkit"), ({"sub_area_id": "approval"}, "not-in-toolkit"),
        ({"target_grade": 5}, "invalid-target"), ({"current_grade": 9}, "not-on-scale"),
        ({"review_date": "2000-01-01"}, "invalid-dates"),
    ]
    for change, slug in bad:
        r = await assessment.post(f"/v1/assessments/{a['id']}/targets", json={**target, **change},
                                  headers={**h, **if_match(a)})
        problem(r, 422, slug)
    for area_id, grade in GRADES.items():
        a = await judge(assessment, h, a, area_id, grade)
    a = await authorise(assessment, people.manager(), await submit(assessment, h, await write_analysis(assessment, h, a)))
    target_id = a["targets"][0]["id"]
    review = {"reviewed_on": a["window_end_date"], "grade_after_review": 3}
    reviewed = ok(await assessment.post(f"/v1/assessments/{a['id']}/targets/{target_id}/review", json=review,
                                        headers={**h, **if_match(a)}))
    assert (reviewed["targets"][0]["grade_after_review"], reviewed["status"]) == (3, "authorised")
    r = await assessment.post(f"/v1/assessments/{a['id']}/targets/{target_id}/review", json=review,
                              headers={**h, **if_match(reviewed)})
    assert problem(r, 409, "illegal-transition")["rule"] == "assessment.review_once"
    r = await assessment.post(f"/v1/assessments/{a['id']}/targets/{uuid.uuid4()}/review", json=review,
                              headers={**h, **if_match(reviewed)})
    problem(r, 404, "target-not-found")


# --- A partnership's own tool with totals ------------------------------------------------------------


async def test_totals_only_where_the_tool_defines_them(assessment: httpx.AsyncClient, people: People,
                                                       token_for: Any) -> None:
    published = await assessment.post("/v1/toolkits", json=home_scale_raw(), headers=token_for(ADMIN, "admin"))
    assert published.status_code == 201
    h = people.practitioner()
    a = await start(assessment, h, people.child_id, "home_conditions_example")
    a = await rate(assessment, h, a, "kitchen", 15)
    a = await rate(assessment, h, a, "garden", 10)
    assert a["totals"] == [{"id": "home_total", "name": "Home total", "value": 15, "rated": 1, "of": 2},
                           {"id": "everything", "name": "All items", "value": 25, "rated": 2, "of": 3}]
    problem(await assessment.put(f"/v1/assessments/{a['id']}/ratings/bedroom", json={"value": 12},
                                 headers={**h, **if_match(a)}), 422, "not-on-scale")
    a = await judge(assessment, h, a, "home", 15)
    a = await judge(assessment, h, a, "outside", 10)
    a = await authorise(assessment, people.manager(), await submit(assessment, h, await write_analysis(assessment, h, a)))
    latest = ok(await assessment.get(f"/v1/children/{people.child_id}/latest-results", headers=h))
    assert latest["items"][0]["totals"] == {"home_total": 15, "everything": 25}
    gcp2 = await start(assessment, h, people.child_id)
    assert gcp2["totals"] == []


# --- Audit and docs --------------------------------------------------------------------------------


async def test_every_read_is_audited(assessment: httpx.AsyncClient, assessment_app: FastAPI, people: People) -> None:
    a = await start(assessment, people.practitioner(), people.child_id)
    for path in [f"/v1/assessments/{a['id']}", f"/v1/assessments?child_id={people.child_id}",
                 f"/v1/children/{people.child_id}/trajectory", f"/v1/children/{people.child_id}/latest-results"]:
        assert (await assessment.get(path, headers=people.csc())).status_code == 200
    audit = await rows(assessment_app, AuditEvent, AuditEvent.agency_id == people.csc_agency)
    assert sorted((e.action, e.resource) for e in audit) == [
        ("list", "assessment"), ("read", "assessment"), ("read", "latest_results"), ("read", "trajectory")]
    assert all(e.child_ids == [people.child_id] and e.acting_user == "sw-9" for e in audit)
    assert await rows(assessment_app, IdempotencyRecord) == []


async def test_openapi_documents_the_problems(assessment: httpx.AsyncClient) -> None:
    spec = (await assessment.get("/openapi.json")).json()
    paths = spec["paths"]
    rating = paths["/v1/assessments/{assessment_id}/ratings/{item_id}"]["put"]["responses"]
    assert {"401", "403", "404", "409", "412", "422", "428", "503"} <= set(rating)
    assert {"not-on-scale", "not-in-toolkit", "evidence-required"} <= set(rating["422"]["content"][PROBLEM]["examples"])
    assert "assessment-locked" in rating["409"]["content"][PROBLEM]["examples"]
    assert "referral-unavailable" in rating["503"]["content"][PROBLEM]["examples"]
    create = paths["/v1/assessments"]["post"]
    assert "child-not-found" in create["responses"]["404"]["content"][PROBLEM]["examples"]
    assert any(p["name"] == "idempotency-key" for p in create["parameters"])
    for path in ["/v1/children/{child_id}/trajectory", "/v1/children/{child_id}/latest-results"]:
        assert {"404", "503"} <= set(paths[path]["get"]["responses"])
    publish = paths["/v1/toolkits"]["post"]["responses"]
    assert "invalid-toolkit-definition" in publish["422"]["content"][PROBLEM]["examples"]
    assert "toolkit-version-exists" in publish["409"]["content"][PROBLEM]["examples"]
    # Examples never carry licensed wording: only neutral structure words.
    assert "descriptor\": \"" not in str(spec)
