"""Toolkit assessments of a child: made, rated, judged, submitted, authorised, amended.

Each request first asks the referral service whether the caller may see the
child (once per request); what the caller may not see is a 404 and nothing is
written. Changes are made by the agency that made the assessment, with
If-Match on the assessment's version; each one is audited, and submitting and
authorising emit thin events in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.assessment.domain import lifecycle as lc
from services.assessment.domain.children import ChildDirectory
from services.assessment.domain.definitions import Definition, ScaleValue
from services.assessment.domain.errors import (
    AmendmentInProgress,
    AssessmentNotFound,
    ChildNotFound,
    EvidenceRequired,
    IllegalAssessmentTransition,
    InvalidDates,
    InvalidPreviousAssessment,
    InvalidTarget,
    NotAssessingAgency,
    NotInToolkit,
    NotOnScale,
    RaterProblem,
    TargetNotFound,
    UnknownToolkitVersion,
)
from services.assessment.domain.results import RatingFact, suggest
from services.assessment.domain.trajectory import (
    Point,
    Trajectory,
    TrajectoryRule,
    child_trajectory,
)
from services.assessment.events import AssessmentAuthorised, AssessmentSubmitted
from services.assessment.models import (
    Assessment,
    AssessmentJudgement,
    AssessmentRating,
    AssessmentTarget,
    ToolkitVersion,
)
from services.assessment.queries.assessments import AssessmentQueries
from services.assessment.queries.toolkits import ToolkitQueries
from services.assessment.schemas.assessments import (
    AmendmentCreate,
    AssessmentCreate,
    AssessmentUpdate,
    Authorisation,
    JudgementPut,
    RatingPut,
    ReturnToDraft,
    Submission,
    TargetCreate,
    TargetReview,
)
from shared.audit import Audit
from shared.contracts import publish
from shared.db import utcnow
from shared.etag import Precondition, check_version
from shared.events import Outbox
from shared.pagination import PageParams
from shared.tokens import Principal

RESOURCE = "assessment"


def today() -> date:
    return datetime.now(UTC).date()


def _authorised_on(a: Assessment) -> date | None:
    """The day an assessment was authorised (rows authorised before the day was recorded: the recording day)."""
    return a.authorised_on or (a.authorised_at.date() if a.authorised_at else None)


def _authorised_key(a: Assessment) -> tuple[date, datetime]:
    """Latest first by the day it was authorised, then by when that was recorded."""
    recorded = a.authorised_at or a.updated_at
    return a.authorised_on or recorded.date(), recorded


def actor(who: Principal) -> lc.Actor:
    return lc.Actor(who.client_id, who.acting_user)


def rating_fact(r: AssessmentRating) -> RatingFact:
    return RatingFact(r.item_id, r.area_id, r.value, r.value_id, r.rater_kind, r.rated_on, r.updated_at)


@dataclass
class Loaded:
    """An assessment with everything a response shows."""

    assessment: Assessment
    definition: Definition
    ratings: list[AssessmentRating]
    judgements: dict[str, AssessmentJudgement]
    targets: list[AssessmentTarget]


@dataclass
class CurrentResult:
    """A child's latest authorised assessment with one toolkit."""

    assessment: Assessment
    definition: Definition
    ratings: list[AssessmentRating]
    judgements: list[AssessmentJudgement]


@dataclass
class ChildTrajectory:
    trajectory: Trajectory
    #: Each tool's scale direction (from its latest version used).
    directions: dict[str, str]
    computed_on: date


