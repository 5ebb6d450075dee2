"""The quarterly partnership neglect dataset: every metric of reference/quarterly_dataset.yaml.

Plain Python around the SQL in ``queries.dataset``: which units each metric
counts, how its breakdowns add up, its percentages and rates, and the
suppression of small numbers for callers who may only see published figures.
Figures are never made up: a metric whose source events no service emits yet
is returned as not available, with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from services.reporting.domain.periods import Period
from services.reporting.domain.reference import Clock, dataset_definitions
from services.reporting.domain.suppression import SUPPRESSED, primary, secondary
from services.reporting.queries.dataset import Crosstab, DatasetQueries, Params, band_labels

Kind = Literal["count", "percent", "rate"]
Shown = int | float | str | None

AGE_BANDS = ("unborn", "under 1", "1-4", "5-9", "10-15", "16-17", "unknown")


@dataclass(frozen=True)
class Settings:
    """What the figures depend on besides the read model (partnership configuration and clocks)."""

    population: int | None
    population_year: int | None
    bands: tuple[int, ...]
    step_down_days: int
    minimum_months: int
    assessment_from_start: bool
    toolkit_events: bool
    clocks: Mapping[str, Clock]
    scale_directions: Mapping[str, str] = field(default_factory=dict)

    def limit(self, clock: str, default: int) -> int:
        found = self.clocks.get(clock)
        return found.limit if found is not None and found.limit is not None else default


@dataclass
class Cell:
    key: str
    count: int
    denominator: int | None = None


@dataclass
class Computed:
    """A metric's unsuppressed result."""

    id: str
    available: bool
    reason: str | None = None
    total: Cell | None = None
    breakdowns: dict[str, list[Cell]] = field(default_factory=dict)
    extra: dict[str, list[Cell]] = field(default_factory=dict)  # lists that are not a split of the total


@dataclass(frozen=True)
class Spec:
    """A metric: the units it counts (``source``: a units query of ``queries.dataset.UNITS``,
    shared with the other metrics built on the same units), its breakdowns, and which units count
    towards it (``num``) and its denominator (``den``): those whose every named flag is 1 (no flag:
    every unit)."""

    id: str
    kind: Kind
    dims: tuple[str, ...]
    source: str
    num: tuple[str, ...] = ("num",)
    den: tuple[str, ...] = ("den",)
    denominator: bool = False  # a count metric that also shows its share of a denominator
    share_of_total: bool = False  # breakdown cells are shares of the total (a split), not rates within the cell
    unavailable: Callable[[Settings], str | None] = lambda s: None


def _toolkits_pending(s: Settings) -> str | None:
    if s.toolkit_events:
        return None
    return "Toolkit assessment events (assessment.authorised from the assessment service) do not feed this read model."


def _population_missing(s: Settings) -> str | None:
    return None if s.population else "The partnership's 0-17 population is not configured."


CHILD_DIMS = ("age_band", "gender", "ethnicity_group", "disability")

NEGLECT = ("neglect",)

