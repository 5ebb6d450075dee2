"""The DfE children in need census return for a collection year, as XML. Plain Python.

The return describes each child as at the reference date (31 March) with the
year's activity (DOMAIN.md section 11). What the read model holds is cut to that
view by the rules below, each of them a DfE validation rule of the year:

- a child is in the return with every episode open at some point in the year
  (referral on or before the reference date, closure none or on or after 1 April);
- anything dated after the reference date has not happened yet: a later closure,
  plan end or conference is left out, and a child born later is unborn (8520, 8620,
  8930, 4013, 8715);
- an assessment is returned when authorised in the year, or open at the year end
  and started in the year (8696, 8736);
- an s47 enquiry is returned when its conference was in the year, when it
  concluded without one in the year, or when it is open at the year end having
  started in the year (8715, 8740); its conference date sits at s47 level;
- a transfer-in conference (a child arriving on another authority's plan) is the episode's
  initial conference: its date sits at CINdetails level (DateOfInitialCPC), never at both
  levels (2884), and is what the plan it started matches (2883, 2885);
- CP and CIN plans are returned when open at some point in the year (8720, 4010),
  CP reviews when held in the year, the latest category of abuse as at the
  reference date;
- ethnicity not recorded is returned as NOBT (information not yet obtained);
  ``Sex`` is derived from GenderCurrent by the year's mapping (U for an unborn child).

Identifiers come from the identity table, read only under the export scope. A child
without an LA child id gets the backbone's own id, shortened to 20 characters (8500).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import escape

from services.reporting.domain.reference import CensusYear

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Window:
    start: date
    reference: date

    def within(self, day: date | None) -> bool:
        return day is not None and self.start <= day <= self.reference

    def by_reference(self, day: date | None) -> date | None:
        """The date if it had happened by the reference date, else nothing yet."""
        return day if day is not None and day <= self.reference else None


def fallback_child_id(child_id: uuid.UUID) -> str:
    return child_id.hex[:20].upper()


def _el(name: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    text = value.isoformat() if isinstance(value, date) else str(value)
    return f"<{name}>{escape(text)}</{name}>"


def header(year: CensusYear, la_code: str, software: str, release: str, serial: int, now: datetime) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<Message>'
        "<Header><CollectionDetails>"
        f"{_el('Collection', 'CIN')}{_el('Year', year.header_year)}{_el('ReferenceDate', year.reference_date)}"
        "</CollectionDetails><Source>"
        f"{_el('SourceLevel', 'L')}{_el('LEA', la_code)}{_el('SoftwareCode', software)}{_el('Release', release)}"
        f"{_el('SerialNo', serial)}{_el('DateTime', now.replace(microsecond=0, tzinfo=None).isoformat())}"
        "</Source></Header><Children>"
    )


FOOTER = "</Children></Message>\n"


def latest_category(plan: Row, reviews: Iterable[Row], at: date) -> str | None:
    if plan.get("end_date") is not None and plan["end_date"] <= at and plan.get("end_category"):
        return str(plan["end_category"])
    recorded = [r for r in reviews if r["review_date"] <= at and r.get("latest_category")]
    return str(recorded[-1]["latest_category"]) if recorded else plan.get("initial_category")


class CensusWriter:
    def __init__(self, year: CensusYear, window: Window) -> None:
        self.year = year
        self.w = window

    def _bool(self, value: bool | None) -> str:
        return self.year.boolean_true if value else self.year.boolean_false

    def children(self, batch: Mapping[str, Sequence[Row]]) -> str:
        """The <Child> elements of one page of children."""
        by_child: dict[Any, list[Row]] = defaultdict(list)
        for e in batch["episodes"]:
            by_child[e["child_id"]].append(e)
        items: dict[str, dict[Any, list[Row]]] = {}
        for table in ("assessments", "s47s", "cin_plans", "cp_plans"):
            grouped: dict[Any, list[Row]] = defaultdict(list)
            for row in batch[table]:
                grouped[row["episode_id"]].append(row)
            items[table] = grouped
        reviews: dict[Any, list[Row]] = defaultdict(list)
        for r in batch["reviews"]:
            reviews[r["cp_plan_id"]].append(r)
        people = {p["child_id"]: p for p in batch["people"]}
        parts = []
        for child_id in sorted(by_child, key=str):
            person = people.get(child_id)
            if person is None:
                continue  # episodes of a child whose registration has not reached reporting yet
            parts.append(self.child(person, by_child[child_id], items, reviews))
        return "".join(parts)

    def child(self, p: Row, episodes: list[Row], items: Mapping[str, Mapping[Any, list[Row]]],
              reviews: Mapping[Any, list[Row]]) -> str:
        w, year = self.w, self.year
        born = w.by_reference(p.get("birth_date"))
        expected = None if born else (p.get("expected_birth_date") or p.get("birth_date"))
        sex = "U" if born is None else year.sex_from_gender.get(str(p.get("gender")), "U")
        identifiers = {
            "LAchildID": p.get("la_child_id") or fallback_child_id(p["child_id"]),
            "UPN": p.get("upn"), "FormerUPN": None, "UPNunknown": None if p.get("upn") else p.get("upn_unknown"),
            "PersonBirthDate": born, "ExpectedPersonBirthDate": expected,
            "GenderCurrent": "0" if born is None else p.get("gender"), "Sex": sex,
            "PersonDeathDate": w.by_reference(p.get("death_date")),
        }
        out = ["<Child><ChildIdentifiers>"]
        out += [_el(name, identifiers[name]) for name in year.child_identifiers]
        out.append("</ChildIdentifiers><ChildCharacteristics>")
        out.append(_el("Ethnicity", p.get("ethnicity") or "NOBT"))
        codes = [c for c in (p.get("disabilities") or "").split(",") if c]
        if codes:
            out.append("<Disabilities>" + "".join(_el("Disability", c) for c in codes) + "</Disabilities>")
        out.append("</ChildCharacteristics>")
        for e in sorted(episodes, key=lambda e: e["referral_date"]):
            out.append(self.episode(e, items, reviews))
        out.append("</Child>")
        return "".join(out)

    def episode(self, e: Row, items: Mapping[str, Mapping[Any, list[Row]]], reviews: Mapping[Any, list[Row]]) -> str:
        w = self.w
        closed = w.by_reference(e.get("closure_date"))
        out = ["<CINdetails>", _el("CINreferralDate", e["referral_date"]), _el("ReferralSource", e.get("referral_source")),
               _el("PrimaryNeedCode", e.get("primary_need")), _el("CINclosureDate", closed),
               _el("ReasonForClosure", e.get("reason_for_closure") if closed else None),
               _el("DateOfInitialCPC", w.by_reference(e.get("icpc_date"))),
               _el("ReferralNFA", self._bool(e.get("nfa")))]
        eid = e["episode_id"]
        for a in items["assessments"].get(eid, []):
            authorised = w.by_reference(a.get("authorised_date"))
            if not (w.within(authorised) or (authorised is None and w.within(a.get("start_date")))):
                continue
            factors = [f for f in (a.get("factors") or "").split(",") if f] if authorised else []
            out.append("<Assessments>" + _el("AssessmentActualStartDate", a["start_date"])
                       + _el("AssessmentAuthorisationDate", authorised)
                       + ("<FactorsIdentifiedAtAssessment>" + "".join(_el("AssessmentFactors", f) for f in factors)
                          + "</FactorsIdentifiedAtAssessment>" if factors else "")
                       + "</Assessments>")
        for c in items["cin_plans"].get(eid, []):
            if c.get("start_date") is None or c["start_date"] > w.reference or (c.get("end_date") and c["end_date"] < w.start):
                continue
            out.append("<CINPlanDates>" + _el("CINPlanStartDate", c["start_date"])
                       + _el("CINPlanEndDate", w.by_reference(c.get("end_date"))) + "</CINPlanDates>")
        for s in items["s47s"].get(eid, []):
            icpc = w.by_reference(s.get("icpc_date"))
            concluded = w.by_reference(s.get("concluded_date"))
            still_open = icpc is None and concluded is None
            if not (w.within(icpc) or w.within(concluded) or (still_open and w.within(s.get("start_date")))):
                continue
            out.append("<Section47>" + _el("S47ActualStartDate", s["start_date"])
                       + _el("InitialCPCtarget", s.get("icpc_target_date")) + _el("DateOfInitialCPC", icpc)
                       + _el("ICPCnotRequired", self._bool(concluded is not None and icpc is None)) + "</Section47>")
        for plan in items["cp_plans"].get(eid, []):
            start, end = plan.get("start_date"), plan.get("end_date")
            if start is None or start > w.reference or (end is not None and end < w.start):
                continue
            plan_reviews = reviews.get(plan["cp_plan_id"], [])
            held = [r for r in plan_reviews if w.within(r["review_date"])]
            out.append("<ChildProtectionPlans>" + _el("CPPstartDate", start) + _el("CPPendDate", w.by_reference(end))
                       + _el("InitialCategoryOfAbuse", plan.get("initial_category"))
                       + _el("LatestCategoryOfAbuse", latest_category(plan, plan_reviews, w.reference))
                       + _el("NumberOfPreviousCPP", plan.get("previous_plans"))
                       + "".join("<Reviews>" + _el("CPPreviewDate", r["review_date"]) + "</Reviews>" for r in held)
                       + "</ChildProtectionPlans>")
        out.append("</CINdetails>")
        return "".join(out)
