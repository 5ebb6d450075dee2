"""The trajectory computation as plain Python: per-area change, direction, sustained improvement."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.assessment.domain.trajectory import (
    Direction,
    Point,
    TrajectoryRule,
    add_months,
    child_trajectory,
    compare,
    tool_trajectory,
)

RULE = TrajectoryRule()
AREAS = ["physical_care", "care_of_safety", "emotional_care", "developmental_care"]


def gcp2(on: date, **grades: int) -> Point:
    return Point(uuid.uuid4(), "gcp2", "2-structure-1", on, datetime.combine(on, datetime.min.time(), UTC),
                 "higher_is_worse", grades)


def safety(on: date, score: int) -> Point:
    return Point(uuid.uuid4(), "signs_of_safety", "1", on, datetime.combine(on, datetime.min.time(), UTC),
                 "higher_is_better", {"safety": score})


def test_gcp2_lower_grade_is_better() -> None:
    result = compare(gcp2(date(2026, 1, 1), physical_care=4, emotional_care=3),
                     gcp2(date(2026, 4, 1), physical_care=2, emotional_care=3), RULE)
    assert result.areas["physical_care"].change == -2
    assert result.areas["physical_care"].direction == Direction.improving
    assert result.areas["emotional_care"].direction == Direction.static
    assert result.direction == Direction.improving


def test_any_area_worse_is_deteriorating_even_when_another_improves() -> None:
    result = compare(gcp2(date(2026, 1, 1), physical_care=4, emotional_care=3),
                     gcp2(date(2026, 4, 1), physical_care=2, emotional_care=4), RULE)
    assert result.direction == Direction.deteriorating


def test_all_the_same_is_static() -> None:
    grades = dict.fromkeys(AREAS, 3)
    assert compare(gcp2(date(2026, 1, 1), **grades), gcp2(date(2026, 4, 1), **grades), RULE).direction == Direction.static


def test_a_safety_scale_higher_is_better() -> None:
    assert compare(safety(date(2026, 1, 1), 3), safety(date(2026, 2, 1), 6), RULE).direction == Direction.improving
    assert compare(safety(date(2026, 1, 1), 6), safety(date(2026, 2, 1), 5), RULE).direction == Direction.deteriorating


def test_thresholds_are_configurable() -> None:
    lenient = TrajectoryRule(worse_by=2, better_by=2)
    small = compare(gcp2(date(2026, 1, 1), physical_care=3), gcp2(date(2026, 4, 1), physical_care=4), lenient)
    assert small.direction == Direction.static
    big = compare(gcp2(date(2026, 1, 1), physical_care=3), gcp2(date(2026, 4, 1), physical_care=5), lenient)
    assert big.direction == Direction.deteriorating


def test_only_areas_in_both_are_compared() -> None:
    result = compare(gcp2(date(2026, 1, 1), physical_care=4), gcp2(date(2026, 4, 1), emotional_care=2), RULE)
    assert result.areas == {}
    assert result.direction is None


def test_steps_compare_with_baseline_and_previous() -> None:
    points = [gcp2(date(2026, 1, 10), physical_care=4), gcp2(date(2026, 4, 10), physical_care=3),
              gcp2(date(2026, 7, 10), physical_care=3)]
    tool = tool_trajectory(list(reversed(points)), RULE, date(2026, 8, 1))
    assert [s.point for s in tool.steps] == points  # date order whatever the input order
    assert tool.steps[0].from_baseline is None
    assert tool.latest.from_baseline is not None
    assert tool.latest.from_baseline.direction == Direction.improving
    assert tool.latest.from_previous is not None
    assert tool.latest.from_previous.direction == Direction.static
    assert tool.first_assessed_on == date(2026, 1, 10)
    assert tool.days_since_first == (date(2026, 8, 1) - date(2026, 1, 10)).days


@pytest.mark.parametrize(
    ("grades", "sustained", "since"),
    [
        ([4, 3, 3, 2], True, date(2026, 2, 1)),     # better from February, held to September
        ([4, 3, 4, 3], False, date(2026, 8, 1)),    # fell back in May: the clock restarts in August
        ([4, 4, 4, 3], False, date(2026, 8, 1)),    # only just improved
        ([4, 3, 3, 4], False, None),                # no longer improved on the baseline
        # Still better than the baseline, but the slip from 2 to 3 in May restarts the clock.
        ([4, 2, 3, 3], False, date(2026, 5, 1)),
    ],
)
def test_sustained_improvement(grades: list[int], sustained: bool, since: date | None) -> None:
    dates = [date(2026, 1, 1), date(2026, 2, 1), date(2026, 5, 1), date(2026, 8, 1)]
    points = [gcp2(d, physical_care=g) for d, g in zip(dates, grades, strict=True)]
    result = tool_trajectory(points, TrajectoryRule(sustained_months=6), date(2026, 9, 1)).sustained
    assert (result.sustained, result.since) == (sustained, since)
    assert result.until == date(2026, 8, 1)


def test_sustained_period_is_configurable() -> None:
    points = [gcp2(date(2026, 1, 1), physical_care=4), gcp2(date(2026, 2, 1), physical_care=3),
              gcp2(date(2026, 5, 1), physical_care=3)]
    assert tool_trajectory(points, TrajectoryRule(sustained_months=3), date(2026, 6, 1)).sustained.sustained
    assert not tool_trajectory(points, TrajectoryRule(sustained_months=6), date(2026, 6, 1)).sustained.sustained


def test_child_direction_combines_tools() -> None:
    points = [gcp2(date(2026, 1, 1), physical_care=4), gcp2(date(2026, 4, 1), physical_care=3),
              safety(date(2026, 1, 5), 5), safety(date(2026, 4, 5), 4)]
    result = child_trajectory(points, RULE, date(2026, 5, 1))
    assert [t.toolkit_id for t in result.tools] == ["gcp2", "signs_of_safety"]
    assert result.direction == Direction.deteriorating
    assert result.first_assessed_on == date(2026, 1, 1)
    single = child_trajectory(points[:1], RULE, date(2026, 5, 1))
    assert single.direction is None
    assert child_trajectory([], RULE, date(2026, 5, 1)).direction is None


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2026, 1, 31), 1, date(2026, 2, 28)), (date(2026, 8, 31), 6, date(2027, 2, 28)),
    (date(2024, 2, 29), 12, date(2025, 2, 28)), (date(2026, 3, 15), -3, date(2025, 12, 15)),
])
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


# --- Properties -------------------------------------------------------------------------------

grade = st.integers(1, 5)
profiles = st.fixed_dictionaries(dict.fromkeys(AREAS, grade))


@given(profiles)
def test_the_same_profile_is_static(grades: dict[str, int]) -> None:
    assert compare(gcp2(date(2026, 1, 1), **grades), gcp2(date(2026, 4, 1), **grades), RULE).direction == Direction.static


@given(profiles, profiles)
def test_any_area_worse_means_deteriorating(before: dict[str, int], after: dict[str, int]) -> None:
    result = compare(gcp2(date(2026, 1, 1), **before), gcp2(date(2026, 4, 1), **after), RULE)
    worse = any(after[a] > before[a] for a in AREAS)
    better = any(after[a] < before[a] for a in AREAS)
    assert (result.direction == Direction.deteriorating) == worse
    assert (result.direction == Direction.improving) == (better and not worse)
    for area, change in result.areas.items():
        assert change.change == after[area] - before[area]


@given(profiles, profiles)
def test_reversing_one_way_changes_flips_the_direction(before: dict[str, int], after: dict[str, int]) -> None:
    forward = compare(gcp2(date(2026, 1, 1), **before), gcp2(date(2026, 4, 1), **after), RULE).direction
    backward = compare(gcp2(date(2026, 1, 1), **after), gcp2(date(2026, 4, 1), **before), RULE).direction
    mixed = any(after[a] > before[a] for a in AREAS) and any(after[a] < before[a] for a in AREAS)
    if mixed:
        assert forward == backward == Direction.deteriorating
    else:
        flipped = {Direction.improving: Direction.deteriorating, Direction.deteriorating: Direction.improving,
                   Direction.static: Direction.static}
        assert backward == flipped[forward]  # type: ignore[index]


@given(st.lists(st.integers(0, 10), min_size=2, max_size=6))
def test_a_mirrored_scale_gives_the_same_directions(scores: list[int]) -> None:
    start = date(2026, 1, 1)
    better = [safety(start + timedelta(days=30 * i), s) for i, s in enumerate(scores)]
    worse = [Point(p.assessment_id, "mirror", "1", p.assessed_on, p.authorised_at, "higher_is_worse",
                   {"safety": 10 - p.grades["safety"]}) for p in better]
    a = tool_trajectory(better, RULE, date(2027, 1, 1))
    b = tool_trajectory(worse, RULE, date(2027, 1, 1))
    for x, y in zip(a.steps, b.steps, strict=True):
        for cx, cy in ((x.from_baseline, y.from_baseline), (x.from_previous, y.from_previous)):
            assert (cx.direction if cx else None) == (cy.direction if cy else None)
    assert a.sustained == b.sustained


@given(st.lists(st.tuples(st.integers(0, 400), grade), min_size=1, max_size=8))
def test_sustained_needs_improvement_on_the_baseline_held_long_enough(entries: list[tuple[int, int]]) -> None:
    base = datetime(2025, 1, 1, tzinfo=UTC)
    # Same-day assessments are ordered by when they were authorised: give each its own moment.
    points = [Point(uuid.UUID(int=i + 1), "gcp2", "2-structure-1", (base + timedelta(days=d)).date(),
                    base + timedelta(days=d, seconds=i), "higher_is_worse", {"physical_care": g})
              for i, (d, g) in enumerate(entries)]
    tool = tool_trajectory(points, TrajectoryRule(sustained_months=6), date(2027, 1, 1))
    assert tool_trajectory(list(reversed(points)), TrajectoryRule(sustained_months=6), date(2027, 1, 1)) == tool
    result = tool.sustained
    if result.sustained:
        assert result.since is not None
        assert result.until is not None
        assert add_months(result.since, 6) <= result.until
        assert tool.latest.from_baseline is not None
        assert tool.latest.from_baseline.direction == Direction.improving
        baseline = tool.steps[0].point.grades["physical_care"]
        for step in tool.steps:
            if step.point.assessed_on > result.since:
                assert step.point.grades["physical_care"] < baseline