SPECS: dict[str, Spec] = {s.id: s for s in [
    Spec("NQ01", "count", CHILD_DIMS, "open_plans", NEGLECT, NEGLECT),
    Spec("NQ02", "count", CHILD_DIMS, "open_plans", ("neglect_initial",), ("neglect_initial",)),
    Spec("NQ03", "rate", (), "open_plans", NEGLECT, NEGLECT, unavailable=_population_missing),
    Spec("NQ04", "percent", (), "open_plans", NEGLECT, ()),
    Spec("NQ05", "count", (*CHILD_DIMS, "referring_agency_type"), "started", (), ()),
    Spec("NQ06", "percent", ("age_band",), "started", ("repeat",), ()),
    Spec("NQ06b", "percent", ("age_band",), "started", ("repeat_24m",), ()),
    Spec("NQ07", "count", ("duration_band",), "open_plans", NEGLECT, NEGLECT, denominator=True, share_of_total=True),
    Spec("NQ08", "count", (), "open_plans", ("neglect", "long"), NEGLECT, denominator=True),
    Spec("NQ09", "count", ("duration_band", "age_band"), "ended", (), (), denominator=True, share_of_total=True),
    Spec("NQ10", "percent", (), "ended", ("short",), ()),
    Spec("NQ11", "percent", (), "ended", ("to_cin",), ()),
    Spec("NQ12", "percent", (), "ended", ("to_early_help",), ()),
    Spec("NQ13", "count", ("age_band",), "returned", denominator=True),
    Spec("NQ14", "count", ("age_band",), "open_plans", ("neglect", "disabled"), NEGLECT, denominator=True),
    Spec("NQ15", "percent", ("referring_agency_type",), "received", ("timely",), ()),
    Spec("NQ16", "count", ("referring_agency_type", "level", "outcome", "followed_recommendation"), "decisions", (), ()),
    Spec("NQ17", "percent", ("referring_agency_type",), "decisions", ("overridden", "recommended"), ("recommended",)),
    Spec("NQ18", "percent", ("referring_agency_type", "age_band"), "received", ("re_referral",), ()),
    Spec("NQ19", "percent", ("neglect_factor_16A",), "assessments", ("timely",), ()),
    Spec("NQ20", "percent", ("resulting_plan_category",), "icpcs"),
    Spec("NQ21", "percent", ("latest_category",), "reviews"),
    Spec("NQ22", "count", ("age_band", "referring_agency_type"), "assessments", NEGLECT, (), denominator=True),
    Spec("NQ23", "count", ("reporting_agency_type",), "engagement", ("was_not_brought",), ("was_not_brought",)),
    Spec("NQ24", "count", ("reporting_agency_type",), "engagement", ("no_access_visit",), ("no_access_visit",)),
    Spec("NQ25", "count", ("event_type", "reporting_agency_type"), "engagement", ("declined",), ("declined",)),
    Spec("NQ26", "count", ("stage",), "pathway"),
    Spec("NQ27", "count", ("tool",), "toolkits", unavailable=_toolkits_pending),
    Spec("NQ28", "count", ("tool", "trajectory_class"), "trajectories", denominator=True,
         share_of_total=True, unavailable=_toolkits_pending),
    Spec("NQ29", "count", ("contact_outcome", "referring_agency_type"), "contacts"),
]}

#: Breakdown values listed even when empty, so tables keep their shape from period to period.
FIXED_KEYS: dict[str, tuple[str, ...]] = {
    "age_band": AGE_BANDS,
    "gender": ("male", "female", "indeterminate", "not_recorded_or_unborn", "unknown"),
    "ethnicity_group": ("white", "mixed", "asian", "black", "chinese_or_other", "not_known"),
    "disability": ("yes", "no", "unknown"),
    "neglect_factor_16A": ("yes", "no"),
    "followed_recommendation": ("yes", "no", "unknown"),
    "contact_outcome": ("nfa", "information_advice", "early_help", "referral"),
    "trajectory_class": ("improved", "static", "deteriorated", "mixed"),
}


def metric_ids() -> list[str]:
    return list(SPECS)


def definition(metric_id: str) -> Mapping[str, Any]:
    """The YAML definition of a metric (variants such as NQ06b inherit their parent's fields)."""
    for row in dataset_definitions()["metrics"]:
        if row["id"] == metric_id:
            return dict(row)
        for variant in row.get("variants", ()):
            if variant["id"] == metric_id:
                return {**row, **variant, "title": row["title"] + " (previous plan within 24 months)", "variants": []}
    raise KeyError(metric_id)


def basis(metric_id: str, period: Period) -> dict[str, Any]:
    kind = definition(metric_id)["period_basis"]
    if kind == "snapshot":
        return {"period_basis": kind, "at": period.end, "from": None, "to": None}
    start = period.rolling_12_months()[0] if kind == "rolling_12_months" else period.start
    return {"period_basis": kind, "at": None, "from": start, "to": period.end}


def params(period: Period, s: Settings) -> Params:
    return Params(
        start=period.start, end=period.end, rolling_start=period.rolling_12_months()[0], bands=s.bands,
        step_down_days=s.step_down_days, minimum_months=s.minimum_months,
        decision_days=s.limit("referral_decision", 1), assessment_days=s.limit("assessment_completion", 45),
        assessment_from_start=s.assessment_from_start, icpc_days=s.limit("icpc_timeliness", 15),
        first_review_months=s.limit("cp_first_review", 3), review_months=s.limit("cp_subsequent_review", 6),
        long_plan_months=s.limit("cp_plan_long_duration", 24),
        lower_is_better=tuple(t for t, way in s.scale_directions.items() if way == "higher_is_worse"),
        higher_is_better=tuple(t for t, way in s.scale_directions.items() if way == "higher_is_better"),
    )


