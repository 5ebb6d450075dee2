"""The quarterly dataset's metrics as SQL.

Each *units* query yields one row per plan, referral, assessment, event or child,
with a column per breakdown and 0/1 flags (``num``, ``den``, or named ones such as
``neglect`` or ``long``). Several metrics count the same units: the plans open at
the period end serve seven of them, each with its own flags. :meth:`DatasetQueries.crosstab`
counts the units grouped by every breakdown and flag the metrics asked for at once,
in the database, one statement per units query; the domain then adds up the (small)
cross-tab into each metric's total and breakdown cells.

Clocks run on ``calendar_day``: working days between two dates are the difference
of their ``wd`` indexes, completed calendar months come from their ``ym``/``dom``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, TypeAlias

from sqlalchemy import (
    Date,
    Integer,
    and_,
    case,
    exists,
    func,
    literal,
    not_,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.reporting.domain.calendar import last_of_month, ym
from services.reporting.domain.reference import ethnicity_groups
from services.reporting.models import (
    CalendarDay,
    RmAgency,
    RmAssessment,
    RmChild,
    RmCinPlan,
    RmContact,
    RmCpPlan,
    RmCpReview,
    RmEarlyHelp,
    RmEngagement,
    RmEpisode,
    RmNonEngagementCase,
    RmNonEngagementStep,
    RmReferral,
    RmS47,
    RmToolkitAssessment,
    RmToolkitGrade,
)

#: A statement of any number of columns.
Units: TypeAlias = Select[*tuple[Any, ...]]

CAL = CalendarDay.__table__  # type: ignore[attr-defined]
CHILD = RmChild.__table__  # type: ignore[attr-defined]
PLAN = RmCpPlan.__table__  # type: ignore[attr-defined]
REVIEW = RmCpReview.__table__  # type: ignore[attr-defined]
CIN = RmCinPlan.__table__  # type: ignore[attr-defined]
EPISODE = RmEpisode.__table__  # type: ignore[attr-defined]
REFERRAL = RmReferral.__table__  # type: ignore[attr-defined]
CONTACT = RmContact.__table__  # type: ignore[attr-defined]
ASSESSMENT = RmAssessment.__table__  # type: ignore[attr-defined]
S47 = RmS47.__table__  # type: ignore[attr-defined]
ENGAGEMENT = RmEngagement.__table__  # type: ignore[attr-defined]
EARLY_HELP = RmEarlyHelp.__table__  # type: ignore[attr-defined]
AGENCY = RmAgency.__table__  # type: ignore[attr-defined]
CASE = RmNonEngagementCase.__table__  # type: ignore[attr-defined]
STEP = RmNonEngagementStep.__table__  # type: ignore[attr-defined]
TOOLKIT = RmToolkitAssessment.__table__  # type: ignore[attr-defined]
GRADE = RmToolkitGrade.__table__  # type: ignore[attr-defined]

GENDERS = {"1": "male", "2": "female", "9": "indeterminate", "0": "not_recorded_or_unborn"}


@dataclass(frozen=True)
class Params:
    """Everything a metric's SQL depends on besides the read model."""

    start: date
    end: date
    rolling_start: date
    bands: tuple[int, ...]
    step_down_days: int
    minimum_months: int
    decision_days: int
    assessment_days: int
    assessment_from_start: bool
    icpc_days: int
    first_review_months: int
    review_months: int
    long_plan_months: int
    lower_is_better: tuple[str, ...] = ()  # tools whose lower grade is the better one (GCP2)
    higher_is_better: tuple[str, ...] = ()  # tools whose higher score is the better one (a safety scale)


def d(value: date) -> ColumnElement[Any]:
    return literal(value, Date)


# --- dimension expressions ---------------------------------------------------------------------

def age_band(child: Any, at_ym: ColumnElement[Any] | int) -> ColumnElement[str]:
    """Age at the counting date from the birth month (a child counts a year older from the
    first of the birth month): unborn, under 1, 1-4, 5-9, 10-15, 16-17 (16 and over)."""
    months = at_ym - child.c.birth_ym
    return case(
        (child.c.facts_at.is_(None), "unknown"),
        (or_(child.c.birth_ym.is_(None), months < 0), "unborn"),
        (months < 12, "under 1"),
        (months < 60, "1-4"),
        (months < 120, "5-9"),
        (months < 192, "10-15"),
        else_="16-17",
    )


