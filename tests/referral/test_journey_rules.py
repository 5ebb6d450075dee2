"""The journey state machine without HTTP: census rules as invariants."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from services.referral.domain.journey import (
    PP_OUTCOMES,
    Episode,
    Journey,
    RuleBroken,
    census_errors,
)

TODAY = date(2026, 11, 26)
D0 = date(2025, 1, 6)  # a Monday


def child() -> Journey:
    return Journey(birth_date=date(2018, 5, 1), expected_birth_date=None)


def test_the_neglect_journey_from_referral_to_closure() -> None:
    j = child()
    e = j.receive_referral(D0, "3B", TODAY)
    j.decide(e, nfa=False, primary_need="N1", decided_on=D0, today=TODAY)
    a = j.start_assessment(e, D0 + timedelta(days=1), TODAY)
    s = j.start_s47(e, D0 + timedelta(days=2), TODAY)
    j.hold_icpc(e, s, D0 + timedelta(days=14), TODAY)  # a Monday
    j.authorise_assessment(e, a, D0 + timedelta(days=14), ["16A", "4B"], TODAY)
    cp = j.start_cp_plan(e, D0 + timedelta(days=14), "NEG", TODAY)
    j.review_cp_plan(e, cp, D0 + timedelta(days=90), TODAY)
    j.review_cp_plan(e, cp, D0 + timedelta(days=270), TODAY)
    j.end_cp_plan(e, cp, D0 + timedelta(days=270), TODAY)
    cin = j.start_cin_plan(e, D0 + timedelta(days=270), TODAY)
    j.end_cin_plan(e, cin, D0 + timedelta(days=400), TODAY)
    j.close_episode(e, D0 + timedelta(days=400), "RC7", TODAY)
    assert census_errors(j) == []
    assert cp.previous_plans == 0


@pytest.mark.parametrize(
    ("setup", "rule"),
    [
        ("cin_while_cp", "4001"),
        ("cp_not_on_icpc", "2885"),
        ("activity_after_closure", "8565"),
        ("two_open_assessments", "8896"),
        ("cp_ends_day_it_starts", "8840"),
        ("second_open_episode", "8815"),
        ("icpc_at_weekend", "8875"),
        ("nfa_then_assessment", "8565"),
        ("rc8_without_assessment", "8825Q"),
        ("factor_21_with_others", "8869"),
    ],
)
def test_illegal_transitions_name_the_rule_and_change_nothing(setup: str, rule: str) -> None:
    j = child()
    e = j.receive_referral(D0, "6", TODAY)
    j.decide(e, nfa=setup == "nfa_then_assessment", primary_need=None if setup == "nfa_then_assessment" else "N1", decided_on=D0, today=TODAY)
    icpc = D0 + timedelta(days=14)
    steps = {
        "cin_while_cp": lambda: (s := j.start_s47(e, D0, TODAY), j.hold_icpc(e, s, icpc, TODAY), j.start_cp_plan(e, icpc, "NEG", TODAY)),
        "cp_not_on_icpc": lambda: (s := j.start_s47(e, D0, TODAY), j.hold_icpc(e, s, icpc, TODAY)),
        "cp_ends_day_it_starts": lambda: (s := j.start_s47(e, D0, TODAY), j.hold_icpc(e, s, icpc, TODAY), j.start_cp_plan(e, icpc, "NEG", TODAY)),
        "two_open_assessments": lambda: j.start_assessment(e, D0, TODAY),
        "activity_after_closure": lambda: (a := j.start_assessment(e, D0, TODAY), j.authorise_assessment(e, a, D0 + timedelta(days=5), ["16A"], TODAY), j.close_episode(e, D0 + timedelta(days=6), "RC8", TODAY)),
        "factor_21_with_others": lambda: j.start_assessment(e, D0, TODAY),
    }
    if setup in steps:
        steps[setup]()
    before = copy.deepcopy(j)
    attempts = {
        "cin_while_cp": lambda: j.start_cin_plan(e, icpc + timedelta(days=1), TODAY),
        "cp_not_on_icpc": lambda: j.start_cp_plan(e, icpc + timedelta(days=1), "NEG", TODAY),
        "activity_after_closure": lambda: j.start_assessment(e, D0 + timedelta(days=7), TODAY),
        "two_open_assessments": lambda: j.start_assessment(e, D0 + timedelta(days=1), TODAY),
        "cp_ends_day_it_starts": lambda: j.end_cp_plan(e, e.cp_plans[0], icpc, TODAY),
        "second_open_episode": lambda: j.receive_referral(D0 + timedelta(days=3), "6", TODAY),
        "icpc_at_weekend": lambda: (s := j.start_s47(e, D0, TODAY), j.hold_icpc(e, s, date(2025, 1, 11), TODAY)),
        "nfa_then_assessment": lambda: j.start_assessment(e, D0, TODAY),
        "rc8_without_assessment": lambda: j.close_episode(e, D0 + timedelta(days=1), "RC8", TODAY),
        "factor_21_with_others": lambda: j.authorise_assessment(e, e.assessments[0], D0 + timedelta(days=3), ["21", "16A"], TODAY),
    }
    with pytest.raises(RuleBroken) as err:
        attempts[setup]()
    assert err.value.rule == rule
    if setup != "icpc_at_weekend":  # its s47 was started inside the attempt, before the refused step
        assert j == before


def open_episode(j: Journey, on: date = D0) -> Episode:
    e = j.receive_referral(on, "3B", TODAY)
    j.decide(e, nfa=False, primary_need="N1", decided_on=on, today=TODAY)
    return e


MONDAY = D0 + timedelta(days=7)


def test_transfer_in_conference_starts_the_plan_at_episode_level() -> None:
    j = child()
    earlier = open_episode(j)
    s = j.start_s47(earlier, D0, TODAY)
    j.hold_icpc(earlier, s, MONDAY, TODAY)
    first = j.start_cp_plan(earlier, MONDAY, "NEG", TODAY)
    j.end_cp_plan(earlier, first, MONDAY + timedelta(days=100), TODAY)
    j.close_episode(earlier, MONDAY + timedelta(days=100), "RC5", TODAY)  # moved away
    # Back a year later on another authority's plan: a new episode, a transfer-in conference.
    e = open_episode(j, date(2026, 2, 2))
    plan = j.hold_transfer_in(e, date(2026, 2, 9), "NEG", TODAY)
    assert (e.icpc_date, plan.start_date, plan.previous_plans, e.s47s) == (date(2026, 2, 9), date(2026, 2, 9), 1, [])
    j.review_cp_plan(e, plan, date(2026, 5, 4), TODAY)
    j.end_cp_plan(e, plan, date(2026, 8, 3), TODAY)
    with pytest.raises(RuleBroken) as err:  # the conference made its one plan
        j.start_cp_plan(e, date(2026, 2, 9), "NEG", TODAY)
    assert err.value.rule == "2883"
    j.close_episode(e, date(2026, 8, 3), "RC7", TODAY)
    assert census_errors(j) == []


def test_2884_an_s47_conference_bars_a_transfer_in() -> None:
    j = child()
    e = open_episode(j)
    s = j.start_s47(e, D0, TODAY)
    j.hold_icpc(e, s, MONDAY, TODAY)
    before = copy.deepcopy(j)
    with pytest.raises(RuleBroken) as err:
        j.hold_transfer_in(e, MONDAY + timedelta(days=7), "NEG", TODAY)
    assert err.value.rule == "2884"
    assert j == before


def test_2884_a_transfer_in_bars_an_s47_conference() -> None:
    j = child()
    e = open_episode(j)
    plan = j.hold_transfer_in(e, MONDAY, "NEG", TODAY)
    j.end_cp_plan(e, plan, MONDAY + timedelta(days=60), TODAY)
    april = date(2025, 4, 7)  # a Monday, in the next census year
    s = j.start_s47(e, april, TODAY)  # new concerns: an s47 may run ...
    before = copy.deepcopy(j)
    with pytest.raises(RuleBroken) as err:  # ... but its conference cannot sit beside the episode's
        j.hold_icpc(e, s, april + timedelta(days=7), TODAY)
    assert err.value.rule == "2884"
    assert j == before
    j.conclude_s47_without_icpc(e, s, april + timedelta(days=7), TODAY)
    assert census_errors(j) == []


def test_2885_no_s47_beside_a_transfer_in_in_its_census_year() -> None:
    """The census matches a plan starting in the year to an s47 conference whenever the episode
    returns an s47 without ICPCnotRequired: an s47 open on 31 March would leave the plan unmatched."""
    j = child()
    e = open_episode(j)
    plan = j.hold_transfer_in(e, MONDAY, "NEG", TODAY)
    j.end_cp_plan(e, plan, MONDAY + timedelta(days=14), TODAY)
    before = copy.deepcopy(j)
    with pytest.raises(RuleBroken) as err:
        j.start_s47(e, date(2025, 3, 31), TODAY)
    assert (err.value.rule, j) == ("2885", before)
    j.start_s47(e, date(2025, 4, 1), TODAY)
    # The other way round: an s47 of the year, open (or concluded, but perhaps after 31 March), bars a transfer-in.
    j2 = child()
    e2 = open_episode(j2)
    s = j2.start_s47(e2, D0, TODAY)
    for concluded in (False, True):
        if concluded:
            j2.conclude_s47_without_icpc(e2, s, D0, TODAY)
        with pytest.raises(RuleBroken) as err:
            j2.hold_transfer_in(e2, MONDAY, "NEG", TODAY)
        assert err.value.rule == "2885"
    # Recorded within the year, the conclusion is known to fall before 31 March.
    j2.hold_transfer_in(e2, MONDAY, "NEG", today=MONDAY)
    assert census_errors(j2) == []


END = MONDAY + timedelta(days=7)


def _cin_after_cin_same_day(j: Journey, e: Episode) -> Callable[[], object]:
    j.end_cin_plan(e, j.start_cin_plan(e, MONDAY, TODAY), END, TODAY)
    return lambda: j.start_cin_plan(e, END, TODAY)


def _cp_after_cp_same_day(j: Journey, e: Episode) -> Callable[[], object]:
    s = j.start_s47(e, D0, TODAY)
    j.hold_icpc(e, s, MONDAY, TODAY)
    j.end_cp_plan(e, j.start_cp_plan(e, MONDAY, "NEG", TODAY), END, TODAY)
    s = j.start_s47(e, MONDAY + timedelta(days=1), TODAY)
    j.hold_icpc(e, s, END, TODAY)
    return lambda: j.start_cp_plan(e, END, "NEG", TODAY)


def _cp_on_cin_start(j: Journey, e: Episode) -> Callable[[], object]:
    j.end_cin_plan(e, j.start_cin_plan(e, MONDAY, TODAY), MONDAY, TODAY)
    return lambda: j.hold_transfer_in(e, MONDAY, "NEG", TODAY)


def _s47_on_icpc_day(j: Journey, e: Episode) -> Callable[[], object]:
    j.hold_icpc(e, j.start_s47(e, D0, TODAY), MONDAY, TODAY)
    return lambda: j.start_s47(e, MONDAY, TODAY)


def _referral_same_day(j: Journey, e: Episode) -> Callable[[], object]:
    j.close_episode(e, D0, "RC1", TODAY)
    return lambda: j.receive_referral(D0, "3B", TODAY)


def _transfer_in_on_an_s47_conference_day(j: Journey, e: Episode) -> Callable[[], object]:
    j.hold_icpc(e, j.start_s47(e, D0, TODAY), MONDAY, TODAY)  # no plan
    j.close_episode(e, MONDAY, "RC1", TODAY)
    later = open_episode(j, MONDAY)
    return lambda: j.hold_transfer_in(later, MONDAY, "NEG", TODAY)


@pytest.mark.parametrize(
    ("make", "rule"),
    [
        # Same-day edges the DfE rules read as overlaps: the end day is a day of the plan or episode.
        (_cin_after_cin_same_day, "4014"),
        (_cp_after_cp_same_day, "8940"),
        (_cp_on_cin_start, "4016"),
        (_s47_on_icpc_day, "8890"),
        (_referral_same_day, "8820"),  # two episodes referred the same day: no latest one either (8816)
        # The DfE rule compares the child's conference dates across episodes.
        (_transfer_in_on_an_s47_conference_day, "2884"),
    ],
)
def test_same_day_edges_the_census_rejects(make: Callable[[Journey, Episode], Callable[[], object]], rule: str) -> None:
    j = child()
    attempt = make(j, open_episode(j))
    assert census_errors(j) == []
    before = copy.deepcopy(j)
    with pytest.raises(RuleBroken) as err:
        attempt()
    assert (err.value.rule, j) == (rule, before)


@pytest.mark.parametrize(
    ("setup", "held", "rule"),
    [
        ("none", date(2025, 1, 11), "8875"),  # a Saturday
        ("none", D0 - timedelta(days=7), "1104"),
        ("none", date(2999, 1, 4), "future-date"),
        ("transfer_in", MONDAY + timedelta(days=14), "icpc-recorded"),
        ("cin_plan", MONDAY, "4001"),
        ("closed", MONDAY, "8565"),
    ],
)
def test_transfer_in_refusals_name_the_rule_and_change_nothing(setup: str, held: date, rule: str) -> None:
    j = child()
    e = open_episode(j)
    if setup == "transfer_in":
        plan = j.hold_transfer_in(e, MONDAY, "NEG", TODAY)
        j.end_cp_plan(e, plan, MONDAY + timedelta(days=7), TODAY)
    elif setup == "cin_plan":
        j.start_cin_plan(e, D0, TODAY)
    elif setup == "closed":
        a = j.start_assessment(e, D0, TODAY)
        j.authorise_assessment(e, a, D0, ["16A"], TODAY)
        j.close_episode(e, D0, "RC8", TODAY)
    before = copy.deepcopy(j)
    with pytest.raises(RuleBroken) as err:
        j.hold_transfer_in(e, held, "NEG", TODAY)
    assert err.value.rule == rule
    assert j == before


@pytest.mark.parametrize(
    ("break_it", "rule"),
    [
        (lambda e: setattr(e.s47s[0], "icpc_date", MONDAY), "2884"),
        (lambda e: setattr(e.cp_plans[0], "start_date", MONDAY + timedelta(days=1)), "2885"),
        (lambda e: e.cp_plans.append(copy.deepcopy(e.cp_plans[0])), "2883"),
        (lambda e: setattr(e, "icpc_date", date(2025, 1, 11)), "1104/8875"),
    ],
)
def test_census_check_sees_episode_level_conferences(break_it: Callable[[Episode], object], rule: str) -> None:
    j = child()
    e = open_episode(j)
    j.start_s47(e, D0, TODAY)
    j.conclude_s47_without_icpc(e, e.s47s[0], D0, TODAY)
    j.hold_transfer_in(e, MONDAY, "NEG", today=MONDAY)  # recorded that day: the s47 concluded within the year (2885)
    assert census_errors(j) == []
    break_it(e)
    assert rule in census_errors(j)


def test_pre_proceedings_from_start_to_court_application() -> None:
    j = child()
    e = open_episode(j)
    pp = j.start_pre_proceedings(e, D0 + timedelta(days=10), TODAY)
    j.send_letter_before_proceedings(e, pp, D0 + timedelta(days=10), TODAY)
    j.record_pp_meeting(e, pp, D0 + timedelta(days=20), TODAY)
    j.record_fgdm(e, pp, offered=True, held=False)
    j.record_fgdm(e, pp, offered=True, held=True)
    j.decide_pre_proceedings(e, pp, D0 + timedelta(days=60), "continue_pre_proceedings", TODAY)
    assert pp.is_open
    j.record_pp_meeting(e, pp, D0 + timedelta(days=90), TODAY)
    j.record_pp_meeting(e, pp, D0 + timedelta(days=70), TODAY)
    assert pp.meeting_dates == [D0 + timedelta(days=20), D0 + timedelta(days=70), D0 + timedelta(days=90)]
    j.decide_pre_proceedings(e, pp, D0 + timedelta(days=100), "proceedings_issued", TODAY,
                             court_application=D0 + timedelta(days=104))
    assert not pp.is_open
    j.close_episode(e, D0 + timedelta(days=104), "RC7", TODAY)
    assert census_errors(j) == []


def _pp(j: Journey, e: Episode) -> None:
    j.start_pre_proceedings(e, D0 + timedelta(days=10), TODAY)


def _pp_met_and_wrote(j: Journey, e: Episode) -> None:
    _pp(j, e)
    j.record_pp_meeting(e, e.pre_proceedings[0], D0 + timedelta(days=20), TODAY)
    j.send_letter_before_proceedings(e, e.pre_proceedings[0], D0 + timedelta(days=10), TODAY)


def _pp_decided(j: Journey, e: Episode) -> None:
    j.start_pre_proceedings(e, D0 + timedelta(days=10), TODAY)
    j.decide_pre_proceedings(e, e.pre_proceedings[0], D0 + timedelta(days=30), "pre_proceedings_ended_no_proceedings", TODAY)


PP_ATTEMPTS: list[tuple[Callable[[Journey, Episode], object] | None, Callable[[Journey, Episode], object], str]] = [
    (None, lambda j, e: j.start_pre_proceedings(e, D0 - timedelta(days=1), TODAY), "PP-dates"),
    (None, lambda j, e: j.start_pre_proceedings(e, date(2999, 1, 1), TODAY), "future-date"),
    (_pp, lambda j, e: j.start_pre_proceedings(e, D0 + timedelta(days=11), TODAY), "PP-one-open"),
    (_pp_decided, lambda j, e: j.start_pre_proceedings(e, D0 + timedelta(days=29), TODAY), "PP-dates"),
    (_pp, lambda j, e: j.send_letter_before_proceedings(e, e.pre_proceedings[0], D0 + timedelta(days=9), TODAY), "PP-dates"),
    (_pp, lambda j, e: j.record_pp_meeting(e, e.pre_proceedings[0], D0 + timedelta(days=9), TODAY), "PP-dates"),
    (_pp, lambda j, e: j.decide_pre_proceedings(e, e.pre_proceedings[0], D0 + timedelta(days=9), "other", TODAY), "PP-dates"),
    (_pp_met_and_wrote, lambda j, e: j.decide_pre_proceedings(e, e.pre_proceedings[0], D0 + timedelta(days=19), "other", TODAY), "PP-dates"),
    (_pp_met_and_wrote, lambda j, e: j.record_pp_meeting(e, e.pre_proceedings[0], D0 + timedelta(days=20), TODAY), "PP-meeting-recorded"),
    (_pp_met_and_wrote, lambda j, e: j.send_letter_before_proceedings(e, e.pre_proceedings[0], D0 + timedelta(days=11), TODAY), "PP-letter-sent"),
    (_pp, lambda j, e: j.record_fgdm(e, e.pre_proceedings[0], offered=False, held=True), "PP-fgdm"),
    (_pp, lambda j, e: j.decide_pre_proceedings(e, e.pre_proceedings[0], D0 + timedelta(days=30), "other", TODAY,
                                                court_application=D0 + timedelta(days=31)), "PP-court"),
    (_pp, lambda j, e: j.decide_pre_proceedings(e, e.pre_proceedings[0], D0 + timedelta(days=30), "proceedings_issued", TODAY,
                                                court_application=D0 + timedelta(days=29)), "PP-court"),
    (_pp_decided, lambda j, e: j.record_pp_meeting(e, e.pre_proceedings[0], D0 + timedelta(days=40), TODAY), "PP-decided"),
    (_pp_decided, lambda j, e: j.record_fgdm(e, e.pre_proceedings[0], offered=True, held=False), "PP-decided"),
    (_pp, lambda j, e: j.close_episode(e, D0 + timedelta(days=40), "RC7", TODAY), "INV-17"),
    (_pp_decided, lambda j, e: j.close_episode(e, D0 + timedelta(days=29), "RC7", TODAY), "8565"),
]


@pytest.mark.parametrize(("setup", "attempt", "rule"), PP_ATTEMPTS)
def test_pre_proceedings_refusals_name_the_rule_and_change_nothing(
    setup: Callable[[Journey, Episode], object] | None, attempt: Callable[[Journey, Episode], object], rule: str
) -> None:
    j = child()
    e = open_episode(j)
    if setup:
        setup(j, e)
    before = copy.deepcopy(j)
    with pytest.raises(RuleBroken) as err:
        attempt(j, e)
    assert err.value.rule == rule
    assert j == before


def test_census_check_sees_broken_pre_proceedings() -> None:
    j = child()
    e = open_episode(j)
    _pp_decided(j, e)
    assert census_errors(j) == []
    pp = e.pre_proceedings[0]
    pp.fgdm_held = True
    pp.court_application_date = D0
    pp.meeting_dates = [D0 + timedelta(days=31)]
    e.pre_proceedings.append(copy.deepcopy(pp))
    e.pre_proceedings[-1].outcome = None  # open, yet with a decision date
    e.closure_date, e.reason_for_closure = D0 + timedelta(days=40), "RC7"
    assert {"PP-fgdm", "PP-court", "PP-dates", "PP-outcome", "INV-17"} <= set(census_errors(j))


GAPS = st.one_of(st.just(0), st.integers(0, 5), st.integers(0, 120))


class JourneyMachine(RuleBasedStateMachine):
    """Random sequences of transitions on one child, checked by the independent census check."""

    def __init__(self) -> None:
        super().__init__()
        self.j = child()
        self.day = D0

    @property
    def e(self) -> Episode | None:
        return self.j.open_episode()

    def attempt(self, gap: int, change: Callable[[Episode | None, date], object], weekday: bool = False) -> None:
        self.day = min(self.day + timedelta(days=gap), TODAY)
        if weekday and self.day.weekday() >= 5:  # conferences: mostly try a working day, move on to Monday
            self.day = min(self.day + timedelta(days=7 - self.day.weekday()), TODAY)
        before = copy.deepcopy(self.j)
        try:
            change(self.e, self.day)
        except RuleBroken:
            assert self.j == before, "a refused transition changed the journey"

    @rule(gap=GAPS)
    def referral(self, gap: int) -> None:
        self.attempt(gap, lambda e, d: self.j.receive_referral(d, "3B", TODAY))

    @precondition(lambda self: self.e is not None)
    @rule(gap=GAPS, nfa=st.booleans())
    def decide(self, gap: int, nfa: bool) -> None:
        self.attempt(gap, lambda e, d: self.j.decide(e, nfa=nfa, primary_need=None if nfa else "N1", decided_on=d, today=TODAY))

    @precondition(lambda self: self.e is not None)
    @rule(gap=GAPS)
    def assessment(self, gap: int) -> None:
        self.attempt(gap, lambda e, d: self.j.start_assessment(e, d, TODAY))

    @precondition(lambda self: self.e is not None and bool(self.e.assessments))
    @rule(gap=GAPS, factors=st.sampled_from([["16A"], ["21"], ["16A", "4B"], ["21", "16A"], []]))
    def authorise(self, gap: int, factors: list[str]) -> None:
        self.attempt(gap, lambda e, d: self.j.authorise_assessment(e, e.assessments[-1], d, factors, TODAY))

    @precondition(lambda self: self.e is not None)
    @rule(gap=GAPS)
    def s47(self, gap: int) -> None:
        self.attempt(gap, lambda e, d: self.j.start_s47(e, d, TODAY))

    @precondition(lambda self: self.e is not None and bool(self.e.s47s))
    @rule(gap=GAPS, held=st.booleans(), weekday=st.booleans())
    def conclude_s47(self, gap: int, held: bool, weekday: bool) -> None:
        def change(e: Episode, d: date) -> None:
            if held:
                self.j.hold_icpc(e, e.s47s[-1], d, TODAY)
            else:
                self.j.conclude_s47_without_icpc(e, e.s47s[-1], d, TODAY)
        self.attempt(gap, change, weekday)  # type: ignore[arg-type]

    @precondition(lambda self: self.e is not None)
    @rule(gap=GAPS, on_icpc=st.booleans())
    def cp_plan(self, gap: int, on_icpc: bool) -> None:
        def change(e: Episode, d: date) -> None:
            icpcs = e.icpc_dates()
            self.j.start_cp_plan(e, icpcs[-1] if on_icpc and icpcs else d, "NEG", TODAY)
        self.attempt(gap, change)  # type: ignore[arg-type]

    @precondition(lambda self: self.e is not None)
    @rule(gap=GAPS, weekday=st.booleans())
    def transfer_in(self, gap: int, weekday: bool) -> None:
        self.attempt(gap, lambda e, d: self.j.hold_transfer_in(e, d, "NEG", TODAY), weekday)  # type: ignore[arg-type]

    @precondition(lambda self: self.e is not None and not any(pp.is_open for pp in self.e.pre_proceedings))
    @rule(gap=GAPS)
    def pre_proceedings(self, gap: int) -> None:
        self.attempt(gap, lambda e, d: self.j.start_pre_proceedings(e, d, TODAY))  # type: ignore[arg-type]

    @precondition(lambda self: self.e is not None and bool(self.e.pre_proceedings))
    @rule(gap=GAPS, step=st.sampled_from(["meeting", "letter", "fgdm", "decide"]), flags=st.tuples(st.booleans(), st.booleans()),
          outcome=st.sampled_from(PP_OUTCOMES), court=st.one_of(st.none(), st.integers(-3, 10)))
    def pre_proceedings_step(self, gap: int, step: str, flags: tuple[bool, bool], outcome: str, court: int | None) -> None:
        def change(e: Episode, d: date) -> None:
            pp = e.pre_proceedings[-1]
            if step == "meeting":
                self.j.record_pp_meeting(e, pp, d, TODAY)
            elif step == "letter":
                self.j.send_letter_before_proceedings(e, pp, d, TODAY)
            elif step == "fgdm":
                self.j.record_fgdm(e, pp, offered=flags[0], held=flags[1])
            else:
                court_date = None if court is None else min(d + timedelta(days=court), TODAY)
                self.j.decide_pre_proceedings(e, pp, d, outcome, TODAY, court_date)
        self.attempt(gap, change)  # type: ignore[arg-type]

    @precondition(lambda self: self.e is not None and bool(self.e.cp_plans))
    @rule(gap=GAPS, end=st.booleans())
    def review_or_end_cp(self, gap: int, end: bool) -> None:
        def change(e: Episode, d: date) -> None:
            plan = e.cp_plans[-1]
            (self.j.end_cp_plan if end else self.j.review_cp_plan)(e, plan, d, TODAY)
        self.attempt(gap, change)  # type: ignore[arg-type]

    @precondition(lambda self: self.e is not None)
    @rule(gap=GAPS, end=st.booleans())
    def cin_plan(self, gap: int, end: bool) -> None:
        def change(e: Episode, d: date) -> None:
            if end and e.cin_plans:
                self.j.end_cin_plan(e, e.cin_plans[-1], d, TODAY)
            else:
                self.j.start_cin_plan(e, d, TODAY)
        self.attempt(gap, change)  # type: ignore[arg-type]

    @precondition(lambda self: self.e is not None)
    @rule(gap=GAPS, reason=st.sampled_from(["RC7", "RC8", "RC9", "RC2", "RC5"]))
    def close(self, gap: int, reason: str) -> None:
        self.attempt(gap, lambda e, d: self.j.close_episode(e, d, reason, TODAY))

    @precondition(lambda self: self.j.death_date is None)  # once is enough: it ends the plan activity
    @rule(gap=GAPS)
    def death(self, gap: int) -> None:
        self.attempt(gap, lambda e, d: self.j.record_death(d, TODAY))

    @invariant()
    def census_accepts_the_journey(self) -> None:
        assert census_errors(self.j) == []


JourneyMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
TestRandomJourneys = JourneyMachine.TestCase
