"""The DfE's published CIN census validation rules (PyPI csc-validator-be-cin, module cin_validator)."""

from __future__ import annotations

import importlib
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pandas as pd
from cin_validator import cin_validator


@dataclass(frozen=True)
class Outcome:
    errors: dict[str, str]   # rule code -> message, rules that are errors
    queries: dict[str, str]  # rule codes ending in Q: warnings the LA explains
    children: int


def validate(xml: bytes, ruleset: str) -> Outcome:
    root = ET.fromstring(xml)  # noqa: S314 - our own export, parsed in a test
    # The validator's pandas code warns about its own future deprecations; they are not ours.
    with warnings.catch_warnings(), pd.option_context("mode.chained_assignment", None):
        warnings.simplefilter("ignore")
        data = cin_validator.process_data(cin_validator.convert_data(root))
        registry = importlib.import_module(f"cin_validator.rules.{ruleset}").registry
        result = cin_validator.CinValidator(data, registry)
    broken = {str(code): "" for code in result.rules_broken}
    for issues in result.la_rules_broken:
        for code in issues["rule_code"] if isinstance(issues, pd.DataFrame) and "rule_code" in issues else []:
            broken[str(code)] = "LA level"
    messages = {str(r.code): r.message for r in registry.values()}
    found = {code: messages.get(code, "") for code in broken}
    return Outcome(errors={c: m for c, m in found.items() if not c.endswith("Q")},
                   queries={c: m for c, m in found.items() if c.endswith("Q")},
                   children=len(root.findall("Children/Child")))
