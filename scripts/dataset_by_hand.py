"""The quarterly dataset computed by hand: one PostgreSQL statement over the reporting read model.

Written from the metric definitions (services/reporting/reference/quarterly_dataset.yaml and the
clock units of timescales.yaml), not from the service's query builders, so that
scripts/bench_reporting.py can time the service's dataset against it and check that the two agree.
It returns, for every metric of ``/v1/datasets/quarterly``, the total and every breakdown cell
(including NQ26's escalations in the period) as ``(metric, breakdown, key, numerator, denominator)``.

Conventions taken from the definitions, each written out below rather than borrowed:
- open at a date d: ``start_date <= d`` and (no end, or an end after d);
- latest category as at d: the category of the last review on or before d that recorded one, else
  the initial category; at a plan's end, the category recorded at the end if any;
- calendar months "same day-of-month, clamped to month end": ``a + n months`` in PostgreSQL
  (which clamps), completed months = the largest n with ``a + n months <= b``;
- working days: the difference of ``calendar_day.wd`` (the reporting day table: weekends and
  England and Wales bank holidays excluded);
- ages in completed years at the counting date from the birth month (the read model keeps only
  the month); a child the read model has no facts about is ``unknown``.

Only the defaults the bench runs with are written in: duration bands 3, 6, 12 and 24 months,
step-down window 28 days, minimum plan 6 months, the WT2023 clocks (1, 45 and 15 working days;
reviews at 3 then 6 months; long plans 24 months), the assessment clock from the referral.

Also here: :func:`replicate`, which copies a loaded read model into ten partnerships' worth (the
100,000-child bench), and :func:`compare`, which sets the API's figures against these.
"""

# ruff: noqa: S608 - the statement is assembled from this module's own constants and schema names; values are bound
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import ARRAY, Date, String, bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

REFERENCE = Path(__file__).resolve().parent.parent / "services" / "reporting" / "reference"

#: Tools whose lower grade is the better one, and whose higher is (the service's default configuration).
LOWER_IS_BETTER = ("gcp2", "local_neglect_screening")
HIGHER_IS_BETTER = ("signs_of_safety",)

#: Metrics whose breakdown cells are shares of the metric's total (their denominator is the total's).
SHARE_OF_TOTAL = frozenset({"NQ07", "NQ09", "NQ28"})


def _ethnicity_values() -> str:
    rows = yaml.safe_load((REFERENCE / "cin_census_codes.yaml").read_text())["Ethnicity"]
    return ", ".join(f"('{r['code']}', '{r['group']}')" for r in rows)


def _ym(day: str) -> str:
    return f"(EXTRACT(YEAR FROM {day})::int * 12 + EXTRACT(MONTH FROM {day})::int - 1)"


def _months(a: str, b: str) -> str:
    """Completed calendar months from date a to date b (a + n months, clamped, on or before b)."""
    diff = f"({_ym(b)} - {_ym(a)})"
    return f"({diff} - CASE WHEN {a} + make_interval(months => {diff}) > {b} THEN 1 ELSE 0 END)"


def _age(child: str, day: str) -> str:
    months = f"({_ym(day)} - {child}.birth_ym)"
    return (f"CASE WHEN {child}.facts_at IS NULL THEN 'unknown' "
            f"WHEN {child}.birth_ym IS NULL OR {months} < 0 THEN 'unborn' "
            f"WHEN {months} < 12 THEN 'under 1' WHEN {months} < 60 THEN '1-4' WHEN {months} < 120 THEN '5-9' "
            f"WHEN {months} < 192 THEN '10-15' ELSE '16-17' END")


def _band(months: str) -> str:
    return (f"CASE WHEN {months} < 3 THEN '<3' WHEN {months} < 6 THEN '3-<6' WHEN {months} < 12 THEN '6-<12' "
            f"WHEN {months} < 24 THEN '12-<24' ELSE '24+' END")


def _category_at(plan: str, day: str) -> str:
    return (f"COALESCE((SELECT r.latest_category FROM rm_cp_review r WHERE r.cp_plan_id = {plan}.cp_plan_id "
            f"AND r.review_date <= {day} AND r.latest_category IS NOT NULL ORDER BY r.review_date DESC LIMIT 1), "
            f"{plan}.initial_category)")


