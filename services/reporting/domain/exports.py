"""Identifiable statutory exports: the DfE CIN census return and Ofsted Annex A lists.

Both are checked in full before the first byte is produced (the year has rules,
the LA code is configured, the list exists and can be built), then streamed a
page of children or a partition of rows at a time, so memory does not grow with
the number of children.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.reporting.domain.calendar import add_months
from services.reporting.domain.census import FOOTER, CensusWriter, Window, fallback_child_id, header
from services.reporting.domain.configuration import Configuration
from services.reporting.domain.errors import (
    AnnexListNotAvailable,
    AnnexListNotFound,
    ConfigurationIncomplete,
    UnsupportedCollectionYear,
)
from services.reporting.domain.periods import Period, collection_year
from services.reporting.domain.reference import CensusYear
from services.reporting.queries.exports import ExportQueries, Row

Sessions = Callable[[], AbstractAsyncContextManager[AsyncSession]]
GENDER = {"1": "Male", "2": "Female", "9": "Indeterminate", "0": "Not recorded or unborn"}


@dataclass(frozen=True)
class CensusPlan:
    year: CensusYear
    window: Window
    la_code: str


def yes_no(value: bool | None) -> str:
    return "Unknown" if value is None else ("Yes" if value else "No")


def age_on(birth: date | None, on: date) -> str:
    if birth is None or birth > on:
        return ""
    return str(on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day)))


def disability(codes: str | None) -> str:
    if not codes:
        return "Unknown"
    return "No" if codes == "NONE" else "Yes"


class Exports:
    def __init__(self, configuration: Configuration, years: Mapping[str, CensusYear], software: str, release: str) -> None:
        self.configuration = configuration
        self.years = years
        self.software = software
        self.release = release

    async def plan_census(self, year_text: str) -> CensusPlan:
        start, reference = collection_year(year_text)
        year = self.years.get(year_text.strip())
        if year is None:
            raise UnsupportedCollectionYear(f"Census rules are configured for {', '.join(sorted(self.years))}.")
        partnership = await self.configuration.current()
        if not partnership.la_code:
            raise ConfigurationIncomplete("Set the partnership's DfE LA code (PATCH /v1/datasets/configuration) before exporting the census.")
        return CensusPlan(year, Window(start, reference), partnership.la_code)

    async def census(self, sessions: Sessions, plan: CensusPlan, page: int = 500) -> AsyncIterator[bytes]:
        """The return, a page of children at a time, read in its own transaction."""
        writer = CensusWriter(plan.year, plan.window)
        now = datetime.now(UTC)
        yield header(plan.year, plan.la_code, self.software, self.release, int(now.timestamp()), now).encode()
        async with sessions() as session:
            queries = ExportQueries(session)
            after: uuid.UUID | None = None
            while True:
                children = await queries.census_children(plan.window.start, plan.window.reference, after, page)
                if not children:
                    break
                batch = await queries.census_batch(children, plan.window.start, plan.window.reference)
                yield writer.children(batch).encode()
                after = children[-1]
        yield FOOTER.encode()


# --- Ofsted Annex A -------------------------------------------------------------------------------

PERSON = ["Child ID", "Gender", "Ethnicity", "Date of birth", "Age", "Disability"]


@dataclass(frozen=True)
class AnnexList:
    slug: str
    number: int
    title: str
    columns: tuple[str, ...]
    query: str | None  # ExportQueries method building the statement; None: not available
    reason: str | None = None


LISTS: dict[str, AnnexList] = {a.slug: a for a in [
    # Every concern received at the front door is a contact: the contacts recorded (those that ended
    # there, nfa, information and advice, early help, and those converted into referrals, once, at the
    # contact's date) and the referrals received directly. A referral is in list 3 once children's
    # social care accepts it as one, i.e. its decision opened a CIN episode (NFA ones included).
    AnnexList("contacts", 1, "Contacts", (*PERSON, "Contact date", "Contact source"), "annex_contacts"),
    AnnexList("early-help", 2, "Early help", (*PERSON, "EH assessment start date", "EH assessment completion date", "Organisation"), None,
              "List 2 counts early help assessments (start, completion, organisation): early help episodes are announced, their assessments are not yet."),
    AnnexList("referrals", 3, "Referrals", (*PERSON, "Referral date", "Referral source", "Referral NFA", "Referrals in last 12 months"),
              "annex_referrals"),
    AnnexList("assessments", 4, "Assessments", (*PERSON, "Assessment start date", "Child seen during assessment",
                                                "Assessment authorised date", "Needs CSC support following assessment"),
              "annex_assessments"),
    AnnexList("section-47", 5, "Section 47 enquiries and ICPCs",
              (*PERSON, "Strategy discussion date", "ICPC unnecessary", "ICPC date", "ICPC resulted in CP plan",
               "S47 enquiries in last 12 months", "ICPCs in last 12 months"), "annex_s47"),
    AnnexList("children-in-need", 6, "Children in need",
              (*PERSON, "CIN start date", "Primary need", "Date child last seen", "Case closure date", "Reason for closure",
               "Case status"), "annex_cin"),
    AnnexList("child-protection", 7, "Child protection",
              (*PERSON, "CP plan start date", "Initial category of abuse", "Latest category of abuse",
               "Date of last statutory visit", "Child seen alone at last visit", "Date of latest review", "CP plan end date",
               "EPO or police protection in previous 6 months", "Number of previous CP plans"), "annex_cp"),
]}


def annex_list(slug: str) -> AnnexList:
    found = LISTS.get(slug)
    if found is None:
        raise AnnexListNotFound(f"Annex A lists are {', '.join(LISTS)}.")
    if found.query is None:
        raise AnnexListNotAvailable(found.reason)
    return found


def _person(r: Row, on: date) -> list[str]:
    birth = r.get("birth_date")
    return [
        r.get("la_child_id") or (fallback_child_id(r["child_id"]) if r.get("child_id") else ""),
        GENDER.get(str(r.get("gender")), "Unknown"), r.get("ethnicity") or "NOBT",
        _d(birth or r.get("expected_birth_date")),
        age_on(birth, on), disability(r.get("disabilities")),
    ]


def _d(value: date | None) -> str:
    return value.isoformat() if value else ""


async def annex_rows(queries: ExportQueries, spec: AnnexList, period: Period, partition: int) -> AsyncIterator[list[list[str]]]:
    """The list's rows, a partition at a time, each row in ``spec.columns`` order."""
    stmt = getattr(queries, spec.query or "")(period.start, period.end)
    async for chunk in queries.stream(stmt, partition):
        children = [r["child_id"] for r in chunk if r.get("child_id") is not None]
        counts: dict[str, dict[Any, list[Any]]] = {}
        if spec.slug == "referrals":
            counts["referrals"] = _by_child(await queries.referral_dates(children, add_months(period.start, -12), period.end))
        if spec.slug == "section-47":
            counts["s47"] = _by_child(await queries.s47_dates(children, add_months(period.start, -12), period.end))
        yield [_row(spec.slug, r, period, counts) for r in chunk]


