"""Synthetic partnership: children's journeys over several years, as the services' events.

Reproducible from a seed. Proportions follow DOMAIN.md section 13 (national figures
scaled to the number of children): about one child in five re-referred within a
year, most referrals assessed, about half of CP plans for neglect, plans of a few
months to over two years with 3- and 6-monthly reviews (some late), step-downs to
a CIN plan or early help, repeat plans, disabled children, was-not-brought and
no-access events that open non-engagement cases. Every journey is driven through
the referral service's own state machine (``services.referral.domain.journey``),
so it obeys the DfE census rules the API enforces. Synthetic people only: no
names, and identifiers that are valid in shape but belong to nobody.

The generator keeps its own records (:class:`Partnership`), so a test can
compute the dataset's figures from them independently of the reporting service.

Usage::

    python scripts/synthetic.py --children 50000 --seed 7 --database-url postgresql://.../reporting
    python scripts/synthetic.py --children 500 --post http://127.0.0.1:8003/v1/events

``--database-url`` applies the events in-process through the reporting service's
own ingest (``ReadModel.receive_many``), in batches; ``--post`` signs each event
with the services' webhook secret and POSTs it: ``REPORTING_WEBHOOK_SECRET`` when set,
otherwise ``--secret-file`` (default ``var/webhook-secret``, which ``make run`` writes).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.referral.domain import journey as j  # noqa: E402
from services.reporting.domain.calendar import WorkingCalendar, add_months, load_holidays  # noqa: E402
from shared.settings import VAR_DIR  # noqa: E402

UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"

#: (agency type, ReferralSource, share of referrals): police and schools refer most.
AGENCY_TYPES: list[tuple[str, str, float]] = [
    ("police", "6", 0.28), ("school", "2A", 0.18), ("health_visiting", "3B", 0.07), ("gp", "3A", 0.04),
    ("hospital_emergency_department", "3E", 0.05), ("school_nursing", "3C", 0.02), ("education_services", "2B", 0.02),
    ("housing", "4", 0.03), ("early_help", "5D", 0.06), ("childrens_social_care_other_la", "5C", 0.03),
    ("voluntary_sector", "8", 0.04), ("probation", "7", 0.02), ("family_member", "1A", 0.08),
    ("acquaintance", "1B", 0.03), ("anonymous", "9", 0.03),
]
ETHNICITY = [("WBRI", 0.64), ("WOTH", 0.06), ("WIRT", 0.005), ("WROM", 0.01), ("MWBC", 0.03), ("MWBA", 0.01),
             ("MWAS", 0.015), ("MOTH", 0.025), ("AIND", 0.02), ("APKN", 0.04), ("ABAN", 0.015), ("AOTH", 0.01),
             ("BCRB", 0.015), ("BAFR", 0.035), ("BOTH", 0.01), ("CHNE", 0.003), ("OOTH", 0.02), ("REFU", 0.005),
             ("NOBT", 0.012)]
DISABILITIES = ["MOB", "HAND", "PC", "INC", "COMM", "LD", "HEAR", "VIS", "BEH", "CON", "AUT", "DDA"]
CATEGORIES = [("NEG", 0.48), ("EMO", 0.36), ("PHY", 0.08), ("SAB", 0.04), ("MUL", 0.04)]
FACTORS = ["1B", "2B", "3A", "3B", "4B", "5B", "6B", "8B", "10A", "14A", "17A", "18C", "20", "24A"]
NEEDS = [("N1", 0.55), ("N2", 0.04), ("N3", 0.06), ("N4", 0.12), ("N5", 0.14), ("N6", 0.03), ("N7", 0.01),
         ("N8", 0.03), ("N9", 0.01), ("N0", 0.01)]
AGE_BANDS = [("unborn", 0.04), (0, 0.09), (1, 0.22), (5, 0.27), (10, 0.30), (16, 0.08)]
NEGLECT_TYPES = ["basic_provision", "supervision", "medical", "education", "emotional", "protection_from_harm"]


# --- the generator's own records ----------------------------------------------------------------

@dataclass
class Agency:
    id: uuid.UUID
    agency_type: str
    referral_source: str


@dataclass
class Child:
    id: uuid.UUID
    la_child_id: str
    upn: str | None
    upn_unknown: str | None
    birth_date: date | None
    expected_birth_date: date | None
    gender: str
    ethnicity: str
    disabilities: list[str]
    registered_on: date
    registering_agency: Agency


@dataclass
class Referral:
    id: uuid.UUID
    child: Child
    agency: Agency
    received_at: datetime
    re_referral: bool
    decided_at: datetime | None = None
    level: str | None = None
    outcome: str | None = None
    recommended_level: str | None = None
    feedback_at: datetime | None = None
    episode_id: uuid.UUID | None = None
    neglect_types: list[str] = field(default_factory=list)

    @property
    def overridden(self) -> bool:
        return self.level != self.recommended_level


@dataclass
class PlanFacts:
    """What the state machine does not keep: category history, routes out and dates of conclusions."""

    reviews: list[tuple[date, str]] = field(default_factory=list)
    step_down: str | None = None


@dataclass
class EpisodeRecord:
    child: Child
    episode: j.Episode
    referring_agency: Agency
    s47_concluded: dict[uuid.UUID, date] = field(default_factory=dict)
    icpc_targets: dict[uuid.UUID, date] = field(default_factory=dict)
    plan_facts: dict[uuid.UUID, PlanFacts] = field(default_factory=dict)
    cin_step_down: dict[uuid.UUID, str] = field(default_factory=dict)


@dataclass
class Engagement:
    id: uuid.UUID
    child: Child
    agency: Agency
    kind: str
    occurred_on: date


@dataclass
class Visit:
    id: uuid.UUID
    child: Child
    agency: Agency
    visited_on: date
    statutory: bool
    child_seen: bool
    seen_alone: bool
    no_access: bool


@dataclass
class EarlyHelp:
    id: uuid.UUID
    child: Child
    start: date
    lead: Agency
    closed: date | None = None


@dataclass
class Toolkit:
    """An authorised toolkit assessment (the assessment service's record, as far as its event tells)."""

    id: uuid.UUID
    child: Child
    toolkit_id: str
    lineage_id: uuid.UUID
    authorised_on: date
    grades: dict[str, int]
    superseded: bool = False


@dataclass
class Case:
    id: uuid.UUID
    child: Child
    opened_on: date
    steps: list[tuple[int, str, date, str | None]] = field(default_factory=list)  # version, stage, date, escalation
    closed_on: date | None = None


@dataclass
class Partnership:
    seed: int
    la_code: str
    start: date
    end: date
    agencies: list[Agency] = field(default_factory=list)
    children: list[Child] = field(default_factory=list)
    referrals: list[Referral] = field(default_factory=list)
    episodes: list[EpisodeRecord] = field(default_factory=list)
    engagements: list[Engagement] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    toolkits: list[Toolkit] = field(default_factory=list)
    early_help: list[EarlyHelp] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


# --- helpers ----------------------------------------------------------------------------------------

def pick(rng: random.Random, weighted: list[tuple[Any, float]]) -> Any:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


def upn(la_code: str, serial: int) -> str:
    body = f"{la_code}24{serial:06d}1"
    total = sum(int(c) * (i + 2) for i, c in enumerate(body))
    return UPN_LETTERS[total % 23] + body


class Generator:
    def __init__(self, seed: int, children: int, start: date, end: date, la_code: str) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not security
        self.n = children
        self.p = Partnership(seed=seed, la_code=la_code, start=start, end=end)
        self.calendar = WorkingCalendar(load_holidays())
        self.csc: Agency | None = None
        self.by_type: dict[str, list[Agency]] = {}
        self.early_help_until: dict[uuid.UUID, date | None] = {}  # child -> when its latest early help closes
        self.had_plan: set[uuid.UUID] = set()  # children who had a CP plan: re-referred sooner, repeat plans likelier

    # ids, times and events ---------------------------------------------------------------------

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def at(self, day: date) -> datetime:
        return datetime.combine(day, time(9, 0), tzinfo=UTC) + timedelta(minutes=self.rng.randrange(0, 7 * 60))

    def emit(self, event_type: str, when: datetime | date, source: str = "referral", **data: Any) -> None:
        occurred = when if isinstance(when, datetime) else self.at(when)
        self.p.events.append({
            "id": str(self.uuid()), "type": event_type, "source": source, "occurred_at": occurred.isoformat(),
            "version": 1, "data": {k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in data.items()},
        })

    def workday(self, day: date) -> date:
        while not self.calendar.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_wd(self, day: date, n: int) -> date:
        return self.calendar.add_working_days(day, n)

    # the partnership -------------------------------------------------------------------------------

    def agencies(self) -> None:
        kinds = [("childrens_social_care", "5A", 0.0), *AGENCY_TYPES]
        for kind, source, _ in kinds:
            for _ in range(1 if kind in ("childrens_social_care", "family_member", "acquaintance", "anonymous") else 2):
                agency = Agency(self.uuid(), kind, source)
                self.p.agencies.append(agency)
                self.by_type.setdefault(kind, []).append(agency)
                self.emit("agency.registered", self.p.start - timedelta(days=30), agency_id=agency.id, agency_type=kind)
        self.csc = self.by_type["childrens_social_care"][0]

    def facts(self, c: Child, born: date | None) -> dict[str, Any]:
        unborn = born is None
        return {
            "child_id": c.id, "unborn": unborn, "birth_date": born.isoformat() if born else None,
            "expected_birth_date": c.expected_birth_date.isoformat() if unborn and c.expected_birth_date else None,
            "death_date": None, "gender": "0" if unborn else c.gender, "ethnicity": c.ethnicity,
            "disabilities": list(c.disabilities), "la_child_id": c.la_child_id,
            "upn": c.upn, "upn_unknown": c.upn_unknown,
        }

    def child(self, index: int, first_referral: date, agency: Agency) -> tuple[Child, j.Journey]:
        rng = self.rng
        band = pick(rng, AGE_BANDS)
        expected = birth = None
        if band == "unborn":
            expected = first_referral + timedelta(days=rng.randrange(5 * 7, 30 * 7))
            birth = expected + timedelta(days=rng.randrange(-14, 10))
        else:
            top = {0: 1, 1: 5, 5: 10, 10: 16, 16: 18}[band]
            days = rng.randrange(int(band * 365.25) + 1, int(top * 365.25) - 1)
            birth = first_referral - timedelta(days=days)
        school_age = birth is not None and birth <= first_referral - timedelta(days=int(4.5 * 365))
        disabled = rng.random() < 0.09
        c = Child(
            id=self.uuid(), la_child_id=f"NB{index:07d}",
            upn=upn(self.p.la_code, index) if school_age and rng.random() < 0.95 else None,
            upn_unknown=None, birth_date=birth, expected_birth_date=expected,
            gender=pick(rng, [("1", 0.5), ("2", 0.49), ("9", 0.01)]), ethnicity=pick(rng, ETHNICITY),
            disabilities=sorted(rng.sample(DISABILITIES, rng.choice([1, 1, 2]))) if disabled else ["NONE"],
            registered_on=first_referral - timedelta(days=rng.randrange(0, 20)), registering_agency=agency,
        )
        if c.upn is None:
            c.upn_unknown = "UN1" if not school_age else "UN5"
        self.p.children.append(c)
        registered = max(c.registered_on, self.p.start - timedelta(days=365 * 3))
        unborn_then = band == "unborn"
        self.emit("child.registered", registered, agency_id=agency.id, **self.facts(c, None if unborn_then else birth))
        if unborn_then and birth is not None and birth <= self.p.end:
            self.emit("child.born", birth, **self.facts(c, birth))
        born_for_journey = birth if not unborn_then or (birth is not None and birth <= self.p.end) else None
        return c, j.Journey(birth_date=born_for_journey, expected_birth_date=expected if born_for_journey is None else None)

    # one referral and what follows ----------------------------------------------------------------

    def refer(self, c: Child, journey: j.Journey, on: date, last_referral: date | None, pre_birth: bool) -> date | None:
        """A referral on ``on`` and the journey after it; returns when the child may next be referred
        (None: not again within the simulation)."""
        rng, end = self.rng, self.p.end
        kind, source = pick(rng, [((a, s), w) for a, s, w in AGENCY_TYPES])
        agency = rng.choice(self.by_type[kind])
        received = self.at(on)
        re_referral = last_referral is not None and last_referral >= add_months(on, -12)
        r = Referral(id=self.uuid(), child=c, agency=agency, received_at=received, re_referral=re_referral,
                     neglect_types=["pre_birth"] if pre_birth else rng.sample(NEGLECT_TYPES, rng.choice([1, 2])))
        self.p.referrals.append(r)
        self.emit("referral.received", received, referral_id=r.id, child_id=c.id, received_at=received.isoformat(),
                  referral_source=source, neglect_types=r.neglect_types, re_referral=re_referral,
                  previous_referral_id=None)
        delay = pick(rng, [(0, 0.55), (1, 0.35), (2, 0.07), (4, 0.03)])
        decided_on = self.add_wd(on, delay) if delay else on
        if decided_on > end:
            return None
        repeat = c.id in self.had_plan
        outcome = pick(rng, [("nfa", 0.07), ("information_advice", 0.06), ("early_help_targeted", 0.10),
                             ("early_help_assessment", 0.04), ("s17_assessment", 0.58),
                             ("strategy_discussion", 1.2 if repeat else 0.12), ("provide_services", 0.03)])
        level = {"nfa": "1", "information_advice": "1", "early_help_targeted": "3", "early_help_assessment": "2b",
                 "s17_assessment": rng.choice(["4", "4", "3"])}.get(outcome, "4")
        r.decided_at = max(received, self.at(decided_on))
        r.outcome, r.level = outcome, level
        r.recommended_level = level if rng.random() < 0.88 else rng.choice(["2b", "3", "4"])
        episode_id = None
        record: EpisodeRecord | None = None
        if outcome not in ("early_help_targeted", "early_help_assessment"):
            e = journey.receive_referral(on, source, end)
            nfa = outcome in ("nfa", "information_advice")
            journey.decide(e, nfa=nfa, primary_need=None if nfa else pick(rng, NEEDS), decided_on=decided_on, today=end)
            episode_id = e.id
            record = EpisodeRecord(child=c, episode=e, referring_agency=agency)
            self.p.episodes.append(record)
        r.episode_id = episode_id
        self.emit("referral.decided", r.decided_at, referral_id=r.id, child_id=c.id, decided_at=r.decided_at.isoformat(),
                  level=level, outcome=outcome, overridden=r.overridden, recommended_level=r.recommended_level,
                  partnership_id="example_partnership_a", ruleset_version="2026.2", referral_source=source,
                  episode_id=episode_id)
        if rng.random() < 0.9:
            sent = self.add_wd(decided_on, pick(rng, [(0, 0.5), (1, 0.4), (3, 0.1)]))
            if sent <= end:
                r.feedback_at = max(r.decided_at, self.at(sent))
                self.emit("referral.feedback_sent", r.feedback_at, referral_id=r.id, child_id=c.id,
                          sent_at=r.feedback_at.isoformat(), on_time=sent <= self.add_wd(decided_on, 1))
        if record is None:
            self.early_help(c, decided_on)
            return on + timedelta(days=rng.randrange(60, 500))
        e = record.episode
        self.emit("episode.opened", received, child_id=c.id, episode_id=e.id, referral_date=on.isoformat(),
                  referral_source=source, nfa=bool(e.nfa), primary_need=e.primary_need)
        if e.nfa:
            self.emit("episode.closed", decided_on, child_id=c.id, episode_id=e.id, date=decided_on.isoformat(),
                      reason=e.reason_for_closure)
            return decided_on + timedelta(days=rng.randrange(20, 600))
        closed = self.statutory(record, journey, decided_on, outcome)
        if closed is None:
            return None
        if c.id in self.had_plan and rng.random() < 0.7:
            return closed + timedelta(days=rng.randrange(14, 240))
        return closed + timedelta(days=rng.randrange(1, 700))

    def statutory(self, rec: EpisodeRecord, journey: j.Journey, decided_on: date, outcome: str) -> date | None:
        """Assessment, s47, plans and closure; returns the closure date (None while still open)."""
        rng, end = self.rng, self.p.end
        e, _c = rec.episode, rec.child
        day = decided_on
        route = "s47" if outcome == "strategy_discussion" else "assessment"
        if route == "assessment":
            start = day + timedelta(days=rng.randrange(0, 4))
            if start > end:
                return None
            a = journey.start_assessment(e, start, end)
            self.ev(rec, "assessment.started", start, assessment_id=a.id)
            length = rng.randrange(5, 44) if rng.random() < 0.85 else rng.randrange(46, 70)
            authorised = self.add_wd(e.referral_date, length)
            authorised = max(authorised, start)
            if authorised > end:
                return None
            neglect = rng.random() < 0.55
            factors = ["16A", *rng.sample(FACTORS, rng.choice([0, 1, 2]))] if neglect else rng.sample(FACTORS, rng.choice([1, 2]))
            if rng.random() < 0.12:
                factors = ["21"]
            journey.authorise_assessment(e, a, authorised, factors, end)
            self.ev(rec, "assessment.authorised", authorised, assessment_id=a.id, factors=factors)
            day = authorised
            after = pick(rng, [("rc8", 0.33), ("rc9", 0.12), ("cin", 0.35), ("s47", 0.20)])
            if factors == ["21"]:
                after = rng.choice(["rc8", "rc9"])
            if after in ("rc8", "rc9"):
                return self.close(rec, journey, day + timedelta(days=rng.randrange(0, 10)), after.upper())
            if after == "cin":
                return self.cin(rec, journey, day + timedelta(days=rng.randrange(0, 14)), stepped_down=False)
        # strategy discussion and s47
        held = day + timedelta(days=rng.randrange(0, 5))
        if held > end:
            return None
        s = journey.start_s47(e, held, end)
        target = self.add_wd(held, 15)
        rec.icpc_targets[s.id] = target
        self.ev(rec, "strategy_discussion.held", held, s47_started=True, s47_id=s.id, icpc_target_date=target.isoformat())
        if rng.random() < (0.75 if rec.child.id in self.had_plan else 0.45):
            icpc = self.workday(self.add_wd(held, rng.choice([5, 8, 10, 12, 14, 15, 15, 18, 22])))
            if icpc > end:
                return None
            journey.hold_icpc(e, s, icpc, end)
            plan = rng.random() < 0.85
            self.ev(rec, "icpc.held", icpc, s47_id=s.id, plan=plan, conference_id=self.uuid())
            if plan:
                return self.cp_plan(rec, journey, icpc)
            day = icpc
        else:
            concluded = self.add_wd(held, rng.randrange(3, 15))
            if concluded > end:
                return None
            journey.conclude_s47_without_icpc(e, s, concluded, end)
            rec.s47_concluded[s.id] = concluded
            self.ev(rec, "s47.concluded", concluded, s47_id=s.id, icpc_required=False)
            day = concluded
        if rng.random() < 0.4:
            return self.cin(rec, journey, day + timedelta(days=rng.randrange(0, 10)), stepped_down=False)
        return self.close(rec, journey, day + timedelta(days=rng.randrange(0, 20)), "RC7")

    def ev(self, rec: EpisodeRecord, event_type: str, on: date, **data: Any) -> None:
        self.emit(event_type, on, child_id=rec.child.id, episode_id=rec.episode.id, date=on.isoformat(), **data)

    def cp_plan(self, rec: EpisodeRecord, journey: j.Journey, start: date) -> date | None:
        rng, end = self.rng, self.p.end
        e = rec.episode
        category = pick(rng, CATEGORIES)
        plan = journey.start_cp_plan(e, start, category, end)
        self.had_plan.add(rec.child.id)
        facts = PlanFacts()
        rec.plan_facts[plan.id] = facts
        self.ev(rec, "cp_plan.started", start, cp_plan_id=plan.id, category=category, previous_plans=plan.previous_plans)
        self.visits(rec, start, statutory=True)
        first_core = self.add_wd(start, rng.choice([5, 8, 10, 10, 12]))
        if first_core <= end:
            self.ev(rec, "core_group.held", first_core, cp_plan_id=plan.id)
        months = pick(rng, [(rng.randrange(1, 3), 0.08), (rng.randrange(3, 6), 0.15), (rng.randrange(6, 12), 0.37),
                            (rng.randrange(12, 24), 0.30), (rng.randrange(24, 34), 0.10)])
        planned_end = add_months(start, months) + timedelta(days=rng.randrange(0, 20))
        if category == "NEG" or rng.random() < 0.2:
            self.toolkits(rec.child, start, planned_end)
        last = start
        due = add_months(start, 3)
        while True:
            if planned_end <= due:
                held = planned_end
            else:
                held = due - timedelta(days=rng.randrange(0, 12)) if rng.random() < 0.9 else due + timedelta(days=rng.randrange(3, 40))
            held = max(held, last + timedelta(days=1))
            if held > end:
                self.visits(rec, last, statutory=True, until=end)
                return None
            ending = held >= planned_end
            latest = plan.latest_category if rng.random() < 0.92 else pick(rng, CATEGORIES)
            journey.review_cp_plan(e, plan, held, end, latest)
            facts.reviews.append((held, plan.latest_category))
            self.ev(rec, "cp_plan.reviewed", held, cp_plan_id=plan.id, latest_category=plan.latest_category,
                    conference_id=self.uuid())
            self.visits(rec, last, statutory=True, until=held)
            last, due = held, add_months(held, 6)
            if ending:
                break
        journey.end_cp_plan(e, plan, last, end)
        facts.step_down = pick(rng, [("cin_plan", 0.45), ("early_help", 0.20), ("none", 0.35)])
        self.ev(rec, "cp_plan.ended", last, cp_plan_id=plan.id, step_down=facts.step_down, latest_category=plan.latest_category)
        if facts.step_down == "cin_plan":
            return self.cin(rec, journey, last, stepped_down=True)
        if facts.step_down == "early_help":
            self.early_help(rec.child, last + timedelta(days=rng.choice([0, 0, 3, 10, 40])))
            return self.close(rec, journey, last, "RC7")
        return self.close(rec, journey, last + timedelta(days=rng.randrange(0, 15)), "RC7")

    def cin(self, rec: EpisodeRecord, journey: j.Journey, start: date, *, stepped_down: bool) -> date | None:
        rng, end = self.rng, self.p.end
        if start > end:
            return None
        plan = journey.start_cin_plan(rec.episode, start, end)
        self.ev(rec, "cin_plan.started", start, cin_plan_id=plan.id, stepped_down=stepped_down)
        finish = add_months(start, rng.randrange(2, 16)) + timedelta(days=rng.randrange(0, 25))
        self.visits(rec, start, statutory=True, until=min(finish, end))
        if finish > end:
            return None
        journey.end_cin_plan(rec.episode, plan, finish, end)
        step = pick(rng, [("none", 0.7), ("early_help", 0.3)])
        rec.cin_step_down[plan.id] = step
        self.ev(rec, "cin_plan.ended", finish, cin_plan_id=plan.id, step_down=step)
        if step == "early_help":
            self.early_help(rec.child, finish)
        return self.close(rec, journey, finish + timedelta(days=rng.randrange(0, 10)), "RC7")

    def close(self, rec: EpisodeRecord, journey: j.Journey, on: date, reason: str) -> date | None:
        if on > self.p.end:
            return None
        journey.close_episode(rec.episode, on, reason, self.p.end)
        self.ev(rec, "episode.closed", on, reason=reason)
        return on

    # practice and engagement ----------------------------------------------------------------------------

    def visits(self, rec: EpisodeRecord, start: date, *, statutory: bool, until: date | None = None) -> None:
        rng = self.rng
        assert self.csc is not None  # noqa: S101
        day = start + timedelta(days=rng.randrange(3, 12))
        stop = min(until or start + timedelta(days=30), self.p.end)
        while day <= stop:
            no_access = rng.random() < 0.06
            seen = not no_access and rng.random() < 0.93
            v = Visit(self.uuid(), rec.child, self.csc, day, statutory, seen, seen and rng.random() < 0.6, no_access)
            self.p.visits.append(v)
            self.emit("visit.recorded", day, child_id=v.child.id, visit_id=v.id, agency_id=v.agency.id,
                      visited_on=day.isoformat(), statutory=statutory, child_seen=v.child_seen,
                      seen_alone=v.seen_alone, no_access=no_access)
            if no_access:
                self.engage(rec.child, v.agency, "no_access_visit", day)
            day += timedelta(days=rng.randrange(25, 45))

    def toolkits(self, c: Child, start: date, until: date) -> None:
        """A GCP2 baseline soon after the plan starts, then re-scores every few months (some with a
        Signs of Safety scale too); now and then an authorised amendment replaces a revision."""
        rng, end = self.rng, min(self.p.end, until)
        tools = [("gcp2", ["physical_care", "care_of_safety", "emotional_care", "developmental_care"], 1, 5)]
        if rng.random() < 0.3:
            tools.append(("signs_of_safety", ["worker", "parent"], 0, 10))
        agency = rng.choice(self.by_type["health_visiting"] + self.by_type["school"])
        for tool, areas, low, high in tools:
            day = start + timedelta(days=rng.randrange(3, 25))
            previous: Toolkit | None = None
            grades = {a: rng.randint(low + (high - low) // 2, high) if tool == "gcp2" else rng.randint(low, (low + high) // 2)
                      for a in areas}
            while day <= end and rng.random() < 0.85:
                if previous is not None:
                    step = -1 if tool == "gcp2" else 1  # towards better care
                    grades = {a: min(high, max(low, g + rng.choice([step, step, 0, 0, -step]))) for a, g in grades.items()}
                record = Toolkit(self.uuid(), c, tool, self.uuid(), day, dict(grades))
                self.toolkit_event(record, agency, previous, None)
                if rng.random() < 0.06 and day + timedelta(days=3) <= end:
                    amended = Toolkit(self.uuid(), c, tool, record.lineage_id, day + timedelta(days=3),
                                      {a: min(high, max(low, g + rng.choice([-1, 1]))) for a, g in grades.items()})
                    record.superseded = True
                    self.toolkit_event(amended, agency, previous, record)
                    record = amended
                previous = record
                day += timedelta(days=rng.randrange(70, 160))

    def toolkit_event(self, t: Toolkit, agency: Agency, previous: Toolkit | None, supersedes: Toolkit | None) -> None:
        self.p.toolkits.append(t)
        authorised = self.at(t.authorised_on)
        self.emit("assessment.authorised", authorised, source="assessment", assessment_id=t.id, child_id=t.child.id,
                  agency_id=agency.id, toolkit_id=t.toolkit_id, toolkit_version="1", lineage_id=t.lineage_id,
                  revision=2 if supersedes else 1, amends_id=supersedes.id if supersedes else None,
                  previous_assessment_id=previous.id if previous else None,
                  window_start_date=(t.authorised_on - timedelta(days=14)).isoformat(),
                  window_end_date=t.authorised_on.isoformat(), area_grades=dict(t.grades),
                  authorised_at=authorised.isoformat(), supersedes_id=supersedes.id if supersedes else None)

    def early_help(self, c: Child, start: date) -> None:
        """An early help episode (one open at a time), led by a partner, closing months later."""
        rng = self.rng
        until = self.early_help_until.get(c.id, start)
        if start > self.p.end or until is None or until > start:
            return
        lead = rng.choice(self.by_type[rng.choice(["early_help", "school", "health_visiting", "voluntary_sector"])])
        record = EarlyHelp(self.uuid(), c, start, lead)
        self.p.early_help.append(record)
        self.emit("early_help.started", start, child_id=c.id, episode_id=record.id, date=start.isoformat(), lead_agency_id=lead.id)
        closes = start + timedelta(days=rng.randrange(60, 300))
        if closes <= self.p.end:
            record.closed = closes
            self.emit("early_help.closed", closes, child_id=c.id, episode_id=record.id, date=closes.isoformat(),
                      reason=rng.choice(["outcomes_met", "family_disengaged", "stepped_up"]))
        self.early_help_until[c.id] = record.closed

    def engage(self, c: Child, agency: Agency, kind: str, on: date) -> None:
        ev = Engagement(self.uuid(), c, agency, kind, on)
        self.p.engagements.append(ev)
        self.emit("engagement.recorded", on, child_id=c.id, engagement_event_id=ev.id, agency_id=agency.id,
                  kind=kind, occurred_on=on.isoformat())

    def non_engagement(self, c: Child, around: date) -> None:
        """Missed appointments and refusals; two within 90 days open a case that moves along the pathway."""
        rng, end = self.rng, self.p.end
        day = around + timedelta(days=rng.randrange(0, 60))
        kinds = [("was_not_brought", 0.6), ("service_declined", 0.2), ("consent_withdrawn", 0.1), ("no_access_visit", 0.1)]
        dates: list[date] = []
        for _ in range(rng.choice([1, 1, 2, 2, 3, 4])):
            if day > end:
                break
            kind = pick(rng, kinds)
            agency = rng.choice(self.by_type[rng.choice(["health_visiting", "gp", "school", "school_nursing"])])
            self.engage(c, agency, kind, day)
            if kind != "consent_withdrawn":
                dates.append(day)
            day += timedelta(days=rng.randrange(5, 80))
        opened = next((b for a, b in itertools.pairwise(dates) if (b - a).days <= 90), None)
        if opened is None:
            return
        case = Case(self.uuid(), c, opened, steps=[(1, "monitoring", opened, None)])
        self.p.cases.append(case)
        self.emit("non_engagement.opened", opened, child_id=c.id, case_id=case.id, opened_on=opened.isoformat(),
                  stage="monitoring", threshold_version="2026.1")
        on, version = opened, 1
        for stage in ("escalation_review", "multi_agency_meeting", "action_plan", "escalated"):
            if rng.random() < 0.45:
                break
            on += timedelta(days=rng.randrange(7, 45))
            if on > end:
                return
            version += 1
            escalation = rng.choice(["step_up", "consult_csc", "strategy_discussion"]) if stage == "escalated" else None
            case.steps.append((version, stage, on, escalation))
            self.emit(f"non_engagement.{stage}", on, child_id=c.id, case_id=case.id, stage=stage, date=on.isoformat(),
                      version=version, escalation=escalation)
            if stage == "escalated":
                break
        if rng.random() < 0.7:
            on += timedelta(days=rng.randrange(20, 120))
            if on <= end:
                version += 1
                case.steps.append((version, "closed", on, None))
                case.closed_on = on
                self.emit("non_engagement.closed", on, child_id=c.id, case_id=case.id, stage="closed", date=on.isoformat(),
                          version=version, reason="engaging", manager_decision=False, chronic_neglect=False)

    # the whole partnership -------------------------------------------------------------------------------

    def run(self, progress: Any = None) -> Iterator[Partnership]:
        """Children one at a time; yields the partnership after each child (its events so far)."""
        self.agencies()
        span = (self.p.end - self.p.start).days
        yield self.p
        for index in range(1, self.n + 1):
            rng = self.rng
            first = self.p.start + timedelta(days=rng.randrange(0, max(1, span - 20)))
            kind = pick(rng, [(a, w) for a, _, w in AGENCY_TYPES])
            c, journey = self.child(index, first, rng.choice(self.by_type[kind]))
            on: date | None = first
            last: date | None = None
            pre_birth = c.expected_birth_date is not None
            while on is not None and on <= self.p.end:
                if pre_birth and c.expected_birth_date is not None and on > (c.birth_date or self.p.end):
                    pre_birth = False
                this = on
                on = self.refer(c, journey, this, last, pre_birth)
                last = this
                pre_birth = False
            if rng.random() < 0.14:
                self.non_engagement(c, first)
            assert not j.census_errors(journey), j.census_errors(journey)  # noqa: S101 - valid by construction
            if progress is not None:
                progress.update(1)
            yield self.p


def generate(children: int, seed: int = 1, start: date = date(2022, 4, 1), end: date = date(2026, 3, 31),
             la_code: str = "919") -> Partnership:
    """The whole partnership in memory (tests, small runs)."""
    gen = Generator(seed, children, start, end, la_code)
    for _p in gen.run():
        pass
    return gen.p


# --- applying the events ---------------------------------------------------------------------------------

async def apply_in_process(partnership_events: Iterator[list[dict[str, Any]]], database_url: str) -> int:
    from services.reporting.domain.calendar import WorkingCalendar as Cal
    from services.reporting.domain.read_model import ReadModel
    from services.reporting.queries.read_model import ReadModelQueries
    from services.reporting.schemas import EventEnvelope
    from shared.db import Database

    db = Database(database_url)
    applied = 0
    try:
        async with db.sessions() as session:
            await ReadModel(ReadModelQueries(session)).ensure_calendar(Cal(load_holidays()))
            await session.commit()
        for batch in partnership_events:
            envelopes = [EventEnvelope.model_validate(e) for e in batch]
            async with db.sessions() as session:
                applied += await ReadModel(ReadModelQueries(session)).receive_many(envelopes)
                await session.commit()
    finally:
        await db.dispose()
    return applied


async def post_all(partnership_events: Iterator[list[dict[str, Any]]], url: str, secret: str) -> int:
    import httpx

    from shared.events import webhook_headers

    sent = 0
    async with httpx.AsyncClient(timeout=30) as client:
        for batch in partnership_events:
            for event in batch:
                body = json.dumps(event, separators=(",", ":")).encode()
                r = await client.post(url, content=body, headers=webhook_headers(secret, event["id"], body))
                if r.status_code == 401:
                    raise SystemExit(f"{url} refused the signature (401): the secret is not the one the reporting "
                                     "service runs with (make run's is var/webhook-secret).")
                r.raise_for_status()
                sent += 1
    return sent


def batches(gen: Generator, size: int) -> Iterator[list[dict[str, Any]]]:
    """The generator's events in batches, dropping them from memory as they go."""
    for p in gen.run(progress=getattr(gen, "progress", None)):
        if len(p.events) >= size:
            out, p.events = p.events, []
            yield out
    if gen.p.events:
        out, gen.p.events = gen.p.events, []
        yield out


def webhook_secret(secret_file: Path) -> str:
    """The secret the running services sign events with: the environment's, else make run's file."""
    if os.environ.get("REPORTING_WEBHOOK_SECRET"):
        return os.environ["REPORTING_WEBHOOK_SECRET"]
    try:
        secret = secret_file.read_text().strip()
    except FileNotFoundError:
        raise SystemExit(f"No webhook secret: {secret_file} does not exist. Start the services once with "
                         "`make run` (it writes var/webhook-secret), or set REPORTING_WEBHOOK_SECRET to the "
                         "reporting service's secret, or pass --secret-file.") from None
    if not secret:
        raise SystemExit(f"No webhook secret: {secret_file} is empty.")
    return secret


def main(argv: list[str] | None = None) -> int:
    from tqdm import tqdm

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--children", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2022, 4, 1), help="first day of the simulation")
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 3, 31), help="the simulation's 'today'")
    parser.add_argument("--la-code", default="919", help="3-digit DfE LA code (used in UPNs)")
    parser.add_argument("--batch", type=int, default=5000, help="events per transaction (in-process) or per flush")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--database-url", help="apply in-process to this reporting database (migrated)")
    target.add_argument("--post", metavar="URL", help="POST signed events to this /v1/events URL")
    target.add_argument("--jsonl", metavar="FILE", help="write the events as JSON lines")
    parser.add_argument("--secret-file", type=Path, default=VAR_DIR / "webhook-secret",
                        help="with --post: the services' webhook secret (default: make run's var/webhook-secret; "
                             "REPORTING_WEBHOOK_SECRET wins when set)")
    args = parser.parse_args(argv)
    secret = webhook_secret(args.secret_file) if args.post else ""

    gen = Generator(args.seed, args.children, args.start, args.end, args.la_code)
    with tqdm(total=args.children, unit="child", desc="synthetic partnership") as bar:
        gen.progress = bar  # type: ignore[attr-defined]
        if args.database_url:
            n = asyncio.run(apply_in_process(batches(gen, args.batch), args.database_url))
        elif args.post:
            n = asyncio.run(post_all(batches(gen, args.batch), args.post, secret))
        else:
            n = 0
            with Path(args.jsonl).open("w", encoding="utf-8") as fh:
                for batch in batches(gen, args.batch):
                    for event in batch:
                        fh.write(json.dumps(event) + "\n")
                        n += 1
    print(f"{n} events for {args.children} children (seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
