"""The definition rules, without HTTP or a database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from services.assessment.domain.toolkits import (
    InvalidToolkitDefinition,
    normalise,
    read_definition_files,
)
from services.assessment.settings import SHIPPED_TOOLKITS
from tests.assessment.toolkit_data import gcp2_raw, local_tool_raw

Mutation = Callable[[dict[str, Any]], None]


def test_shipped_files_normalise() -> None:
    shipped = {t.id: t for t in read_definition_files(SHIPPED_TOOLKITS)}
    gcp2 = shipped["gcp2"]
    assert (gcp2.name, gcp2.owner, gcp2.version) == ("Graded Care Profile 2", "NSPCC", "2-structure-1")
    assert [a["code"] for a in gcp2.definition["areas"]] == ["A", "B", "C", "D"]
    assert gcp2.definition["licence"]["licensed_content"] is False


def test_normalising_is_deterministic() -> None:
    assert normalise(gcp2_raw()) == normalise(gcp2_raw())


def _set(path: str, value: Any) -> Mutation:
    def mutate(raw: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = raw
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[last] = value
    return mutate


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_set("tool.licensed_content", True), "licensed_content"),
        (_set("items.shipped", True), "items.shipped"),
        (_set("items", {"source": "x", "shipped": False, "wording": ["placeholder"]}), "licensed wording"),
        (_set("areas.0.sub_areas.0.items", [{"id": "a", "text": "placeholder"}]), "licensed wording"),
        (_set("areas.0.descriptors", ["placeholder"]), "licensed wording"),
        (_set("judgement_rules.system_suggestion.may_overwrite_practitioner_grade", True), "never overwrites"),
        (_set("judgement_rules.system_suggestion.label", ""), "label"),
        (_set("grade_scale.values", [{"value": 1, "label": "a"}, {"value": 3, "label": "b"}]), "every grade"),
        (_set("grade_scale.aggregation", "mean"), "aggregation"),
        (_set("grade_scale.direction", "sideways"), "direction"),
        (_set("grade_scale.min", 5), "min < max"),
        (_set("areas.1.sub_areas.0.id", "nutrition"), "unique"),
        (_set("areas.0.id", "Physical Care"), "slugs"),
        (_set("tool.structure_version", "has spaces"), "structure_version"),
        (_set("areas", []), "at least one area"),
    ],
)
def test_definitions_breaking_a_rule_are_refused(mutate: Mutation, message: str) -> None:
    raw = gcp2_raw()
    mutate(raw)
    with pytest.raises(InvalidToolkitDefinition, match=message):
        normalise(raw)


def test_a_local_tool_may_define_a_total() -> None:
    local = normalise(local_tool_raw())
    assert local.definition["scale"]["aggregation"] == "sum"
    assert local.definition["judgement_rules"]["system_suggestion"] == {
        "allowed": False, "label": None, "example_rule": None, "may_overwrite_practitioner_grade": False,
    }
    assert local.definition["licence"]["items_source"] == "none"


def test_a_bad_file_names_itself(tmp_path: Any) -> None:
    (tmp_path / "broken.yaml").write_text("tool: {id: x}\n", encoding="utf-8")
    with pytest.raises(InvalidToolkitDefinition, match=r"^broken\.yaml: "):
        read_definition_files(tmp_path)