def gender(child: Any) -> ColumnElement[str]:
    return func.coalesce(case(GENDERS, value=child.c.gender, else_="unknown"), "unknown")


def ethnicity_group(child: Any) -> ColumnElement[str]:
    return func.coalesce(case(ethnicity_groups(), value=child.c.ethnicity, else_="not_known"), "not_known")


def disability(child: Any) -> ColumnElement[str]:
    return case(
        (or_(child.c.disabilities.is_(None), child.c.disabilities == ""), "unknown"),
        (child.c.disabilities == "NONE", "no"),
        else_="yes",
    )


def child_dims(child: Any, at_ym: ColumnElement[Any] | int) -> dict[str, ColumnElement[Any]]:
    return {"age_band": age_band(child, at_ym), "gender": gender(child),
            "ethnicity_group": ethnicity_group(child), "disability": disability(child)}


def months_between(a: Any, b_ym: ColumnElement[Any] | int, b_dom: ColumnElement[Any] | int,
                   b_last: ColumnElement[Any] | bool) -> ColumnElement[int]:
    """Completed calendar months from calendar row ``a`` to the day with the given ym/dom/last-of-month."""
    short = and_(b_dom < a.c.dom, not_(b_last) if not isinstance(b_last, bool) else literal(not b_last))
    months: ColumnElement[int] = (b_ym - a.c.ym) - case((short, 1), else_=0)
    return months


def within_months(a: Any, b: Any, months: int) -> ColumnElement[bool]:
    """Day ``b`` is on or before ``a`` plus ``months`` calendar months (clamped to the month end)."""
    return or_(b.c.ym < a.c.ym + months, and_(b.c.ym == a.c.ym + months, b.c.dom <= a.c.dom))


def band(months: ColumnElement[int], bands: Sequence[int]) -> ColumnElement[str]:
    """Duration bands from their lower edges in months, e.g. [3, 6, 12, 24] -> <3, 3-<6, ..., 24+."""
    edges = list(bands)
    whens = [(months < edges[0], f"<{edges[0]}")]
    whens += [(months < hi, f"{lo}-<{hi}") for lo, hi in itertools.pairwise(edges)]
    return case(*whens, else_=f"{edges[-1]}+")


def band_labels(bands: Sequence[int]) -> list[str]:
    edges = list(bands)
    return [f"<{edges[0]}", *(f"{lo}-<{hi}" for lo, hi in itertools.pairwise(edges)), f"{edges[-1]}+"]


def flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def category_at(plan: Any, at: ColumnElement[Any]) -> ColumnElement[str]:
    """The plan's latest category of abuse as at a date: the last review on or before it, else the initial."""
    r = REVIEW.alias("r_cat")
    recorded = (
        select(r.c.latest_category)
        .where(r.c.cp_plan_id == plan.c.cp_plan_id, r.c.review_date <= at, r.c.latest_category.is_not(None))
        .order_by(r.c.review_date.desc()).limit(1).scalar_subquery()
    )
    return func.coalesce(recorded, plan.c.initial_category)


def category_at_end(plan: Any) -> ColumnElement[str]:
    return func.coalesce(plan.c.end_category, category_at(plan, plan.c.end_date))


def open_at(table: Any, at: ColumnElement[Any]) -> ColumnElement[bool]:
    return and_(table.c.start_date <= at, or_(table.c.end_date.is_(None), table.c.end_date > at))


def in_period(column: Any, p: Params) -> ColumnElement[bool]:
    found: ColumnElement[bool] = column.between(d(p.start), d(p.end))
    return found


# --- the units queries -----------------------------------------------------------------------------

def open_plans(p: Params) -> Units:
    """NQ01-NQ04, NQ07, NQ08, NQ14: every plan open at the period end, with its breakdowns and
    flags: ``neglect`` (latest category), ``neglect_initial`` (initial category), ``long``
    (open ``long_plan_months`` or more), ``disabled``."""
    end = d(p.end)
    cs = CAL.alias("c_start")
    months = months_between(cs, ym(p.end), p.end.day, last_of_month(p.end))
    dims = child_dims(CHILD, ym(p.end))
    return (
        select(*(v.label(k) for k, v in dims.items()),
               band(months, p.bands).label("duration_band"),
               flag(category_at(PLAN, end) == "NEG").label("neglect"),
               flag(PLAN.c.initial_category == "NEG").label("neglect_initial"),
               flag(months >= p.long_plan_months).label("long"),
               flag(dims["disability"] == "yes").label("disabled"))
        .select_from(PLAN.join(cs, cs.c.day == PLAN.c.start_date).outerjoin(CHILD, CHILD.c.child_id == PLAN.c.child_id))
        .where(open_at(PLAN, end))
    )

