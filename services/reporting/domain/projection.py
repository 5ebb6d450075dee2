"""Events into read-model rows: plain Python, no database.

Each event becomes a few :class:`Write`\\ s: an upsert keyed by the producer's
ids that sets only the columns that event type knows about. Applying writes
in any order gives the same rows, because

- every column has exactly one event type that writes it (or several that
  carry the same fact, guarded by ``newer_than``: the child's census facts,
  a service offer's status), and
- history that can change (review categories, pathway stages) is kept as
  rows of its own, keyed by date or version, never overwritten.

So relays may retry and services may deliver out of order: the projection
converges. An event whose data cannot be read (a missing id, a bad date) is
kept in the event log and projects nothing; ``project`` says why.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from services.reporting.domain.calendar import ym
from services.reporting.domain.reference import referring_agency_type


@dataclass(frozen=True)
class Write:
    """Upsert ``values`` into ``table`` at ``key``; with ``newer_than``, only when the stored value
    of that column is null or not newer than the incoming one."""

    table: str
    key: Mapping[str, Any]
    values: Mapping[str, Any] = field(default_factory=dict)
    newer_than: str | None = None


@dataclass(frozen=True)
class Event:
    """What the projection needs of a logged event."""

    event_id: str
    type: str
    source: str
    occurred_at: datetime
    data: Mapping[str, Any]


class Unreadable(ValueError):
    """The event's data lacks or garbles a field its type needs."""


# --- reading event data --------------------------------------------------------------------------

def _uuid(data: Mapping[str, Any], name: str, *, required: bool = True) -> uuid.UUID | None:
    value = data.get(name)
    if value is None:
        if required:
            raise Unreadable(f"{name} is missing")
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise Unreadable(f"{name} is not a UUID") from exc


def _id(data: Mapping[str, Any], name: str) -> uuid.UUID:
    value = _uuid(data, name)
    assert value is not None  # noqa: S101 - required ids raise instead
    return value


def _date(data: Mapping[str, Any], name: str, *, required: bool = True) -> date | None:
    value = data.get(name)
    if value is None:
        if required:
            raise Unreadable(f"{name} is missing")
        return None
    try:
        text = str(value)
        return datetime.fromisoformat(text).date() if "T" in text else date.fromisoformat(text)
    except ValueError as exc:
        raise Unreadable(f"{name} is not an ISO date") from exc


def _day(data: Mapping[str, Any], name: str) -> date:
    value = _date(data, name)
    assert value is not None  # noqa: S101
    return value


def _str(data: Mapping[str, Any], name: str, limit: int = 60) -> str | None:
    value = data.get(name)
    if value is None or isinstance(value, bool | list):
        return None
    return str(value)[:limit]


def _bool(data: Mapping[str, Any], name: str) -> bool | None:
    value = data.get(name)
    return value if isinstance(value, bool) else None