def _fixed(dim: str, s: Settings) -> tuple[str, ...]:
    if dim == "duration_band":
        return tuple(band_labels(s.bands))
    return FIXED_KEYS.get(dim, ())


async def compute(queries: DatasetQueries, metric_ids: Sequence[str], period: Period, s: Settings) -> list[Computed]:
    """The metrics asked for, unsuppressed and in that order: one cross-tab query per units
    query, counted by every breakdown and flag of the metrics that share it."""
    p = params(period, s)
    results: dict[str, Computed] = {}
    by_source: dict[str, list[Spec]] = {}
    for metric_id in metric_ids:
        spec = SPECS[metric_id]
        reason = spec.unavailable(s)
        if reason is not None:
            results[metric_id] = Computed(metric_id, available=False, reason=reason)
        else:
            by_source.setdefault(spec.source, []).append(spec)
    for source, specs in by_source.items():
        dims = tuple(dict.fromkeys(d for spec in specs for d in spec.dims))
        flags = tuple(dict.fromkeys(f for spec in specs for f in (*spec.num, *spec.den)))
        rows = await queries.crosstab(source, p, dims, flags)
        for spec in specs:
            results[spec.id] = _metric(spec, rows, dims, flags, s)
    if "NQ26" in results and results["NQ26"].available:
        escalated = await queries.escalations(p)
        results["NQ26"].extra["escalations_in_period"] = [Cell(k, v) for k, v in sorted(escalated.items())]
    return [results[m] for m in metric_ids]


def _metric(spec: Spec, rows: Crosstab, dims: tuple[str, ...], flags: tuple[str, ...], s: Settings) -> Computed:
    """One metric's total and breakdown cells from its units query's cross-tab. A combination
    with no unit in the metric's denominator holds none of its units either: it is left out,
    as if the metric had been counted on its own."""
    at = [dims.index(d) for d in spec.dims]
    num_at = [flags.index(f) for f in spec.num]
    den_at = [flags.index(f) for f in spec.den]
    own: list[tuple[tuple[str, ...], int, int]] = []
    for keys, values, units in rows:
        den = units if all(values[i] for i in den_at) else 0
        if den:
            own.append((tuple(keys[i] for i in at), units if all(values[i] for i in num_at) else 0, den))
    num = sum(r[1] for r in own)
    den = sum(r[2] for r in own)
    with_den = spec.kind == "percent" or spec.denominator
    total = Cell("total", num, den if with_den else None)
    if spec.kind == "rate":
        total = Cell("total", num, s.population)
    breakdowns: dict[str, list[Cell]] = {}
    for i, dim in enumerate(spec.dims):
        sums: dict[str, list[int]] = {k: [0, 0] for k in _fixed(dim, s)}
        for keys, n, dd in own:
            acc = sums.setdefault(keys[i], [0, 0])
            acc[0] += n
            acc[1] += dd
        breakdowns[dim] = [Cell(k, v[0], (den if spec.share_of_total else v[1]) if with_den else None)
                           for k, v in sums.items()]
    return Computed(spec.id, available=True, total=total, breakdowns=breakdowns)


# --- presentation and suppression --------------------------------------------------------------------

def _ratio(count: int, denominator: int | None, per: int) -> float | None:
    if not denominator:
        return None
    return round(count * per / denominator, 1)


@dataclass(frozen=True)
class Figure:
    key: str
    count: int | str
    denominator: int | str | None
    percent: float | str | None
    value: int | float | str | None


def _figure(spec: Spec, cell: Cell, *, hide_count: bool, suppress: bool) -> Figure:
    per = 10000 if spec.kind == "rate" else 100
    ratio = _ratio(cell.count, cell.denominator, per)
    # The configured population is published data, never a small number to hide.
    hide_den = suppress and spec.kind != "rate" and cell.denominator is not None and primary(cell.denominator)
    hide_ratio = suppress and (hide_count or hide_den or primary(cell.count))  # S4
    count: int | str = SUPPRESSED if hide_count else cell.count
    denominator: int | str | None = SUPPRESSED if hide_den else cell.denominator
    shown_ratio: float | str | None = SUPPRESSED if hide_ratio and ratio is not None else ratio
    if spec.kind == "count":
        return Figure(cell.key, count, denominator, shown_ratio if spec.denominator else None, count)
    return Figure(cell.key, count, denominator, shown_ratio if spec.kind == "percent" else None, shown_ratio)


