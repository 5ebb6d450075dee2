"""The journey state machine without HTTP: census rules as invariants."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from services.referral.domain.journey import Episode, Journey, RuleBroken, census_errors

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

    def attempt(self, gap: int, change: Callable[[Episode | None, date], object]) -> None:
        self.day = min(self.day + timedelta(days=gap), TODAY)
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
    @rule(gap=GAPS, held=st.booleans())
    def conclude_s47(self, gap: int, held: bool) -> None:
        def change(e: Episode, d: date) -> None:
            if held:
                self.j.hold_icpc(e, e.s47s[-1], d, TODAY)
            else:
                self.j.conclude_s47_without_icpc(e, e.s47s[-1], d, TODAY)
        self.attempt(gap, change)  # type: ignore[arg-type]

    @precondition(lambda self: self.e is not None)
    @rule(gap=GAPS, on_icpc=st.booleans())
    def cp_plan(self, gap: int, on_icpc: bool) -> None:
        def change(e: Episode, d: date) -> None:
            icpcs = [s.icpc_date for s in e.s47s if s.icpc_date]
            self.j.start_cp_plan(e, icpcs[-1] if on_icpc and icpcs else d, "NEG", TODAY)
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

    @rule(gap=GAPS)
    def death(self, gap: int) -> None:
        self.attempt(gap, lambda e, d: self.j.record_death(d, TODAY))

    @invariant()
    def census_accepts_the_journey(self) -> None:
        assert census_errors(self.j) == []


JourneyMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
TestRandomJourneys = JourneyMachine.TestCase
