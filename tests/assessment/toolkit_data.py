"""Made-up toolkit definitions for tests. Our own words only: never any licensed tool text."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from services.assessment.settings import SHIPPED_TOOLKITS

GCP2_FILE: Path = SHIPPED_TOOLKITS / "gcp2_structure.yaml"


def gcp2_raw() -> dict[str, Any]:
    with GCP2_FILE.open(encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return data


def local_tool_raw(tool_id: str = "local_screening", version: str = "1") -> dict[str, Any]:
    return copy.deepcopy({
        "tool": {"id": tool_id, "name": "Local screening tool (test)", "owner": "Test partnership",
                 "licensed_content": False, "licence_required_for_use": False, "structure_version": version},
        "grade_scale": {"id": "concern", "type": "ordinal", "min": 1, "max": 3, "direction": "higher_is_worse",
                        "aggregation": "sum",
                        "values": [{"value": 1, "label": "not concerned"}, {"value": 2, "label": "sometimes"},
                                   {"value": 3, "label": "very"}]},
        "judgement_rules": {"system_suggestion": {"allowed": False}},
        "areas": [{"id": "home_conditions", "name": "Home conditions",
                   "sub_areas": [{"id": "kitchen", "name": "Kitchen"}, {"id": "sleeping", "name": "Sleeping"}]}],
    })


def home_scale_raw(tool_id: str = "home_conditions_example", version: str = "1") -> dict[str, Any]:
    """A partnership's own tool scored 5-20 in steps of 5, with a total (our own words)."""
    return copy.deepcopy({
        "tool": {"id": tool_id, "name": "Home conditions scale (test)", "owner": "Test partnership",
                 "structure_version": version},
        "grade_scale": {"id": "home_score", "type": "ordinal", "min": 5, "max": 20, "step": 5,
                        "direction": "higher_is_worse", "aggregation": "sum",
                        "values": [{"value": 5, "label": "good"}, {"value": 10, "label": "adequate"},
                                   {"value": 15, "label": "poor"}, {"value": 20, "label": "very poor"}]},
        "judgement_rules": {"system_suggestion": {"allowed": True, "label": "System suggestion (test)",
                                                  "rule": "worst_in_area"}},
        "areas": [
            {"id": "home", "name": "Home", "items": [{"id": "kitchen", "name": "Kitchen"},
                                                     {"id": "bedroom", "name": "Child's bedroom"}]},
            {"id": "outside", "name": "Outside", "items": [{"id": "garden", "name": "Garden"}]},
        ],
        "totals": [{"id": "home_total", "name": "Home total", "areas": ["home"]},
                   {"id": "everything", "name": "All items"}],
    })