def started(p: Params) -> Units:
    """NQ05, NQ06, NQ06b: neglect plans started in the period (age at the start), flagged
    ``repeat`` (any previous plan) and ``repeat_24m`` (one ended within 24 months)."""
    cs = CAL.alias("c_start")
    dims = child_dims(CHILD, cs.c.ym)
    prev = PLAN.alias("prev")
    cprev = CAL.alias("c_prev_end")
    recent_here = exists(
        select(prev.c.cp_plan_id).select_from(prev.join(cprev, cprev.c.day == prev.c.end_date))
        .where(prev.c.child_id == PLAN.c.child_id, prev.c.cp_plan_id != PLAN.c.cp_plan_id,
               prev.c.end_date <= PLAN.c.start_date,
               months_between(cprev, cs.c.ym, cs.c.dom, cs.c.last_dom) < 24)
    )
    # A previous plan in another authority is known only by the end date the plan carries.
    celse = CAL.alias("c_prev_elsewhere")
    recent_elsewhere = exists(
        select(celse.c.day).where(celse.c.day == PLAN.c.previous_plan_end_date, celse.c.day <= PLAN.c.start_date,
                                  months_between(celse, cs.c.ym, cs.c.dom, cs.c.last_dom) < 24)
    )
    recent = or_(recent_here, recent_elsewhere)
    return (
        select(*(v.label(k) for k, v in dims.items()),
               func.coalesce(EPISODE.c.referring_agency_type, "unknown").label("referring_agency_type"),
               flag(PLAN.c.previous_plans >= 1).label("repeat"),
               flag(recent).label("repeat_24m"))
        .select_from(PLAN.join(cs, cs.c.day == PLAN.c.start_date)
                     .outerjoin(CHILD, CHILD.c.child_id == PLAN.c.child_id)
                     .outerjoin(EPISODE, EPISODE.c.episode_id == PLAN.c.episode_id))
        .where(in_period(PLAN.c.start_date, p), PLAN.c.initial_category == "NEG")
    )

def ended(p: Params) -> Units:
    """NQ09-NQ12: neglect plans ended in the period (latest category at the end), flagged
    ``short``, ``to_cin`` and ``to_early_help``."""
    cs, ce = CAL.alias("c_start"), CAL.alias("c_end")
    months = months_between(cs, ce.c.ym, ce.c.dom, ce.c.last_dom)
    ccin = CAL.alias("c_cin")
    cin_after = exists(
        select(CIN.c.cin_plan_id).select_from(CIN.join(ccin, ccin.c.day == CIN.c.start_date))
        .where(CIN.c.episode_id == PLAN.c.episode_id, CIN.c.start_date >= PLAN.c.end_date,
               ccin.c.ord <= ce.c.ord + p.step_down_days)
    )
    ceh = CAL.alias("c_early_help")
    early_help_after = exists(
        select(EARLY_HELP.c.episode_id).select_from(EARLY_HELP.join(ceh, ceh.c.day == EARLY_HELP.c.start_date))
        .where(EARLY_HELP.c.child_id == PLAN.c.child_id, EARLY_HELP.c.start_date >= PLAN.c.end_date,
               ceh.c.ord <= ce.c.ord + p.step_down_days)
    )
    return (
        select(age_band(CHILD, ce.c.ym).label("age_band"),
               band(months, p.bands).label("duration_band"),
               flag(months < p.minimum_months).label("short"),
               flag(cin_after).label("to_cin"),
               flag(early_help_after).label("to_early_help"))
        .select_from(PLAN.join(cs, cs.c.day == PLAN.c.start_date).join(ce, ce.c.day == PLAN.c.end_date)
                     .outerjoin(CHILD, CHILD.c.child_id == PLAN.c.child_id))
        .where(in_period(PLAN.c.end_date, p), category_at_end(PLAN) == "NEG")
    )