CHILD_DIMS = [("age_band", "u.age_band"), ("gender", "u.gender"), ("ethnicity_group", "u.ethnicity_group"),
              ("disability", "u.disability")]
AGE = [("age_band", "u.age_band")]
AGENCY = [("referring_agency_type", "u.referring_agency_type")]
REPORTING_AGENCY = [("reporting_agency_type", "u.agency_type")]


def _out(metric: str, units: str, dims: Sequence[tuple[str, str]] = (), num: str = "1", den: str = "1") -> str:
    """A metric's cells: its units summed by every combination of its breakdowns (``dims``: breakdown
    name and expression over the units ``u``), then each combination counted in the total and in
    each breakdown's cell."""
    grouped = "".join(f"{expr} AS d{i}, " for i, (_, expr) in enumerate(dims))
    by = f" GROUP BY {', '.join(str(i + 1) for i in range(len(dims)))}" if dims else ""
    cells = ", ".join(["('total', 'total')", *(f"('{name}', c.d{i})" for i, (name, _) in enumerate(dims))])
    return (f"SELECT '{metric}' AS metric, b.dim, COALESCE(b.key, 'unknown') AS key, c.num, c.den "
            f"FROM (SELECT {grouped}COALESCE(SUM({num}), 0) AS num, COALESCE(SUM({den}), 0) AS den FROM {units} u{by}) c "
            f"CROSS JOIN LATERAL (VALUES {cells}) AS b(dim, key)")


