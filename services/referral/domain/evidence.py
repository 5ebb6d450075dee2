"""The facts a threshold model reads, gathered for one referral.

Facts come from this service's records (the child, the referral, the child's
history and engagement) and, for ``toolkit.*`` facts, from the assessment
service over HTTP. A fact that cannot be had is never guessed: it is left out
and named in ``missing`` with the reason, so the engine leaves the rules that
need it unevaluated instead of false.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

import httpx

from services.referral.domain.calendar import add_months
from services.referral.domain.thresholds import COMBINATORS, ThresholdModel, fact_key
from services.referral.models import Child, Referral
from shared.context import current_request_id, current_traceparent
from shared.db import check_no_transaction
from shared.tokens import Principal

#: Parameters each fact needs (required, optional): a model naming others is refused on publication.
FACT_PARAMS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "toolkit.area_grade": (frozenset({"tool", "area"}), frozenset({"judgement", "max_age_days"})),
    "toolkit.areas_at_or_above": (frozenset({"tool", "grade"}), frozenset({"max_age_days"})),
    "toolkit.items_rated": (frozenset({"tool", "rating"}), frozenset({"domain", "max_age_days"})),
    "toolkit.safety_scale": (frozenset({"rater"}), frozenset({"max_age_days"})),
    "events.count": (frozenset({"type", "window_days"}), frozenset()),
    "history.previous_cp_plans": (frozenset({"category"}), frozenset({"ended_within_months"})),
    "history.referrals": (frozenset({"within_months"}), frozenset()),
    "child.is_unborn": (frozenset(), frozenset()),
    "child.age_years": (frozenset(), frozenset()),
    "child.has_disability": (frozenset(), frozenset()),
    "concern.neglect_types": (frozenset(), frozenset()),
    "concern.indicator_severity": (frozenset(), frozenset({"domain"})),
    "concern.indicator_count": (frozenset(), frozenset({"domain", "severity", "min_severity"})),
    "concern.high_severity_indicator": (frozenset(), frozenset({"domain"})),
    "household.parental_factor": (frozenset({"factor"}), frozenset()),
}

#: The referrer's indicator severities, ranked: ``concern.indicator_severity`` is the rank of the
#: highest one (0 when the referral records none), so that rules can compare with ``>=``.
#: Same lists as the referral body's ``Severity`` and ``IndicatorDomain`` (a test keeps them equal).
SEVERITY_RANK: dict[str, int] = {"low": 1, "medium": 2, "high": 3}
INDICATOR_DOMAINS: frozenset[str] = frozenset({
    "physical_care", "safety_and_supervision", "emotional_care", "development_and_education",
    "health_and_medical", "pre_birth"})
#: Parameters whose values are a closed list: a typo would silently count nothing, so it is refused.
PARAM_VALUES: dict[str, frozenset[str]] = {
    "domain": INDICATOR_DOMAINS, "severity": frozenset(SEVERITY_RANK), "min_severity": frozenset(SEVERITY_RANK),
}

#: Engagement event kinds counted for an ``events.count`` type: the service-offer flow
#: records a refusal as ``declined``, the threshold models call it ``service_declined``.
EVENT_KINDS: dict[str, tuple[str, ...]] = {"service_declined": ("service_declined", "declined")}

ASSESSMENT_UNAVAILABLE = "toolkit results: assessment service unavailable"


def param_problems(rules: Any) -> list[str]:
    """Problems with the parameters of every condition in a model's raw ``rules`` list."""
    problems: list[str] = []
    if not isinstance(rules, list):
        return problems
    for i, rule in enumerate(rules):
        if not isinstance(rule, Mapping):
            continue
        rid = rule.get("id", f"#{i}")
        for node in _leaves(rule.get("when")):
            fact, params = node.get("fact"), node.get("params") or {}
            if fact not in FACT_PARAMS:
                continue  # the engine's own check names unknown facts
            if not isinstance(params, Mapping):
                problems.append(f"rules[{i}] ({rid}): params of {fact} must be an object")
                continue
            required, optional = FACT_PARAMS[fact]
            if missing := sorted(required - set(params)):
                problems.append(f"rules[{i}] ({rid}): {fact} needs params {missing}")
            if unknown := sorted(set(params) - required - optional):
                problems.append(f"rules[{i}] ({rid}): {fact} has unknown params {unknown}")
            if fact.startswith("concern.indicator") or fact == "concern.high_severity_indicator":
                problems += [f"rules[{i}] ({rid}): {p}" for p in _indicator_param_problems(fact, params)]
    return problems


