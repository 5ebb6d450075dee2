"""What an assessment's ratings add up to: suggestions, totals, counts, safety scale.

Plain Python. Nothing here touches the practitioner's judgement: a suggestion
is computed and kept apart, labelled, with the rule that produced it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from services.assessment.domain.definitions import Definition


@dataclass(frozen=True)
class RatingFact:
    item_id: str
    area_id: str
    value: int
    value_id: str | None = None
    rater_kind: str | None = None
    rated_on: date | None = None
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class Suggestion:
    value: int | None
    based_on: tuple[str, ...]
    rule: str


def suggest(definition: Definition, area_id: str, ratings: Iterable[RatingFact]) -> Suggestion | None:
    """The system suggestion for one area, or None when the tool has no suggestion rule."""
    rule = definition.suggestion_rule
    if rule is None:
        return None
    rated = [(r.item_id, r.value) for r in ratings if r.area_id == area_id and r.rater_kind is None]
    worst = definition.worst(v for _, v in rated)
    if worst is None:
        return Suggestion(None, (), rule)
    return Suggestion(worst, tuple(sorted(unit for unit, v in rated if v == worst)), rule)


@dataclass(frozen=True)
class Total:
    id: str
    name: str
    value: int
    rated: int
    of: int


def totals(definition: Definition, ratings: Sequence[RatingFact]) -> list[Total]:
    """Only the totals the tool defines, over the items rated so far."""
    by_unit = {r.item_id: r.value for r in ratings if r.rater_kind is None}
    out = []
    for total in definition.totals:
        counted = [by_unit[u] for u in total["items"] if u in by_unit]
        out.append(Total(total["id"], total["name"], sum(counted), len(counted), len(total["items"])))
    return out


def items_rated(definition: Definition, ratings: Sequence[RatingFact]) -> tuple[dict[str, int], dict[str, dict[str, int]]] | None:
    """Ratings counted by scale value id, overall and per area; None for a scale without value ids."""
    if not definition.has_value_ids or definition.rater_kinds is not None:
        return None
    ids = [v.id for v in definition.values if v.id]
    counts = dict.fromkeys(ids, 0)
    by_area: dict[str, dict[str, int]] = {area: dict.fromkeys(ids, 0) for area in definition.area_ids}
    for r in ratings:
        value_id = definition.of(r.value).id
        if value_id is None:
            continue
        counts[value_id] += 1
        by_area[r.area_id][value_id] += 1
    return counts, by_area


def safety_scale(definition: Definition, ratings: Sequence[RatingFact]) -> dict[str, int] | None:
    """The latest score per kind of rater, each as it was given (never an average).

    Kinds report as ``worker`` (any professional), ``parent``, ``child``, ``network``;
    the latest is by rating date, then by when it was recorded.
    """
    kinds = definition.rater_kinds
    if kinds is None:
        return None
    latest: dict[str, tuple[date, datetime, int]] = {}
    floor = datetime.min.replace(tzinfo=UTC)
    for r in ratings:
        if r.rater_kind is None or r.rater_kind not in kinds or r.rated_on is None:
            continue
        key = kinds[r.rater_kind].reports_as
        stamp = (r.rated_on, r.recorded_at or floor, r.value)
        held = latest.get(key)
        if held is None or stamp[:2] > held[:2]:
            latest[key] = stamp
    return {key: value for key, (_, _, value) in sorted(latest.items())}