SQL = f"""
WITH
person AS NOT MATERIALIZED (
    SELECT c.child_id, c.facts_at, c.birth_ym,
           CASE c.gender WHEN '1' THEN 'male' WHEN '2' THEN 'female' WHEN '9' THEN 'indeterminate'
                         WHEN '0' THEN 'not_recorded_or_unborn' ELSE 'unknown' END AS gender,
           COALESCE(eth.grp, 'not_known') AS ethnicity_group,
           CASE WHEN c.disabilities IS NULL OR c.disabilities = '' THEN 'unknown'
                WHEN EXISTS (SELECT 1 FROM unnest(string_to_array(c.disabilities, ',')) AS code(v)
                             WHERE btrim(code.v) NOT IN ('', 'NONE')) THEN 'yes'
                ELSE 'no' END AS disability
    FROM rm_child c LEFT JOIN (VALUES {_ethnicity_values()}) AS eth(code, grp) ON eth.code = c.ethnicity
),
-- CP plans open at the period end (NQ01-NQ04, NQ07, NQ08, NQ14, NQ21)
open_plan AS (
    SELECT p.cp_plan_id, p.child_id, p.start_date, p.initial_category,
           {_category_at('p', ':p_end')} AS latest,
           {_months('p.start_date', ':p_end')} AS months
    FROM rm_cp_plan p
    WHERE p.start_date <= :p_end AND (p.end_date IS NULL OR p.end_date > :p_end)
),
open_neglect AS (
    SELECT o.*, {_age('ch', ':p_end')} AS age_band, COALESCE(ch.gender, 'unknown') AS gender,
           COALESCE(ch.ethnicity_group, 'not_known') AS ethnicity_group, COALESCE(ch.disability, 'unknown') AS disability
    FROM open_plan o LEFT JOIN person ch ON ch.child_id = o.child_id
    WHERE o.latest = 'NEG'
),
open_initial_neglect AS (
    SELECT {_age('ch', ':p_end')} AS age_band, COALESCE(ch.gender, 'unknown') AS gender,
           COALESCE(ch.ethnicity_group, 'not_known') AS ethnicity_group, COALESCE(ch.disability, 'unknown') AS disability
    FROM open_plan o LEFT JOIN person ch ON ch.child_id = o.child_id
    WHERE o.initial_category = 'NEG'
),
-- neglect plans started in the period (NQ05, NQ06, NQ06b): the child as at the start
started AS (
    SELECT {_age('ch', 'p.start_date')} AS age_band, COALESCE(ch.gender, 'unknown') AS gender,
           COALESCE(ch.ethnicity_group, 'not_known') AS ethnicity_group, COALESCE(ch.disability, 'unknown') AS disability,
           e.referring_agency_type,
           CASE WHEN p.previous_plans >= 1 THEN 1 ELSE 0 END AS repeat,
           CASE WHEN EXISTS (SELECT 1 FROM rm_cp_plan q
                             WHERE q.child_id = p.child_id AND q.cp_plan_id <> p.cp_plan_id
                               AND q.end_date <= p.start_date AND p.start_date < q.end_date + make_interval(months => 24))
                  OR (p.previous_plan_end_date <= p.start_date
                      AND p.start_date < p.previous_plan_end_date + make_interval(months => 24))
                THEN 1 ELSE 0 END AS recent
    FROM rm_cp_plan p LEFT JOIN person ch ON ch.child_id = p.child_id
         LEFT JOIN rm_episode e ON e.episode_id = p.episode_id
    WHERE p.start_date BETWEEN :p_start AND :p_end AND p.initial_category = 'NEG'
),
-- neglect plans (latest category at the end) ended in the period (NQ09-NQ12)
ended AS (
    SELECT {_age('ch', 'p.end_date')} AS age_band,
           {_months('p.start_date', 'p.end_date')} AS months,
           CASE WHEN EXISTS (SELECT 1 FROM rm_cin_plan cin WHERE cin.episode_id = p.episode_id
                             AND cin.start_date BETWEEN p.end_date AND p.end_date + 28) THEN 1 ELSE 0 END AS to_cin,
           CASE WHEN EXISTS (SELECT 1 FROM rm_early_help eh WHERE eh.child_id = p.child_id
                             AND eh.start_date BETWEEN p.end_date AND p.end_date + 28) THEN 1 ELSE 0 END AS to_early_help
    FROM rm_cp_plan p LEFT JOIN person ch ON ch.child_id = p.child_id
    WHERE p.end_date BETWEEN :p_start AND :p_end
      AND COALESCE(p.end_category, {_category_at('p', 'p.end_date')}) = 'NEG'
),
-- NQ13: children whose neglect plan ended in the 12 months to the period end; back on a plan since
returned AS (
    SELECT {_age('ch', ':p_end')} AS age_band, r.back
    FROM (SELECT p.child_id,
                 MAX(CASE WHEN EXISTS (SELECT 1 FROM rm_cp_plan n WHERE n.child_id = p.child_id
                                       AND n.start_date > p.end_date AND n.start_date <= :p_end)
                          THEN 1 ELSE 0 END) AS back
          FROM rm_cp_plan p
          WHERE p.end_date BETWEEN :p_rolling AND :p_end
            AND COALESCE(p.end_category, {_category_at('p', 'p.end_date')}) = 'NEG'
          GROUP BY p.child_id) r
    LEFT JOIN person ch ON ch.child_id = r.child_id
),
-- referrals received in the period (NQ15, NQ18)
received AS (
    SELECT r.referring_agency_type, {_age('ch', 'r.received_date')} AS age_band,
           CASE WHEN r.decided_date IS NOT NULL
                 AND w_decided.wd - w_received.wd <= 1 THEN 1 ELSE 0 END AS timely,
           CASE WHEN r.child_id IS NOT NULL
                 AND r.previous >= r.received_date - make_interval(months => 12) THEN 1 ELSE 0 END AS again
    FROM (SELECT h.*, MAX(h.received_date) OVER (PARTITION BY h.child_id ORDER BY h.received_date
                      RANGE BETWEEN UNBOUNDED PRECEDING AND INTERVAL '1 day' PRECEDING) AS previous
          FROM rm_referral h
          WHERE h.received_date >= :p_start - make_interval(months => 12) AND h.received_date <= :p_end) r
         LEFT JOIN person ch ON ch.child_id = r.child_id
         LEFT JOIN calendar_day w_received ON w_received.day = r.received_date
         LEFT JOIN calendar_day w_decided ON w_decided.day = r.decided_date
    WHERE r.received_date BETWEEN :p_start AND :p_end
),
-- threshold decisions made in the period (NQ16, NQ17)
decided AS (
    SELECT r.referring_agency_type, r.level, r.outcome, r.recommended_level,
           CASE WHEN r.recommended_level IS NULL THEN 'unknown'
                WHEN r.level = r.recommended_level THEN 'yes' ELSE 'no' END AS followed
    FROM rm_referral r
    WHERE r.decided_date BETWEEN :p_start AND :p_end
),
-- assessments authorised in the period (NQ19, NQ22)
authorised AS (
    SELECT CASE WHEN '16A' = ANY(string_to_array(a.factors, ',')) THEN 'yes' ELSE 'no' END AS factor_16a,
           {_age('ch', 'a.authorised_date')} AS age_band, e.referring_agency_type,
           CASE WHEN e.referral_date IS NOT NULL
                 AND w_authorised.wd - w_referral.wd <= 45 THEN 1 ELSE 0 END AS timely
    FROM rm_assessment a LEFT JOIN rm_episode e ON e.episode_id = a.episode_id
         LEFT JOIN calendar_day w_authorised ON w_authorised.day = a.authorised_date
         LEFT JOIN calendar_day w_referral ON w_referral.day = e.referral_date
         LEFT JOIN person ch ON ch.child_id = a.child_id
    WHERE a.authorised_date BETWEEN :p_start AND :p_end
),
-- initial conferences held in the period (NQ20)
conference AS (
    SELECT COALESCE((SELECT p.initial_category FROM rm_cp_plan p
                     WHERE p.episode_id = s.episode_id AND p.start_date = s.icpc_date LIMIT 1), 'no_plan') AS category,
           CASE WHEN s.start_date IS NOT NULL
                 AND w_icpc.wd - w_s47.wd <= 15 THEN 1 ELSE 0 END AS timely
    FROM rm_s47 s LEFT JOIN calendar_day w_icpc ON w_icpc.day = s.icpc_date
         LEFT JOIN calendar_day w_s47 ON w_s47.day = s.start_date
    WHERE s.icpc_date BETWEEN :p_start AND :p_end
),
-- NQ21: plans open at the period end for 3 months or more, every review on time and none overdue
review_gap AS (
    SELECT r.cp_plan_id, r.review_date,
           LAG(r.review_date) OVER (PARTITION BY r.cp_plan_id ORDER BY r.review_date) AS previous
    FROM rm_cp_review r JOIN open_plan o ON o.cp_plan_id = r.cp_plan_id
    WHERE r.review_date <= :p_end
),
review_record AS (
    SELECT g.cp_plan_id, MAX(g.review_date) AS last_day,
           BOOL_OR(g.review_date > COALESCE(g.previous, o.start_date)
                                   + make_interval(months => CASE WHEN g.previous IS NULL THEN 3 ELSE 6 END)) AS late
    FROM review_gap g JOIN open_plan o ON o.cp_plan_id = g.cp_plan_id
    GROUP BY g.cp_plan_id
),
reviewed AS (
    SELECT o.latest,
           CASE WHEN rr.late IS NOT TRUE
                 AND :p_end <= COALESCE(rr.last_day, o.start_date)
                               + make_interval(months => CASE WHEN rr.last_day IS NULL THEN 3 ELSE 6 END)
                THEN 1 ELSE 0 END AS on_time
    FROM open_plan o LEFT JOIN review_record rr ON rr.cp_plan_id = o.cp_plan_id
    WHERE o.months >= 3
),
engagement AS (
    SELECT g.kind, ag.agency_type
    FROM rm_engagement g LEFT JOIN rm_agency ag ON ag.agency_id = g.agency_id
    WHERE g.occurred_on BETWEEN :p_start AND :p_end
),
-- NQ26: children with a non-engagement case open at the period end, by the stage reached by then
pathway AS (
    SELECT MAX(COALESCE((SELECT st.stage FROM rm_non_engagement_step st
                         WHERE st.case_id = c.case_id AND st.step_date <= :p_end
                         ORDER BY st.version DESC LIMIT 1), 'monitoring')) AS stage
    FROM rm_non_engagement_case c
    WHERE c.opened_on <= :p_end AND (c.closed_on IS NULL OR c.closed_on > :p_end)
    GROUP BY c.child_id
),
escalation AS (
    SELECT st.escalation FROM rm_non_engagement_step st
    WHERE st.step_date BETWEEN :p_start AND :p_end AND st.escalation IS NOT NULL
),
toolkit AS (
    SELECT t.toolkit_assessment_id, t.child_id, t.toolkit_id, t.authorised_date
    FROM rm_toolkit_assessment t
    WHERE t.superseded IS NOT TRUE AND t.authorised_date IS NOT NULL
),
-- NQ28: per child and tool, the latest repeat authorised in the period against the first ever
series AS (
    SELECT t.*, ROW_NUMBER() OVER (PARTITION BY t.child_id, t.toolkit_id
                                  ORDER BY t.authorised_date, t.toolkit_assessment_id) AS nth
    FROM toolkit t WHERE t.child_id IS NOT NULL AND t.authorised_date <= :p_end
),
latest_repeat AS (
    SELECT DISTINCT ON (s.child_id, s.toolkit_id) s.child_id, s.toolkit_id, s.toolkit_assessment_id
    FROM series s WHERE s.nth > 1 AND s.authorised_date BETWEEN :p_start AND :p_end
    ORDER BY s.child_id, s.toolkit_id, s.authorised_date DESC, s.toolkit_assessment_id DESC
),
trajectory AS (
    SELECT l.toolkit_id,
           CASE WHEN NOT (l.toolkit_id = ANY(:lower) OR l.toolkit_id = ANY(:higher)) THEN 'unknown'
                WHEN cmp.better > 0 AND cmp.worse = 0 THEN 'improved'
                WHEN cmp.worse > 0 AND cmp.better = 0 THEN 'deteriorated'
                WHEN cmp.better = 0 AND cmp.worse = 0 THEN 'static'
                ELSE 'mixed' END AS class
    FROM latest_repeat l
    JOIN series s1 ON s1.child_id = l.child_id AND s1.toolkit_id = l.toolkit_id AND s1.nth = 1
    CROSS JOIN LATERAL (
        SELECT COUNT(*) FILTER (WHERE (l.toolkit_id = ANY(:lower) AND g_now.grade < g_base.grade)
                                   OR (l.toolkit_id = ANY(:higher) AND g_now.grade > g_base.grade)) AS better,
               COUNT(*) FILTER (WHERE (l.toolkit_id = ANY(:lower) AND g_now.grade > g_base.grade)
                                   OR (l.toolkit_id = ANY(:higher) AND g_now.grade < g_base.grade)) AS worse
        FROM rm_toolkit_grade g_now
        JOIN rm_toolkit_grade g_base ON g_base.toolkit_assessment_id = s1.toolkit_assessment_id AND g_base.area = g_now.area
        WHERE g_now.toolkit_assessment_id = l.toolkit_assessment_id
    ) cmp
),
-- NQ29: every concern at the front door in the period: contacts, and referrals received directly
front_door AS (
    SELECT CASE WHEN c.referral_id IS NOT NULL THEN 'referral' ELSE c.outcome END AS outcome, c.referring_agency_type
    FROM rm_contact c WHERE c.received_date BETWEEN :p_start AND :p_end
    UNION ALL
    SELECT 'referral', r.referring_agency_type
    FROM rm_referral r WHERE r.received_date BETWEEN :p_start AND :p_end AND r.contact_id IS NULL
),
cells AS (
    {_out('NQ01', 'open_neglect', CHILD_DIMS)}
    UNION ALL {_out('NQ02', 'open_initial_neglect', CHILD_DIMS)}
    UNION ALL {_out('NQ03', 'open_neglect')}
    UNION ALL {_out('NQ04', 'open_plan', num="CASE WHEN u.latest = 'NEG' THEN 1 ELSE 0 END")}
    UNION ALL {_out('NQ05', 'started', CHILD_DIMS + AGENCY)}
    UNION ALL {_out('NQ06', 'started', AGE, num='u.repeat')}
    UNION ALL {_out('NQ06b', 'started', AGE, num='u.recent')}
    UNION ALL {_out('NQ07', 'open_neglect', [("duration_band", _band('u.months'))])}
    UNION ALL {_out('NQ08', 'open_neglect', num='CASE WHEN u.months >= 24 THEN 1 ELSE 0 END')}
    UNION ALL {_out('NQ09', 'ended', [("duration_band", _band('u.months')), *AGE])}
    UNION ALL {_out('NQ10', 'ended', num='CASE WHEN u.months < 6 THEN 1 ELSE 0 END')}
    UNION ALL {_out('NQ11', 'ended', num='u.to_cin')}
    UNION ALL {_out('NQ12', 'ended', num='u.to_early_help')}
    UNION ALL {_out('NQ13', 'returned', AGE, num='u.back')}
    UNION ALL {_out('NQ14', 'open_neglect', AGE, num="CASE WHEN u.disability = 'yes' THEN 1 ELSE 0 END")}
    UNION ALL {_out('NQ15', 'received', AGENCY, num='u.timely')}
    UNION ALL {_out('NQ16', 'decided', [*AGENCY, ("level", "u.level"), ("outcome", "u.outcome"),
                                        ("followed_recommendation", "u.followed")])}
    UNION ALL {_out('NQ17', '(SELECT * FROM decided WHERE recommended_level IS NOT NULL)', AGENCY,
                    num="CASE WHEN u.level IS DISTINCT FROM u.recommended_level THEN 1 ELSE 0 END")}
    UNION ALL {_out('NQ18', 'received', [*AGENCY, *AGE], num='u.again')}
    UNION ALL {_out('NQ19', 'authorised', [("neglect_factor_16A", "u.factor_16a")], num='u.timely')}
    UNION ALL {_out('NQ20', 'conference', [("resulting_plan_category", "u.category")], num='u.timely')}
    UNION ALL {_out('NQ21', 'reviewed', [("latest_category", "u.latest")], num='u.on_time')}
    UNION ALL {_out('NQ22', 'authorised', [*AGE, *AGENCY], num="CASE WHEN u.factor_16a = 'yes' THEN 1 ELSE 0 END")}
    UNION ALL {_out('NQ23', "(SELECT * FROM engagement WHERE kind = 'was_not_brought')", REPORTING_AGENCY)}
    UNION ALL {_out('NQ24', "(SELECT * FROM engagement WHERE kind = 'no_access_visit')", REPORTING_AGENCY)}
    UNION ALL {_out('NQ25', "(SELECT * FROM engagement WHERE kind IN ('service_declined', 'consent_withdrawn'))",
                    [("event_type", "u.kind"), *REPORTING_AGENCY])}
    UNION ALL {_out('NQ26', 'pathway', [("stage", "u.stage")])}
    UNION ALL SELECT 'NQ26', 'escalations_in_period', u.escalation, COUNT(*), COUNT(*) FROM escalation u GROUP BY u.escalation
    UNION ALL {_out('NQ27', "(SELECT * FROM toolkit WHERE authorised_date BETWEEN :p_start AND :p_end)",
                    [("tool", "u.toolkit_id")])}
    UNION ALL {_out('NQ28', 'trajectory', [("tool", "u.toolkit_id"), ("trajectory_class", "u.class")])}
    UNION ALL {_out('NQ29', 'front_door', [("contact_outcome", "u.outcome"), *AGENCY])}
)
SELECT metric, dim, key, SUM(num)::bigint AS num, SUM(den)::bigint AS den
FROM cells GROUP BY metric, dim, key
"""