def returned(p: Params) -> Units:
    """NQ13: children whose neglect plan ended in the rolling 12 months, and whether a new plan
    (any category) started after that end and by the period end. One row per child."""
    again = PLAN.alias("again")
    came_back = exists(
        select(again.c.cp_plan_id).where(
            again.c.child_id == PLAN.c.child_id, again.c.start_date > PLAN.c.end_date,
            again.c.start_date <= d(p.end))
    )
    per_plan = (
        select(PLAN.c.child_id, flag(came_back).label("back"))
        .where(PLAN.c.end_date.between(d(p.rolling_start), d(p.end)), category_at_end(PLAN) == "NEG")
        .subquery("ended_12m")
    )
    per_child = select(per_plan.c.child_id, func.max(per_plan.c.back).label("num")).group_by(per_plan.c.child_id).subquery("per_child")
    return (
        select(age_band(CHILD, ym(p.end)).label("age_band"), per_child.c.num, literal(1, Integer).label("den"))
        .select_from(per_child.outerjoin(CHILD, CHILD.c.child_id == per_child.c.child_id))
    )

def contacts(p: Params) -> Units:
    """NQ29: concerns received at the front door in the period: each contact (at its date; outcome
    `referral` once converted) and each referral received directly (outcome `referral`)."""
    outcome = case((CONTACT.c.referral_id.is_not(None), "referral"), else_=func.coalesce(CONTACT.c.outcome, "unknown"))
    recorded = (select(func.coalesce(CONTACT.c.referring_agency_type, "unknown").label("referring_agency_type"),
                       outcome.label("contact_outcome"), literal(1, Integer).label("num"), literal(1, Integer).label("den"))
                .where(in_period(CONTACT.c.received_date, p)))
    direct = (select(func.coalesce(REFERRAL.c.referring_agency_type, "unknown").label("referring_agency_type"),
                     literal("referral").label("contact_outcome"), literal(1, Integer).label("num"), literal(1, Integer).label("den"))
              .where(in_period(REFERRAL.c.received_date, p), REFERRAL.c.contact_id.is_(None)))
    front_door = union_all(recorded, direct).subquery("front_door")
    return select(front_door.c.contact_outcome, front_door.c.referring_agency_type, front_door.c.num, front_door.c.den)

def received(p: Params) -> Units:
    """NQ15 / NQ18: referrals received in the period, flagged ``timely`` (decided within the
    limit) and ``re_referral`` (as the referral service flagged it)."""
    cr, cd = CAL.alias("c_received"), CAL.alias("c_decided")
    return (
        select(func.coalesce(REFERRAL.c.referring_agency_type, "unknown").label("referring_agency_type"),
               age_band(CHILD, cr.c.ym).label("age_band"),
               flag(and_(REFERRAL.c.decided_date.is_not(None), cd.c.wd - cr.c.wd <= p.decision_days)).label("timely"),
               flag(REFERRAL.c.re_referral == true()).label("re_referral"))
        .select_from(REFERRAL.join(cr, cr.c.day == REFERRAL.c.received_date)
                     .outerjoin(cd, cd.c.day == REFERRAL.c.decided_date)
                     .outerjoin(CHILD, CHILD.c.child_id == REFERRAL.c.child_id))
        .where(in_period(REFERRAL.c.received_date, p))
    )

def decisions(p: Params) -> Units:
    """NQ16 / NQ17: threshold decisions made in the period, flagged ``recommended`` (a
    recommendation was recorded) and ``overridden`` (the decision departed from it)."""
    followed = case((REFERRAL.c.overridden.is_(None), "unknown"), (REFERRAL.c.overridden, "no"), else_="yes")
    return (
        select(func.coalesce(REFERRAL.c.referring_agency_type, "unknown").label("referring_agency_type"),
               func.coalesce(REFERRAL.c.level, "unknown").label("level"),
               func.coalesce(REFERRAL.c.outcome, "unknown").label("outcome"),
               followed.label("followed_recommendation"),
               flag(REFERRAL.c.overridden == true()).label("overridden"),
               flag(REFERRAL.c.recommended_level.is_not(None)).label("recommended"))
        .where(in_period(REFERRAL.c.decided_date, p))
    )

