"""Threshold models as data, and the engine that recommends a level.

A model (one partnership, one ruleset version) lists its levels in order, the
decision outcomes each level allows, and indicator rules. A rule fires when its
``when`` condition holds for the child's facts; the recommended level is the
highest ``recommend_min_level`` among fired rules, else the default level.

The result is a recommendation, never a decision: it carries every fired rule
with its reason and the facts it saw, and it names the facts it could not get
(for example the assessment service being down) instead of guessing them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "contains": lambda a, b: b in a,
    "is_true": lambda a, _b: a is True,
    "is_false": lambda a, _b: a is False,
}
COMBINATORS = ("all", "any", "not")
RECOMMENDATION_LABEL = "Recommendation - the practitioner's decision is authoritative"


class InvalidThresholdModel(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def fact_key(fact: str, params: Mapping[str, Any] | None) -> str:
    """A stable name for a fact with its parameters, e.g. ``events.count(type=was_not_brought,window_days=180)``."""
    if not params:
        return fact
    inner = ",".join(f"{k}={params[k]}" for k in sorted(params))
    return f"{fact}({inner})"


@dataclass(frozen=True)
class Level:
    id: str
    name: str
    description: str
    allowed_outcomes: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    when: Mapping[str, Any]
    recommend_min_level: str
    reason: str


@dataclass(frozen=True)
class ThresholdModel:
    partnership_id: str
    name: str
    ruleset_version: str
    level_order: tuple[str, ...]
    default_level: str
    levels: Mapping[str, Level]
    rules: tuple[Rule, ...]

    def rank(self, level_id: str) -> int:
        return self.level_order.index(level_id)

    def required_facts(self) -> list[tuple[str, dict[str, Any]]]:
        """Every (fact, params) pair the rules read, once each, in rule order."""
        seen: dict[str, tuple[str, dict[str, Any]]] = {}
        for rule in self.rules:
            for fact, params in _conditions(rule.when):
                seen.setdefault(fact_key(fact, params), (fact, params))
        return list(seen.values())


@dataclass
class FiredRule:
    id: str
    description: str
    min_level: str
    reason: str
    evidence: dict[str, Any]


@dataclass
class Recommendation:
    partnership_id: str
    ruleset_version: str
    recommended_level: str
    fired_rules: list[FiredRule]
    inputs: dict[str, Any]
    missing_facts: list[str] = field(default_factory=list)
    unevaluated_rules: list[str] = field(default_factory=list)
    label: str = RECOMMENDATION_LABEL


def _conditions(node: Mapping[str, Any]) -> Iterable[tuple[str, dict[str, Any]]]:
    for comb in COMBINATORS:
        if comb in node:
            children = node[comb] if isinstance(node[comb], list) else [node[comb]]
            for child in children:
                yield from _conditions(child)
            return
    yield node["fact"], dict(node.get("params") or {})


_MISSING = object()


def _evaluate(node: Mapping[str, Any], facts: Mapping[str, Any], evidence: dict[str, Any]) -> bool | None:
    """True/False, or None when a fact it needs is unknown (three-valued logic)."""
    if "all" in node:
        results = [_evaluate(child, facts, evidence) for child in node["all"]]
        if any(r is False for r in results):
            return False
        return None if any(r is None for r in results) else True
    if "any" in node:
        results = [_evaluate(child, facts, evidence) for child in node["any"]]
        if any(r is True for r in results):
            return True
        return None if any(r is None for r in results) else False
    if "not" in node:
        inner = _evaluate(node["not"], facts, evidence)
        return None if inner is None else not inner
    key = fact_key(node["fact"], node.get("params"))
    value = facts.get(key, _MISSING)
    if value is _MISSING or value is None:
        return None
    try:
        result = OPERATORS[node["op"]](value, node.get("value"))
    except TypeError:
        return None  # a fact of the wrong type is as good as unknown; never guess
    evidence[key] = value
    return result


def recommend(model: ThresholdModel, facts: Mapping[str, Any], missing: Iterable[str] = ()) -> Recommendation:
    fired: list[FiredRule] = []
    unevaluated: list[str] = []
    for rule in model.rules:
        evidence: dict[str, Any] = {}
        outcome = _evaluate(rule.when, facts, evidence)
        if outcome is True:
            fired.append(FiredRule(rule.id, rule.description, rule.recommend_min_level, rule.reason, evidence))
        elif outcome is None:
            unevaluated.append(rule.id)
    level = model.default_level
    for hit in fired:
        if model.rank(hit.min_level) > model.rank(level):
            level = hit.min_level
    return Recommendation(
        partnership_id=model.partnership_id,
        ruleset_version=model.ruleset_version,
        recommended_level=level,
        fired_rules=fired,
        inputs={k: v for k, v in facts.items() if v is not None},
        missing_facts=sorted(set(missing)),
        unevaluated_rules=unevaluated,
    )


def parse_model(data: Mapping[str, Any], outcomes: Iterable[str], known_facts: Iterable[str]) -> ThresholdModel:
    """Build a model from its data form, listing every problem at once."""
    problems: list[str] = []
    outcome_ids = set(outcomes)
    fact_ids = set(known_facts)
    for key in ("id", "name", "ruleset_version", "level_order", "default_level", "levels", "rules"):
        if key not in data:
            problems.append(f"missing '{key}'")
    if problems:
        raise InvalidThresholdModel(problems)
    order = [str(x) for x in data["level_order"]]
    if len(set(order)) != len(order) or not order:
        problems.append("level_order must list distinct levels")
    levels: dict[str, Level] = {}
    for i, raw in enumerate(data["levels"]):
        level_id = str(raw.get("id", ""))
        bad = [o for o in raw.get("allowed_outcomes", []) if o not in outcome_ids]
        if bad:
            problems.append(f"levels[{i}] ({level_id}): unknown outcomes {bad}")
        if not raw.get("allowed_outcomes"):
            problems.append(f"levels[{i}] ({level_id}): allowed_outcomes is empty")
        levels[level_id] = Level(level_id, str(raw.get("name", "")), str(raw.get("description", "")),
                                 tuple(raw.get("allowed_outcomes", [])))
    if set(levels) != set(order):
        problems.append(f"levels {sorted(levels)} do not match level_order {order}")
    if str(data["default_level"]) not in order:
        problems.append(f"default_level {data['default_level']!r} is not in level_order")
    rules: list[Rule] = []
    ids: set[str] = set()
    for i, raw in enumerate(data["rules"]):
        rid = str(raw.get("id", f"#{i}"))
        if rid in ids:
            problems.append(f"rules[{i}]: duplicate id {rid}")
        ids.add(rid)
        if str(raw.get("recommend_min_level")) not in order:
            problems.append(f"rules[{i}] ({rid}): recommend_min_level {raw.get('recommend_min_level')!r} is not a level")
        if not raw.get("reason"):
            problems.append(f"rules[{i}] ({rid}): a reason is required (recommendations must explain themselves)")
        problems += [f"rules[{i}] ({rid}): {p}" for p in _check_condition(raw.get("when"), fact_ids)]
        rules.append(Rule(rid, str(raw.get("description", "")), raw.get("when") or {},
                          str(raw.get("recommend_min_level")), str(raw.get("reason", ""))))
    if problems:
        raise InvalidThresholdModel(problems)
    return ThresholdModel(
        partnership_id=str(data["id"]), name=str(data["name"]), ruleset_version=str(data["ruleset_version"]),
        level_order=tuple(order), default_level=str(data["default_level"]), levels=levels, rules=tuple(rules),
    )


def _check_condition(node: Any, fact_ids: set[str]) -> list[str]:
    if not isinstance(node, Mapping) or not node:
        return ["a condition must be an object"]
    combs = [c for c in COMBINATORS if c in node]
    if combs:
        inner = node[combs[0]]
        children = inner if isinstance(inner, list) else [inner]
        return [p for child in children for p in _check_condition(child, fact_ids)]
    out = []
    if node.get("fact") not in fact_ids:
        out.append(f"unknown fact {node.get('fact')!r}")
    if node.get("op") not in OPERATORS:
        out.append(f"unknown operator {node.get('op')!r}")
    elif node["op"] not in ("is_true", "is_false") and "value" not in node:
        out.append(f"operator {node['op']} needs a value")
    return out