STATEMENT = text(SQL).bindparams(
    bindparam("p_start", type_=Date), bindparam("p_end", type_=Date), bindparam("p_rolling", type_=Date),
    bindparam("lower", type_=ARRAY(String)), bindparam("higher", type_=ARRAY(String)),
)

Figures = dict[tuple[str, str, str], tuple[int, int]]


def rolling_start(end: date) -> date:
    """The first day of the 12 months ending at ``end``: the day after ``end`` less 12 months (clamped)."""
    from calendar import monthrange
    from datetime import timedelta

    year, month = end.year - 1, end.month
    back = date(year, month, min(end.day, monthrange(year, month)[1]))
    return back + timedelta(days=1)


async def hand_figures(connection: AsyncConnection, start: date, end: date, *, jit: bool = False) -> Figures:
    """``{(metric, breakdown, key): (numerator, denominator)}``; the total is breakdown ``total``.

    PostgreSQL's JIT compilation is switched off for the statement's transaction unless ``jit``: the
    statement's estimated cost is above the JIT thresholds, and compiling it took longer than running
    it (about 4 s of 5 s at 100,000 children), so a hand-written query would be run without it."""
    if not jit:
        await connection.execute(text("SET LOCAL jit = off"))
    rows = (await connection.execute(STATEMENT, {
        "p_start": start, "p_end": end, "p_rolling": rolling_start(end),
        "lower": list(LOWER_IS_BETTER), "higher": list(HIGHER_IS_BETTER),
    })).all()
    return {(r.metric, r.dim, r.key): (int(r.num), int(r.den)) for r in rows}


