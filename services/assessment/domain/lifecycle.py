"""The assessment lifecycle: draft -> submitted -> authorised, amend with history.

Plain Python, no database: the rules here are what the API enforces, and the
property tests drive them directly.

- Only a draft is edited (ratings, judgements, targets, its details).
- Submitting needs a complete assessment (every mandatory area judged, the
  overall analysis written, the window closed, the assessor's accreditation
  where the tool needs a licence).
- A submitted assessment is authorised, or returned to draft with a reason.
- Authorising is a second person's act: the authoriser may not be the
  submitter. People are told apart by client and acting user (the `act` claim a
  partner system asks for at the token endpoint): another client is always
  someone else; within one client only two different named acting users are,
  since a client that named nobody may have been anyone. This is the "four
  eyes" rule chosen instead of a manager flag in tokens, which partner systems
  do not carry.
- An authorised assessment is final. It is changed only by an amendment: a new
  draft revision in the same lineage, copied from it. The earlier revision
  stays readable as it was; when the amendment is authorised the earlier one
  is marked superseded. One open amendment per lineage, made from its latest
  revision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from services.assessment.domain.definitions import Definition, Problem
from services.assessment.domain.errors import (
    AmendmentInProgress,
    AssessmentIncomplete,
    AssessmentLocked,
    AuthoriserIsSubmitter,
    IllegalAssessmentTransition,
    InvalidDates,
)


class Status(StrEnum):
    draft = "draft"
    submitted = "submitted"
    authorised = "authorised"


class Action(StrEnum):
    submit = "submit"
    authorise = "authorise"
    return_to_draft = "return"


NEXT: dict[Status, dict[Action, Status]] = {
    Status.draft: {Action.submit: Status.submitted},
    Status.submitted: {Action.authorise: Status.authorised, Action.return_to_draft: Status.draft},
    Status.authorised: {},
}

RULE_DRAFT_ONLY = "assessment.draft_only"
RULE_TRANSITIONS = "assessment.transitions"
RULE_COMPLETE = "assessment.complete_to_submit"
RULE_FOUR_EYES = "assessment.four_eyes"
RULE_AMEND_LATEST = "assessment.amend_latest_authorised"
RULE_ONE_AMENDMENT = "assessment.one_open_amendment"


@dataclass(frozen=True)
class Actor:
    """Who did something: the partner system (client) and, when it says so, the person there."""

    client_id: str
    acting_user: str | None = None

    def may_be(self, other: Actor) -> bool:
        """Could be the same person: the same client, unless both name different people."""
        if self.client_id != other.client_id:
            return False
        return self.acting_user is None or other.acting_user is None or self.acting_user == other.acting_user


def next_status(status: Status, action: Action) -> Status:
    """The status after ``action``, or a 409 naming the rule."""
    target = NEXT[status].get(action)
    if target is None:
        allowed = ", ".join(sorted(a.value for a in NEXT[status])) or "none (amend it instead)"
        raise IllegalAssessmentTransition(
            f"A {status.value} assessment cannot take '{action.value}'; allowed: {allowed}.", rule=RULE_TRANSITIONS
        )
    return target


def require_draft(status: Status) -> None:
    """Edits are for drafts only; the message says what to do instead."""
    if status == Status.draft:
        return
    if status == Status.authorised:
        raise AssessmentLocked(
            "This assessment is authorised and cannot be edited. Amend it with "
            "POST /v1/assessments/{id}/amendment: a new draft is made and this version stays as it is.",
            rule=RULE_DRAFT_ONLY,
        )
    raise AssessmentLocked(
        "This assessment is submitted and waits for authorisation; it can be returned to draft "
        "(POST /v1/assessments/{id}/return) to be edited.",
        rule=RULE_DRAFT_ONLY,
    )


def check_authoriser(submitted_by: Actor | None, authoriser: Actor) -> None:
    if submitted_by is not None and submitted_by.may_be(authoriser):
        raise AuthoriserIsSubmitter(
            "The person who submitted an assessment cannot authorise it; a manager authorises it "
            "from another client, or from the same client with a token naming another acting user "
            "(both tokens must name one).",
            rule=RULE_FOUR_EYES,
        )


def check_submission_date(on: date, window_start: date, today: date) -> None:
    """A submission is dated on or before today and not before the assessment started."""
    if on > today:
        raise InvalidDates("An assessment cannot be submitted on a future date.", field="submitted_on")
    if on < window_start:
        raise InvalidDates("An assessment is submitted after its window started.", field="submitted_on")


def check_authorisation_date(on: date, submitted_on: date | None, window_start: date, today: date, *,
                             amended_authorised_on: date | None = None) -> None:
    """Authorisation is dated on or before today, not before the assessment started or was
    submitted, and (an amendment) not before the revision it amends was authorised."""
    if on > today:
        raise InvalidDates("An assessment cannot be authorised on a future date.", field="authorised_on")
    if on < window_start:
        raise InvalidDates("An assessment is authorised after its window started.", field="authorised_on")
    if submitted_on is not None and on < submitted_on:
        raise InvalidDates(f"An assessment is authorised on or after it was submitted ({submitted_on}).",
                           field="authorised_on")
    if amended_authorised_on is not None and on < amended_authorised_on:
        raise InvalidDates(f"An amendment is authorised on or after the revision it amends was authorised "
                           f"({amended_authorised_on}).", field="authorised_on")


def check_amendable(status: Status, superseded: bool, is_latest_revision: bool, open_amendment: bool) -> None:
    if status != Status.authorised:
        raise IllegalAssessmentTransition(
            f"Only an authorised assessment is amended; this one is {status.value} and can be edited "
            "as it stands (a draft) or returned to draft (submitted).", rule=RULE_AMEND_LATEST,
        )
    if open_amendment:
        raise AmendmentInProgress("An amendment of this assessment is already open; finish that one first.",
                                  rule=RULE_ONE_AMENDMENT)
    if superseded or not is_latest_revision:
        raise IllegalAssessmentTransition(
            "This revision has been superseded by a later authorised amendment; amend the latest one.",
            rule=RULE_AMEND_LATEST,
        )


@dataclass(frozen=True)
class Completeness:
    """What submission looks at, gathered from the assessment."""

    judged_areas: frozenset[str]
    overall_judgement: str | None
    window_start: date
    window_end: date | None
    accreditation: str | None
    scores: int
    #: Areas whose practitioner grade differs from the system suggestion, without a rationale.
    unexplained_differences: Sequence[str] = ()


def submission_problems(definition: Definition, facts: Completeness, today: date) -> list[Problem]:
    """Everything missing before an assessment can be submitted (empty when complete); ``today``
    is the day of submission (a migrated record's own date)."""
    problems = [Problem(f"judgements.{area}", "the practitioner's judgement for this area is required")
                for area in definition.mandatory_areas if area not in facts.judged_areas]
    if not (facts.overall_judgement or "").strip():
        problems.append(Problem("overall_judgement", "the practitioner's overall analysis is required"))
    if facts.window_end is None:
        problems.append(Problem("window_end_date", "the assessment window's end date is required"))
    elif facts.window_end > today:
        problems.append(Problem("window_end_date", "the assessment window has not ended by the day of submission"))
    if definition.licence_required and not (facts.accreditation or "").strip():
        problems.append(Problem("assessor.accreditation",
                                "this tool is used by accredited practitioners only: record the accreditation"))
    if definition.rater_kinds is not None and facts.scores == 0:
        problems.append(Problem("ratings", "at least one rater's score is required"))
    problems += [Problem(f"judgements.{area}.rationale",
                         "the judgement differs from the system suggestion: say why (the judgement stands)")
                 for area in facts.unexplained_differences]
    return problems


def check_complete(definition: Definition, facts: Completeness, today: date) -> None:
    problems = submission_problems(definition, facts, today)
    if problems:
        raise AssessmentIncomplete(
            f"{len(problems)} thing(s) to complete before submitting.", rule=RULE_COMPLETE,
            errors=[{"field": p.field, "message": p.message, "code": "incomplete"} for p in problems],
        )


# --- A lineage of revisions, as one state machine (used by the domain and the property tests) ---


@dataclass
class Revision:
    number: int
    status: Status = Status.draft
    submitted_by: Actor | None = None
    authorised_by: Actor | None = None
    superseded: bool = False


@dataclass
class Lineage:
    """An assessment and its amendments."""

    revisions: list[Revision] = field(default_factory=lambda: [Revision(1)])

    def _get(self, number: int) -> Revision:
        return self.revisions[number - 1]

    @property
    def latest(self) -> Revision:
        return self.revisions[-1]

    def edit(self, number: int) -> None:
        require_draft(self._get(number).status)

    def submit(self, number: int, who: Actor) -> None:
        rev = self._get(number)
        rev.status = next_status(rev.status, Action.submit)
        rev.submitted_by = who

    def return_to_draft(self, number: int) -> None:
        rev = self._get(number)
        rev.status = next_status(rev.status, Action.return_to_draft)
        rev.submitted_by = None

    def authorise(self, number: int, who: Actor) -> Revision | None:
        """Authorise; returns the revision this one supersedes, if any."""
        rev = self._get(number)
        target = next_status(rev.status, Action.authorise)
        check_authoriser(rev.submitted_by, who)
        rev.status, rev.authorised_by = target, who
        if number > 1:
            earlier = self._get(number - 1)
            earlier.superseded = True
            return earlier
        return None

    def amend(self, number: int) -> Revision:
        rev = self._get(number)
        check_amendable(rev.status, rev.superseded, number == self.latest.number,
                        open_amendment=self.latest.status != Status.authorised)
        new = Revision(self.latest.number + 1)
        self.revisions.append(new)
        return new

    def current(self) -> Revision | None:
        """The revision that counts: the latest authorised one."""
        authorised = [r for r in self.revisions if r.status == Status.authorised and not r.superseded]
        return authorised[-1] if authorised else None