def _indicator_param_problems(fact: str, params: Mapping[str, Any]) -> list[str]:
    out = [f"{fact} param {name} must be one of {sorted(PARAM_VALUES[name])}, not {value!r}"
           for name, value in params.items()
           if name in PARAM_VALUES and (not isinstance(value, str) or value not in PARAM_VALUES[name])]
    if "severity" in params and "min_severity" in params:
        out.append(f"{fact} takes severity or min_severity, not both")
    return out


def _leaves(node: Any) -> Iterable[Mapping[str, Any]]:
    if not isinstance(node, Mapping):
        return
    for comb in COMBINATORS:
        if comb in node:
            inner = node[comb]
            for child in inner if isinstance(inner, list) else [inner]:
                yield from _leaves(child)
            return
    yield node


# --- the assessment service -------------------------------------------------------------


@dataclass
class ToolkitResults:
    """The child's latest authorised toolkit results, or why there are none."""

    items: list[Mapping[str, Any]] = field(default_factory=list)
    unavailable: str | None = None


class AssessmentService:
    """Asks the assessment service for a child's latest toolkit results, as the caller.

    The caller's own bearer token is passed on: the assessment service checks it
    and its scopes itself. Any failure (down, slow, refused, not found, a body
    we cannot read) makes the toolkit facts missing; it never fails the request.
    """

    def __init__(self, base_url: str, timeout: float, client: httpx.AsyncClient | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.client = client

    async def latest_results(self, child_id: uuid.UUID, token: str) -> ToolkitResults:
        url = f"{self.base_url}/v1/children/{child_id}/latest-results"
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if rid := current_request_id():
            headers["X-Request-ID"] = rid
        if tp := current_traceparent():
            headers["traceparent"] = tp
        check_no_transaction("the assessment service")
        try:
            if self.client is not None:
                response = await self.client.get(url, headers=headers, timeout=self.timeout)
            else:
                # Recommendations are rare (a few a day per authority): a short-lived client is enough.
                async with httpx.AsyncClient(timeout=self.timeout) as client:
                    response = await client.get(url, headers=headers)
        except httpx.TimeoutException:
            return ToolkitResults(unavailable=f"{ASSESSMENT_UNAVAILABLE} (timed out)")
        except httpx.HTTPError as exc:
            return ToolkitResults(unavailable=f"{ASSESSMENT_UNAVAILABLE} ({type(exc).__name__})")
        if response.status_code == 404:
            return ToolkitResults(unavailable=f"{ASSESSMENT_UNAVAILABLE} (HTTP 404: no results for this child there)")
        if not response.is_success:
            return ToolkitResults(unavailable=f"{ASSESSMENT_UNAVAILABLE} (HTTP {response.status_code})")
        try:
            body = response.json()
        except ValueError:
            return ToolkitResults(unavailable=f"{ASSESSMENT_UNAVAILABLE} (the answer was not JSON)")
        items = body.get("items") if isinstance(body, Mapping) else None
        if not isinstance(items, list):
            return ToolkitResults(unavailable=f"{ASSESSMENT_UNAVAILABLE} (the answer had no items list)")
        return ToolkitResults(items=[i for i in items if isinstance(i, Mapping)])


# --- gathering -------------------------------------------------------------------------------


class EvidenceStore(Protocol):
    async def other_referrals(self, who: Principal, child_id: uuid.UUID, exclude: uuid.UUID,
                              since: datetime, until: datetime) -> int: ...

    async def ended_cp_plans(self, who: Principal, child_id: uuid.UUID, category: str | None,
                             ended_since: date | None, until: date) -> int: ...

    async def engagement_events(self, who: Principal, child_id: uuid.UUID, kinds: Sequence[str],
                                window_days: int, until: date) -> int: ...


@dataclass
class Evidence:
    facts: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


class _Missing(Exception):
    """A fact we cannot have, and why."""


def needs_toolkit(model: ThresholdModel) -> bool:
    return any(fact.startswith("toolkit.") for fact, _ in model.required_facts())


async def gather(
    model: ThresholdModel,
    *,
    who: Principal,
    referral: Referral,
    child: Child | None,
    store: EvidenceStore,
    toolkit: ToolkitResults | None,
    now: datetime,
) -> Evidence:
    """Every fact ``model`` reads. ``child`` is None when the caller may not see the child:
    then nothing about the child or its history is used (and each such fact is named missing)."""
    evidence = Evidence()
    if toolkit is not None and toolkit.unavailable:
        evidence.missing.append(toolkit.unavailable)
    for fact, params in model.required_facts():
        key = fact_key(fact, params)
        try:
            if fact.startswith("toolkit."):
                if toolkit is None or toolkit.unavailable:
                    continue  # named once above
                value = _toolkit_fact(fact, params, toolkit.items, now)
            elif fact.startswith("concern.") or fact.startswith("household."):
                value = _referral_fact(fact, params, referral)
            elif child is None:
                raise _Missing("the child's record is not visible to your agency")
            elif fact.startswith("child."):
                value = _child_fact(fact, child, now.date())
            else:
                value = await _history_fact(fact, params, who, referral, store, now)
        except _Missing as why:
            evidence.missing.append(f"{key}: {why}")
            continue
        except (ValueError, OverflowError):
            # A window reaching before year 1, say: a published model's parameter out of range.
            evidence.missing.append(f"{key}: a parameter is out of range")
            continue
        evidence.facts[key] = value
    return evidence


def _int_param(params: Mapping[str, Any], name: str) -> int:
    try:
        return int(params[name])
    except (KeyError, TypeError, ValueError):
        raise _Missing(f"parameter {name} is not a whole number") from None


def _referral_fact(fact: str, params: Mapping[str, Any], referral: Referral) -> Any:
    if fact == "concern.neglect_types":
        return sorted(referral.neglect_types)
    if fact.startswith("concern.indicator") or fact == "concern.high_severity_indicator":
        return _indicator_fact(fact, params, referral.indicators)
    if fact == "household.parental_factor":
        # What the referrer reported: a factor not reported counts as absent for this referral.
        return params.get("factor") in referral.parental_factors
    raise _Missing("not a fact this service computes")


def _indicator_fact(fact: str, params: Mapping[str, Any], indicators: Sequence[Mapping[str, Any]]) -> Any:
    """Facts about the referrer's neglect indicators (domain and severity), optionally of one domain.
    A referral that records no indicators has none: counts are 0 and the severity rank is 0."""
    domain = params.get("domain")
    ranks = [SEVERITY_RANK.get(str(i.get("severity")), 0) for i in indicators
             if domain is None or i.get("domain") == domain]
    if fact == "concern.indicator_severity":
        return max(ranks, default=0)
    if fact == "concern.high_severity_indicator":
        return SEVERITY_RANK["high"] in ranks
    if "severity" in params:
        return sum(1 for r in ranks if r == SEVERITY_RANK.get(str(params["severity"])))
    if "min_severity" in params:
        return sum(1 for r in ranks if r >= SEVERITY_RANK.get(str(params["min_severity"]), 0))
    return len(ranks)


def _child_fact(fact: str, child: Child, today: date) -> Any:
    if fact == "child.is_unborn":
        return child.birth_date is None
    if fact == "child.age_years":
        if child.birth_date is None:
            raise _Missing("the child is not born yet")
        born = child.birth_date
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if fact == "child.has_disability":
        if not child.disabilities:
            raise _Missing("disability not recorded")
        return any(code != "NONE" for code in child.disabilities)
    raise _Missing("not a fact this service computes")


async def _history_fact(fact: str, params: Mapping[str, Any], who: Principal, referral: Referral,
                        store: EvidenceStore, now: datetime) -> Any:
    today = now.date()
    if fact == "history.referrals":
        months = _int_param(params, "within_months")
        since = datetime.combine(add_months(today, -months), time(), tzinfo=UTC)
        return await store.other_referrals(who, referral.child_id, referral.id, since, now)
    if fact == "history.previous_cp_plans":
        category = str(params.get("category", "any"))
        ended_since = (add_months(today, -_int_param(params, "ended_within_months"))
                       if "ended_within_months" in params else None)
        return await store.ended_cp_plans(who, referral.child_id, None if category == "any" else category,
                                          ended_since, today)
    if fact == "events.count":
        kind = str(params.get("type"))
        return await store.engagement_events(who, referral.child_id, EVENT_KINDS.get(kind, (kind,)),
                                             _int_param(params, "window_days"), today)
    raise _Missing("not a fact this service computes")


# --- toolkit facts -------------------------------------------------------------------------


def _authorised_at(item: Mapping[str, Any]) -> datetime | None:
    """How old a result is: the day it was authorised (a migrated one keeps its own), else when
    the authorisation was recorded."""
    day = item.get("authorised_on")
    if isinstance(day, str):
        try:
            return datetime.combine(date.fromisoformat(day), time(12), tzinfo=UTC)
        except ValueError:
            pass
    raw = item.get("authorised_at")
    if not isinstance(raw, str):
        return None
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _latest(items: Sequence[Mapping[str, Any]], params: Mapping[str, Any], now: datetime,
            accept: Callable[[Mapping[str, Any]], bool]) -> Mapping[str, Any]:
    oldest = now - timedelta(days=_int_param(params, "max_age_days")) if "max_age_days" in params else None
    dated = [(when, item) for item in items if accept(item) and (when := _authorised_at(item)) is not None
             and (oldest is None or when >= oldest)]
    if not dated:
        window = f" in the last {params['max_age_days']} days" if "max_age_days" in params else ""
        what = f"{params['tool']} " if "tool" in params else ""
        raise _Missing(f"no authorised {what}results{window}")
    return max(dated, key=lambda pair: pair[0])[1]


def _grade(area: Any, judgement: str) -> int | None:
    if not isinstance(area, Mapping):
        return None
    value = area.get("suggestion" if judgement == "suggestion" else "practitioner_grade")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _toolkit_fact(fact: str, params: Mapping[str, Any], items: Sequence[Mapping[str, Any]], now: datetime) -> Any:
    tool = params.get("tool")

    def of_tool(item: Mapping[str, Any]) -> bool:
        return item.get("toolkit_id") == tool

    if fact == "toolkit.area_grade":
        latest = _latest(items, params, now, of_tool)
        judgement = str(params.get("judgement", "practitioner"))
        areas = latest.get("areas")
        grade = _grade(areas.get(params.get("area")) if isinstance(areas, Mapping) else None, judgement)
        if grade is None:
            raise _Missing(f"the latest {tool} results have no {judgement} grade for {params.get('area')}")
        return grade
    if fact == "toolkit.areas_at_or_above":
        latest = _latest(items, params, now, of_tool)
        threshold = _int_param(params, "grade")
        areas = latest.get("areas")
        if not isinstance(areas, Mapping) or not areas:
            raise _Missing(f"the latest {tool} results have no area grades")
        return sum(1 for area in areas.values() if (g := _grade(area, "practitioner")) is not None and g >= threshold)
    if fact == "toolkit.items_rated":
        latest = _latest(items, params, now, of_tool)
        if "domain" in params:
            by_domain = latest.get("items_rated_by_domain")
            counts = by_domain.get(params["domain"]) if isinstance(by_domain, Mapping) else None
        else:
            counts = latest.get("items_rated")
        if not isinstance(counts, Mapping):
            raise _Missing(f"the latest {tool} results have no item ratings")
        value = counts.get(params.get("rating"), 0)
        if not isinstance(value, int) or isinstance(value, bool):
            raise _Missing("the item rating count is not a number")
        return value
    if fact == "toolkit.safety_scale":
        rater = params.get("rater")

        def rated(item: Mapping[str, Any]) -> bool:
            scale = item.get("safety_scale")
            return isinstance(scale, Mapping) and isinstance(scale.get(rater), int)

        latest = _latest(items, params, now, rated)
        score: int = latest["safety_scale"][rater]
        return score
    raise _Missing("not a fact this service computes")