def present(result: Computed, period: Period, *, suppress: bool) -> dict[str, Any]:
    """A metric as served: definition, period basis, figures (suppressed when ``suppress``)."""
    spec = SPECS[result.id]
    text = definition(result.id)
    out: dict[str, Any] = {
        "id": result.id, "title": text["title"], "definition": text["definition"], "unit": text["unit"],
        "numerator": text.get("numerator"), "denominator": text.get("denominator"),
        **basis(result.id, period), "available": result.available, "reason": result.reason,
        "suppressed": suppress, "suppression_rules": list(text.get("suppression", [])) if suppress else [],
        "total": None, "breakdowns": {}, "notes": _notes(result.id),
    }
    if not result.available or result.total is None:
        return out
    secondary_rule = "S5" in text.get("suppression", [])
    total_hidden = suppress and primary(result.total.count)
    out["total"] = _figure(spec, result.total, hide_count=total_hidden, suppress=suppress).__dict__
    for dim, cells in {**result.breakdowns, **result.extra}.items():
        hidden: set[int] = set()
        if suppress:
            counts = [c.count for c in cells]
            if secondary_rule and dim in result.breakdowns:
                hidden = secondary(counts, total_hidden)
            else:
                hidden = {i for i, n in enumerate(counts) if primary(n)}
        out["breakdowns"][dim] = [_figure(spec, c, hide_count=i in hidden, suppress=suppress).__dict__
                                  for i, c in enumerate(cells)]
    return out


NOTES: dict[str, str] = {
    "NQ05": "Referring agency type: the type of the agency whose referral opened the plan's episode, as the episode.opened event names it; otherwise (events from before it carried one) the type the DfE ReferralSource code belongs to, or 'source:<code>' where several types share it.",
    "NQ06": "Previous plans here and in other local authorities (recorded on the child or at a transfer-in conference), as counted in the plan's NumberOfPreviousCPP.",
    "NQ06b": "Previous plan (here or in another authority) ended fewer than 24 completed calendar months before the new plan started (verify: DfE's current repeat-plan measure).",
    "NQ12": "An early help episode of the same child (early_help.started) starting on or after the plan's end, within the step-down window.",
    "NQ13": "A child is counted once however many of their neglect plans ended in the 12 months.",
    "NQ15": "Working days exclude weekends and England and Wales bank holidays; undecided referrals count in the denominator only.",
    "NQ18": "Re-referral as flagged by the referral service when the referral arrived (a previous referral within 12 months).",
    "NQ19": "Assessments whose episode has not reached reporting count in the denominator only.",
    "NQ21": "On time: first review within 3 months of the start, each later one within 6 months of the last, and the next not overdue at the period end.",
    "NQ22": "Referring agency type: as NQ05, of the assessment's episode.",
    "NQ26": "escalations_in_period counts escalation steps (not children) recorded in the period.",
    "NQ27": "Current revisions only: an authorised amendment replaces the revision it amends.",
    "NQ29": "Contacts are counted at the contact's date, once, whether or not they became referrals; a referral received directly (not converted from a contact) counts as a contact with outcome 'referral'.",
    "NQ28": "One unit per child and tool: the latest repeat assessment authorised in the period against the child's first authorised assessment with that tool, on the areas both graded; the tool's scale direction is configuration (toolkit_scale_directions), and a tool without one is 'unknown'.",
}


def _notes(metric_id: str) -> list[str]:
    notes = ["Ages are in completed years at the counting date, from the birth month."]
    if metric_id in NOTES:
        notes.append(NOTES[metric_id])
    return notes


def figures_as_rows(metric: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Flat rows for CSV: the total and every breakdown cell, each with the metric's definition and basis."""
    common = {k: metric[k] for k in ("id", "title", "unit", "period_basis", "at", "from", "to", "available", "reason", "definition")}
    rows: list[dict[str, Any]] = []
    if metric["total"] is None:
        return [{**common, "breakdown": "", "key": "", "count": "", "denominator": "", "percent": "", "value": ""}]
    parts: Sequence[tuple[str, Mapping[str, Any]]] = [("total", metric["total"])] + [
        (dim, cell) for dim, cells in metric["breakdowns"].items() for cell in cells
    ]
    for dim, cell in parts:
        rows.append({**common, "breakdown": "" if dim == "total" else dim, "key": cell["key"],
                     **{k: cell[k] for k in ("count", "denominator", "percent", "value")}})
    return rows