def assessments(p: Params) -> Units:
    """NQ19 / NQ22: assessments authorised in the period, flagged ``timely`` and ``neglect``
    (neglect among the factors at the end of assessment)."""
    ca, cs = CAL.alias("c_authorised"), CAL.alias("c_clock")
    clock_start = ASSESSMENT.c.start_date if p.assessment_from_start else EPISODE.c.referral_date
    return (
        select(case((ASSESSMENT.c.neglect == true(), "yes"), else_="no").label("neglect_factor_16A"),
               age_band(CHILD, ca.c.ym).label("age_band"),
               func.coalesce(EPISODE.c.referring_agency_type, "unknown").label("referring_agency_type"),
               flag(and_(cs.c.wd.is_not(None), ca.c.wd - cs.c.wd <= p.assessment_days)).label("timely"),
               flag(ASSESSMENT.c.neglect == true()).label("neglect"))
        .select_from(ASSESSMENT.join(ca, ca.c.day == ASSESSMENT.c.authorised_date)
                     .outerjoin(EPISODE, EPISODE.c.episode_id == ASSESSMENT.c.episode_id)
                     .outerjoin(cs, cs.c.day == clock_start)
                     .outerjoin(CHILD, CHILD.c.child_id == ASSESSMENT.c.child_id))
        .where(in_period(ASSESSMENT.c.authorised_date, p))
    )

def icpcs(p: Params) -> Units:
    """NQ20: initial conferences held in the period, within the limit of the s47 start."""
    cs, ci = CAL.alias("c_s47"), CAL.alias("c_icpc")
    made = PLAN.alias("made")
    category = (select(made.c.initial_category)
                .where(made.c.episode_id == S47.c.episode_id, made.c.start_date == S47.c.icpc_date)
                .limit(1).scalar_subquery())
    return (
        select(func.coalesce(category, "no_plan").label("resulting_plan_category"),
               flag(and_(cs.c.wd.is_not(None), ci.c.wd - cs.c.wd <= p.icpc_days)).label("num"),
               literal(1, Integer).label("den"))
        .select_from(S47.join(ci, ci.c.day == S47.c.icpc_date).outerjoin(cs, cs.c.day == S47.c.start_date))
        .where(in_period(S47.c.icpc_date, p))
    )

def reviews_on_time(p: Params) -> Units:
    """NQ21: plans open at the period end for 3 months or more; on time when every review so
    far came within its limit (first 3 months after the start, then 6 after the last) and the
    next one is not overdue at the period end."""
    end = d(p.end)
    ordered = (
        select(REVIEW.c.cp_plan_id, REVIEW.c.review_date,
               func.lag(REVIEW.c.review_date).over(partition_by=REVIEW.c.cp_plan_id,
                                                  order_by=REVIEW.c.review_date).label("previous"))
        .where(REVIEW.c.review_date <= end).subquery("ordered")
    )
    plan_of = PLAN.alias("plan_of")
    cp, cr = CAL.alias("c_prev"), CAL.alias("c_review")
    late_review = (
        select(ordered.c.cp_plan_id)
        .select_from(ordered.join(plan_of, plan_of.c.cp_plan_id == ordered.c.cp_plan_id)
                     .join(cp, cp.c.day == func.coalesce(ordered.c.previous, plan_of.c.start_date))
                     .join(cr, cr.c.day == ordered.c.review_date))
        .where(not_(within_months(cp, cr, case((ordered.c.previous.is_(None), p.first_review_months),
                                               else_=p.review_months))))  # type: ignore[arg-type]
    )
    last = (select(func.max(REVIEW.c.review_date)).where(REVIEW.c.cp_plan_id == PLAN.c.cp_plan_id,
                                                         REVIEW.c.review_date <= end).scalar_subquery())
    cs, cl = CAL.alias("c_start"), CAL.alias("c_last")
    months_on = months_between(cs, ym(p.end), p.end.day, last_of_month(p.end))
    limit = case((last.is_(None), p.first_review_months), else_=p.review_months)
    e_ym, e_dom = ym(p.end), p.end.day
    overdue = not_(or_(e_ym < cl.c.ym + limit, and_(e_ym == cl.c.ym + limit, e_dom <= cl.c.dom)))
    return (
        select(category_at(PLAN, end).label("latest_category"),
               flag(and_(PLAN.c.cp_plan_id.not_in(late_review), not_(overdue))).label("num"),
               literal(1, Integer).label("den"))
        .select_from(PLAN.join(cs, cs.c.day == PLAN.c.start_date)
                     .join(cl, cl.c.day == func.coalesce(last, PLAN.c.start_date)))
        .where(open_at(PLAN, end), months_on >= p.first_review_months)
    )

