"""The quarterly dataset computed independently, in plain Python, from the synthetic
generator's own records (not from events, not from the reporting service's code).

Only reference data is shared (code lists, agency types, bank holidays): the
definitions are re-read from reference/quarterly_dataset.yaml's wording.
"""

from __future__ import annotations

import calendar
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from scripts.synthetic import Child, EpisodeRecord, Partnership

REF = Path(__file__).resolve().parents[2] / "services" / "reporting" / "reference"
NEG = "NEG"


def _yaml(name: str) -> Any:
    return yaml.safe_load((REF / name).read_text(encoding="utf-8"))


HOLIDAYS = {date.fromisoformat(x) for days in _yaml("bank_holidays_england_wales.yaml")["dates"].values() for x in days}
ETHNIC_GROUP = {row["code"]: row["group"] for row in _yaml("cin_census_codes.yaml")["Ethnicity"]}
_sources: dict[str, list[str]] = defaultdict(list)
for _row in [*_yaml("agency_types.yaml")["agency_types"], *_yaml("agency_types.yaml")["non_agency_sources"]]:
    if _row.get("referral_source"):
        _sources[_row["referral_source"]].append(_row["id"])
AGENCY_OF_SOURCE = {code: ids[0] if len(ids) == 1 else f"source:{code}" for code, ids in _sources.items()}


def working_days(a: date, b: date) -> int:
    n, day = 0, a
    while day < b:
        day += timedelta(days=1)
        n += day.weekday() < 5 and day not in HOLIDAYS
    return n


def plus_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    y, m = d.year + m // 12, m % 12 + 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def months(a: date, b: date) -> int:
    """Completed calendar months: the largest n with plus_months(a, n) <= b."""
    n = (b.year - a.year) * 12 + b.month - a.month
    while n > 0 and plus_months(a, n) > b:
        n -= 1
    return n


def band(m: int) -> str:
    return "<3" if m < 3 else "3-<6" if m < 6 else "6-<12" if m < 12 else "12-<24" if m < 24 else "24+"


@dataclass
class Tally:
    num: int = 0
    den: int = 0
    cells: dict[str, Counter[str]] = field(default_factory=dict)
    dens: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, hit: bool, **dims: str) -> None:
        self.num += hit
        self.den += 1
        for dim, key in dims.items():
            self.cells.setdefault(dim, Counter())[key] += hit
            self.dens.setdefault(dim, Counter())[key] += 1


