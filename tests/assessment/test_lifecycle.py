"""The assessment lifecycle as plain Python: transitions, the four-eyes rule, amendments, completeness."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from services.assessment.domain import lifecycle as lc
from services.assessment.domain.definitions import Definition, read_definition_files
from services.assessment.domain.errors import (
    AmendmentInProgress,
    AssessmentIncomplete,
    AssessmentLocked,
    AuthoriserIsSubmitter,
    IllegalAssessmentTransition,
)
from services.assessment.settings import SHIPPED_TOOLKITS

SHIPPED = {t.id: Definition(t.definition) for t in read_definition_files(SHIPPED_TOOLKITS)}
PRACTITIONER = lc.Actor("hv-system", "practitioner")
MANAGER = lc.Actor("hv-system", "manager")
TODAY = date(2026, 3, 2)


def test_transitions_table() -> None:
    assert lc.next_status(lc.Status.draft, lc.Action.submit) == lc.Status.submitted
    assert lc.next_status(lc.Status.submitted, lc.Action.authorise) == lc.Status.authorised
    assert lc.next_status(lc.Status.submitted, lc.Action.return_to_draft) == lc.Status.draft
    for status, action in [(lc.Status.draft, lc.Action.authorise), (lc.Status.draft, lc.Action.return_to_draft),
                           (lc.Status.submitted, lc.Action.submit), (lc.Status.authorised, lc.Action.submit),
                           (lc.Status.authorised, lc.Action.authorise), (lc.Status.authorised, lc.Action.return_to_draft)]:
        with pytest.raises(IllegalAssessmentTransition) as caught:
            lc.next_status(status, action)
        assert caught.value.extra["rule"] == lc.RULE_TRANSITIONS


def test_only_drafts_are_edited_and_the_message_says_what_to_do() -> None:
    lc.require_draft(lc.Status.draft)
    with pytest.raises(AssessmentLocked, match="amendment"):
        lc.require_draft(lc.Status.authorised)
    with pytest.raises(AssessmentLocked, match="return"):
        lc.require_draft(lc.Status.submitted)


@pytest.mark.parametrize(
    ("submitter", "authoriser", "allowed"),
    [
        (PRACTITIONER, PRACTITIONER, False),
        (PRACTITIONER, MANAGER, True),
        (lc.Actor("hv-system"), lc.Actor("hv-system"), False),
        (lc.Actor("hv-system"), lc.Actor("manager-system"), True),
        # Within one client, only two different named people are four eyes.
        (lc.Actor("hv-system"), lc.Actor("hv-system", "manager"), False),
        (PRACTITIONER, lc.Actor("hv-system"), False),
    ],
)
def test_four_eyes(submitter: lc.Actor, authoriser: lc.Actor, allowed: bool) -> None:
    if allowed:
        lc.check_authoriser(submitter, authoriser)
    else:
        with pytest.raises(AuthoriserIsSubmitter) as caught:
            lc.check_authoriser(submitter, authoriser)
        assert caught.value.extra["rule"] == lc.RULE_FOUR_EYES


def _facts(**overrides: object) -> lc.Completeness:
    values: dict[str, object] = {
        "judged_areas": frozenset(SHIPPED["gcp2"].area_ids), "overall_judgement": "Analysis (test).",
        "window_start": TODAY - timedelta(days=20), "window_end": TODAY - timedelta(days=1),
        "accreditation": "LP-1", "scores": 0, "unexplained_differences": (),
    }
    values.update(overrides)
    return lc.Completeness(**values)  # type: ignore[arg-type]


def test_a_complete_gcp2_has_no_problems() -> None:
    assert lc.submission_problems(SHIPPED["gcp2"], _facts(), TODAY) == []


def test_every_gap_is_listed() -> None:
    facts = _facts(judged_areas=frozenset({"physical_care"}), overall_judgement=" ", window_end=None,
                   accreditation=None, unexplained_differences=("physical_care",))
    fields = [p.field for p in lc.submission_problems(SHIPPED["gcp2"], facts, TODAY)]
    assert fields == ["judgements.care_of_safety", "judgements.emotional_care", "judgements.developmental_care",
                      "overall_judgement", "window_end_date", "assessor.accreditation",
                      "judgements.physical_care.rationale"]
    with pytest.raises(AssessmentIncomplete) as caught:
        lc.check_complete(SHIPPED["gcp2"], facts, TODAY)
    assert len(caught.value.extra["errors"]) == 7


def test_rules_follow_the_tool() -> None:
    screening = SHIPPED["local_neglect_screening"]
    # No licence needed for the local tool: no accreditation asked for.
    facts = _facts(judged_areas=frozenset(screening.area_ids), accreditation=None)
    assert lc.submission_problems(screening, facts, TODAY) == []
    safety = SHIPPED["signs_of_safety"]
    facts = _facts(judged_areas=frozenset(safety.area_ids), accreditation=None, scores=0)
    assert [p.field for p in lc.submission_problems(safety, facts, TODAY)] == ["ratings"]
    future = _facts(window_end=TODAY + timedelta(days=1))
    assert [p.field for p in lc.submission_problems(SHIPPED["gcp2"], future, TODAY)] == ["window_end_date"]


def test_amending() -> None:
    lineage = lc.Lineage()
    with pytest.raises(IllegalAssessmentTransition):
        lineage.amend(1)  # a draft is edited, not amended
    lineage.submit(1, PRACTITIONER)
    assert lineage.authorise(1, MANAGER) is None
    second = lineage.amend(1)
    assert (second.number, second.status) == (2, lc.Status.draft)
    with pytest.raises(AmendmentInProgress):
        lineage.amend(1)
    lineage.submit(2, PRACTITIONER)
    superseded = lineage.authorise(2, MANAGER)
    assert superseded is not None
    assert superseded.number == 1
    assert superseded.superseded
    assert lineage.current() is lineage.revisions[1]
    with pytest.raises(IllegalAssessmentTransition, match="superseded"):
        lineage.amend(1)


# --- Properties -------------------------------------------------------------------------------

ACTORS = st.sampled_from([PRACTITIONER, MANAGER, lc.Actor("other-system"), lc.Actor("hv-system")])


@given(st.sampled_from(list(lc.Status)), st.sampled_from(list(lc.Action)))
def test_a_transition_lands_where_the_table_says_or_nowhere(status: lc.Status, action: lc.Action) -> None:
    try:
        target = lc.next_status(status, action)
    except IllegalAssessmentTransition:
        assert action not in lc.NEXT[status]
    else:
        assert lc.NEXT[status][action] == target
        assert target != lc.Status.authorised or status == lc.Status.submitted


class LineageMachine(RuleBasedStateMachine):
    """Random sequences of everything a client can try; the invariants always hold."""

    @initialize()
    def start(self) -> None:
        self.lineage = lc.Lineage()
        self.authorised_once: set[int] = set()

    def _try(self, fn: object, *args: object) -> bool:
        try:
            fn(*args)  # type: ignore[operator]
        except (IllegalAssessmentTransition, AssessmentLocked, AuthoriserIsSubmitter, AmendmentInProgress):
            return False
        return True

    @rule(data=st.data())
    def edit(self, data: st.DataObject) -> None:
        number = data.draw(st.integers(1, len(self.lineage.revisions)))
        before = self.lineage.revisions[number - 1].status
        assert self._try(self.lineage.edit, number) == (before == lc.Status.draft)

    @rule(data=st.data(), who=ACTORS)
    def submit(self, data: st.DataObject, who: lc.Actor) -> None:
        number = data.draw(st.integers(1, len(self.lineage.revisions)))
        self._try(self.lineage.submit, number, who)

    @rule(data=st.data())
    def send_back(self, data: st.DataObject) -> None:
        number = data.draw(st.integers(1, len(self.lineage.revisions)))
        self._try(self.lineage.return_to_draft, number)

    @rule(data=st.data(), who=ACTORS)
    def authorise(self, data: st.DataObject, who: lc.Actor) -> None:
        number = data.draw(st.integers(1, len(self.lineage.revisions)))
        rev = self.lineage.revisions[number - 1]
        submitter = rev.submitted_by
        if self._try(self.lineage.authorise, number, who):
            assert submitter is not None
            assert not submitter.may_be(who)
            self.authorised_once.add(number)

    @precondition(lambda self: len(self.lineage.revisions) < 6)
    @rule(data=st.data())
    def amend(self, data: st.DataObject) -> None:
        number = data.draw(st.integers(1, len(self.lineage.revisions)))
        count = len(self.lineage.revisions)
        if self._try(self.lineage.amend, number):
            assert len(self.lineage.revisions) == count + 1
            assert self.lineage.revisions[number - 1].status == lc.Status.authorised

    @invariant()
    def authorised_stays_authorised(self) -> None:
        for number in self.authorised_once:
            assert self.lineage.revisions[number - 1].status == lc.Status.authorised

    @invariant()
    def at_most_one_open_revision_and_it_is_the_latest(self) -> None:
        open_ = [r for r in self.lineage.revisions if r.status != lc.Status.authorised]
        assert len(open_) <= 1
        assert not open_ or open_[0] is self.lineage.latest

    @invariant()
    def one_current_revision(self) -> None:
        current = [r for r in self.lineage.revisions if r.status == lc.Status.authorised and not r.superseded]
        assert len(current) <= 1
        superseded = [r.number for r in self.lineage.revisions if r.superseded]
        # Only an earlier revision is superseded, and only by an authorised later one.
        assert all(self.lineage.revisions[n].status == lc.Status.authorised for n in superseded)

    @invariant()
    def authorised_by_someone_else(self) -> None:
        for r in self.lineage.revisions:
            if r.status == lc.Status.authorised:
                assert r.authorised_by is not None
                assert r.submitted_by is not None
                assert not r.authorised_by.may_be(r.submitted_by)


TestLineage = LineageMachine.TestCase
TestLineage.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
