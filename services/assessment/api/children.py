"""A child's toolkit results: the trajectory across assessments and tools, and the latest
authorised results (read by the referral service's threshold engine)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from services.assessment.api.deps import AssessmentsDep, CanRead
from services.assessment.domain.assessments import ChildTrajectory, CurrentResult, rating_fact
from services.assessment.domain.errors import ChildCheckRefused, ChildNotFound, ReferralUnavailable
from services.assessment.domain.results import items_rated, safety_scale, totals
from services.assessment.domain.trajectory import Comparison, Step, TrajectoryRule
from services.assessment.schemas.assessments import (
    AreaChangeRead,
    AreaGrades,
    ComparisonRead,
    LatestResult,
    LatestResults,
    SustainedRead,
    ToolTrajectoryRead,
    TrajectoryPoint,
    TrajectoryRead,
)
from services.assessment.schemas.assessments import TrajectoryRule as TrajectoryRuleRead
from shared.errors import problems

router = APIRouter(prefix="/children", tags=["trajectory"])
CHILD_PROBLEMS = problems(ChildNotFound, ChildCheckRefused, ReferralUnavailable)


def _comparison(comparison: Comparison | None, with_id: uuid.UUID) -> ComparisonRead | None:
    if comparison is None:
        return None
    return ComparisonRead(
        compared_with=with_id, direction=comparison.direction,
        areas={a: AreaChangeRead(earlier=c.earlier, later=c.later, change=c.change, direction=c.direction)
               for a, c in comparison.areas.items()},
    )


def _point(step: Step, baseline_id: uuid.UUID, previous_id: uuid.UUID | None) -> TrajectoryPoint:
    p = step.point
    return TrajectoryPoint(
        assessment_id=p.assessment_id, toolkit_version=p.toolkit_version, assessed_on=p.assessed_on,
        authorised_at=p.authorised_at, areas=dict(p.grades),
        from_baseline=_comparison(step.from_baseline, baseline_id),
        from_previous=_comparison(step.from_previous, previous_id) if previous_id else None,
    )


def trajectory_read(child_id: uuid.UUID, result: ChildTrajectory, rule: TrajectoryRule) -> TrajectoryRead:
    t = result.trajectory
    tools = []
    for tool in t.tools:
        baseline_id = tool.steps[0].point.assessment_id
        points = [_point(s, baseline_id, tool.steps[i - 1].point.assessment_id if i else None)
                  for i, s in enumerate(tool.steps)]
        latest = tool.latest
        tools.append(ToolTrajectoryRead(
            toolkit_id=tool.toolkit_id,
            scale_direction=result.directions[tool.toolkit_id],
            baseline_assessment_id=baseline_id, first_assessed_on=tool.first_assessed_on,
            days_since_first_assessment=tool.days_since_first,
            direction_from_baseline=latest.from_baseline.direction if latest.from_baseline else None,
            direction_from_previous=latest.from_previous.direction if latest.from_previous else None,
            sustained_improvement=SustainedRead(months=tool.sustained.months, sustained=tool.sustained.sustained,
                                                since=tool.sustained.since, until=tool.sustained.until),
            assessments=points,
        ))
    return TrajectoryRead(
        child_id=child_id, computed_on=result.computed_on, direction=t.direction,
        first_assessed_on=t.first_assessed_on, days_since_first_assessment=t.days_since_first,
        rule=TrajectoryRuleRead(worse_by=rule.worse_by, better_by=rule.better_by,
                                sustained_months=rule.sustained_months, description=rule.describe()),
        toolkits=tools,
    )


def latest_result(c: CurrentResult) -> LatestResult:
    a, d = c.assessment, c.definition
    facts = [rating_fact(r) for r in c.ratings]
    judged = {j.area_id: j.practitioner_value for j in c.judgements}
    suggested = {j.area_id: j.suggested_value for j in c.judgements} if d.suggestion_rule else {}
    result = LatestResult(
        toolkit_id=a.toolkit_id, toolkit_version=a.toolkit_version, assessment_id=a.id,
        authorised_at=a.authorised_at or a.updated_at,
        authorised_on=a.authorised_on or (a.authorised_at or a.updated_at).date(),
        # An area with neither a judgement nor a suggestion (an optional area left out) is left out.
        areas={area: AreaGrades(practitioner_grade=judged.get(area), suggestion=suggested.get(area))
               for area in d.area_ids if judged.get(area) is not None or suggested.get(area) is not None},
    )
    if (counts := items_rated(d, facts)) is not None:
        result.items_rated, result.items_rated_by_domain = counts
    if (scale := safety_scale(d, facts)) is not None:
        result.safety_scale = scale
    if d.totals:
        result.totals = {t.id: t.value for t in totals(d, facts)}
    return result


@router.get("/{child_id}/trajectory", responses=CHILD_PROBLEMS)
async def get_trajectory(child_id: uuid.UUID, who: CanRead, assessments: AssessmentsDep) -> TrajectoryRead:
    """The child's trajectory, from authorised assessments only, per tool: each assessment's area
    grades (the practitioner's judgements) with the change from the baseline and from the one
    before, the direction (improving, static, deteriorating) by the rule shown in `rule`, the time
    since the first assessment, and whether an improvement has been sustained over the configured
    period. An agency that cannot see the child sees none of it (404)."""
    result = await assessments.trajectory(who, child_id)
    return trajectory_read(child_id, result, assessments.rule)


@router.get("/{child_id}/latest-results", response_model=LatestResults, response_model_exclude_none=True,
            responses=CHILD_PROBLEMS)
async def get_latest_results(child_id: uuid.UUID, who: CanRead, assessments: AssessmentsDep) -> LatestResults:
    """The child's latest authorised result per toolkit, in one call: each area's practitioner
    grade and system suggestion as numbers; `items_rated` (ratings counted by scale value id) for
    a named scale; `safety_scale` (the latest score per kind of rater, `worker` being any
    professional) for a tool with several raters; `totals` where the tool defines them. Keys that
    do not apply to a tool are left out. No free text."""
    current = await assessments.latest_results(who, child_id)
    return LatestResults(child_id=child_id, items=[latest_result(c) for c in current])
