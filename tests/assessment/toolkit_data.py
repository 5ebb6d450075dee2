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
