"""The child's statutory journey as a state machine whose invariants are the
DfE children in need census validation rules (DOMAIN.md §3.2).

Plain Python: a :class:`Journey` holds one child's episodes and everything in
them; each transition checks its preconditions and raises :class:`RuleBroken`
naming the census rule, so the API refuses what the census would reject and
the census export is valid by construction. :func:`census_errors` re-checks a
whole journey independently; the property tests drive random transitions and
require it to stay empty.

Where the census has no rule number (pre-proceedings, from 2025-26) the rules are
our own and named ``PP-...``; they restate what the census fields imply.
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

#: Our own pre-proceedings outcome slugs, NOT the DfE PPOutcome codes: the 2025-26 census
#: code list is not in our reference data. Map these to the census codes when the
#: 2025-26 specification is confirmed (verify); never invent DfE codes here.
PP_ISSUED = "proceedings_issued"
PP_CONTINUE = "continue_pre_proceedings"
PP_OUTCOMES = (PP_ISSUED, "pre_proceedings_ended_no_proceedings", PP_CONTINUE, "other")


class RuleBroken(IllegalTransition):
    """A change the census would reject. ``rule`` is the DfE rule (or our invariant) it breaks."""

    slug, title = "census-rule", "The change breaks a children in need census rule"

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail, rule=rule)
        self.rule = rule


def census_year(day: date) -> int:
    """The collection year a date falls in, by the year it starts (1 April to 31 March)."""
    return day.year if day.month >= 4 else day.year - 1


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
    #: The latest end of a plan before this one, here or elsewhere (the repeat-plan measure's gap).
    previous_plan_end_date: date | None = None

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
class PreProceedings:
    """Pre-proceedings under the Public Law Outline (census PreProceedingsandFGDM, 2025-26 on).

    A decision ends the record unless it is to continue pre-proceedings: then the record
    stays open and a later decision replaces it (both stay in the chronology and events).
    ``outcome`` is one of our :data:`PP_OUTCOMES`, not a DfE code.
    """

    start_date: date
    id: uuid.UUID = field(default_factory=_new_id)
    letter_before_proceedings_sent: date | None = None
    fgdm_offered: bool = False
    fgdm_held: bool = False
    meeting_dates: list[date] = field(default_factory=list)
    decision_date: date | None = None
    outcome: str | None = None
    court_application_date: date | None = None

    @property
    def is_open(self) -> bool:
        return self.outcome is None or self.outcome == PP_CONTINUE

    def dates(self) -> Iterable[date]:
        yield self.start_date
        if self.letter_before_proceedings_sent:
            yield self.letter_before_proceedings_sent
        yield from self.meeting_dates
        if self.decision_date:
            yield self.decision_date
        if self.court_application_date:
            yield self.court_application_date


@dataclass
class Episode:
    referral_date: date
    referral_source: str
    id: uuid.UUID = field(default_factory=_new_id)
    nfa: bool | None = None  # None until the threshold decision
    primary_need: str | None = None
    closure_date: date | None = None
    reason_for_closure: str | None = None
    #: Episode-level DateOfInitialCPC (CINdetails): set by a transfer-in conference, never beside an s47 one [2884].
    icpc_date: date | None = None
    assessments: list[Assessment] = field(default_factory=list)
    s47s: list[Section47] = field(default_factory=list)
    cin_plans: list[CinPlan] = field(default_factory=list)
    cp_plans: list[CpPlan] = field(default_factory=list)
    pre_proceedings: list[PreProceedings] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.closure_date is None

    def icpc_dates(self) -> list[date]:
        """Every initial conference date in the episode, s47 level and episode level."""
        dates = [s.icpc_date for s in self.s47s if s.icpc_date is not None]
        return [*dates, self.icpc_date] if self.icpc_date is not None else dates

    def activity_dates(self) -> Iterable[date]:
        if self.icpc_date:
            yield self.icpc_date
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
        for pp in self.pre_proceedings:
            yield from pp.dates()


@dataclass(frozen=True)
class PlansElsewhere:
    """Child protection plans the child was subject to in other local authorities (a transfer-in,
    or a child who moved here): how many, and when the latest ended. Counted in each plan's
    NumberOfPreviousCPP here and in the repeat-plan measure."""

    count: int = 0
    latest_end_date: date | None = None


@dataclass
class Journey:
    birth_date: date | None
    expected_birth_date: date | None
    death_date: date | None = None
    episodes: list[Episode] = field(default_factory=list)
    plans_elsewhere: PlansElsewhere = field(default_factory=PlansElsewhere)

    # --- look-ups -------------------------------------------------------------

    def episode(self, episode_id: uuid.UUID) -> Episode:
        for e in self.episodes:
            if e.id == episode_id:
                return e
        raise KeyError(episode_id)

    def open_episode(self) -> Episode | None:
        return next((e for e in self.episodes if e.is_open), None)

    def previous_cp_plans(self) -> int:
        """NumberOfPreviousCPP for a plan starting now: the plans here and elsewhere before it."""
        return sum(len(e.cp_plans) for e in self.episodes) + self.plans_elsewhere.count

    def latest_previous_plan_end(self) -> date | None:
        ends = [p.end_date for e in self.episodes for p in e.cp_plans if p.end_date is not None]
        if self.plans_elsewhere.latest_end_date is not None:
            ends.append(self.plans_elsewhere.latest_end_date)
        return max(ends, default=None)

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
            if referral_date <= e.referral_date:
                # Two episodes referred the same day overlap for the census (8820) and leave it no latest one (8816).
                raise RuleBroken("8820", f"A new episode starts after the previous referral date ({e.referral_date}).")
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
        if any(s.icpc_date is not None and start <= s.icpc_date for s in e.s47s):
            raise RuleBroken("8890", "An s47 enquiry starts after the previous one's initial conference.")
        if e.icpc_date is not None and census_year(start) == census_year(e.icpc_date):
            # The census matches a plan that starts in the year to an s47 conference whenever the
            # episode returns an s47 without ICPCnotRequired, and this one could be open on 31 March.
            raise RuleBroken("2885", f"The episode's plan started at a transfer-in conference ({e.icpc_date}): no s47 "
                                     "enquiry in it until the next census year (from 1 April), or the census would "
                                     "match that plan to the s47 instead of the transfer-in.")
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
        if e.icpc_date is not None:
            raise RuleBroken("2884", f"The episode's initial conference date ({e.icpc_date}, a transfer-in) is held at "
                                     "episode level: an s47 in the same episode cannot carry one too.")
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
        icpc_dates = e.icpc_dates()
        if start not in icpc_dates:
            raise RuleBroken("2885", "A child protection plan starts on the date of its initial conference.")
        if len(e.cp_plans) >= len(icpc_dates):
            raise RuleBroken("2883", "Every plan needs its own initial conference.")
        self._plan_may_start(e, start)
        return self._add_cp_plan(e, start, category)

    def _plan_may_start(self, e: Episode, start: date) -> None:
        if any(p.is_open for ep in self.episodes for p in ep.cp_plans):
            raise RuleBroken("8935", "The child already has an open child protection plan.")
        if any(p.end_date and start <= p.end_date for ep in self.episodes for p in ep.cp_plans):
            # The census counts the end day as a day of the plan: the next one starts the day after.
            raise RuleBroken("8940", "Child protection plans may not overlap: start after the previous one ended.")
        if any(c.start_date >= start for ep in self.episodes for c in ep.cin_plans):
            raise RuleBroken("4016", "A child in need plan started on or after this date: the child protection plan "
                                     "would be open when it started.")
        if any(p.is_open for p in e.cin_plans):
            raise RuleBroken("4001", "End the child in need plan before a child protection plan starts.")
        if any(p.end_date and start < p.end_date for p in e.cin_plans):
            raise RuleBroken("4017", "A child protection plan may not overlap a child in need plan.")
        self._alive_on(start, "plan")

    def _add_cp_plan(self, e: Episode, start: date, category: str) -> CpPlan:
        elsewhere = self.plans_elsewhere.latest_end_date
        if elsewhere is not None and start < elsewhere:
            raise RuleBroken("8940", f"Child protection plans may not overlap: the child's previous plan elsewhere "
                                     f"ended on {elsewhere}.")
        plan = CpPlan(start_date=start, initial_category=category, latest_category=category,
                      previous_plans=self.previous_cp_plans(), previous_plan_end_date=self.latest_previous_plan_end())
        e.cp_plans.append(plan)
        return plan

    def hold_transfer_in(self, e: Episode, held: date, category: str, today: date) -> CpPlan:
        """A child arriving from another local authority on a child protection plan: the transfer-in
        conference is the episode's initial conference (census DateOfInitialCPC at CINdetails level)
        and starts the plan here on the same day."""
        self._active(e, "conference")
        self._not_future(held, today, "conference")
        self._decided_for_action(e, "child protection plan", "4000")
        if held < e.referral_date:
            raise RuleBroken("1104", "The initial conference cannot come before the referral date.")
        if held.weekday() >= 5:
            raise RuleBroken("8875", "An initial child protection conference is not held at a weekend.")
        if e.icpc_date is not None:
            raise RuleBroken("icpc-recorded", f"This episode already has its transfer-in conference ({e.icpc_date}).")
        if any(s.icpc_date is not None for s in e.s47s):
            raise RuleBroken("2884", "An s47 enquiry in this episode already has its initial conference: the date sits "
                                     "at s47 level or episode level, not both.")
        if any(s.icpc_date == held for ep in self.episodes for s in ep.s47s):
            raise RuleBroken("2884", f"An initial conference on {held} is already recorded in an s47 enquiry of the child's.")
        # An s47 of the same census year is returned without ICPCnotRequired unless it concluded by 31 March;
        # one concluded by today did so when today is still in that year (the journey keeps no conclusion date).
        if any(census_year(s.start_date) == census_year(held) and (s.is_open or census_year(today) != census_year(held))
               for s in e.s47s):
            raise RuleBroken("2885", "An s47 enquiry of this census year in this episode is (or was on 31 March) open: "
                                     "the census would match the plan to it, not to a transfer-in conference.")
        self._plan_may_start(e, held)
        e.icpc_date = held
        return self._add_cp_plan(e, held, category)

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
        if any(p.end_date and start <= p.end_date for ep in self.episodes for p in ep.cin_plans):
            # The census counts the end day as a day of the plan: the next one starts the day after.
            raise RuleBroken("4014", "Child in need plans may not overlap: start after the previous one ended.")
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
        if any(pp.is_open for pp in e.pre_proceedings):
            raise RuleBroken("INV-17", "Record the decision that ends pre-proceedings before closing the episode.")
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

    # --- pre-proceedings (our own rules PP-...: the census has none numbered yet) -----------

    def _pp_on(self, e: Episode, when: date, today: date, what: str, since: date | None = None) -> None:
        self._not_future(when, today, what)
        if when < e.referral_date:
            raise RuleBroken("PP-dates", f"The {what} date cannot come before the referral ({e.referral_date}).")
        if since is not None and when < since:
            raise RuleBroken("PP-dates", f"The {what} date cannot come before pre-proceedings started ({since}).")

    def _pp_open(self, e: Episode, pp: PreProceedings, what: str) -> None:
        self._active(e, what)
        if not pp.is_open:
            raise RuleBroken("PP-decided", f"Pre-proceedings ended on {pp.decision_date} ({pp.outcome}); start a new record instead.")

    def start_pre_proceedings(self, e: Episode, start: date, today: date) -> PreProceedings:
        self._active(e, "pre-proceedings")
        self._decided_for_action(e, "pre-proceedings", "INV-05")
        self._pp_on(e, start, today, "pre-proceedings start")
        if any(pp.is_open for pp in e.pre_proceedings):
            raise RuleBroken("PP-one-open", "The episode already has open pre-proceedings; record their decision first.")
        if any(pp.decision_date and start < pp.decision_date for pp in e.pre_proceedings):
            raise RuleBroken("PP-dates", "Pre-proceedings may not overlap: start on or after the previous decision.")
        pp = PreProceedings(start_date=start)
        e.pre_proceedings.append(pp)
        return pp

    def record_pp_meeting(self, e: Episode, pp: PreProceedings, held: date, today: date) -> None:
        self._pp_open(e, pp, "pre-proceedings meeting")
        self._pp_on(e, held, today, "meeting", pp.start_date)
        if held in pp.meeting_dates:
            raise RuleBroken("PP-meeting-recorded", f"A pre-proceedings meeting on {held} is already recorded.")
        pp.meeting_dates = sorted([*pp.meeting_dates, held])

    def send_letter_before_proceedings(self, e: Episode, pp: PreProceedings, sent: date, today: date) -> None:
        self._pp_open(e, pp, "letter before proceedings")
        self._pp_on(e, sent, today, "letter before proceedings", pp.start_date)
        if pp.letter_before_proceedings_sent is not None:
            raise RuleBroken("PP-letter-sent", f"The letter before proceedings was sent on {pp.letter_before_proceedings_sent}.")
        pp.letter_before_proceedings_sent = sent

    def record_fgdm(self, e: Episode, pp: PreProceedings, *, offered: bool, held: bool) -> None:
        """Family group decision making: offered, and held (only if offered)."""
        self._pp_open(e, pp, "family group decision making")
        if held and not offered:
            raise RuleBroken("PP-fgdm", "A family group decision making meeting is held only once offered.")
        pp.fgdm_offered, pp.fgdm_held = offered, held

    def decide_pre_proceedings(self, e: Episode, pp: PreProceedings, decided: date, outcome: str, today: date,
                               court_application: date | None = None) -> None:
        """The step decision. ``continue_pre_proceedings`` keeps the record open; any other outcome ends it."""
        if outcome not in PP_OUTCOMES:
            raise ValueError(f"unknown pre-proceedings outcome {outcome!r}")
        self._pp_open(e, pp, "pre-proceedings decision")
        self._pp_on(e, decided, today, "decision", pp.start_date)
        recorded = [*pp.meeting_dates, pp.letter_before_proceedings_sent, pp.decision_date]
        if any(d is not None and decided < d for d in recorded):
            raise RuleBroken("PP-dates", "The decision cannot come before the letter, meetings or decision already recorded.")
        if court_application is not None:
            if outcome != PP_ISSUED:
                raise RuleBroken("PP-court", f"A court application belongs to the outcome {PP_ISSUED}.")
            self._not_future(court_application, today, "court application")
            if court_application < decided:
                raise RuleBroken("PP-court", "The court application cannot come before the decision to issue proceedings.")
        pp.decision_date, pp.outcome, pp.court_application_date = decided, outcome, court_application

    def record_plans_elsewhere(self, history: PlansElsewhere, today: date) -> None:
        """Record (or correct) the child's child protection plans in other authorities. It counts
        for plans that start after it is recorded; each plan keeps the count it started with."""
        end = history.latest_end_date
        if history.count < 0:
            raise RuleBroken("cp-history", "The number of previous plans elsewhere is not negative.")
        if (history.count == 0) != (end is None):
            raise RuleBroken("cp-history", "Give the latest end date exactly when there were previous plans elsewhere.")
        if end is not None:
            self._not_future(end, today, "previous plan end")
            if self.death_date is not None and end > self.death_date:
                raise RuleBroken("8915", f"No plan after the child's death on {self.death_date}.")
            for e in self.episodes:
                for p in e.cp_plans:
                    if p.start_date < end and (p.end_date is None or end < p.end_date):
                        raise RuleBroken("8940", f"A plan elsewhere cannot end during the plan here from {p.start_date}: "
                                                 "child protection plans may not overlap.")
        self.plans_elsewhere = history

    def record_birth(self, born: date, today: date) -> None:
        """An unborn child is born: the birth date replaces the expected date."""
        self._not_future(born, today, "birth")
        if self.birth_date is not None:
            raise RuleBroken("born", "The birth is already recorded.")
        if any(e.referral_date < born - PRE_BIRTH_WINDOW for e in self.episodes):
            raise RuleBroken("8606", "A referral of the child would be more than 40 weeks before this birth date.")
        self.birth_date, self.expected_birth_date = born, None

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
        if prev.closure_date is None or nxt.referral_date < prev.closure_date or nxt.referral_date == prev.referral_date:
            errors.append("8820")
    anchor = j.birth_date or j.expected_birth_date
    if anchor is not None and any(e.referral_date < anchor - PRE_BIRTH_WINDOW for e in j.episodes):
        errors.append("8606")
    all_cin = sorted((c for e in j.episodes for c in e.cin_plans), key=lambda c: c.start_date)
    for first, second in itertools.pairwise(all_cin):
        if first.end_date is None or second.start_date <= first.end_date:
            errors.append("4014")
    all_cp = sorted((p for e in j.episodes for p in e.cp_plans), key=lambda p: p.start_date)
    if sum(p.is_open for p in all_cp) > 1:
        errors.append("8935")
    for earlier, later in itertools.pairwise(all_cp):
        if earlier.end_date is None or later.start_date <= earlier.end_date:
            errors.append("8940")
    for p in all_cp:
        if any(c.start_date >= p.start_date and (p.end_date is None or c.start_date < p.end_date)
               for e in j.episodes for c in e.cin_plans):
            errors.append("4016")
    for e in j.episodes:
        if (e.closure_date is None) != (e.reason_for_closure is None):
            errors.append("8805")
        if e.closure_date and e.closure_date < e.referral_date:
            errors.append("8630")
        if e.closure_date and any(d > e.closure_date for d in e.activity_dates()):
            errors.append("8565")
        if e.nfa and (e.assessments or e.s47s or e.cin_plans or e.cp_plans or e.icpc_date or e.pre_proceedings):
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
        icpcs = e.icpc_dates()
        for s_before, s_after in itertools.pairwise(sorted(e.s47s, key=lambda s: s.start_date)):
            if s_before.icpc_date is not None and s_after.start_date <= s_before.icpc_date:
                errors.append("8890")
        for s in e.s47s:
            if s.start_date < e.referral_date:
                errors.append("2889")
            if s.icpc_date and (s.icpc_date < s.start_date or s.icpc_date.weekday() >= 5):
                errors.append("8615/8875")
        if e.icpc_date is not None:
            if any(s.icpc_date for s in e.s47s) or any(s.icpc_date == e.icpc_date for ep in j.episodes for s in ep.s47s):
                errors.append("2884")
            if any(s.is_open and census_year(s.start_date) == census_year(e.icpc_date) for s in e.s47s):
                errors.append("2885")
            if e.icpc_date < e.referral_date or e.icpc_date.weekday() >= 5:
                errors.append("1104/8875")
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
        for c in cins:
            if c.start_date < e.referral_date:
                errors.append("4015")
            if c.end_date and c.end_date < c.start_date:
                errors.append("4011")
        errors += _pre_proceedings_errors(e)
    return errors


def _pre_proceedings_errors(e: Episode) -> list[str]:
    """Our own pre-proceedings rules (PP-...), and tidy closure (INV-17)."""
    errors: list[str] = []
    records = sorted(e.pre_proceedings, key=lambda pp: pp.start_date)
    if sum(pp.is_open for pp in records) > 1:
        errors.append("PP-one-open")
    if not e.is_open and any(pp.is_open for pp in records):
        errors.append("INV-17")
    for earlier, later in itertools.pairwise(records):
        if earlier.is_open or earlier.decision_date is None or later.start_date < earlier.decision_date:
            errors.append("PP-dates")
    for pp in records:
        steps = [*pp.meeting_dates, pp.letter_before_proceedings_sent]
        if pp.start_date < e.referral_date or any(d is not None and d < pp.start_date for d in [*steps, pp.decision_date]):
            errors.append("PP-dates")
        if pp.decision_date and not pp.is_open and any(d is not None and d > pp.decision_date for d in steps):
            errors.append("PP-dates")
        if (pp.decision_date is None) != (pp.outcome is None) or (pp.outcome and pp.outcome not in PP_OUTCOMES):
            errors.append("PP-outcome")
        if pp.court_application_date and (pp.outcome != PP_ISSUED or pp.decision_date is None
                                          or pp.court_application_date < pp.decision_date):
            errors.append("PP-court")
        if pp.fgdm_held and not pp.fgdm_offered:
            errors.append("PP-fgdm")
    return errors


def _overlap(a_start: date, a_end: date | None, b_start: date, b_end: date | None) -> bool:
    """Half-open periods [start, end): a plan ending on a day and another starting that day do not overlap."""
    a_stop = a_end or date.max
    b_stop = b_end or date.max
    return a_start < b_stop and b_start < a_stop