class Expected:
    def __init__(self, p: Partnership, population: int, step_down_days: int = 28, minimum_months: int = 6) -> None:
        self.p = p
        self.population = population
        self.step_down_days = step_down_days
        self.minimum_months = minimum_months
        self.end_of_data = p.end

    # the child as the read model knows it at the end -------------------------------------------------

    def born(self, c: Child) -> date | None:
        if c.birth_date is None or (c.expected_birth_date is not None and c.birth_date > self.end_of_data):
            return None
        return c.birth_date

    def age_band(self, c: Child, at: date) -> str:
        born = self.born(c)
        if born is None:
            return "unborn"
        m = (at.year * 12 + at.month) - (born.year * 12 + born.month)
        if m < 0:
            return "unborn"
        return "under 1" if m < 12 else "1-4" if m < 60 else "5-9" if m < 120 else "10-15" if m < 192 else "16-17"

    def gender(self, c: Child) -> str:
        code = c.gender if self.born(c) is not None else "0"
        return {"1": "male", "2": "female", "9": "indeterminate", "0": "not_recorded_or_unborn"}[code]

    def dims(self, c: Child, at: date) -> dict[str, str]:
        return {"age_band": self.age_band(c, at), "gender": self.gender(c),
                "ethnicity_group": ETHNIC_GROUP[c.ethnicity],
                "disability": "no" if c.disabilities == ["NONE"] else "yes"}

    # plans -----------------------------------------------------------------------------------------

    def plans(self) -> Iterable[tuple[EpisodeRecord, Any]]:
        for rec in self.p.episodes:
            for plan in rec.episode.cp_plans:
                yield rec, plan

    def category_at(self, rec: EpisodeRecord, plan: Any, at: date) -> str:
        found = [cat for day, cat in rec.plan_facts[plan.id].reviews if day <= at]
        return found[-1] if found else str(plan.initial_category)

    @staticmethod
    def open_at(start: date | None, end: date | None, at: date) -> bool:
        return start is not None and start <= at and (end is None or end > at)

    def metrics(self, start: date, end: date) -> dict[str, Tally]:
        out: dict[str, Tally] = defaultdict(Tally)
        rolling = plus_months(end, -12) + timedelta(days=1)
        all_plans = list(self.plans())
        by_child: dict[Any, list[Any]] = defaultdict(list)
        for rec, plan in all_plans:
            by_child[rec.child.id].append(plan)
        returned: dict[Any, tuple[Child, bool]] = {}
        for rec, plan in all_plans:
            c = rec.child
            if self.open_at(plan.start_date, plan.end_date, end):
                neglect = self.category_at(rec, plan, end) == NEG
                out["NQ04"].add(neglect)
                if neglect:
                    d = self.dims(c, end)
                    m = months(plan.start_date, end)
                    out["NQ01"].add(True, **d)
                    out["NQ07"].add(True, duration_band=band(m))
                    out["NQ08"].add(m >= 24)
                    out["NQ14"].add(d["disability"] == "yes", age_band=d["age_band"])
                if plan.initial_category == NEG:
                    out["NQ02"].add(True, **self.dims(c, end))
                if months(plan.start_date, end) >= 3:
                    out["NQ21"].add(self.reviews_on_time(rec, plan, end), latest_category=self.category_at(rec, plan, end))
            if start <= plan.start_date <= end and plan.initial_category == NEG:
                agency = AGENCY_OF_SOURCE.get(rec.episode.referral_source, f"source:{rec.episode.referral_source}")
                out["NQ05"].add(True, **self.dims(c, plan.start_date), referring_agency_type=agency)
                band_at = self.age_band(c, plan.start_date)
                out["NQ06"].add(plan.previous_plans >= 1, age_band=band_at)
                recent = any(o is not plan and o.end_date is not None and o.end_date <= plan.start_date
                             and months(o.end_date, plan.start_date) < 24 for o in by_child[c.id])
                out["NQ06b"].add(recent, age_band=band_at)
            if plan.end_date is not None and self.category_at(rec, plan, plan.end_date) == NEG:
                if start <= plan.end_date <= end:
                    m = months(plan.start_date, plan.end_date)
                    out["NQ09"].add(True, duration_band=band(m), age_band=self.age_band(c, plan.end_date))
                    out["NQ10"].add(m < self.minimum_months)
                    window = self.step_down_days
                    to_cin = any(p.start_date >= plan.end_date and (p.start_date - plan.end_date).days <= window
                                 for p in rec.episode.cin_plans)
                    out["NQ11"].add(to_cin)
                    out["NQ12"].add(any(eh.child.id == c.id and 0 <= (eh.start - plan.end_date).days <= window
                                        for eh in self.p.early_help))
                if rolling <= plan.end_date <= end:
                    back = any(plan.end_date < o.start_date <= end for o in by_child[c.id])
                    seen = returned.get(c.id, (c, False))
                    returned[c.id] = (c, seen[1] or back)
        for c, back in returned.values():
            out["NQ13"].add(back, age_band=self.age_band(c, end))
        out["NQ03"] = Tally(num=out["NQ01"].num, den=self.population)
        self.front_door(out, start, end)
        self.assessments(out, start, end)
        self.engagement(out, start, end)
        self.toolkits(out, start, end)
        return out

    def toolkits(self, out: dict[str, Tally], start: date, end: date) -> None:
        lower_better = {"gcp2"}
        series: dict[tuple[Any, str], list[Any]] = defaultdict(list)
        for t in self.p.toolkits:
            if t.superseded:
                continue
            if start <= t.authorised_on <= end:
                out["NQ27"].add(True, tool=t.toolkit_id)
            if t.authorised_on <= end:
                series[(t.child.id, t.toolkit_id)].append(t)
        for (_, tool), found in series.items():
            found.sort(key=lambda t: (t.authorised_on, str(t.id)))
            repeats = [t for t in found[1:] if start <= t.authorised_on <= end]
            if not repeats:
                continue
            base, now = found[0], repeats[-1]
            areas = set(base.grades) & set(now.grades)
            sign = -1 if tool in lower_better else 1
            better = sum(1 for a in areas if sign * (now.grades[a] - base.grades[a]) > 0)
            worse = sum(1 for a in areas if sign * (now.grades[a] - base.grades[a]) < 0)
            trajectory = ("improved" if better and not worse else "deteriorated" if worse and not better
                          else "static" if not better and not worse else "mixed")
            out["NQ28"].add(True, tool=tool, trajectory_class=trajectory)

    def reviews_on_time(self, rec: EpisodeRecord, plan: Any, at: date) -> bool:
        previous, limit = plan.start_date, 3
        for day, _ in rec.plan_facts[plan.id].reviews:
            if day > at:
                break
            if day > plus_months(previous, limit):
                return False
            previous, limit = day, 6
        return at <= plus_months(previous, limit)

    def front_door(self, out: dict[str, Tally], start: date, end: date) -> None:
        for r in self.p.referrals:
            agency = AGENCY_OF_SOURCE.get(r.agency.referral_source, f"source:{r.agency.referral_source}")
            received = r.received_at.date()
            if start <= received <= end:
                # The synthetic partnership's concerns all arrive as referrals: each is a contact too.
                out["NQ29"].add(True, contact_outcome="referral", referring_agency_type=agency)
                decided = r.decided_at.date() if r.decided_at else None
                out["NQ15"].add(decided is not None and working_days(received, decided) <= 1, referring_agency_type=agency)
                out["NQ18"].add(r.re_referral, referring_agency_type=agency, age_band=self.age_band(r.child, received))
            if r.decided_at and start <= r.decided_at.date() <= end:
                out["NQ16"].add(True, referring_agency_type=agency, level=str(r.level), outcome=str(r.outcome),
                                followed_recommendation="no" if r.overridden else "yes")
                out["NQ17"].add(r.overridden, referring_agency_type=agency)

    def assessments(self, out: dict[str, Tally], start: date, end: date) -> None:
        for rec in self.p.episodes:
            e = rec.episode
            agency = AGENCY_OF_SOURCE.get(e.referral_source, f"source:{e.referral_source}")
            for a in e.assessments:
                if a.authorised_date and start <= a.authorised_date <= end:
                    neglect = "16A" in a.factors
                    out["NQ19"].add(working_days(e.referral_date, a.authorised_date) <= 45,
                                    neglect_factor_16A="yes" if neglect else "no")
                    out["NQ22"].add(neglect, age_band=self.age_band(rec.child, a.authorised_date), referring_agency_type=agency)
            for s in e.s47s:
                if s.icpc_date and start <= s.icpc_date <= end:
                    made = next((p.initial_category for p in e.cp_plans if p.start_date == s.icpc_date), "no_plan")
                    out["NQ20"].add(working_days(s.start_date, s.icpc_date) <= 15, resulting_plan_category=str(made))

    def engagement(self, out: dict[str, Tally], start: date, end: date) -> None:
        for ev in self.p.engagements:
            if not start <= ev.occurred_on <= end:
                continue
            metric = {"was_not_brought": "NQ23", "no_access_visit": "NQ24"}.get(ev.kind)
            if metric:
                out[metric].add(True, reporting_agency_type=ev.agency.agency_type)
            elif ev.kind in ("service_declined", "consent_withdrawn"):
                out["NQ25"].add(True, event_type=ev.kind, reporting_agency_type=ev.agency.agency_type)
        for case in self.p.cases:
            if case.opened_on <= end and (case.closed_on is None or case.closed_on > end):
                stage = [s for _, s, day, _ in case.steps if day <= end][-1]
                out["NQ26"].add(True, stage=stage)
            for _, _, day, escalation in case.steps:
                if escalation and start <= day <= end:  # a list beside the split: escalation steps, not children
                    out["NQ26"].cells.setdefault("escalations_in_period", Counter())[escalation] += 1
                    out["NQ26"].dens.setdefault("escalations_in_period", Counter())[escalation] += 1