def compare(dataset: Mapping[str, Any], hand: Figures) -> list[str]:
    """Every figure of the API's (unsuppressed) dataset that differs from the hand-written SQL's,
    and every hand-written cell the API does not list; empty when they agree."""
    out: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    for metric in dataset["metrics"]:
        mid = metric["id"]
        if not metric["available"] or metric["total"] is None:
            out.append(f"{mid}: not available from the API ({metric['reason']})")
            continue
        total_den = hand.get((mid, "total", "total"), (0, 0))[1]
        cells: list[tuple[str, Mapping[str, Any]]] = [("total", metric["total"])]
        cells += [(dim, cell) for dim, listed in metric["breakdowns"].items() for cell in listed]
        for dim, cell in cells:
            key = (mid, dim, "total" if dim == "total" else str(cell["key"]))
            seen.add(key)
            num, den = hand.get(key, (0, 0))
            if mid in SHARE_OF_TOTAL and dim != "total":
                den = total_den
            if cell["count"] != num:
                out.append(f"{mid} {dim}={key[2]}: count {cell['count']} (API) vs {num} (hand SQL)")
            if cell["denominator"] is not None and mid != "NQ03" and cell["denominator"] != den:
                out.append(f"{mid} {dim}={key[2]}: denominator {cell['denominator']} (API) vs {den} (hand SQL)")
    for key, (num, _) in sorted(hand.items()):
        if key not in seen and num:
            out.append(f"{key[0]} {key[1]}={key[2]}: count {num} (hand SQL) not in the API's figures")
    return out


