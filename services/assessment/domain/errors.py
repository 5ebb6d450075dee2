from __future__ import annotations

from typing import Any, ClassVar

from shared.errors import (
    Conflict,
    DuplicateRecord,
    Forbidden,
    IllegalTransition,
    NotFound,
    ServiceUnavailable,
    Unprocessable,
)


class ToolkitNotFound(NotFound):
    slug, title = "toolkit-not-found", "No such toolkit"


class ToolkitVersionNotFound(NotFound):
    slug, title = "toolkit-version-not-found", "No such published version of this toolkit"


class PublishedVersionImmutable(Conflict):
    slug, title = "published-version-immutable", "A published toolkit version cannot change"


class ToolkitVersionExists(DuplicateRecord):
    slug, title = "toolkit-version-exists", "This version of the toolkit is already published"


class InvalidToolkit(Unprocessable):
    slug, title = "invalid-toolkit-definition", "The toolkit definition breaks one or more rules"

    @classmethod
    def example(cls) -> dict[str, Any]:
        return {**super().example(), "errors": [
            {"field": "grade_scale.values", "message": "values must label every grade from 1 to 5 in order (step 1)",
             "code": "invalid_definition"},
            {"field": "areas[0].sub_areas[0].text", "message": "text would carry licensed wording; ship structure only",
             "code": "invalid_definition"},
        ]}


class ChildNotFound(NotFound):
    slug, title = "child-not-found", "No such child for this agency"


class ChildCheckRefused(Forbidden):
    slug, title = "child-check-refused", "The referral service would not confirm the child for this token"


class ReferralUnavailable(ServiceUnavailable):
    slug, title = "referral-unavailable", "The child could not be confirmed: the referral service is unavailable"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.headers["Retry-After"] = "5"


class AssessmentNotFound(NotFound):
    slug, title = "assessment-not-found", "No such assessment for this agency"


class TargetNotFound(NotFound):
    slug, title = "target-not-found", "No such target on this assessment"


class NotAssessingAgency(Forbidden):
    slug, title = "not-assessing-agency", "Only the agency that made the assessment changes it"


class _RuleConflict(Conflict):
    """A 409 that names the lifecycle rule it enforces (``rule`` in the body)."""

    rule_example: ClassVar[str] = ""

    @classmethod
    def example(cls) -> dict[str, Any]:
        return {**super().example(), "rule": cls.rule_example}


class IllegalAssessmentTransition(IllegalTransition):
    rule_example: ClassVar[str] = "assessment.transitions"

    @classmethod
    def example(cls) -> dict[str, Any]:
        return {**super().example(), "rule": cls.rule_example}


class AssessmentLocked(_RuleConflict):
    slug, title = "assessment-locked", "Only a draft assessment can be edited"
    rule_example = "assessment.draft_only"


class AssessmentIncomplete(_RuleConflict):
    slug, title = "assessment-incomplete", "The assessment is not complete enough to submit"
    rule_example = "assessment.complete_to_submit"

    @classmethod
    def example(cls) -> dict[str, Any]:
        return {**super().example(), "errors": [
            {"field": "judgements.physical_care", "message": "the practitioner's judgement for this area is required",
             "code": "incomplete"},
        ]}


class AuthoriserIsSubmitter(_RuleConflict):
    slug, title = "authoriser-is-submitter", "An assessment is authorised by someone other than its submitter"
    rule_example = "assessment.four_eyes"


class AmendmentInProgress(_RuleConflict):
    slug, title = "amendment-in-progress", "An amendment of this assessment is already open"
    rule_example = "assessment.one_open_amendment"


class _FieldProblem(Unprocessable):
    """A 422 about one field of the request, listed in ``errors`` like a validation error."""

    def __init__(self, detail: str, field: str, **extra: Any) -> None:
        super().__init__(detail, errors=[{"field": field, "message": detail, "code": self.slug}], **extra)

    @classmethod
    def example(cls) -> dict[str, Any]:
        return {**super().example(), "errors": [{"field": "value", "message": f"{cls.title}.", "code": cls.slug}]}


class UnknownToolkitVersion(_FieldProblem):
    slug, title = "unknown-toolkit-version", "No such published toolkit or version"


class NotOnScale(_FieldProblem):
    slug, title = "not-on-scale", "The value is not on this toolkit's scale"


class NotInToolkit(_FieldProblem):
    slug, title = "not-in-toolkit", "No such area, sub-area or item in this toolkit version"


class EvidenceRequired(_FieldProblem):
    slug, title = "evidence-required", "This rating needs its evidence"


class RaterProblem(_FieldProblem):
    slug, title = "rater-problem", "Raters do not fit this toolkit"


class InvalidPreviousAssessment(_FieldProblem):
    slug, title = "invalid-previous-assessment", "The previous assessment is not an authorised one of this child and tool"


class InvalidDates(_FieldProblem):
    slug, title = "invalid-dates", "The dates do not fit together"


class InvalidTarget(_FieldProblem):
    slug, title = "invalid-target", "The target does not fit the assessment"