KINDS = {
    "count": ("NQ01", "NQ02", "NQ05", "NQ16", "NQ23", "NQ24", "NQ25", "NQ26", "NQ27", "NQ29"),
    "share_of_total": ("NQ07", "NQ09", "NQ28"),
    "rate": ("NQ03",),
}


def kind(metric_id: str) -> str:
    return next((k for k, ids in KINDS.items() if metric_id in ids), "within")


def _keep(count: Any, den: Any, how: str) -> bool:
    return bool(den) if how == "within" else bool(count)


def served(metric: dict[str, Any]) -> dict[str, Any]:
    """The served figures as (count, denominator) per cell; empty cells dropped."""
    how = kind(metric["id"])
    total = metric["total"]
    cells = {dim: {c["key"]: (c["count"], c["denominator"]) for c in cs if _keep(c["count"], c["denominator"], how)}
             for dim, cs in metric["breakdowns"].items()}
    return {"total": (total["count"], total["denominator"]), "cells": {k: v for k, v in cells.items() if v}}


def tallied(metric_id: str, t: Tally) -> dict[str, Any]:
    """A Tally in the served shape."""
    how = kind(metric_id)
    den: Any = None if how == "count" else t.den
    cells: dict[str, dict[str, tuple[int, Any]]] = {}
    for dim, counter in t.cells.items():
        dens = t.dens[dim]
        per = {k: (n, None if how == "count" else t.den if how == "share_of_total" else dens[k]) for k, n in counter.items()}
        kept = {k: v for k, v in per.items() if _keep(v[0], v[1], how)}
        if kept:
            cells[dim] = kept
    return {"total": (t.num, den), "cells": cells}
