"""The child's statutory journey as a state machine whose invariants are the
DfE children in need census validation rules (DOMAIN.md §3.2).

Plain Python: a :class:`Journey` holds one child's episodes and everything in
them; each transition checks its preconditions and raises :class:`RuleBroken`
naming the census rule, so the API refuses what the census would reject and
the census export is valid by construction. :func:`census_errors` re-checks a
whole journey independently; the property tests drive random transitions and
require it to stay empty.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from shared.errors import IllegalTransition

NO_FACTORS = "21"
CLOSED_AFTER_ASSESSMENT = ("RC8", "RC9")
PRE_BIRTH_WINDOW = timedelta(weeks=40)


class RuleBroken(IllegalTransition):
    """A change the census would reject. ``rule`` is the DfE rule (or our invariant) it breaks."""

    slug, title = "census-rule", "The change breaks a children in need census rule"

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail, rule=rule)
        self.rule = rule


def _new_id() -> uuid.UUID:
    return uuid.uuid4()


@dataclass
class Assessment:
    start_date: date
    id: uuid.UUID = field(default_factory=_new_id)
    authorised_date: date | None = None
    factors: tuple[str, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.authorised_date is None


@dataclass
class Section47:
    start_date: date
    id: uuid.UUID = field(default_factory=_new_id)
    icpc_date: date | None = None
    icpc_not_required: bool = False

    @property
    def is_open(self) -> bool:
        return self.icpc_date is None and not self.icpc_not_required


@dataclass
class CpPlan:
    start_date: date
    initial_category: str
    latest_category: str
    previous_plans: int
    id: uuid.UUID = field(default_factory=_new_id)
    end_date: date | None = None
    review_dates: list[date] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.end_date is None


@dataclass
class CinPlan:
    start_date: date
    id: uuid.UUID = field(default_factory=_new_id)
    end_date: date | None = None

    @property
    def is_open(self) -> bool:
        return self.end_date is None


@dataclass
class Episode:
    referral_date: date
    referral_source: str
    id: uuid.UUID = field(default_factory=_new_id)
    nfa: bool | None = None  # None until the threshold decision
    primary_need: str | None = None
    closure_date: date | None = None
    reason_for_closure: str | None = None
    assessments: list[Assessment] = field(default_factory=list)
    s47s: list[Section47] = field(default_factory=list)
    cin_plans: list[CinPlan] = field(default_factory=list)
    cp_plans: list[CpPlan] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.closure_date is None

    def activity_dates(self) -> Iterable[date]:
        for a in self.assessments:
            yield a.start_date
            if a.authorised_date:
                yield a.authorised_date
        for s in self.s47s:
            yield s.start_date
            if s.icpc_date:
                yield s.icpc_date
        for p in self.cin_plans:
            yield p.start_date
            if p.end_date:
                yield p.end_date
        for c in self.cp_plans:
            yield c.start_date
            if c.end_date:
                yield c.end_date
            yield from c.review_dates


@dataclass
class Journey:
    birth_date: date | None
    expected_birth_date: date | None
    death_date: date | None = None
    episodes: list[Episode] = field(default_factory=list)

    # --- look-ups -------------------------------------------------------------

    def episode(self, episode_id: uuid.UUID) -> Episode:
        for e in self.episodes:
            if e.id == episode_id:
                return e
        raise KeyError(episode_id)

    def open_episode(self) -> Episode | None:
        return next((e for e in self.episodes if e.is_open), None)

    def previous_cp_plans(self) -> int:
        return sum(len(e.cp_plans) for e in self.episodes)

    # --- guards ---------------------------------------------------------------

    @staticmethod
    def _not_future(when: date, today: date, what: str) -> None:
        if when > today:
            raise RuleBroken("future-date", f"The {what} date {when} is in the future.")

    @staticmethod
    def _active(e: Episode, what: str) -> None:
        if not e.is_open:
            raise RuleBroken("8565", f"The episode closed on {e.closure_date}; no {what} can be added after closure.")

    @staticmethod
    def _decided_for_action(e: Episode, what: str, rule: str) -> None:
        if e.nfa is None:
            raise RuleBroken("8610", f"Record the threshold decision (with a primary need) before any {what}.")
        if e.nfa:
            raise RuleBroken(rule, f"An NFA referral carries no {what}.")

    def _alive_on(self, when: date, what: str, rule: str = "8915") -> None:
        if self.death_date is not None and when > self.death_date:
            raise RuleBroken(rule, f"No {what} after the child's death on {self.death_date}.")

    # --- transitions ------------------------------------------------------------

    def receive_referral(self, referral_date: date, source: str, today: date) -> Episode:
        self._not_future(referral_date, today, "referral")
        if (current := self.open_episode()) is not None:
            raise RuleBroken("8815", f"The child already has an open episode from {current.referral_date}; a new concern is added to it.")
        anchor = self.birth_date or self.expected_birth_date
        if anchor is not None and referral_date < anchor - PRE_BIRTH_WINDOW:
            raise RuleBroken("8606", "A referral may be at most 40 weeks before the (expected) birth date.")
        for e in self.episodes:
            if e.closure_date is not None and referral_date < e.closure_date:
                raise RuleBroken("8820", f"Episodes may not overlap: the previous one closed on {e.closure_date}.")
        episode = Episode(referral_date=referral_date, referral_source=source)
        self.episodes.append(episode)
        return episode

    def decide(self, e: Episode, *, nfa: bool, primary_need: str | None, decided_on: date, today: date) -> None:
        """Record the threshold decision. An NFA referral closes at once and stays bare."""
        self._active(e, "decision")
        self._not_future(decided_on, today, "decision")
        if e.nfa is not None:
            raise RuleBroken("decision-recorded", "This referral already has a threshold decision.")
        if decided_on < e.referral_date:
            raise RuleBroken("8630", "The decision cannot come before the referral.")
        if not nfa and primary_need is None:
            raise RuleBroken("8610", "A referral that leads to further action needs a primary need code.")
        e.nfa = nfa
        e.primary_need = primary_need or ("N0" if nfa else None)
        if nfa:
            e.closure_date, e.reason_for_closure = decided_on, "RC7"

    def start_assessment(self, e: Episode, start: date, today: date) -> Assessment:
        self._active(e, "assessment")
        self._not_future(start, today, "assessment start")
        self._decided_for_action(e, "assessment", "8831")
        if start < e.referral_date:
            raise RuleBroken("1103", "An assessment cannot start before the referral date.")
        if any(a.is_open for a in e.assessments):
            raise RuleBroken("8896", "The episode already has an open assessment; authorise it first.")
        if any(a.authorised_date and start < a.authorised_date for a in e.assessments):
            raise RuleBroken("8863Q", "Assessments may not overlap: start after the previous one was authorised.")
        self._alive_on(start, "assessment")
        assessment = Assessment(start_date=start)
        e.assessments.append(assessment)
        return assessment

    def authorise_assessment(self, e: Episode, a: Assessment, authorised: date, factors: list[str], today: date) -> None:
        self._active(e, "assessment authorisation")
        self._not_future(authorised, today, "authorisation")
        if not a.is_open:
            raise RuleBroken("assessment-authorised", "This assessment is already authorised; amend it instead.")
        if authorised < a.start_date:
            raise RuleBroken("8614", "Authorisation cannot come before the assessment started.")
        if not factors:
            raise RuleBroken("8614", "A completed assessment records at least one factor (21 for none).")
        if len(set(factors)) != len(factors):
            raise RuleBroken("8898", "Assessment factors may not repeat.")
        if NO_FACTORS in factors and len(factors) > 1:
            raise RuleBroken("8869", "Factor 21 (no factors identified) stands alone.")
        a.authorised_date, a.factors = authorised, tuple(factors)

    def start_s47(self, e: Episode, start: date, today: date) -> Section47:
        self._active(e, "s47 enquiry")
        self._not_future(start, today, "s47 start")
        self._decided_for_action(e, "s47 enquiry", "8832")
        if start < e.referral_date:
            raise RuleBroken("2889", "An s47 enquiry cannot start before the referral date.")
        if any(s.is_open for s in e.s47s):
            raise RuleBroken("8839", "The episode already has an open s47 enquiry.")
        self._alive_on(start, "s47 enquiry")
        s47 = Section47(start_date=start)
        e.s47s.append(s47)
        return s47

    def hold_icpc(self, e: Episode, s: Section47, held: date, today: date) -> None:
        self._active(e, "conference")
        self._not_future(held, today, "conference")
        if not s.is_open:
            raise RuleBroken("8839", "This s47 enquiry is already concluded.")
        if held < s.start_date:
            raise RuleBroken("8615", "The initial conference cannot come before the s47 started.")
        if held.weekday() >= 5:
            raise RuleBroken("8875", "An initial child protection conference is not held at a weekend.")
        s.icpc_date = held

    def conclude_s47_without_icpc(self, e: Episode, s: Section47, concluded: date, today: date) -> None:
        self._active(e, "s47 outcome")
        self._not_future(concluded, today, "s47 outcome")
        if not s.is_open:
            raise RuleBroken("8839", "This s47 enquiry is already concluded.")
        if concluded < s.start_date:
            raise RuleBroken("8615", "The s47 cannot conclude before it started.")
        s.icpc_not_required = True

    def start_cp_plan(self, e: Episode, start: date, category: str, today: date) -> CpPlan:
        self._active(e, "child protection plan")
        self._not_future(start, today, "plan start")
        self._decided_for_action(e, "child protection plan", "4000")
        if e.reason_for_closure in CLOSED_AFTER_ASSESSMENT:
            raise RuleBroken("2990", "No plan in an episode closed after assessment.")
        icpc_dates = [s.icpc_date for s in e.s47s if s.icpc_date is not None]
        if start not in icpc_dates:
            raise RuleBroken("2885", "A child protection plan starts on the date of its initial conference.")
        if len(e.cp_plans) >= len(icpc_dates):
            raise RuleBroken("2883", "Every plan needs its own initial conference.")
        if any(p.is_open for ep in self.episodes for p in ep.cp_plans):
            raise RuleBroken("8935", "The child already has an open child protection plan.")
        if any(p.end_date and start < p.end_date for ep in self.episodes for p in ep.cp_plans):
            raise RuleBroken("8940", "Child protection plans may not overlap.")
        if any(p.is_open for p in e.cin_plans):
            raise RuleBroken("4001", "End the child in need plan before a child protection plan starts.")
        if any(p.end_date and start < p.end_date for p in e.cin_plans):
            raise RuleBroken("4017", "A child protection plan may not overlap a child in need plan.")
        self._alive_on(start, "plan")
        plan = CpPlan(start_date=start, initial_category=category, latest_category=category,
                      previous_plans=self.previous_cp_plans())
        e.cp_plans.append(plan)
        return plan

    def review_cp_plan(self, e: Episode, p: CpPlan, held: date, today: date, latest_category: str | None = None) -> None:
        self._active(e, "review")
        self._not_future(held, today, "review")
        if not p.is_open:
            raise RuleBroken("8841", "Reviews belong to an open plan.")
        if held <= p.start_date:
            raise RuleBroken("8841", "A review comes after the plan started.")
        if p.review_dates and held <= p.review_dates[-1]:
            raise RuleBroken("8841", "Reviews are recorded in date order, one per day at most.")
        self._alive_on(held, "review", "8920")
        p.review_dates.append(held)
        if latest_category:
            p.latest_category = latest_category

    def end_cp_plan(self, e: Episode, p: CpPlan, ended: date, today: date) -> None:
        self._active(e, "plan end")
        self._not_future(ended, today, "plan end")
        if not p.is_open:
            raise RuleBroken("8925", "This plan has already ended.")
        if ended <= p.start_date:
            raise RuleBroken("8840", "A child protection plan cannot end on or before the day it starts.")
        if p.review_dates and ended < p.review_dates[-1]:
            raise RuleBroken("8841", "A plan cannot end before its last review.")
        p.end_date = ended

    def start_cin_plan(self, e: Episode, start: date, today: date) -> CinPlan:
        self._active(e, "child in need plan")
        self._not_future(start, today, "plan start")
        self._decided_for_action(e, "child in need plan", "4000")
        if e.reason_for_closure in CLOSED_AFTER_ASSESSMENT:
            raise RuleBroken("2990", "No plan in an episode closed after assessment.")
        if start < e.referral_date:
            raise RuleBroken("4015", "A child in need plan cannot start before the referral date.")
        if any(p.is_open for ep in self.episodes for p in ep.cp_plans):
            raise RuleBroken("4001", "A child in need plan cannot be open while a child protection plan is open: end it first (step-down).")
        if any(p.end_date and start < p.end_date for ep in self.episodes for p in ep.cp_plans):
            raise RuleBroken("4016", "A child in need plan starts on or after the child protection plan ended.")
        if any(p.is_open for p in e.cin_plans):
            raise RuleBroken("4004", "The child already has an open child in need plan.")
        if any(p.end_date and start < p.end_date for p in e.cin_plans):
            raise RuleBroken("4014", "Child in need plans may not overlap.")
        self._alive_on(start, "plan", "4008")
        plan = CinPlan(start_date=start)
        e.cin_plans.append(plan)
        return plan

    def end_cin_plan(self, e: Episode, p: CinPlan, ended: date, today: date) -> None:
        self._active(e, "plan end")
        self._not_future(ended, today, "plan end")
        if not p.is_open:
            raise RuleBroken("4011", "This plan has already ended.")
        if ended < p.start_date:
            raise RuleBroken("4011", "A plan cannot end before it starts.")
        p.end_date = ended

    def close_episode(self, e: Episode, closed: date, reason: str, today: date) -> None:
        self._active(e, "closure")
        self._not_future(closed, today, "closure")
        if closed < e.referral_date:
            raise RuleBroken("8630", "An episode cannot close before its referral date.")
        if any(d > closed for d in e.activity_dates()):
            raise RuleBroken("8565", "Nothing in the episode may be dated after its closure.")
        if any(a.is_open for a in e.assessments):
            raise RuleBroken("8867", "Authorise the open assessment before closing.")
        if any(s.is_open for s in e.s47s):
            raise RuleBroken("8868", "Conclude the open s47 enquiry (conference or not required) before closing.")
        if any(p.is_open for p in e.cp_plans) or any(p.is_open for p in e.cin_plans):
            raise RuleBroken("INV-17", "End the open plan before closing the episode.")
        if reason in CLOSED_AFTER_ASSESSMENT:
            if not e.assessments:
                raise RuleBroken("8825Q", f"{reason} means closed after assessment: the episode has none.")
            if e.s47s or e.cp_plans or e.cin_plans:
                raise RuleBroken("2990", f"An episode closed {reason} carries no s47 or plan.")
        if reason == "RC2" and self.death_date is None:
            raise RuleBroken("8585Q", "Record the child's death before closing with RC2 (died).")
        if e.nfa is None:
            raise RuleBroken("8610", "Record the threshold decision before closing.")
        e.closure_date, e.reason_for_closure = closed, reason

    def record_death(self, died: date, today: date) -> None:
        self._not_future(died, today, "death")
        if self.birth_date and died < self.birth_date:
            raise RuleBroken("8535Q", "The date of death cannot come before birth.")
        for e in self.episodes:
            plan_dates = [d for d in e.activity_dates() if e.cp_plans or e.cin_plans]
            if any(d > died for d in plan_dates):
                raise RuleBroken("8915", "Activity is recorded after this date of death.")
        self.death_date = died


def census_errors(j: Journey) -> list[str]:
    """Every census rule the journey breaks, checked on the whole state (independent of the transitions)."""
    errors: list[str] = []
    open_eps = [e for e in j.episodes if e.is_open and not e.nfa]
    if len(open_eps) > 1:
        errors.append("8815")
    ordered = sorted(j.episodes, key=lambda e: e.referral_date)
    for prev, nxt in itertools.pairwise(ordered):
        if prev.closure_date is None or nxt.referral_date < prev.closure_date:
            errors.append("8820")
    all_cp = sorted((p for e in j.episodes for p in e.cp_plans), key=lambda p: p.start_date)
    if sum(p.is_open for p in all_cp) > 1:
        errors.append("8935")
    for earlier, later in itertools.pairwise(all_cp):
        if earlier.end_date is None or later.start_date < earlier.end_date:
            errors.append("8940")
    for e in j.episodes:
        if (e.closure_date is None) != (e.reason_for_closure is None):
            errors.append("8805")
        if e.closure_date and e.closure_date < e.referral_date:
            errors.append("8630")
        if e.closure_date and any(d > e.closure_date for d in e.activity_dates()):
            errors.append("8565")
        if e.nfa and (e.assessments or e.s47s or e.cin_plans or e.cp_plans):
            errors.append("8831")
        if e.nfa is False and e.primary_need is None:
            errors.append("8610")
        if e.reason_for_closure in CLOSED_AFTER_ASSESSMENT and (e.s47s or e.cp_plans or e.cin_plans):
            errors.append("2990")
        if not e.is_open and (any(a.is_open for a in e.assessments) or any(s.is_open for s in e.s47s)):
            errors.append("8867")
        if sum(a.is_open for a in e.assessments) > 1:
            errors.append("8896")
        if sum(s.is_open for s in e.s47s) > 1:
            errors.append("8839")
        for a in e.assessments:
            if a.start_date < e.referral_date:
                errors.append("1103")
            if a.authorised_date is not None:
                if not a.factors or len(set(a.factors)) != len(a.factors):
                    errors.append("8898")
                if NO_FACTORS in a.factors and len(a.factors) > 1:
                    errors.append("8869")
            elif a.factors:
                errors.append("8614")
        icpcs = [s.icpc_date for s in e.s47s if s.icpc_date]
        for s in e.s47s:
            if s.start_date < e.referral_date:
                errors.append("2889")
            if s.icpc_date and (s.icpc_date < s.start_date or s.icpc_date.weekday() >= 5):
                errors.append("8615/8875")
        if len(e.cp_plans) > len(icpcs):
            errors.append("2883")
        for p in e.cp_plans:
            if p.start_date not in icpcs:
                errors.append("2885")
            if p.end_date is not None and p.end_date <= p.start_date:
                errors.append("8840")
            if any(r <= p.start_date for r in p.review_dates):
                errors.append("8841")
            for c in e.cin_plans:
                if _overlap(p.start_date, p.end_date, c.start_date, c.end_date):
                    errors.append("4001")
        cins = sorted(e.cin_plans, key=lambda c: c.start_date)
        if sum(c.is_open for c in cins) > 1:
            errors.append("4004")
        for first, second in itertools.pairwise(cins):
            if first.end_date is None or second.start_date < first.end_date:
                errors.append("4014")
        for c in cins:
            if c.start_date < e.referral_date:
                errors.append("4015")
            if c.end_date and c.end_date < c.start_date:
                errors.append("4011")
    return errors


def _overlap(a_start: date, a_end: date | None, b_start: date, b_end: date | None) -> bool:
    """Half-open periods [start, end): a plan ending on a day and another starting that day do not overlap."""
    a_stop = a_end or date.max
    b_stop = b_end or date.max
    return a_start < b_stop and b_start < a_stop
