"""Service offers, engagement events and the non-engaging pathway: the plain state machines
(unit and property tests), then the same rules through HTTP."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st

from services.referral.domain import engagement as eng
from tests.referral.factories_practice import (
    assert_problem,
    child_of,
    days_ago,
    events_of_type,
    if_match,
    make_offer,
    open_cin_episode,
    partner,
    record_event,
    tomorrow,
)
from tests.support import TokenFor

D0 = date(2026, 1, 5)
T = eng.Threshold(count=2, window_days=90, kinds=frozenset({"was_not_brought", "no_access_visit", "service_declined"}))

# --- the pathway without HTTP -----------------------------------------------------------------


def test_the_whole_pathway() -> None:
    case = eng.PathwayCase(opened_on=D0)
    case.move_to(eng.Stage.escalation_review, D0 + timedelta(days=7))
    case.move_to(eng.Stage.multi_agency_meeting, D0 + timedelta(days=14))
    case.move_to(eng.Stage.action_plan, D0 + timedelta(days=14))
    case.move_to(eng.Stage.escalated, D0 + timedelta(days=40), "consult_csc")
    case.close(D0 + timedelta(days=41), "handed_to_csc", chronic_neglect=True, decided_by=None)
    assert (case.stage, case.escalation, case.closed_on) == (eng.Stage.closed, "consult_csc", D0 + timedelta(days=41))


@pytest.mark.parametrize(
    ("path", "target", "rule"),
    [
        ([], eng.Stage.action_plan, "NE-01"),
        ([], eng.Stage.escalated, "NE-01"),
        ([eng.Stage.escalation_review], eng.Stage.escalation_review, "NE-01"),
        ([eng.Stage.escalation_review, eng.Stage.multi_agency_meeting], eng.Stage.escalation_review, "NE-01"),
    ],
)
def test_illegal_steps_name_the_rule_and_change_nothing(path: list[eng.Stage], target: eng.Stage, rule: str) -> None:
    case = eng.PathwayCase(opened_on=D0)
    for stage in path:
        case.move_to(stage, D0)
    before = (case.stage, case.escalation)
    with pytest.raises(eng.PathwayRuleBroken) as err:
        case.move_to(target, D0, "step_up" if target is eng.Stage.escalated else None)
    assert err.value.rule == rule
    assert (case.stage, case.escalation) == before


def test_dates_escalation_routes_and_closed_cases() -> None:
    case = eng.PathwayCase(opened_on=D0)
    with pytest.raises(eng.PathwayRuleBroken, match="before the case opened"):
        case.move_to(eng.Stage.escalation_review, D0 - timedelta(days=1))
    case.move_to(eng.Stage.escalation_review, D0)
    with pytest.raises(eng.PathwayRuleBroken) as err:
        case.move_to(eng.Stage.escalated, D0, None)
    assert err.value.rule == "NE-04"
    with pytest.raises(eng.PathwayRuleBroken):
        case.move_to(eng.Stage.multi_agency_meeting, D0, "step_up")
    case.close(D0, "engaging", chronic_neglect=False, decided_by=None)
    with pytest.raises(eng.PathwayRuleBroken) as err:
        case.close(D0, "engaging", chronic_neglect=False, decided_by=None)
    assert err.value.rule == "NE-02"


@pytest.mark.parametrize(
    ("reason", "chronic", "decided_by", "allowed"),
    [
        ("no_engagement", True, None, False),
        ("no_consent", True, "  ", False),
        ("no_consent", True, "Team manager A", True),
        ("no_engagement", False, None, True),
        ("engaging", True, None, True),
        ("moved_away", True, None, True),
    ],
)
def test_closing_a_chronic_neglect_case_for_non_engagement_needs_a_manager(
    reason: str, chronic: bool, decided_by: str | None, allowed: bool
) -> None:
    case = eng.PathwayCase(opened_on=D0)
    if allowed:
        case.close(D0, reason, chronic_neglect=chronic, decided_by=decided_by)
        assert case.stage is eng.Stage.closed
    else:
        with pytest.raises(eng.ManagerDecisionRequired):
            case.close(D0, reason, chronic_neglect=chronic, decided_by=decided_by)
        assert case.stage is eng.Stage.monitoring


def test_threshold_window_edges() -> None:
    assert eng.threshold_reached([D0, D0 + timedelta(days=89)], 2, 90)
    assert not eng.threshold_reached([D0, D0 + timedelta(days=90)], 2, 90)
    assert not eng.threshold_reached([D0], 2, 90)
    assert eng.threshold_reached([D0, D0], 2, 1)
    events = [("was_not_brought", D0), ("attended", D0), ("consent_withdrawn", D0 + timedelta(days=1))]
    assert not eng.should_open_case(events, T, case_open=False, last_closed_on=None)
    events.append(("no_access_visit", D0 + timedelta(days=30)))
    assert eng.should_open_case(events, T, case_open=False, last_closed_on=None)
    assert not eng.should_open_case(events, T, case_open=True, last_closed_on=None)
    # Events behind a closed case do not open another one.
    assert not eng.should_open_case(events, T, case_open=False, last_closed_on=D0 + timedelta(days=30))
    assert not eng.should_open_case(events, T, case_open=False, last_closed_on=D0)


def test_configured_threshold_is_reference_data() -> None:
    t = eng.configured_threshold()
    assert t.count >= 1
    assert t.window_days >= 1
    assert t.kinds <= set(eng.ENGAGEMENT_KINDS)
    with pytest.raises(ValueError, match="unknown engagement kinds"):
        eng.Threshold(count=2, window_days=90, kinds=frozenset({"missed_bus"}))


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        ("offered", eng.OfferStatus.accepted, True),
        ("offered", eng.OfferStatus.attending, False),
        ("declined", eng.OfferStatus.attending, False),
        ("declined", eng.OfferStatus.accepted, True),
        ("accepted", eng.OfferStatus.attending, True),
        ("attending", eng.OfferStatus.declined, False),
        ("ended", eng.OfferStatus.accepted, False),
    ],
)
def test_service_offer_steps(current: str, target: eng.OfferStatus, allowed: bool) -> None:
    if allowed:
        assert eng.move_offer(current, target, D0, D0) is target
    else:
        with pytest.raises(eng.PathwayRuleBroken) as err:
            eng.move_offer(current, target, D0, D0)
        assert err.value.rule == "SO-01"


# --- properties ---------------------------------------------------------------------------------------

steps = st.lists(
    st.tuples(st.sampled_from(list(eng.Stage)), st.integers(-3, 60), st.sampled_from([None, *eng.ESCALATIONS]),
              st.sampled_from(eng.CLOSURE_REASONS), st.booleans(), st.sampled_from([None, "Manager A"])),
    max_size=12,
)


@given(steps)
def test_the_pathway_only_moves_forward_and_closed_is_final(attempts: list[tuple[eng.Stage, int, str | None, str, bool, str | None]]) -> None:
    case = eng.PathwayCase(opened_on=D0)
    for target, offset, escalation, reason, chronic, decided_by in attempts:
        before = (case.stage, case.escalation, case.closed_on, case.closure_decided_by)
        on = D0 + timedelta(days=offset)
        try:
            if target is eng.Stage.closed:
                case.close(on, reason, chronic_neglect=chronic, decided_by=decided_by)
            else:
                case.move_to(target, on, escalation)
        except (eng.PathwayRuleBroken, eng.ManagerDecisionRequired):
            assert (case.stage, case.escalation, case.closed_on, case.closure_decided_by) == before
            continue
        assert target in eng.NEXT[before[0]]
        assert eng.STAGE_ORDER.index(case.stage) > eng.STAGE_ORDER.index(before[0])
        assert on >= case.opened_on
        if case.stage is eng.Stage.closed:
            assert case.closed_on == on
            assert not (chronic and reason in eng.MANAGER_DECIDES and not decided_by)
        # An escalation route is set exactly when the case went through `escalated`.
        assert (case.escalation is not None) == (case.stage is eng.Stage.escalated or
                                                 (case.stage is eng.Stage.closed and before[1] is not None))


@given(st.lists(st.integers(0, 400), max_size=10), st.integers(1, 4), st.integers(1, 120))
def test_threshold_matches_a_brute_force_window_search(offsets: list[int], count: int, window: int) -> None:
    dates = [D0 + timedelta(days=o) for o in offsets]
    brute = any(
        sum(1 for d in dates if start <= d < start + timedelta(days=window)) >= count
        for start in dates
    )
    assert eng.threshold_reached(dates, count, window) == brute
    if brute:  # more events never close a window
        assert eng.threshold_reached([*dates, D0 + timedelta(days=999)], count, window)


@given(st.lists(st.sampled_from(list(eng.OfferStatus)), max_size=10))
def test_service_offers_never_attend_without_acceptance_and_never_leave_ended(targets: list[eng.OfferStatus]) -> None:
    status = eng.OfferStatus.offered
    for target in targets:
        try:
            new = eng.move_offer(status.value, target, D0, D0)
        except eng.PathwayRuleBroken:
            continue
        if new is eng.OfferStatus.attending:
            assert status is eng.OfferStatus.accepted
        assert status is not eng.OfferStatus.ended
        status = new


# --- through HTTP ------------------------------------------------------------------------------------------


async def test_service_offer_lifecycle(referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI) -> None:
    eh = await partner(referral, token_for, "early_help")
    child = await child_of(referral, token_for, eh)
    offer = await make_offer(referral, eh, child["id"])
    assert offer["status"] == "offered"
    url = f"/v1/service-offers/{offer['id']}"
    r = await referral.post(f"{url}/acceptance", json={"accepted_on": days_ago(15)}, headers=eh.headers(**if_match(1)))
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.headers["etag"]) == ("accepted", '"2"')
    r = await referral.post(f"{url}/attendance", json={"started_on": days_ago(10)}, headers=eh.headers(**if_match(2)))
    assert r.json()["status"] == "attending"
    r = await referral.post(f"{url}/end", json={"ended_on": days_ago(1), "outcome": "completed"}, headers=eh.headers(**if_match(3)))
    assert (r.json()["status"], r.json()["ended_on"]) == ("ended", days_ago(1))
    got = await referral.get(url, headers=eh.headers())
    assert got.headers["etag"] == '"4"'
    listed = (await referral.get(f"/v1/children/{child['id']}/service-offers", headers=eh.headers())).json()["items"]
    assert [o["status"] for o in listed] == ["ended"]
    kinds = [e["kind"] for e in (await referral.get(f"/v1/children/{child['id']}/engagement-events", headers=eh.headers())).json()["items"]]
    assert kinds == ["attended"]
    assert {e["status"] for e in await events_of_type(referral_app, "service_offer.ended")} == {"ended"}


async def test_illegal_offer_steps_are_409_and_change_nothing(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    eh = await partner(referral, token_for, "early_help")
    school = await partner(referral, token_for, "school")
    police = await partner(referral, token_for, "police")
    child = await child_of(referral, token_for, eh)
    offer = await make_offer(referral, eh, child["id"])
    url = f"/v1/service-offers/{offer['id']}"
    assert (await referral.post(f"{url}/decline", json={"declined_on": days_ago(10)}, headers=eh.headers(**if_match(1)))).status_code == 200
    problem = assert_problem(await referral.post(f"{url}/attendance", json={"started_on": days_ago(5)},
                                                 headers=eh.headers(**if_match(2))), 409, "pathway-rule")
    assert problem["rule"] == "SO-01"
    problem = assert_problem(await referral.post(f"{url}/acceptance", json={"accepted_on": days_ago(30)},
                                                 headers=eh.headers(**if_match(2))), 409, "pathway-rule")
    assert problem["rule"] == "SO-02"  # before the offer was made
    assert_problem(await referral.post(f"{url}/acceptance", json={"accepted_on": days_ago(5)}, headers=eh.headers()), 428)
    assert_problem(await referral.post(f"{url}/acceptance", json={"accepted_on": days_ago(5)}, headers=eh.headers(**if_match(1))), 412)
    assert_problem(await referral.post(f"{url}/acceptance", json={"accepted_on": tomorrow()}, headers=eh.headers(**if_match(2))), 422)
    assert_problem(await referral.post(f"{url}/end", json={"ended_on": days_ago(1), "outcome": "bored"},
                                       headers=eh.headers(**if_match(2))), 422)
    assert_problem(await referral.post(f"{url}/decline", json={"declined_on": days_ago(1)}, headers=police.headers(**if_match(2))), 404)
    assert_problem(await referral.get(url, headers=school.headers()), 404, "service-offer-not-found")
    got = await referral.get(url, headers=eh.headers())
    assert (got.json()["status"], got.headers["etag"]) == ("declined", '"2"')
    # Initial resistance is not treated as fixed: the family can still accept.
    r = await referral.post(f"{url}/acceptance", json={"accepted_on": days_ago(3)}, headers=eh.headers(**if_match(2)))
    assert r.json()["status"] == "accepted"


async def test_only_the_offering_agency_moves_an_offer(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    eh = await partner(referral, token_for, "early_help")
    csc = await partner(referral, token_for, "childrens_social_care")
    child = await child_of(referral, token_for, eh)
    offer = await make_offer(referral, eh, child["id"])
    r = await referral.post(f"/v1/service-offers/{offer['id']}/acceptance", json={"accepted_on": days_ago(1)},
                            headers=csc.headers(**if_match(1)))
    assert_problem(r, 403, "offering-agency-only")


async def test_two_missed_contacts_within_the_window_open_a_case(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI
) -> None:
    hv = await partner(referral, token_for)
    child = await child_of(referral, token_for, hv)
    first = await record_event(referral, hv, child["id"], "was_not_brought", days_ago(200))
    assert first.status_code == 201, first.text
    assert first.json()["non_engagement_case_id"] is None
    # 100 days apart: outside the 90-day window.
    r = await record_event(referral, hv, child["id"], "no_access_visit", days_ago(100))
    assert r.json()["case_opened"] is False
    r = await record_event(referral, hv, child["id"], "attended", days_ago(50))
    assert r.json()["case_opened"] is False
    offer = await make_offer(referral, hv, child["id"], offered_on=days_ago(40))
    r = await referral.post(f"/v1/service-offers/{offer['id']}/decline", json={"declined_on": days_ago(30)},
                            headers=hv.headers(**if_match(1)))
    assert r.status_code == 200
    view = (await referral.get(f"/v1/children/{child['id']}/non-engagement", headers=hv.headers())).json()
    assert view["threshold"]["count"] == 2
    assert view["threshold"]["window_days"] == 90
    [case] = view["cases"]
    assert view["open_case_id"] == case["id"]
    assert case["stage"] == "monitoring"
    assert [e["kind"] for e in case["events"]] == ["was_not_brought", "no_access_visit", "attended", "service_declined"]
    opened = await events_of_type(referral_app, "non_engagement.opened")
    assert any(e["case_id"] == case["id"] and e["stage"] == "monitoring" for e in opened)
    # Another event joins the open case rather than opening a second one.
    r = await record_event(referral, hv, child["id"], "was_not_brought", days_ago(1))
    assert (r.json()["case_opened"], r.json()["non_engagement_case_id"]) == (False, case["id"])


async def test_the_pathway_through_http(referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI) -> None:
    hv = await partner(referral, token_for)
    school = await partner(referral, token_for, "school")
    child = await child_of(referral, token_for, hv)
    await record_event(referral, hv, child["id"], "was_not_brought", days_ago(20))
    r = await record_event(referral, hv, child["id"], "was_not_brought", days_ago(10))
    assert r.json()["case_opened"] is True
    case_id = r.json()["non_engagement_case_id"]
    url = f"/v1/non-engagement-cases/{case_id}"
    got = await referral.get(url, headers=hv.headers())
    assert (got.headers["etag"], got.json()["stage"]) == ('"1"', "monitoring")

    problem = assert_problem(await referral.post(f"{url}/action-plan", json={"occurred_on": days_ago(0)},
                                                 headers=hv.headers(**if_match(1))), 409, "pathway-rule")
    assert problem["rule"] == "NE-01"
    assert_problem(await referral.post(f"{url}/escalation-review", json={"occurred_on": days_ago(0)}, headers=hv.headers()), 428)
    assert_problem(await referral.post(f"{url}/escalation-review", json={"occurred_on": days_ago(0)},
                                       headers=hv.headers(**if_match(9))), 412)
    assert_problem(await referral.post(f"{url}/escalation-review", json={"occurred_on": tomorrow()},
                                       headers=hv.headers(**if_match(1))), 422)
    assert_problem(await referral.post(f"{url}/escalation-review", json={"occurred_on": days_ago(0)},
                                       headers=school.headers(**if_match(1))), 404, "non-engagement-case-not-found")

    for step, version in (("escalation-review", 1), ("multi-agency-meeting", 2), ("action-plan", 3)):
        r = await referral.post(f"{url}/{step}", json={"occurred_on": days_ago(0)}, headers=hv.headers(**if_match(version)))
        assert r.status_code == 200, r.text
    assert_problem(await referral.post(f"{url}/escalation", json={"occurred_on": days_ago(0), "escalation": "panic"},
                                       headers=hv.headers(**if_match(4))), 422)
    r = await referral.post(f"{url}/escalation", json={"occurred_on": days_ago(0), "escalation": "strategy_discussion"},
                            headers=hv.headers(**if_match(4)))
    assert (r.json()["stage"], r.json()["escalation"], r.headers["etag"]) == ("escalated", "strategy_discussion", '"5"')
    r = await referral.post(f"{url}/closure", json={"closed_on": days_ago(0), "reason": "handed_to_csc"},
                            headers=hv.headers(**if_match(5)))
    assert (r.json()["stage"], r.json()["closed_on"]) == ("closed", days_ago(0))
    problem = assert_problem(await referral.post(f"{url}/escalation-review", json={"occurred_on": days_ago(0)},
                                                 headers=hv.headers(**if_match(6))), 409)
    assert problem["rule"] == "NE-02"
    escalated = await events_of_type(referral_app, "non_engagement.escalated")
    assert any(e["case_id"] == case_id and e["escalation"] == "strategy_discussion" for e in escalated)

    # Events behind the closed case do not count again; new ones open a new case.
    r = await record_event(referral, hv, child["id"], "was_not_brought", days_ago(0))
    assert r.json()["case_opened"] is False
    view = (await referral.get(f"/v1/children/{child['id']}/non-engagement", headers=hv.headers())).json()
    assert view["open_case_id"] is None
    assert [e["occurred_on"] for e in view["cases"][0]["events"]] == [days_ago(20), days_ago(10), days_ago(0)]


async def test_closing_chronic_neglect_for_no_engagement_needs_the_manager(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI
) -> None:
    hv = await partner(referral, token_for)
    child = await child_of(referral, token_for, hv)
    await open_cin_episode(referral_app, child["id"], primary_need="N1")
    await record_event(referral, hv, child["id"], "no_access_visit", days_ago(20))
    case_id = (await record_event(referral, hv, child["id"], "no_access_visit", days_ago(10))).json()["non_engagement_case_id"]
    url = f"/v1/non-engagement-cases/{case_id}"
    problem = assert_problem(await referral.post(f"{url}/closure", json={"closed_on": days_ago(0), "reason": "no_engagement"},
                                                 headers=hv.headers(**if_match(1))), 422, "manager-decision-required")
    assert problem["errors"][0]["field"] == "body.closure_decided_by"
    assert (await referral.get(url, headers=hv.headers())).json()["stage"] == "monitoring"
    r = await referral.post(f"{url}/closure", json={"closed_on": days_ago(0), "reason": "no_engagement",
                                                    "closure_decided_by": "Team manager A"}, headers=hv.headers(**if_match(1)))
    assert r.status_code == 200, r.text
    assert r.json()["closure_decided_by"] == "Team manager A"
    assert r.json()["closure_reason"] == "no_engagement"
    closed = await events_of_type(referral_app, "non_engagement.closed")
    mine = [e for e in closed if e["case_id"] == case_id]
    assert mine
    assert mine[0]["manager_decision"] is True
    assert mine[0]["chronic_neglect"] is True
    assert "Team manager" not in str(closed)


async def test_closing_without_chronic_neglect_needs_no_manager(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    hv = await partner(referral, token_for)
    child = await child_of(referral, token_for, hv)
    await record_event(referral, hv, child["id"], "no_access_visit", days_ago(20))
    case_id = (await record_event(referral, hv, child["id"], "no_access_visit", days_ago(10))).json()["non_engagement_case_id"]
    r = await referral.post(f"/v1/non-engagement-cases/{case_id}/closure", json={"closed_on": days_ago(0), "reason": "no_engagement"},
                            headers=hv.headers(**if_match(1)))
    assert r.status_code == 200, r.text


async def test_was_not_brought_in_a_cin_case_is_notified_to_the_other_involved_agencies(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI
) -> None:
    gp = await partner(referral, token_for, "gp")
    school = await partner(referral, token_for, "school")
    csc = await partner(referral, token_for, "childrens_social_care")
    child = await child_of(referral, token_for, school)
    plain = await child_of(referral, token_for, school)
    for kid in (child, plain):
        r = await referral.post(f"/v1/children/{kid['id']}/involvements", headers=csc.headers(),
                                json={"role": "core_group_member", "agency_id": str(gp.id), "start_date": days_ago(30)})
        assert r.status_code == 201
        await referral.post(f"/v1/children/{kid['id']}/involvements", headers=csc.headers(),
                            json={"role": "allocated_social_worker", "start_date": days_ago(30)})
    await open_cin_episode(referral_app, child["id"])

    r = await record_event(referral, gp, child["id"], "was_not_brought", days_ago(1))
    assert r.status_code == 201, r.text
    assert sorted(r.json()["notified_agency_ids"]) == sorted([str(school.id), str(csc.id)])
    [event] = [e for e in await events_of_type(referral_app, "engagement.was_not_brought") if e["child_id"] == child["id"]]
    assert sorted(event["notify_agency_ids"]) == sorted([str(school.id), str(csc.id)])
    assert event["agency_id"] == str(gp.id)

    r = await record_event(referral, gp, plain["id"], "was_not_brought", days_ago(1))
    assert r.json()["notified_agency_ids"] == []
    assert not [e for e in await events_of_type(referral_app, "engagement.was_not_brought") if e["child_id"] == plain["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "missed_bus", "occurred_on": "2026-01-01"}, "body.kind"),
        ({"kind": "was_not_brought", "occurred_on": "2999-01-01"}, "body.occurred_on"),
        ({"kind": "was_not_brought"}, "body.occurred_on"),
        ({"kind": "was_not_brought", "occurred_on": "2026-01-01", "agency_id": "x"}, "body.agency_id"),
    ],
)
async def test_bad_engagement_event_is_refused_and_nothing_written(
    referral: httpx.AsyncClient, token_for: TokenFor, body: dict[str, str], field: str
) -> None:
    hv = await partner(referral, token_for)
    child = await child_of(referral, token_for, hv)
    url = f"/v1/children/{child['id']}/engagement-events"
    problem = assert_problem(await referral.post(url, json=body, headers=hv.headers()), 422)
    assert field in [e["field"] for e in problem["errors"]]
    assert (await referral.get(url, headers=hv.headers())).json()["items"] == []


async def test_engagement_event_about_another_childs_offer_is_refused(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    hv = await partner(referral, token_for)
    child = await child_of(referral, token_for, hv)
    other = await child_of(referral, token_for, hv)
    offer = await make_offer(referral, hv, other["id"])
    r = await record_event(referral, hv, child["id"], "service_disengaged", days_ago(1), service_offer_id=offer["id"])
    assert_problem(r, 422, "unrelated-reference")
    r = await record_event(referral, hv, other["id"], "service_disengaged", days_ago(1), service_offer_id=offer["id"])
    assert r.status_code == 201
    assert r.json()["service_offer_id"] == offer["id"]


async def test_foreign_agency_and_scopes(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    hv = await partner(referral, token_for)
    police = await partner(referral, token_for, "police")
    child = await child_of(referral, token_for, hv)
    base = f"/v1/children/{child['id']}"
    assert_problem(await record_event(referral, police, child["id"], "was_not_brought", days_ago(1)), 404, "child-not-found")
    for path in ("engagement-events", "service-offers", "non-engagement"):
        assert_problem(await referral.get(f"{base}/{path}", headers=police.headers()), 404, "child-not-found")
    assert_problem(await referral.post(f"{base}/service-offers", json={"service": "x", "offered_on": days_ago(1)},
                                       headers=police.headers()), 404)
    assert_problem(await referral.post(f"{base}/engagement-events", json={"kind": "attended", "occurred_on": days_ago(1)},
                                       headers=hv.headers("referral:read")), 403, "insufficient-scope")
    assert_problem(await referral.get(f"{base}/non-engagement", headers=hv.headers("referral:write")), 403, "insufficient-scope")


async def test_a_migrated_history_opens_its_case_on_the_day_the_threshold_was_reached(
    referral: httpx.AsyncClient, token_for: TokenFor, referral_app: FastAPI
) -> None:
    hv = await partner(referral, token_for)
    child = await child_of(referral, token_for, hv)
    # A partner's records from an earlier year, sent in a later order than they happened.
    await record_event(referral, hv, child["id"], "was_not_brought", "2025-02-20")
    r = await record_event(referral, hv, child["id"], "no_access_visit", "2025-02-03")
    assert r.json()["case_opened"] is True
    case_id = r.json()["non_engagement_case_id"]
    url = f"/v1/non-engagement-cases/{case_id}"
    assert (await referral.get(url, headers=hv.headers())).json()["opened_on"] == "2025-02-20"
    opened = await events_of_type(referral_app, "non_engagement.opened")
    assert [e["opened_on"] for e in opened if e["case_id"] == case_id] == ["2025-02-20"]
    # Its pathway steps keep their own days too (after the opening, NE-03).
    assert_problem(await referral.post(f"{url}/escalation-review", json={"occurred_on": "2025-02-19"},
                                       headers=hv.headers(**if_match(1))), 409)
    r = await referral.post(f"{url}/escalation-review", json={"occurred_on": "2025-03-03"}, headers=hv.headers(**if_match(1)))
    assert r.status_code == 200, r.text
