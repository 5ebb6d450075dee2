"""The threshold engine without HTTP: plain rules, plain facts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from services.referral.domain.thresholds import (
    InvalidThresholdModel,
    ThresholdModel,
    fact_key,
    parse_model,
    recommend,
)

REFERENCE = Path(__file__).resolve().parents[2] / "services" / "referral" / "reference" / "thresholds_example.yaml"
DATA = yaml.safe_load(REFERENCE.read_text())
OUTCOMES = [o["id"] for o in DATA["decision_outcomes"]]
FACTS = list(DATA["engine"]["facts"])


def model(pid: str) -> ThresholdModel:
    raw = next(p for p in DATA["partnerships"] if p["id"] == pid)
    return parse_model(raw, OUTCOMES, FACTS)


def test_worked_example_from_the_reference_file() -> None:
    a = model("example_partnership_a")
    facts = {
        fact_key("toolkit.area_grade", {"tool": "gcp2", "area": "physical_care", "max_age_days": 180}): 4,
        fact_key("toolkit.areas_at_or_above", {"tool": "gcp2", "grade": 4, "max_age_days": 180}): 1,
        fact_key("events.count", {"type": "was_not_brought", "window_days": 180}): 3,
        fact_key("events.count", {"type": "no_access_visit", "window_days": 90}): 0,
        fact_key("history.previous_cp_plans", {"category": "any", "ended_within_months": 24}): 0,
    }
    result = recommend(a, facts)
    assert result.recommended_level == "2b"
    assert [r.id for r in result.fired_rules] == ["A-R01", "A-R03"]
    assert result.fired_rules[0].evidence == {fact_key("toolkit.area_grade", {"tool": "gcp2", "area": "physical_care", "max_age_days": 180}): 4}


def test_no_rule_fired_gives_default_level() -> None:
    b = model("example_partnership_b")
    assert recommend(b, {}).recommended_level == "1"


def test_missing_facts_leave_rules_unevaluated_not_false() -> None:
    a = model("example_partnership_a")
    result = recommend(a, {fact_key("child.is_unborn", None): True}, missing=["toolkit"])
    assert result.missing_facts == ["toolkit"]
    assert "A-R01" in result.unevaluated_rules
    # A-R07 needs the parental factor too: unknown, so unevaluated rather than fired or refuted.
    assert "A-R07" in result.unevaluated_rules


def test_invalid_model_lists_every_problem() -> None:
    raw: dict[str, Any] = {
        "id": "x", "name": "x", "ruleset_version": "1", "level_order": ["1", "2"], "default_level": "9",
        "levels": [{"id": "1", "name": "a", "allowed_outcomes": ["nfa", "teleport"]}],
        "rules": [{"id": "R1", "when": {"fact": "made.up", "op": "~~"}, "recommend_min_level": "7"}],
    }
    with pytest.raises(InvalidThresholdModel) as err:
        parse_model(raw, OUTCOMES, FACTS)
    text = " | ".join(err.value.problems)
    for expected in ("teleport", "default_level", "do not match", "not a level", "reason", "unknown fact", "unknown operator"):
        assert expected in text


@given(st.dictionaries(st.sampled_from([fact_key(f, p) for f, p in model("example_partnership_a").required_facts()]),
                       st.one_of(st.integers(0, 10), st.booleans()), max_size=12))
def test_recommended_level_is_never_below_any_fired_rule(facts: dict[str, Any]) -> None:
    a = model("example_partnership_a")
    result = recommend(a, facts)
    assert result.recommended_level in a.level_order
    for rule in result.fired_rules:
        assert a.rank(result.recommended_level) >= a.rank(rule.min_level)
    if not result.fired_rules:
        assert result.recommended_level == a.default_level