class Assessments:
    def __init__(
        self,
        queries: AssessmentQueries,
        toolkits: ToolkitQueries,
        children: ChildDirectory,
        audit: Audit,
        outbox: Outbox,
        rule: TrajectoryRule,
    ) -> None:
        self.queries = queries
        self.toolkits = toolkits
        self.children = children
        self.audit = audit
        self.outbox = outbox
        self.rule = rule
        self._definitions: dict[uuid.UUID, Definition] = {}

    # --- loading ---------------------------------------------------------------------------

    async def _definition(self, version_id: uuid.UUID) -> Definition:
        if version_id not in self._definitions:
            version = await self.toolkits.version_by_id(version_id)
            if version is None:  # pragma: no cover - a foreign key guarantees it
                raise UnknownToolkitVersion("The toolkit version of this assessment is missing.", field="toolkit_version")
            self._definitions[version_id] = Definition(version.definition)
        return self._definitions[version_id]

    async def _load(self, a: Assessment) -> Loaded:
        definition = await self._definition(a.toolkit_version_id)
        ratings = await self.queries.ratings([a.id])
        judgements = {j.area_id: j for j in await self.queries.judgements([a.id])}
        return Loaded(a, definition, ratings, judgements, await self.queries.targets(a.id))

    async def _visible(self, assessment_id: uuid.UUID) -> Assessment:
        a = await self.queries.get(assessment_id)
        if a is None:
            raise AssessmentNotFound(f"No assessment {assessment_id} for your agency.")
        try:
            await self.children.require_visible(a.child_id)
        except ChildNotFound:
            # Not "no such child": that would confirm the assessment exists.
            raise AssessmentNotFound(f"No assessment {assessment_id} for your agency.") from None
        return a

    async def confirm_child(self, child_id: uuid.UUID) -> None:
        """Ask the referral service about the child before this request writes anything."""
        await self.children.require_visible(child_id)

    async def confirm_assessment(self, assessment_id: uuid.UUID) -> None:
        """As confirm_child, for the child of an assessment (404 when it is not visible)."""
        await self._visible(assessment_id)

    async def _for_change(self, who: Principal, assessment_id: uuid.UUID, version: Precondition) -> Assessment:
        a = await self._visible(assessment_id)
        if a.agency_id != who.agency_id:
            raise NotAssessingAgency("Only the agency that made this assessment changes it; yours can read it.")
        # Lock only after the referral service has answered: no row lock is held over HTTP.
        locked = await self.queries.get(assessment_id, for_update=True)
        assert locked is not None  # noqa: S101 - read a moment ago in this transaction
        check_version(locked.version, version)
        return locked

    def _touched(self, who: Principal, a: Assessment, action: str) -> None:
        a.version += 1
        a.updated_at = utcnow()
        self.queries.session.add(a)
        self.audit.record(who, action, RESOURCE, [a.child_id])

    # --- reading ---------------------------------------------------------------------------

    async def get(self, who: Principal, assessment_id: uuid.UUID) -> Loaded:
        a = await self._visible(assessment_id)
        self.audit.record(who, "read", RESOURCE, [a.child_id])
        return await self._load(a)

    async def page(
        self, who: Principal, child_id: uuid.UUID, page: PageParams, *, toolkit_id: str | None, status: str | None
    ) -> tuple[Sequence[Assessment], str | None]:
        await self.children.require_visible(child_id)
        rows, next_cursor = await self.queries.page(child_id, page, toolkit_id=toolkit_id, status=status)
        self.audit.record(who, "list", RESOURCE, [child_id])
        return rows, next_cursor

    # --- making ----------------------------------------------------------------------------

    async def _toolkit_version(self, toolkit_id: str, version: str | None) -> ToolkitVersion:
        found = (await self.toolkits.version(toolkit_id, version) if version is not None
                 else await self.toolkits.latest_version(toolkit_id))
        if found is None:
            what = f"version {version} of toolkit {toolkit_id}" if version else f"toolkit {toolkit_id}"
            raise UnknownToolkitVersion(f"There is no published {what}.",
                                        field="toolkit_version" if version else "toolkit_id")
        return found

    async def _previous(self, body: AssessmentCreate) -> Assessment | None:
        if body.previous_assessment_id is None:
            # Re-assessment by default: the latest authorised one with this tool that ended before this starts.
            earlier = [p for p in await self.queries.current_authorised(body.child_id, body.toolkit_id)
                       if p.window_end_date is not None and p.window_end_date <= body.window_start_date]
            return max(earlier, key=lambda p: (p.window_end_date or p.window_start_date, p.authorised_at or utcnow()),
                       default=None)
        previous = await self.queries.get(body.previous_assessment_id)
        if (previous is None or previous.child_id != body.child_id or previous.toolkit_id != body.toolkit_id
                or previous.status != lc.Status.authorised):
            raise InvalidPreviousAssessment(
                "The previous assessment must be an authorised assessment of this child with this toolkit.",
                field="previous_assessment_id",
            )
        if previous.window_end_date is not None and previous.window_end_date > body.window_start_date:
            raise InvalidDates("A re-assessment starts after the previous assessment's window ended.",
                               field="window_start_date")
        return previous

    async def create(self, who: Principal, body: AssessmentCreate) -> Loaded:
        """Start a draft assessment of a child with a published toolkit version."""
        await self.children.require_visible(body.child_id)
        version = await self._toolkit_version(body.toolkit_id, body.toolkit_version)
        definition = Definition(version.definition)
        if body.window_start_date > today():
            raise InvalidDates("The assessment window cannot start in the future.", field="window_start_date")
        previous = await self._previous(body)
        new_id = uuid.uuid4()
        now = utcnow()
        a = Assessment(
            id=new_id, lineage_id=new_id, revision=1, child_id=body.child_id, agency_id=who.agency_id,
            toolkit_id=version.toolkit_id, toolkit_version_id=version.id, toolkit_version=version.version,
            status=lc.Status.draft, previous_assessment_id=previous.id if previous else None,
            window_start_date=body.window_start_date, window_end_date=body.window_end_date,
            assessor_name=body.assessor.name, assessor_role=body.assessor.role,
            assessor_accreditation=body.assessor.accreditation, assessor_accredited_on=body.assessor.accredited_on,
            created_by_client=who.client_id, created_by_user=who.acting_user, created_at=now, updated_at=now,
        )
        await self.queries.add(a)
        await self.queries.add(*(AssessmentJudgement(assessment_id=a.id, area_id=area,
                                                     suggestion_rule=definition.suggestion_rule)
                                 for area in definition.area_ids))
        self.audit.record(who, "create", RESOURCE, [a.child_id])
        self._definitions[version.id] = definition
        return await self._load(a)

    # --- editing a draft -------------------------------------------------------------------

    async def update(self, who: Principal, assessment_id: uuid.UUID, version: Precondition, body: AssessmentUpdate) -> Loaded:
        a = await self._for_change(who, assessment_id, version)
        lc.require_draft(lc.Status(a.status))
        changes = body.model_dump(exclude_unset=True)
        start = body.window_start_date if "window_start_date" in changes else a.window_start_date
        end = body.window_end_date if "window_end_date" in changes else a.window_end_date
        assert start is not None  # noqa: S101 - the body refuses a null start
        if start > today():
            raise InvalidDates("The assessment window cannot start in the future.", field="window_start_date")
        if end is not None and end < start:
            raise InvalidDates("window_end_date is before window_start_date.", field="window_end_date")
        if a.previous_assessment_id is not None:
            previous = await self.queries.get(a.previous_assessment_id)
            if previous is not None and previous.window_end_date is not None and previous.window_end_date > start:
                raise InvalidDates("A re-assessment starts after the previous assessment's window ended.",
                                   field="window_start_date")
        a.window_start_date, a.window_end_date = start, end
        if body.assessor is not None:
            a.assessor_name, a.assessor_role = body.assessor.name, body.assessor.role
            a.assessor_accreditation, a.assessor_accredited_on = body.assessor.accreditation, body.assessor.accredited_on
        if "overall_judgement" in changes:
            a.overall_judgement = body.overall_judgement
        self._touched(who, a, "update")
        return await self._load(a)

    @staticmethod
    def _on_scale(definition: Definition, raw: int | str, field: str) -> ScaleValue:
        value = definition.value(raw)
        if value is None:
            shown = ", ".join(str(v.id or v.value) for v in definition.values)
            raise NotOnScale(f"{raw!r} is not on this toolkit's scale ({shown}).", field=field)
        return value

    def _rater_key(self, definition: Definition, body: RatingPut) -> tuple[str, str | None, str | None]:
        kinds = definition.rater_kinds
        if kinds is None:
            if body.rater is not None or body.rated_on is not None:
                raise RaterProblem("This toolkit is rated by the assessing practitioner: send no rater or rated_on.",
                                   field="rater")
            return "", None, None
        if body.rater is None:
            raise RaterProblem(f"Say who gives this score: rater.kind is one of {', '.join(kinds)}.", field="rater")
        if body.rater.kind not in kinds:
            raise RaterProblem(f"rater.kind is one of {', '.join(kinds)}.", field="rater.kind")
        if body.rated_on is None:
            raise RaterProblem("Each rater's score is kept per date: send rated_on.", field="rated_on")
        if body.rated_on > today():
            raise InvalidDates("A score cannot be dated in the future.", field="rated_on")
        label = body.rater.label
        # One score per rater per date: the same rater again on the same date replaces their score.
        key = f"{body.rater.kind}|{(label or '').casefold()}|{body.rated_on.isoformat()}"
        return key, body.rater.kind, label

    async def _refresh_suggestion(self, a: Assessment, definition: Definition, area_id: str) -> None:
        suggestion = suggest(definition, area_id, [rating_fact(r) for r in await self.queries.ratings([a.id])])
        row = await self._judgement_row(a, definition, area_id)
        row.suggestion_rule = definition.suggestion_rule
        row.suggested_value = suggestion.value if suggestion else None
        row.suggested_value_id = definition.of(suggestion.value).id if suggestion and suggestion.value is not None else None
        row.suggestion_based_on = list(suggestion.based_on) if suggestion else []
        row.updated_at = utcnow()
        self.queries.session.add(row)

    async def _judgement_row(self, a: Assessment, definition: Definition, area_id: str) -> AssessmentJudgement:
        rows = {j.area_id: j for j in await self.queries.judgements([a.id])}
        row = rows.get(area_id)
        if row is None:
            row = AssessmentJudgement(assessment_id=a.id, area_id=area_id, suggestion_rule=definition.suggestion_rule)
        return row

    async def rate(self, who: Principal, assessment_id: uuid.UUID, item_id: str, version: Precondition, body: RatingPut) -> Loaded:
        """Set one item's (or sub-area's) rating, with its evidence and strengths."""
        a = await self._for_change(who, assessment_id, version)
        lc.require_draft(lc.Status(a.status))
        definition = await self._definition(a.toolkit_version_id)
        unit = definition.units.get(item_id)
        if unit is None:
            what = "sub-area" if definition.rating_level == "sub_area" else "item"
            raise NotInToolkit(f"{item_id} is not a rated {what} of {a.toolkit_id} version {a.toolkit_version}.",
                               field="item_id")
        value = self._on_scale(definition, body.value, "value")
        if value.evidence_required and not (body.evidence or "").strip():
            raise EvidenceRequired(f"A rating of '{value.label}' needs its evidence.", field="evidence")
        key, kind, label = self._rater_key(definition, body)
        row = await self.queries.rating(a.id, item_id, key)
        now = utcnow()
        if row is None:
            row = AssessmentRating(assessment_id=a.id, item_id=item_id, area_id=unit.area_id, rater_key=key,
                                   rater_kind=kind, rater_label=label, rated_on=body.rated_on, value=value.value,
                                   recorded_by_client=who.client_id, created_at=now)
        row.value, row.value_id, row.rater_label = value.value, value.id, label
        row.evidence, row.strengths = body.evidence, body.strengths
        row.recorded_by_client, row.recorded_by_user, row.updated_at = who.client_id, who.acting_user, now
        await self.queries.add(row)
        await self._refresh_suggestion(a, definition, unit.area_id)
        self._touched(who, a, "update")
        return await self._load(a)

    async def judge(self, who: Principal, assessment_id: uuid.UUID, area_id: str, version: Precondition, body: JudgementPut) -> Loaded:
        """Record the practitioner's judgement of one area. It is the record; the suggestion stays apart."""
        a = await self._for_change(who, assessment_id, version)
        lc.require_draft(lc.Status(a.status))
        definition = await self._definition(a.toolkit_version_id)
        if area_id not in definition.area_ids:
            raise NotInToolkit(f"{area_id} is not an area of {a.toolkit_id} version {a.toolkit_version}.",
                               field="area_id")
        value = self._on_scale(definition, body.value, "value")
        row = await self._judgement_row(a, definition, area_id)
        row.practitioner_value, row.practitioner_value_id = value.value, value.id
        row.rationale = body.rationale
        row.judged_by_client, row.judged_by_user = who.client_id, who.acting_user
        row.judged_at = row.updated_at = utcnow()
        await self.queries.add(row)
        self._touched(who, a, "update")
        return await self._load(a)

    async def add_target(self, who: Principal, assessment_id: uuid.UUID, version: Precondition,
                         body: TargetCreate) -> tuple[Loaded, AssessmentTarget]:
        a = await self._for_change(who, assessment_id, version)
        lc.require_draft(lc.Status(a.status))
        definition = await self._definition(a.toolkit_version_id)
        if body.area_id not in definition.area_ids:
            raise NotInToolkit(f"{body.area_id} is not an area of this toolkit.", field="area_id")
        if body.sub_area_id is not None and definition.sub_areas.get(body.sub_area_id) != body.area_id:
            raise NotInToolkit(f"{body.sub_area_id} is not a sub-area of {body.area_id}.", field="sub_area_id")
        if (body.item_ref is not None and definition.rating_level == "item"
                and body.item_ref not in definition.units_of(body.area_id)):
            raise NotInToolkit(f"{body.item_ref} is not an item of {body.area_id}.", field="item_ref")
        current = self._on_scale(definition, body.current_grade, "current_grade")
        target = self._on_scale(definition, body.target_grade, "target_grade")
        if definition.badness(target.value) > definition.badness(current.value):
            raise InvalidTarget("The target grade is less favourable than the current grade.", field="target_grade")
        if body.review_date <= a.window_start_date:
            raise InvalidDates("The review date comes after the assessment started.", field="review_date")
        now = utcnow()
        row = AssessmentTarget(
            assessment_id=a.id, area_id=body.area_id, sub_area_id=body.sub_area_id, item_ref=body.item_ref,
            current_grade=current.value, target_grade=target.value, period_for_change=body.period_for_change,
            review_date=body.review_date, carer_comments=body.carer_comments,
            carer_consent_recorded=body.carer_consent_recorded, created_by_client=who.client_id,
            created_at=now, updated_at=now,
        )
        await self.queries.add(row)
        self._touched(who, a, "update")
        return await self._load(a), row

    async def review_target(self, who: Principal, assessment_id: uuid.UUID, target_id: uuid.UUID, version: Precondition,
                            body: TargetReview) -> Loaded:
        """Record the grade after review. The one change an authorised assessment takes: it adds
        what happened later and changes nothing that was authorised."""
        a = await self._for_change(who, assessment_id, version)
        if a.status != lc.Status.authorised or a.superseded_by_id is not None:
            raise IllegalAssessmentTransition(
                "Targets are reviewed on the current authorised assessment.", rule="assessment.review_authorised"
            )
        definition = await self._definition(a.toolkit_version_id)
        target = next((t for t in await self.queries.targets(a.id) if t.id == target_id), None)
        if target is None:
            raise TargetNotFound(f"No target {target_id} on this assessment.")
        if target.reviewed_on is not None:
            raise IllegalAssessmentTransition("This target's review is recorded; it does not change.",
                                              rule="assessment.review_once")
        if body.reviewed_on > today() or (a.window_end_date is not None and body.reviewed_on < a.window_end_date):
            raise InvalidDates("A review is dated after the assessment window and not in the future.",
                               field="reviewed_on")
        target.grade_after_review = self._on_scale(definition, body.grade_after_review, "grade_after_review").value
        target.reviewed_on = body.reviewed_on
        if body.carer_comments is not None:
            target.carer_comments = body.carer_comments
        target.updated_at = utcnow()
        await self.queries.add(target)
        self._touched(who, a, "update")
        return await self._load(a)

    # --- transitions -----------------------------------------------------------------------

    def _event_data(self, loaded: Loaded) -> dict[str, Any]:
        """The fields every toolkit assessment event carries (``events.ToolkitAssessment``)."""
        a = loaded.assessment
        return {
            "assessment_id": a.id, "child_id": a.child_id, "agency_id": a.agency_id,
            "toolkit_id": a.toolkit_id, "toolkit_version": a.toolkit_version,
            "lineage_id": a.lineage_id, "revision": a.revision, "amends_id": a.amends_id,
            "previous_assessment_id": a.previous_assessment_id,
            "window_start_date": a.window_start_date, "window_end_date": a.window_end_date,
            "area_grades": {area: j.practitioner_value for area, j in sorted(loaded.judgements.items())
                            if j.practitioner_value is not None},
        }

    async def submit(self, who: Principal, assessment_id: uuid.UUID, version: Precondition,
                     body: Submission | None = None) -> Loaded:
        """Submit for authorisation on ``body.submitted_on`` (default today): a migrated record keeps its date."""
        a = await self._for_change(who, assessment_id, version)
        target = lc.next_status(lc.Status(a.status), lc.Action.submit)
        on = body.submitted_on if body is not None and body.submitted_on is not None else today()
        lc.check_submission_date(on, a.window_start_date, today())
        loaded = await self._load(a)
        judged = {area for area, j in loaded.judgements.items() if j.practitioner_value is not None}
        unexplained = [area for area, j in sorted(loaded.judgements.items())
                       if j.practitioner_value is not None and j.suggested_value is not None
                       and j.practitioner_value != j.suggested_value and not (j.rationale or "").strip()]
        # Complete as at the day of submission: the window must have ended by then.
        lc.check_complete(loaded.definition, lc.Completeness(
            judged_areas=frozenset(judged), overall_judgement=a.overall_judgement, window_start=a.window_start_date,
            window_end=a.window_end_date, accreditation=a.assessor_accreditation, scores=len(loaded.ratings),
            unexplained_differences=unexplained,
        ), on)
        now = utcnow()
        a.status, a.submitted_at, a.submitted_on = target, now, on
        a.submitted_by_client, a.submitted_by_user = who.client_id, who.acting_user
        a.return_reason = None
        self._touched(who, a, "submit")
        await publish(self.outbox, AssessmentSubmitted(submitted_at=now, submitted_on=on, **self._event_data(loaded)),
                      occurred_at=now)
        return loaded

    async def return_to_draft(self, who: Principal, assessment_id: uuid.UUID, version: Precondition, body: ReturnToDraft) -> Loaded:
        a = await self._for_change(who, assessment_id, version)
        a.status = lc.next_status(lc.Status(a.status), lc.Action.return_to_draft)
        a.return_reason = body.reason
        a.submitted_at = a.submitted_by_client = a.submitted_by_user = None
        a.submitted_on = None
        self._touched(who, a, "return")
        return await self._load(a)

    async def authorise(self, who: Principal, assessment_id: uuid.UUID, version: Precondition, body: Authorisation) -> Loaded:
        """Authorise on ``body.authorised_on`` (default today), the date reporting counts."""
        a = await self._for_change(who, assessment_id, version)
        target = lc.next_status(lc.Status(a.status), lc.Action.authorise)
        submitter = lc.Actor(a.submitted_by_client, a.submitted_by_user) if a.submitted_by_client else None
        lc.check_authoriser(submitter, actor(who))
        on = body.authorised_on or today()
        earlier = await self.queries.get(a.amends_id, for_update=True) if a.amends_id is not None else None
        submitted_on = a.submitted_on or (a.submitted_at.date() if a.submitted_at else None)
        lc.check_authorisation_date(on, submitted_on, a.window_start_date, today(),
                                    amended_authorised_on=_authorised_on(earlier) if earlier is not None else None)
        now = utcnow()
        a.status, a.authorised_at, a.authorised_on, a.authorised_by = target, now, on, body.authorised_by
        a.authorised_by_client, a.authorised_by_user = who.client_id, who.acting_user
        supersedes = None
        if earlier is not None:
            earlier.superseded_by_id = a.id
            earlier.version += 1
            earlier.updated_at = now
            self.queries.session.add(earlier)
            supersedes = earlier.id
        self._touched(who, a, "authorise")
        loaded = await self._load(a)
        await publish(self.outbox, AssessmentAuthorised(authorised_at=now, authorised_on=on, supersedes_id=supersedes,
                                                        **self._event_data(loaded)), occurred_at=now)
        return loaded

    async def amend(self, who: Principal, assessment_id: uuid.UUID, version: Precondition, body: AmendmentCreate) -> Loaded:
        """A new draft revision copied from an authorised one, which stays as it is."""
        a = await self._for_change(who, assessment_id, version)
        latest = await self.queries.latest_revision(a.lineage_id)
        assert latest is not None  # noqa: S101 - ``a`` is in the lineage
        lc.check_amendable(lc.Status(a.status), a.superseded_by_id is not None, latest.id == a.id,
                           open_amendment=latest.status != lc.Status.authorised)
        now = utcnow()
        new = Assessment(
            **a.model_dump(include={"child_id", "toolkit_id", "toolkit_version_id", "toolkit_version", "lineage_id",
                                    "previous_assessment_id", "window_start_date", "window_end_date",
                                    "assessor_name", "assessor_role", "assessor_accreditation",
                                    "assessor_accredited_on", "overall_judgement"}),
            id=uuid.uuid4(), agency_id=who.agency_id, revision=latest.revision + 1, amends_id=a.id,
            status=lc.Status.draft, amendment_reason=body.reason, created_by_client=who.client_id,
            created_by_user=who.acting_user, created_at=now, updated_at=now,
        )
        try:
            await self.queries.add(new)
        except IntegrityError:
            raise AmendmentInProgress("Another amendment of this assessment was opened just now.",
                                      rule=lc.RULE_ONE_AMENDMENT) from None
        copied: list[object] = []
        for r in await self.queries.ratings([a.id]):
            copied.append(AssessmentRating(**r.model_dump(exclude={"id", "assessment_id"}), assessment_id=new.id))
        for j in await self.queries.judgements([a.id]):
            copied.append(AssessmentJudgement(**j.model_dump(exclude={"id", "assessment_id", "created_at", "updated_at"}),
                                              assessment_id=new.id, created_at=now, updated_at=now))
        for t in await self.queries.targets(a.id):
            copied.append(AssessmentTarget(**t.model_dump(exclude={"id", "assessment_id"}), assessment_id=new.id))
        await self.queries.add(*copied)
        self.audit.record(who, "amend", RESOURCE, [a.child_id])
        return await self._load(new)

    # --- the child's view ------------------------------------------------------------------

    async def _current(self, child_id: uuid.UUID) -> list[CurrentResult]:
        current = await self.queries.current_authorised(child_id)
        ids = [a.id for a in current]
        ratings: dict[uuid.UUID, list[AssessmentRating]] = {i: [] for i in ids}
        for r in await self.queries.ratings(ids):
            ratings[r.assessment_id].append(r)
        judgements: dict[uuid.UUID, list[AssessmentJudgement]] = {i: [] for i in ids}
        for j in await self.queries.judgements(ids):
            judgements[j.assessment_id].append(j)
        return [CurrentResult(a, await self._definition(a.toolkit_version_id), ratings[a.id], judgements[a.id])
                for a in current]

    async def trajectory(self, who: Principal, child_id: uuid.UUID) -> ChildTrajectory:
        """Change per area across the child's authorised assessments, per tool."""
        await self.children.require_visible(child_id)
        current = await self._current(child_id)
        points = [
            Point(c.assessment.id, c.assessment.toolkit_id, c.assessment.toolkit_version,
                  c.assessment.window_end_date or c.assessment.window_start_date,
                  c.assessment.authorised_at or c.assessment.updated_at, c.definition.direction,
                  {j.area_id: j.practitioner_value for j in c.judgements if j.practitioner_value is not None})
            for c in current
        ]
        self.audit.record(who, "read", "trajectory", [child_id])
        latest_direction = {c.assessment.toolkit_id: c.definition.direction
                            for c in sorted(current, key=lambda c: c.assessment.authorised_at or c.assessment.updated_at)}
        on = today()
        return ChildTrajectory(child_trajectory(points, self.rule, on), latest_direction, on)

    async def latest_results(self, who: Principal, child_id: uuid.UUID) -> list[CurrentResult]:
        """Each toolkit's latest authorised assessment of the child."""
        await self.children.require_visible(child_id)
        latest: dict[str, CurrentResult] = {}
        for c in await self._current(child_id):
            held = latest.get(c.assessment.toolkit_id)
            if held is None or _authorised_key(c.assessment) >= _authorised_key(held.assessment):
                latest[c.assessment.toolkit_id] = c
        self.audit.record(who, "read", "latest_results", [child_id])
        return [latest[t] for t in sorted(latest)]