def engagement(p: Params) -> Units:
    """NQ23-NQ25: engagement events in the period by the reporting agency's type, flagged by
    kind: ``was_not_brought``, ``no_access_visit``, ``declined`` (service declined or consent
    withdrawn)."""
    kind = ENGAGEMENT.c.kind
    return (
        select(func.coalesce(kind, "unknown").label("event_type"),
               func.coalesce(AGENCY.c.agency_type, "unknown").label("reporting_agency_type"),
               flag(kind == "was_not_brought").label("was_not_brought"),
               flag(kind == "no_access_visit").label("no_access_visit"),
               flag(kind.in_(("service_declined", "consent_withdrawn"))).label("declined"))
        .select_from(ENGAGEMENT.outerjoin(AGENCY, AGENCY.c.agency_id == ENGAGEMENT.c.agency_id))
        .where(in_period(ENGAGEMENT.c.occurred_on, p),
               kind.in_(("was_not_brought", "no_access_visit", "service_declined", "consent_withdrawn")))
    )

def pathway(p: Params) -> Units:
    """NQ26: children with a non-engagement case open at the period end, by its stage then."""
    end = d(p.end)
    latest = (select(STEP.c.stage).where(STEP.c.case_id == CASE.c.case_id, STEP.c.step_date <= end)
              .order_by(STEP.c.version.desc()).limit(1).scalar_subquery())
    per_case = (
        select(CASE.c.child_id, func.coalesce(latest, "monitoring").label("stage"))
        .where(CASE.c.opened_on <= end, or_(CASE.c.closed_on.is_(None), CASE.c.closed_on > end))
        .subquery("open_cases")
    )
    # A child has at most one open case; take the furthest stage should two overlap.
    return select(func.max(per_case.c.stage).label("stage"), literal(1, Integer).label("num"),
                  literal(1, Integer).label("den")).group_by(per_case.c.child_id)

def toolkits(p: Params) -> Units:
    """NQ27: toolkit assessments authorised in the period (current revisions), by tool."""
    return (select(func.coalesce(TOOLKIT.c.toolkit_id, "unknown").label("tool"),
                   literal(1, Integer).label("num"), literal(1, Integer).label("den"))
            .where(in_period(TOOLKIT.c.authorised_date, p), or_(TOOLKIT.c.superseded.is_(None), not_(TOOLKIT.c.superseded))))

def trajectories(p: Params) -> Units:
    """NQ28: per child and tool with a repeat assessment authorised in the period, its latest
    repeat against the baseline (the child's first authorised assessment with that tool),
    area by area on the practitioner's grades: improved, deteriorated, static or mixed."""
    return trajectory_units(p.start, p.end, p.lower_is_better, p.higher_is_better)


