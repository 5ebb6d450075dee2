"""The partnership's targets for dashboard figures and their red/amber/green thresholds.

A target names one figure the dashboard shows (``kind:id``):

- ``timeliness:<clock>``: the percentage of items whose clock stopped within the limit in the period;
- ``alerts:<clock>``: the items past the limit on the date (drift alerts);
- ``caseload:<figure>``: a caseload count on the date (a stage, or one of the totals);
- ``metric:<NQxx>``: a quarterly dataset metric's total for the quarter.

``direction`` says which way is good. With ``higher_is_better`` a figure at or above ``green`` is
green, at or above ``amber`` amber, and red below; with ``lower_is_better`` at or below ``green``
is green, at or below ``amber`` amber, and red above. The whole set is replaced at once, under
If-Match on its version (``0`` until first set), so two people cannot overwrite each other unseen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from services.reporting.models import DashboardTargets
from services.reporting.queries.targets import TargetQueries
from shared.db import utcnow
from shared.errors import Unprocessable
from shared.etag import Precondition, check_version
from shared.tokens import Principal

Direction = Literal["higher_is_better", "lower_is_better"]
KINDS = ("timeliness", "alerts", "caseload", "metric")
CASELOAD_FIGURES = ("cp_plan", "cin_plan", "s47_enquiry", "assessment", "open_episode_other", "early_help",
                    "children_in_statutory_work", "referrals_awaiting_decision", "neglect_cp_plans")
FIGURE = re.compile(r"^([a-z]+):([A-Za-z0-9_]{1,60})$")
MAX_TARGETS = 200


class InvalidTargets(Unprocessable):
    slug, title = "invalid-targets", "The targets are not valid"


@dataclass(frozen=True)
class Target:
    figure: str
    direction: Direction
    green: float
    amber: float
    label: str | None = None


@dataclass(frozen=True)
class TargetSet:
    targets: list[Target]
    version: int
    updated_at: datetime | None
    updated_by: str | None


def known_figures(clocks: Iterable[str], metrics: Iterable[str]) -> dict[str, frozenset[str]]:
    """The figure ids a target may name, by kind."""
    clock_ids = frozenset(clocks)
    return {"timeliness": clock_ids, "alerts": clock_ids, "caseload": frozenset(CASELOAD_FIGURES),
            "metric": frozenset(metrics)}


def check_targets(targets: list[Target], known: Mapping[str, frozenset[str]]) -> None:
    """Every problem at once, each naming its field; nothing is stored unless there is none."""
    errors: list[dict[str, str]] = []

    def bad(index: int, name: str, message: str, code: str) -> None:
        errors.append({"field": f"body.targets.{index}.{name}", "message": message, "code": code})

    if len(targets) > MAX_TARGETS:
        errors.append({"field": "body.targets", "message": f"at most {MAX_TARGETS} targets", "code": "too_many"})
    seen: set[str] = set()
    for i, target in enumerate(targets):
        found = FIGURE.match(target.figure)
        if found is None or found.group(1) not in known:
            bad(i, "figure", f"must be kind:id with kind one of {', '.join(KINDS)}", "unknown_kind")
        elif found.group(2) not in known[found.group(1)]:
            bad(i, "figure", f"{found.group(1)} has no figure {found.group(2)}", "unknown_figure")
        if target.figure in seen:
            bad(i, "figure", "appears more than once", "duplicate")
        seen.add(target.figure)
        if target.direction == "higher_is_better" and target.green < target.amber:
            bad(i, "amber", "must not be above green when higher is better", "thresholds_out_of_order")
        if target.direction == "lower_is_better" and target.green > target.amber:
            bad(i, "amber", "must not be below green when lower is better", "thresholds_out_of_order")
        if target.figure.startswith("timeliness:") and not (0 <= target.amber <= 100 and 0 <= target.green <= 100):
            bad(i, "green", "percentages run from 0 to 100", "out_of_range")
    if errors:
        raise InvalidTargets(f"{len(errors)} problem(s) with the targets; nothing was changed.", errors=errors)


def rag(target: Target, value: float) -> Literal["green", "amber", "red"]:
    """The colour of a figure against its target (the dashboard applies the same rule)."""
    if target.direction == "higher_is_better":
        return "green" if value >= target.green else "amber" if value >= target.amber else "red"
    return "green" if value <= target.green else "amber" if value <= target.amber else "red"


def _from_row(row: DashboardTargets | None) -> TargetSet:
    if row is None:
        return TargetSet(targets=[], version=0, updated_at=None, updated_by=None)
    return TargetSet(targets=[Target(**t) for t in row.targets], version=row.version,
                     updated_at=row.updated_at, updated_by=row.updated_by)


class Targets:
    def __init__(self, queries: TargetQueries) -> None:
        self.queries = queries

    async def current(self) -> TargetSet:
        return _from_row(await self.queries.current())

    async def replace(self, who: Principal, targets: list[Target], version: Precondition,
                      known: Mapping[str, frozenset[str]]) -> TargetSet:
        row = await self.queries.current()
        check_version(row.version if row else 0, version)
        check_targets(targets, known)
        stored: list[dict[str, Any]] = [asdict(t) for t in targets]
        if row is None:
            row = DashboardTargets(id=1, version=1, targets=stored, updated_by=who.client_id)
        else:
            row.targets, row.version = stored, row.version + 1
            row.updated_at, row.updated_by = utcnow(), who.client_id
        await self.queries.save(row)
        return _from_row(row)