def _int(data: Mapping[str, Any], name: str) -> int | None:
    value = data.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _codes(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if not isinstance(value, list):
        return None
    return ",".join(str(v) for v in value if v is not None)[:200]


# --- per event type ---------------------------------------------------------------------------------

def _agency_registered(e: Event) -> list[Write]:
    return [Write("rm_agency", {"agency_id": _id(e.data, "agency_id")}, {"agency_type": _str(e.data, "agency_type")})]


def _child_facts(e: Event) -> list[Write]:
    d = e.data
    child_id = _id(d, "child_id")
    birth = _date(d, "birth_date", required=False)
    writes = [
        Write("rm_child", {"child_id": child_id}, {
            "facts_at": e.occurred_at,
            "unborn": birth is None,
            "birth_ym": ym(birth) if birth else None,
            "gender": _str(d, "gender", 2),
            "ethnicity": _str(d, "ethnicity", 4),
            "disabilities": _codes(d, "disabilities"),
            "died": d.get("death_date") is not None,
        }, newer_than="facts_at"),
        Write("rm_child_identity", {"child_id": child_id}, {
            "facts_at": e.occurred_at,
            "la_child_id": _str(d, "la_child_id", 20),
            "upn": _str(d, "upn", 13),
            "upn_unknown": _str(d, "upn_unknown", 3),
            "birth_date": birth,
            "expected_birth_date": _date(d, "expected_birth_date", required=False),
            "death_date": _date(d, "death_date", required=False),
        }, newer_than="facts_at"),
    ]
    if e.type == "child.registered" and (agency := _uuid(d, "agency_id", required=False)) is not None:
        writes.append(Write("rm_child", {"child_id": child_id}, {"registering_agency_id": agency}))
    return writes


def _referral_received(e: Event) -> list[Write]:
    d = e.data
    source = _str(d, "referral_source", 3)
    given = _str(d, "referring_agency_type") or _str(d, "agency_type")
    return [Write("rm_referral", {"referral_id": _id(d, "referral_id")}, {
        "child_id": _uuid(d, "child_id", required=False),
        "received_date": _day(d, "received_at"),
        "referral_source": source,
        "referring_agency_type": referring_agency_type(given, source),
        "re_referral": _bool(d, "re_referral"),
        "contact_id": _uuid(d, "contact_id", required=False),
    })]


def _contact_recorded(e: Event) -> list[Write]:
    d = e.data
    source = _str(d, "referral_source", 3)
    return [Write("rm_contact", {"contact_id": _id(d, "contact_id")}, {
        "child_id": _uuid(d, "child_id", required=False),
        "received_date": _day(d, "received_at"),
        "referral_source": source,
        "referring_agency_type": referring_agency_type(_str(d, "referring_agency_type"), source),
        "outcome": _str(d, "outcome", 40),
    })]


def _contact_converted(e: Event) -> list[Write]:
    return [Write("rm_contact", {"contact_id": _id(e.data, "contact_id")}, {"referral_id": _id(e.data, "referral_id")})]


def _referral_decided(e: Event) -> list[Write]:
    d = e.data
    return [Write("rm_referral", {"referral_id": _id(d, "referral_id")}, {
        "decided_date": _day(d, "decided_at"),
        "level": _str(d, "level", 20),
        "outcome": _str(d, "outcome"),
        "overridden": _bool(d, "overridden"),
        "recommended_level": _str(d, "recommended_level", 20),
        "decision_source": _str(d, "referral_source", 3),
        "episode_id": _uuid(d, "episode_id", required=False),
    })]


def _feedback_sent(e: Event) -> list[Write]:
    return [Write("rm_referral", {"referral_id": _id(e.data, "referral_id")}, {"feedback_date": _day(e.data, "sent_at")})]


def _in_episode(e: Event) -> dict[str, Any]:
    return {"child_id": _uuid(e.data, "child_id", required=False), "episode_id": _uuid(e.data, "episode_id", required=False)}


def _episode_opened(e: Event) -> list[Write]:
    d = e.data
    source = _str(d, "referral_source", 3)
    return [Write("rm_episode", {"episode_id": _id(d, "episode_id")}, {
        "child_id": _uuid(d, "child_id", required=False),
        "referral_date": _day(d, "referral_date"),
        "referral_source": source,
        "referring_agency_type": referring_agency_type(_str(d, "referring_agency_type"), source),
        "nfa": _bool(d, "nfa"),
        "primary_need": _str(d, "primary_need", 2),
    })]


def _episode_closed(e: Event) -> list[Write]:
    d = e.data
    return [Write("rm_episode", {"episode_id": _id(d, "episode_id")}, {
        "closure_date": _day(d, "date"), "reason_for_closure": _str(d, "reason", 3),
    })]


def _assessment_started(e: Event) -> list[Write]:
    return [Write("rm_assessment", {"assessment_id": _id(e.data, "assessment_id")},
                  {**_in_episode(e), "start_date": _day(e.data, "date")})]


def _assessment_authorised(e: Event) -> list[Write]:
    factors = e.data.get("factors")
    codes = [str(f) for f in factors] if isinstance(factors, list) else []
    return [Write("rm_assessment", {"assessment_id": _id(e.data, "assessment_id")}, {
        **_in_episode(e), "authorised_date": _day(e.data, "date"),
        "factors": ",".join(codes)[:200], "neglect": "16A" in codes,
    })]


def _strategy_discussion(e: Event) -> list[Write]:
    d = e.data
    held = _day(d, "date")
    s47_id = _uuid(d, "s47_id", required=False)
    writes = [Write("rm_strategy_discussion", {"event_id": e.event_id}, {**_in_episode(e), "held_date": held, "s47_id": s47_id})]
    if s47_id is not None:
        writes.append(Write("rm_s47", {"s47_id": s47_id}, {
            **_in_episode(e), "start_date": held, "icpc_target_date": _date(d, "icpc_target_date", required=False),
        }))
    return writes


def _s47_concluded(e: Event) -> list[Write]:
    return [Write("rm_s47", {"s47_id": _id(e.data, "s47_id")}, {"concluded_date": _day(e.data, "date")})]


def _icpc_held(e: Event) -> list[Write]:
    return [Write("rm_s47", {"s47_id": _id(e.data, "s47_id")}, {"icpc_date": _day(e.data, "date"), "plan": _bool(e.data, "plan")})]


def _transfer_in_held(e: Event) -> list[Write]:
    """A transfer-in conference is the episode's initial conference: census DateOfInitialCPC in CINdetails."""
    return [Write("rm_episode", {"episode_id": _id(e.data, "episode_id")}, {"icpc_date": _day(e.data, "date")})]


def _cp_plan_started(e: Event) -> list[Write]:
    d = e.data
    return [Write("rm_cp_plan", {"cp_plan_id": _id(d, "cp_plan_id")}, {
        **_in_episode(e), "start_date": _day(d, "date"), "initial_category": _str(d, "category", 3),
        "previous_plans": _int(d, "previous_plans"),
        "previous_plan_end_date": _date(d, "previous_plan_end_date", required=False),
    })]


def _cp_plan_reviewed(e: Event) -> list[Write]:
    d = e.data
    plan = _id(d, "cp_plan_id")
    return [Write("rm_cp_review", {"cp_plan_id": plan, "review_date": _day(d, "date")}, {
        "child_id": _uuid(d, "child_id", required=False), "latest_category": _str(d, "latest_category", 3),
    })]


def _cp_plan_ended(e: Event) -> list[Write]:
    d = e.data
    return [Write("rm_cp_plan", {"cp_plan_id": _id(d, "cp_plan_id")}, {
        "end_date": _day(d, "date"), "end_category": _str(d, "latest_category", 3), "step_down": _str(d, "step_down", 20),
    })]


def _cin_plan_started(e: Event) -> list[Write]:
    d = e.data
    return [Write("rm_cin_plan", {"cin_plan_id": _id(d, "cin_plan_id")}, {
        **_in_episode(e), "start_date": _day(d, "date"), "stepped_down": _bool(d, "stepped_down"),
    })]


def _cin_plan_ended(e: Event) -> list[Write]:
    d = e.data
    return [Write("rm_cin_plan", {"cin_plan_id": _id(d, "cin_plan_id")}, {
        "end_date": _day(d, "date"), "step_down": _str(d, "step_down", 20),
    })]


def _early_help_started(e: Event) -> list[Write]:
    d = e.data
    return [Write("rm_early_help", {"episode_id": _id(d, "episode_id")}, {
        "child_id": _uuid(d, "child_id", required=False), "start_date": _day(d, "date"),
        "lead_agency_id": _uuid(d, "lead_agency_id", required=False),
    })]


def _early_help_closed(e: Event) -> list[Write]:
    d = e.data
    return [Write("rm_early_help", {"episode_id": _id(d, "episode_id")}, {
        "child_id": _uuid(d, "child_id", required=False), "closure_date": _day(d, "date"), "reason": _str(d, "reason"),
    })]


def _core_group(e: Event) -> list[Write]:
    d = e.data
    return [Write("rm_core_group", {"cp_plan_id": _id(d, "cp_plan_id"), "held_date": _day(d, "date")},
                  {"child_id": _uuid(d, "child_id", required=False)})]


def _visit(e: Event) -> list[Write]:
    d = e.data
    return [Write("rm_visit", {"visit_id": _id(d, "visit_id")}, {
        "child_id": _uuid(d, "child_id", required=False), "agency_id": _uuid(d, "agency_id", required=False),
        "visited_on": _day(d, "visited_on"), "statutory": _bool(d, "statutory"), "child_seen": _bool(d, "child_seen"),
        "seen_alone": _bool(d, "seen_alone"), "no_access": _bool(d, "no_access"),
    })]


def _engagement(e: Event) -> list[Write]:
    d = e.data
    return [Write("rm_engagement", {"engagement_event_id": _id(d, "engagement_event_id")}, {
        "child_id": _uuid(d, "child_id", required=False), "agency_id": _uuid(d, "agency_id", required=False),
        "kind": _str(d, "kind", 40), "occurred_on": _day(d, "occurred_on"),
    })]


def _offer_made(e: Event) -> list[Write]:
    d = e.data
    offer = _id(d, "service_offer_id")
    offered = _day(d, "offered_on")
    return [
        Write("rm_service_offer", {"service_offer_id": offer}, {
            "child_id": _uuid(d, "child_id", required=False), "agency_id": _uuid(d, "agency_id", required=False),
            "offered_on": offered,
        }),
        Write("rm_service_offer", {"service_offer_id": offer},
              {"status": "offered", "status_version": 1, "status_date": offered}, newer_than="status_version"),
    ]


def _offer_moved(e: Event) -> list[Write]:
    d = e.data
    version = _int(d, "version")
    if version is None:
        raise Unreadable("version is missing")
    return [Write("rm_service_offer", {"service_offer_id": _id(d, "service_offer_id")}, {
        "child_id": _uuid(d, "child_id", required=False), "status": _str(d, "status", 20),
        "status_version": version, "status_date": _day(d, "date"),
    }, newer_than="status_version")]


def _case_opened(e: Event) -> list[Write]:
    d = e.data
    case = _id(d, "case_id")
    opened = _day(d, "opened_on")
    return [
        Write("rm_non_engagement_case", {"case_id": case}, {"child_id": _uuid(d, "child_id", required=False), "opened_on": opened}),
        Write("rm_non_engagement_step", {"case_id": case, "version": 1},
              {"stage": _str(d, "stage", 40) or "monitoring", "step_date": opened}),
    ]


def _case_moved(e: Event) -> list[Write]:
    d = e.data
    case = _id(d, "case_id")
    version = _int(d, "version")
    if version is None:
        raise Unreadable("version is missing")
    stage = _str(d, "stage", 40) or e.type.split(".", 1)[1]
    on = _day(d, "date")
    writes = [
        Write("rm_non_engagement_case", {"case_id": case}, {"child_id": _uuid(d, "child_id", required=False)}),
        Write("rm_non_engagement_step", {"case_id": case, "version": version},
              {"stage": stage, "step_date": on, "escalation": _str(d, "escalation", 40)}),
    ]
    if stage == "closed":
        writes.append(Write("rm_non_engagement_case", {"case_id": case}, {"closed_on": on}))
    return writes


def _toolkit_authorised(e: Event) -> list[Write]:
    """An authorised toolkit assessment (source ``assessment``): the tool, when, and the
    practitioner's area grades; an amendment marks the revision it supersedes."""
    d = e.data
    toolkit = _str(d, "toolkit_id")
    if toolkit is None:
        raise Unreadable("toolkit_id is missing")
    key = _str(d, "assessment_id", 100) or _str(d, "toolkit_assessment_id", 100)
    if key is None:
        raise Unreadable("assessment_id is missing")
    # The day it was authorised (a migrated record's own date) before the moment it was recorded.
    when = (_date(d, "authorised_on", required=False) or _date(d, "authorised_at", required=False)
            or _date(d, "date", required=False) or e.occurred_at.date())
    writes = [Write("rm_toolkit_assessment", {"toolkit_assessment_id": key}, {
        "child_id": _uuid(d, "child_id", required=False), "toolkit_id": toolkit, "authorised_date": when,
        "lineage_id": _str(d, "lineage_id", 100),
    })]
    grades = d.get("area_grades")
    if isinstance(grades, Mapping):
        writes += [Write("rm_toolkit_grade", {"toolkit_assessment_id": key, "area": str(area)[:60]}, {"grade": grade})
                   for area, grade in grades.items() if isinstance(grade, int | float) and not isinstance(grade, bool)]
    if (earlier := _str(d, "supersedes_id", 100)) is not None:
        writes.append(Write("rm_toolkit_assessment", {"toolkit_assessment_id": earlier}, {"superseded": True}))
    return writes


_REFERRAL: dict[str, Callable[[Event], list[Write]]] = {
    "agency.registered": _agency_registered,
    "child.registered": _child_facts,
    "child.updated": _child_facts,
    "child.born": _child_facts,
    "child.died": _child_facts,
    "contact.recorded": _contact_recorded,
    "contact.converted": _contact_converted,
    "referral.received": _referral_received,
    "referral.decided": _referral_decided,
    "referral.feedback_sent": _feedback_sent,
    "episode.opened": _episode_opened,
    "episode.closed": _episode_closed,
    "assessment.started": _assessment_started,
    "assessment.authorised": _assessment_authorised,
    "strategy_discussion.held": _strategy_discussion,
    "s47.concluded": _s47_concluded,
    "icpc.held": _icpc_held,
    "transfer_in.held": _transfer_in_held,
    "cp_plan.started": _cp_plan_started,
    "cp_plan.reviewed": _cp_plan_reviewed,
    "cp_plan.ended": _cp_plan_ended,
    "cin_plan.started": _cin_plan_started,
    "cin_plan.ended": _cin_plan_ended,
    "core_group.held": _core_group,
    "early_help.started": _early_help_started,
    "early_help.closed": _early_help_closed,
    "visit.recorded": _visit,
    "engagement.recorded": _engagement,
    "service_offer.made": _offer_made,
    "non_engagement.opened": _case_opened,
}
_OFFER_MOVES = ("service_offer.accepted", "service_offer.declined", "service_offer.attending", "service_offer.ended")

#: Event types projected, by source; everything else is only logged.
PROJECTED: dict[str, tuple[str, ...]] = {
    "referral": (*_REFERRAL, *_OFFER_MOVES, "non_engagement.<stage>"),
    "assessment": ("assessment.authorised",),
}


def handler(source: str, event_type: str) -> Callable[[Event], list[Write]] | None:
    if source == "assessment":
        return _toolkit_authorised if event_type == "assessment.authorised" else None
    if source != "referral":
        return None
    if event_type in _REFERRAL:
        return _REFERRAL[event_type]
    if event_type in _OFFER_MOVES:
        return _offer_moved
    if event_type.startswith("non_engagement.") and event_type != "non_engagement.opened":
        return _case_moved
    return None


def project(event: Event) -> tuple[list[Write], str | None]:
    """The writes an event makes, and why it makes none when its data cannot be read."""
    fn = handler(event.source, event.type)
    if fn is None:
        return [], None
    try:
        return fn(event), None
    except Unreadable as exc:
        return [], str(exc)


# --- what reporting reads of each event: its side of the event contracts ----------------------------

@dataclass(frozen=True)
class Read:
    """One field reporting reads: the JSON kind it expects (a JSON Schema ``type``, or the
    ``format`` of a string: ``uuid``, ``date``, ``date-time``) and whether the event is of no
    use without it (the projection refuses the event: HTTP 422)."""

    kind: str
    required: bool = False


def _reads(**fields: Read) -> dict[str, Read]:
    return fields


UUID, UUID_REQ = Read("uuid"), Read("uuid", required=True)
DATE, DATE_REQ = Read("date"), Read("date", required=True)
INSTANT, INSTANT_REQ = Read("date-time"), Read("date-time", required=True)
TEXT, TEXT_REQ = Read("string"), Read("string", required=True)
FLAG, NUMBER, NUMBER_REQ = Read("boolean"), Read("integer"), Read("integer", required=True)
CODES, GRADES = Read("array"), Read("object")

_CHILD_FACTS = _reads(child_id=UUID_REQ, birth_date=DATE, expected_birth_date=DATE, death_date=DATE, gender=TEXT,
                      ethnicity=TEXT, disabilities=CODES, la_child_id=TEXT, upn=TEXT, upn_unknown=TEXT)
_IN_EPISODE = _reads(child_id=UUID, episode_id=UUID, date=DATE_REQ)
_OFFER_MOVED = _reads(service_offer_id=UUID_REQ, child_id=UUID, status=TEXT, version=NUMBER_REQ, date=DATE_REQ)
_CASE_STEP = _reads(case_id=UUID_REQ, child_id=UUID, version=NUMBER_REQ, stage=TEXT, date=DATE_REQ)

#: producer -> event type -> field -> what the projection reads. Checked against the
#: producers' committed schemas (``services/reporting/contracts``) when an event arrives
#: and, in the tests, against the producers' models: a producer cannot drop or retype a
#: field listed here without a failing contract test.
PROJECTIONS: dict[str, dict[str, dict[str, Read]]] = {
    "referral": {
        "agency.registered": _reads(agency_id=UUID_REQ, agency_type=TEXT),
        "child.registered": {**_CHILD_FACTS, "agency_id": UUID},
        "child.updated": _CHILD_FACTS,
        "child.born": _CHILD_FACTS,
        "child.died": _CHILD_FACTS,
        "contact.recorded": _reads(contact_id=UUID_REQ, child_id=UUID, received_at=INSTANT_REQ, referral_source=TEXT,
                                   referring_agency_type=TEXT, outcome=TEXT),
        "contact.converted": _reads(contact_id=UUID_REQ, referral_id=UUID_REQ),
        "referral.received": _reads(referral_id=UUID_REQ, child_id=UUID, received_at=INSTANT_REQ, referral_source=TEXT,
                                    referring_agency_type=TEXT, re_referral=FLAG, contact_id=UUID),
        "referral.decided": _reads(referral_id=UUID_REQ, decided_at=INSTANT_REQ, level=TEXT, outcome=TEXT,
                                   overridden=FLAG, recommended_level=TEXT, referral_source=TEXT, episode_id=UUID),
        "referral.feedback_sent": _reads(referral_id=UUID_REQ, sent_at=INSTANT_REQ),
        "episode.opened": _reads(episode_id=UUID_REQ, child_id=UUID, referral_date=DATE_REQ, referral_source=TEXT,
                                 referring_agency_type=TEXT, nfa=FLAG, primary_need=TEXT),
        "episode.closed": _reads(episode_id=UUID_REQ, date=DATE_REQ, reason=TEXT),
        "assessment.started": {**_IN_EPISODE, "assessment_id": UUID_REQ},
        "assessment.authorised": {**_IN_EPISODE, "assessment_id": UUID_REQ, "factors": CODES},
        "strategy_discussion.held": {**_IN_EPISODE, "s47_id": UUID, "icpc_target_date": DATE},
        "s47.concluded": _reads(s47_id=UUID_REQ, date=DATE_REQ),
        "icpc.held": _reads(s47_id=UUID_REQ, date=DATE_REQ, plan=FLAG),
        "transfer_in.held": _reads(episode_id=UUID_REQ, date=DATE_REQ),
        "cp_plan.started": {**_IN_EPISODE, "cp_plan_id": UUID_REQ, "category": TEXT, "previous_plans": NUMBER,
                            "previous_plan_end_date": DATE},
        "cp_plan.reviewed": _reads(cp_plan_id=UUID_REQ, date=DATE_REQ, child_id=UUID, latest_category=TEXT),
        "cp_plan.ended": _reads(cp_plan_id=UUID_REQ, date=DATE_REQ, latest_category=TEXT, step_down=TEXT),
        "cin_plan.started": {**_IN_EPISODE, "cin_plan_id": UUID_REQ, "stepped_down": FLAG},
        "cin_plan.ended": _reads(cin_plan_id=UUID_REQ, date=DATE_REQ, step_down=TEXT),
        "core_group.held": _reads(cp_plan_id=UUID_REQ, date=DATE_REQ, child_id=UUID),
        "early_help.started": _reads(episode_id=UUID_REQ, child_id=UUID, date=DATE_REQ, lead_agency_id=UUID),
        "early_help.closed": _reads(episode_id=UUID_REQ, child_id=UUID, date=DATE_REQ, reason=TEXT),
        "visit.recorded": _reads(visit_id=UUID_REQ, child_id=UUID, agency_id=UUID, visited_on=DATE_REQ,
                                 statutory=FLAG, child_seen=FLAG, seen_alone=FLAG, no_access=FLAG),
        "engagement.recorded": _reads(engagement_event_id=UUID_REQ, child_id=UUID, agency_id=UUID, kind=TEXT,
                                      occurred_on=DATE_REQ),
        "service_offer.made": _reads(service_offer_id=UUID_REQ, child_id=UUID, agency_id=UUID, offered_on=DATE_REQ),
        **dict.fromkeys(_OFFER_MOVES, _OFFER_MOVED),
        "non_engagement.opened": _reads(case_id=UUID_REQ, child_id=UUID, opened_on=DATE_REQ, stage=TEXT),
        **{f"non_engagement.{stage}": {**_CASE_STEP, "escalation": TEXT}
           for stage in ("escalation_review", "multi_agency_meeting", "action_plan", "escalated")},
        "non_engagement.closed": _CASE_STEP,
    },
    "assessment": {
        "assessment.authorised": _reads(assessment_id=UUID_REQ, toolkit_id=TEXT_REQ, child_id=UUID, lineage_id=UUID,
                                        authorised_on=DATE, authorised_at=INSTANT, area_grades=GRADES,
                                        supersedes_id=UUID),
    },
}

#: Fields the projection still reads from events logged before the producers' models
#: (a rebuild replays them); no producer sends them now, so no contract lists them.
LEGACY_READS: dict[str, dict[str, tuple[str, ...]]] = {
    "referral": {"referral.received": ("agency_type",)},
    "assessment": {"assessment.authorised": ("toolkit_assessment_id", "date")},
}