def scaled(dataset: Mapping[str, Any], base: Mapping[str, Any], factor: int) -> list[str]:
    """Every count and denominator of ``dataset`` that is not ``factor`` times the same figure of ``base``
    (the replicated partnership against the one it copies; NQ03's population is configuration)."""
    out: list[str] = []

    def cells(body: Mapping[str, Any]) -> dict[tuple[str, str, str], tuple[Any, Any]]:
        found: dict[tuple[str, str, str], tuple[Any, Any]] = {}
        for metric in body["metrics"]:
            if metric["total"] is None:
                continue
            found[(metric["id"], "total", "total")] = (metric["total"]["count"], metric["total"]["denominator"])
            for dim, listed in metric["breakdowns"].items():
                for cell in listed:
                    found[(metric["id"], dim, str(cell["key"]))] = (cell["count"], cell["denominator"])
        return found

    small, large = cells(base), cells(dataset)
    for key in sorted(set(small) | set(large)):
        (n1, d1), (n2, d2) = small.get(key, (0, None)), large.get(key, (0, None))
        if n2 != n1 * factor:
            out.append(f"{key[0]} {key[1]}={key[2]}: count {n2}, not {factor} x {n1}")
        if key[0] != "NQ03" and d1 is not None and d2 != d1 * factor:
            out.append(f"{key[0]} {key[1]}={key[2]}: denominator {d2}, not {factor} x {d1}")
    return out