def trajectory_units(start: date, end: date, lower_is_better: Sequence[str], higher_is_better: Sequence[str]) -> Units:
    current = and_(or_(TOOLKIT.c.superseded.is_(None), not_(TOOLKIT.c.superseded)), TOOLKIT.c.authorised_date.is_not(None),
                   TOOLKIT.c.child_id.is_not(None), TOOLKIT.c.authorised_date <= d(end))
    series = (TOOLKIT.c.child_id, TOOLKIT.c.toolkit_id)
    valid = select(
        TOOLKIT.c.toolkit_assessment_id.label("id"), TOOLKIT.c.child_id, TOOLKIT.c.toolkit_id, TOOLKIT.c.authorised_date,
        func.row_number().over(partition_by=series, order_by=(TOOLKIT.c.authorised_date, TOOLKIT.c.toolkit_assessment_id)).label("nth"),
    ).where(current).subquery("valid")
    baseline = select(valid.c.child_id, valid.c.toolkit_id, valid.c.id).where(valid.c.nth == 1).subquery("baseline")
    repeats = select(
        valid.c.child_id, valid.c.toolkit_id, valid.c.id,
        func.row_number().over(partition_by=(valid.c.child_id, valid.c.toolkit_id),
                               order_by=(valid.c.authorised_date.desc(), valid.c.id.desc())).label("newest"),
    ).where(valid.c.nth > 1, valid.c.authorised_date.between(d(start), d(end))).subquery("repeats")
    latest = select(repeats.c.child_id, repeats.c.toolkit_id, repeats.c.id).where(repeats.c.newest == 1).subquery("latest")
    now, then = GRADE.alias("g_latest"), GRADE.alias("g_baseline")
    lower = latest.c.toolkit_id.in_(lower_is_better)
    higher = latest.c.toolkit_id.in_(higher_is_better)
    better = case((and_(lower, now.c.grade < then.c.grade), 1), (and_(higher, now.c.grade > then.c.grade), 1), else_=0)
    worse = case((and_(lower, now.c.grade > then.c.grade), 1), (and_(higher, now.c.grade < then.c.grade), 1), else_=0)
    compared = (
        select(latest.c.toolkit_id, func.sum(better).label("better"), func.sum(worse).label("worse"))
        .select_from(latest.join(baseline, and_(baseline.c.child_id == latest.c.child_id, baseline.c.toolkit_id == latest.c.toolkit_id))
                     .outerjoin(now, now.c.toolkit_assessment_id == latest.c.id)
                     .outerjoin(then, and_(then.c.toolkit_assessment_id == baseline.c.id, then.c.area == now.c.area)))
        .group_by(latest.c.child_id, latest.c.toolkit_id).subquery("compared")
    )
    b, w = func.coalesce(compared.c.better, 0), func.coalesce(compared.c.worse, 0)
    known = compared.c.toolkit_id.in_((*lower_is_better, *higher_is_better))
    trajectory = case((not_(known), "unknown"), (and_(b > 0, w == 0), "improved"), (and_(w > 0, b == 0), "deteriorated"),
                      (and_(b == 0, w == 0), "static"), else_="mixed")
    return select(func.coalesce(compared.c.toolkit_id, "unknown").label("tool"), trajectory.label("trajectory_class"),
                  literal(1, Integer).label("num"), literal(1, Integer).label("den"))


#: The units queries by name, each counted once for every metric built on its units.
UNITS: dict[str, Callable[[Params], Units]] = {
    "open_plans": open_plans,
    "started": started,
    "ended": ended,
    "returned": returned,
    "received": received,
    "decisions": decisions,
    "assessments": assessments,
    "icpcs": icpcs,
    "reviews": reviews_on_time,
    "engagement": engagement,
    "pathway": pathway,
    "toolkits": toolkits,
    "trajectories": trajectories,
    "contacts": contacts,
}

#: ``(breakdown values, flag values, units)`` rows of a cross-tab.
Crosstab: TypeAlias = list[tuple[tuple[str, ...], tuple[int, ...], int]]


@lru_cache(maxsize=256)
def crosstab_statement(source: str, p: Params, dims: tuple[str, ...], flags: tuple[str, ...]) -> Units:
    """The units of ``source`` counted by every combination of ``dims`` and ``flags``. Built once
    for each period and configuration (statements are immutable and shared between requests):
    building the expression trees took about 20 ms of each computed dataset."""
    u = UNITS[source](p).subquery("u")
    keys = [func.coalesce(u.c[name], "unknown") for name in dims]
    values = [u.c[name] for name in flags]
    return select(*keys, *values, func.count()).group_by(*keys, *values)


# --- the queries -----------------------------------------------------------------------------------

class DatasetQueries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _execute(self, stmt: Any, params: Any = None) -> Any:
        """Core statements run on the session's connection (same transaction)."""
        connection = await self.session.connection()
        return await connection.execute(stmt, params) if params is not None else await connection.execute(stmt)

    async def crosstab(self, source: str, p: Params, dims: Sequence[str], flags: Sequence[str]) -> Crosstab:
        """``(breakdown values, flag values, units)`` per combination of the ``source`` units query's
        rows for ``p``, counted in SQL."""
        rows = (await self._execute(crosstab_statement(source, p, tuple(dims), tuple(flags)))).all()
        n, f = len(dims), len(flags)
        return [(tuple(str(v) for v in r[:n]), tuple(int(v or 0) for v in r[n:n + f]), int(r[-1])) for r in rows]

    async def escalations(self, p: Params) -> dict[str, int]:
        stmt = (select(STEP.c.escalation, func.count()).where(in_period(STEP.c.step_date, p), STEP.c.escalation.is_not(None))
                .group_by(STEP.c.escalation))
        return {str(k): int(v) for k, v in (await self._execute(stmt)).all()}
