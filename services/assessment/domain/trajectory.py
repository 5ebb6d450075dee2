"""A child's trajectory: change per area across authorised assessments, and its direction.

Plain Python. Grades are the practitioner's (authoritative) area judgements,
never the system suggestions. Each tool is compared with itself only, in its
own direction (GCP2: a higher grade is worse; a safety scale: higher is
better); areas are compared where both assessments have them.
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class Direction(StrEnum):
    improving = "improving"
    static = "static"
    deteriorating = "deteriorating"


@dataclass(frozen=True)
class Point:
    """One authorised assessment, as the trajectory sees it."""

    assessment_id: uuid.UUID
    toolkit_id: str
    toolkit_version: str
    assessed_on: date
    authorised_at: datetime
    scale_direction: str
    grades: Mapping[str, int]

    def badness(self, value: int) -> int:
        return value if self.scale_direction == "higher_is_worse" else -value


@dataclass(frozen=True)
class TrajectoryRule:
    """Configurable thresholds (settings); ``describe`` is shown with every result."""

    worse_by: int = 1
    better_by: int = 1
    sustained_months: int = 6

    def describe(self) -> dict[str, str]:
        return {
            "deteriorating": f"any area worse by {self.worse_by} or more",
            "improving": f"no area deteriorating and at least one area better by {self.better_by} or more",
            "static": "otherwise (every compared area within the thresholds, e.g. all the same)",
            "direction": "each tool in its own direction: a higher GCP2 grade is worse, a higher safety score is better",
            "grades": "the practitioner's area judgements of authorised assessments; suggestions are not used",
            "sustained_improvement": (
                f"improved on the baseline at an assessment at least {self.sustained_months} months before "
                "the latest one, still improved on the baseline at every assessment since, "
                "with none of them deteriorating on the one before"
            ),
        }


@dataclass(frozen=True)
class AreaChange:
    area_id: str
    earlier: int
    later: int
    change: int
    direction: Direction


@dataclass(frozen=True)
class Comparison:
    areas: dict[str, AreaChange]
    direction: Direction | None


def compare(earlier: Point, later: Point, rule: TrajectoryRule) -> Comparison:
    """Per-area change (later minus earlier) and the overall direction by ``rule``.

    No area in common: no direction (None), rather than a guess.
    """
    changes: dict[str, AreaChange] = {}
    for area in earlier.grades:
        if area not in later.grades:
            continue
        before, after = earlier.grades[area], later.grades[area]
        better = earlier.badness(before) - later.badness(after)
        if better >= rule.better_by:
            direction = Direction.improving
        elif -better >= rule.worse_by:
            direction = Direction.deteriorating
        else:
            direction = Direction.static
        changes[area] = AreaChange(area, before, after, after - before, direction)
    return Comparison(changes, overall(c.direction for c in changes.values()) if changes else None)


def overall(directions: Iterable[Direction]) -> Direction:
    """Deteriorating when any is; improving when any is and none deteriorates; else static."""
    seen = list(directions)
    if Direction.deteriorating in seen:
        return Direction.deteriorating
    if Direction.improving in seen:
        return Direction.improving
    return Direction.static


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Step:
    point: Point
    from_baseline: Comparison | None
    from_previous: Comparison | None


@dataclass(frozen=True)
class Sustained:
    months: int
    sustained: bool
    since: date | None
    until: date | None


@dataclass(frozen=True)
class ToolTrajectory:
    toolkit_id: str
    steps: list[Step]
    first_assessed_on: date
    days_since_first: int
    sustained: Sustained

    @property
    def latest(self) -> Step:
        return self.steps[-1]


def sustained_improvement(steps: Sequence[Step], months: int) -> Sustained:
    """Whether the improvement on the baseline has held for ``months`` up to the latest assessment.

    ``since`` is the earliest assessment from which every assessment up to the
    latest is improved on the baseline and none is worse than the one before it.
    """
    if len(steps) < 2:
        return Sustained(months, False, None, None)

    def improved(step: Step) -> bool:
        return step.from_baseline is not None and step.from_baseline.direction == Direction.improving

    def held(step: Step) -> bool:
        return step.from_previous is not None and step.from_previous.direction in (Direction.improving, Direction.static)

    last = len(steps) - 1
    until = steps[last].point.assessed_on
    if not improved(steps[last]):
        return Sustained(months, False, None, until)
    k = last
    while k - 1 >= 1 and improved(steps[k - 1]) and held(steps[k]):
        k -= 1
    since = steps[k].point.assessed_on
    return Sustained(months, add_months(since, months) <= until, since, until)


def tool_trajectory(points: Sequence[Point], rule: TrajectoryRule, today: date) -> ToolTrajectory:
    """One tool's assessments in date order, each compared with the baseline and the one before."""
    ordered = sorted(points, key=lambda p: (p.assessed_on, p.authorised_at, str(p.assessment_id)))
    baseline = ordered[0]
    steps: list[Step] = []
    for i, point in enumerate(ordered):
        if i == 0:
            steps.append(Step(point, None, None))
            continue
        steps.append(Step(point, compare(baseline, point, rule), compare(ordered[i - 1], point, rule)))
    return ToolTrajectory(baseline.toolkit_id, steps, baseline.assessed_on, (today - baseline.assessed_on).days,
                          sustained_improvement(steps, rule.sustained_months))


@dataclass(frozen=True)
class Trajectory:
    tools: list[ToolTrajectory]
    direction: Direction | None
    first_assessed_on: date | None
    days_since_first: int | None


def child_trajectory(points: Sequence[Point], rule: TrajectoryRule, today: date) -> Trajectory:
    """Every tool's trajectory, and the child's overall direction: the tools' latest changes
    (from the previous assessment) combined by the same rule; None until a tool has been repeated."""
    by_tool: dict[str, list[Point]] = {}
    for point in points:
        by_tool.setdefault(point.toolkit_id, []).append(point)
    tools = [tool_trajectory(by_tool[t], rule, today) for t in sorted(by_tool)]
    latest = [t.latest.from_previous.direction for t in tools
              if t.latest.from_previous is not None and t.latest.from_previous.direction is not None]
    first = min((t.first_assessed_on for t in tools), default=None)
    return Trajectory(tools, overall(latest) if latest else None, first,
                      (today - first).days if first is not None else None)