def _by_child(rows: Sequence[tuple[Any, ...]]) -> dict[Any, list[Any]]:
    out: dict[Any, list[Any]] = defaultdict(list)
    for child, *dates in rows:
        out[child].append(dates)
    return out


def _within_year_before(day: date | None, dates: Sequence[date | None]) -> int:
    if day is None:
        return 0
    since = add_months(day, -12)
    return sum(1 for x in dates if x is not None and since < x <= day)


def _row(slug: str, r: Row, period: Period, counts: Mapping[str, Mapping[Any, list[Any]]]) -> list[str]:
    end = period.end
    if slug == "contacts":
        return [*_person(r, end), _d(r["received_date"]), r.get("referral_source") or ""]
    if slug == "referrals":
        nfa = r.get("nfa") if r.get("nfa") is not None else (r.get("outcome") in ("nfa", "information_advice") if r.get("outcome") else None)
        mine = [x[0] for x in counts["referrals"].get(r.get("child_id"), [])]
        return [*_person(r, end), _d(r["received_date"]), r.get("referral_source") or "", yes_no(nfa),
                str(_within_year_before(r["received_date"], mine))]
    if slug == "assessments":
        return [*_person(r, end), _d(r.get("start_date")), "Yes" if r.get("seen_on") else "Unknown",
                _d(r.get("authorised_date")), yes_no(r.get("needs_support"))]
    if slug == "section-47":
        mine = counts["s47"].get(r.get("child_id"), [])
        held = r.get("held_date")
        unnecessary = None if r.get("s47_id") is None else (r.get("icpc_date") is None and r.get("concluded_date") is not None)
        return [*_person(r, end), _d(held), yes_no(unnecessary), _d(r.get("icpc_date")),
                yes_no(r.get("plan")) if r.get("icpc_date") else "",
                str(_within_year_before(held, [x[0] for x in mine])), str(_within_year_before(held, [x[1] for x in mine]))]
    if slug == "children-in-need":
        return [*_person(r, end), _d(r.get("referral_date")), r.get("primary_need") or "", _d(r.get("last_seen")),
                _d(r.get("closure_date") if r.get("closure_date") and r["closure_date"] <= end else None),
                (r.get("reason_for_closure") or "") if r.get("closure_date") and r["closure_date"] <= end else "",
                r.get("status") or ""]
    # child-protection
    ended = r.get("end_date") if r.get("end_date") and r["end_date"] <= end else None
    return [*_person(r, end), _d(r.get("start_date")), r.get("initial_category") or "", r.get("latest_category") or "",
            _d(r.get("last_visit")), yes_no(r.get("seen_alone")) if r.get("last_visit") else "",
            _d(r.get("latest_review")), _d(ended), "Unknown",
            "" if r.get("previous_plans") is None else str(r["previous_plans"])]


def csv_line(values: Sequence[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue()


async def annex_csv(sessions: Sessions, spec: AnnexList, period: Period, partition: int = 500) -> AsyncIterator[bytes]:
    yield csv_line(spec.columns).encode()
    async with sessions() as session:
        queries = ExportQueries(session)
        async for rows in annex_rows(queries, spec, period, partition):
            yield "".join(csv_line(r) for r in rows).encode()


def default_annex_period(today: date) -> Period:
    start = add_months(today, -12)
    return Period(f"{start.isoformat()}..{today.isoformat()}", "range", start, today)