# --- replication: ten partnerships' worth from one ------------------------------------------------

#: Every read-model table and how a copy is made of it: columns holding a producer's id (uuid), and
#: string keys that get a suffix. Agencies are shared (the same partners serve every copy) and are
#: not copied; agency_id, lead_agency_id and registering_agency_id columns are kept as they are.
COPIED: Mapping[str, tuple[Sequence[str], Sequence[str]]] = {
    "rm_child": (("child_id",), ()),
    "rm_child_identity": (("child_id",), ()),  # census identifiers are made unique below
    "rm_contact": (("contact_id", "child_id", "referral_id"), ()),
    "rm_referral": (("referral_id", "child_id", "episode_id", "contact_id"), ()),
    "rm_episode": (("episode_id", "child_id"), ()),
    "rm_assessment": (("assessment_id", "child_id", "episode_id"), ()),
    "rm_strategy_discussion": (("child_id", "episode_id", "s47_id"), ("event_id",)),
    "rm_s47": (("s47_id", "child_id", "episode_id"), ()),
    "rm_cp_plan": (("cp_plan_id", "child_id", "episode_id"), ()),
    "rm_cp_review": (("cp_plan_id", "child_id"), ()),
    "rm_core_group": (("cp_plan_id", "child_id"), ()),
    "rm_cin_plan": (("cin_plan_id", "child_id", "episode_id"), ()),
    "rm_early_help": (("episode_id", "child_id"), ()),
    "rm_visit": (("visit_id", "child_id"), ()),
    "rm_engagement": (("engagement_event_id", "child_id"), ()),
    "rm_service_offer": (("service_offer_id", "child_id"), ()),
    "rm_non_engagement_case": (("case_id", "child_id"), ()),
    "rm_non_engagement_step": (("case_id",), ()),
    "rm_toolkit_assessment": (("child_id",), ("toolkit_assessment_id", "lineage_id")),
    "rm_toolkit_grade": ((), ("toolkit_assessment_id",)),
}


async def replicate(connection: AsyncConnection, copies: int) -> dict[str, int]:
    """Add ``copies - 1`` copies of every read-model row, so the read model holds ``copies``
    partnerships' worth. Copy k (1..copies-1) maps every id to ``md5(id || '/' || k)`` as a uuid (the
    same id maps to the same new id in every table, so the copies join up as the original does),
    string keys get ``/k``, ``la_child_id`` gets ``-k``, and a UPN's last digit of its body moves by k
    with its check letter recomputed, so census identifiers stay unique and valid. Rows per table after."""
    tables = {t for (t,) in (await connection.execute(text(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
        "AND table_name LIKE 'rm\\_%'"))).all()}
    missing = tables - set(COPIED) - {"rm_agency"}
    if missing:
        raise RuntimeError(f"read-model tables the replication does not know: {sorted(missing)}")
    for table, (ids, keys) in COPIED.items():
        columns = [c for (c,) in (await connection.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = :t ORDER BY ordinal_position"), {"t": table})).all()]
        chosen = []
        for c in columns:
            if c in ids:
                chosen.append(f"CASE WHEN {c} IS NULL THEN NULL ELSE md5({c}::text || '/' || k)::uuid END")
            elif c in keys:
                chosen.append(f"{c} || '/' || k")
            elif table == "rm_child_identity" and c == "la_child_id":
                chosen.append(f"{c} || '-' || k")
            elif table == "rm_child_identity" and c == "upn":
                body = "(substr(upn, 2, 11) || ((substr(upn, 13, 1)::int + k) % 10)::text)"
                check = (f"substr('ABCDEFGHJKLMNPQRTUVWXYZ', (SELECT (SUM(substr({body}, i, 1)::int * (i + 1)) % 23)::int + 1 "
                         f"FROM generate_series(1, 12) AS i), 1)")
                chosen.append(f"CASE WHEN upn ~ '^[A-Z][0-9]{{12}}$' THEN {check} || {body} ELSE upn END")
            else:
                chosen.append(c)
        await connection.execute(text(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(chosen)} "
            f"FROM {table} CROSS JOIN generate_series(1, :n) AS k"), {"n": copies - 1})
    await connection.execute(text("ANALYZE"))
    counts = {}
    for table in COPIED:
        counts[table] = int((await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())
    return counts
