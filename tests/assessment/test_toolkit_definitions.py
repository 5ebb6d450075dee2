"""The definition rules, without HTTP or a database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from services.assessment.domain.definitions import (
    DEFINITION_FORMAT,
    Definition,
    InvalidToolkitDefinition,
    as_current,
    normalise,
    read_definition_files,
)
from services.assessment.settings import SHIPPED_TOOLKITS
from tests.assessment.toolkit_data import gcp2_raw, home_scale_raw, local_tool_raw

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
        "allowed": False, "label": None, "rule": None, "rule_description": None, "example_rule": None,
        "may_overwrite_practitioner_grade": False,
    }
    assert local.definition["licence"]["items_source"] == "none"


def test_a_bad_file_names_itself(tmp_path: Any) -> None:
    (tmp_path / "broken.yaml").write_text("tool: {id: x}\n", encoding="utf-8")
    with pytest.raises(InvalidToolkitDefinition, match=r"^broken\.yaml: "):
        read_definition_files(tmp_path)


# --- The three shipped tools ------------------------------------------------------------------

SHIPPED = {t.id: t for t in read_definition_files(SHIPPED_TOOLKITS)}


def test_three_tools_are_shipped() -> None:
    assert set(SHIPPED) == {"gcp2", "local_neglect_screening", "signs_of_safety"}
    assert all(t.definition["format"] == DEFINITION_FORMAT for t in SHIPPED.values())


def test_gcp2_is_rated_by_sub_area_with_a_labelled_suggestion() -> None:
    d = Definition(SHIPPED["gcp2"].definition)
    assert d.rating_level == "sub_area"
    assert len(d.units) == 16
    assert d.units["nutrition"].area_id == "physical_care"
    assert d.suggestion_rule == "worst_in_area"
    assert d.suggestion_label == "System suggestion - not an NSPCC method"
    assert d.suggestion_description is not None
    assert "highest" in d.suggestion_description
    assert d.licence_required
    assert d.rater_kinds is None
    assert d.totals == []
    assert all(a["items"] == [] for a in SHIPPED["gcp2"].definition["areas"])


def test_the_screening_tool_rates_items_very_sometimes_not_concerned() -> None:
    tool = SHIPPED["local_neglect_screening"]
    d = Definition(tool.definition)
    assert d.rating_level == "item"
    assert d.area_ids == ["emotional_behavioural", "environmental", "health_physical_care", "parenting",
                          "education", "feeding"]
    assert [(v.id, v.evidence_required) for v in d.values] == [
        ("not_concerned", False), ("sometimes_concerned", True), ("very_concerned", True)]
    assert d.value("very_concerned") == d.value(3)
    assert d.value("extremely") is None
    assert d.value(4) is None
    assert d.value(True) is None
    assert not d.licence_required
    assert all(len(u.name) <= 40 for u in d.units.values())


def test_the_safety_scale_has_raters_and_no_suggestion() -> None:
    d = Definition(SHIPPED["signs_of_safety"].definition)
    assert (d.values[0].value, d.values[-1].value, d.direction) == (0, 10, "higher_is_better")
    assert d.rater_kinds is not None
    assert {k: r.reports_as for k, r in d.rater_kinds.items()} == {
        "child": "child", "parent_carer": "parent", "professional": "worker", "network": "network"}
    assert d.suggestion_rule is None
    assert d.worst([3, 7, 5]) == 3


def test_a_format_1_definition_reads_as_the_current_one() -> None:
    current = SHIPPED["gcp2"].definition
    old = {k: v for k, v in current.items() if k not in ("rating_level", "raters", "totals")}
    old["format"] = 1
    old["scale"] = {k: v for k, v in current["scale"].items() if k != "step"}
    old["scale"]["values"] = [{"value": v["value"], "label": v["label"]} for v in current["scale"]["values"]]
    rules = current["judgement_rules"]
    old["judgement_rules"] = {**rules, "system_suggestion": {
        k: v for k, v in rules["system_suggestion"].items() if k not in ("rule", "rule_description")}}
    old["areas"] = [{k: v for k, v in a.items() if k not in ("mandatory", "items")} for a in current["areas"]]
    assert as_current(old) == current
    assert as_current(current) == current


# --- A partnership's own tools ----------------------------------------------------------------


def test_a_scale_in_steps_with_totals() -> None:
    d = Definition(normalise(home_scale_raw()).definition)
    assert [v.value for v in d.values] == [5, 10, 15, 20]
    assert d.totals == [{"id": "home_total", "name": "Home total", "items": ["kitchen", "bedroom"]},
                        {"id": "everything", "name": "All items", "items": ["kitchen", "bedroom", "garden"]}]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_set("grade_scale.step", 4), "divides"),
        (_set("grade_scale.aggregation", "none"), "never adds ratings up"),
        (_set("totals.0.areas", ["nowhere"]), "not an area"),
        (_set("totals.0.items", ["attic"]), "not a rated item"),
        (_set("areas.0.items.0.text", "placeholder"), "licensed wording"),
        (_set("areas.0.items.0.colour", "red"), "id, a short name and a note only"),
        (_set("areas.0.items.0.name", "x" * 121), "short name"),
        (_set("areas.1.items", []), "at least one item"),
        (_set("grade_scale.values.0.id", "good"), "every value has one"),
        (_set("judgement_rules.system_suggestion.rule", "average"), "rule"),
        (_set("raters", {"kinds": [{"id": "child", "name": "Child", "reports_as": "child"}]}), "never merged"),
        (_set("raters", {"kinds": [{"id": "child", "name": "Child", "reports_as": "someone"}]}), "reports_as"),
    ],
)
def test_own_tools_breaking_a_rule_are_refused(mutate: Mutation, message: str) -> None:
    raw = home_scale_raw()
    mutate(raw)
    with pytest.raises(InvalidToolkitDefinition, match=message):
        normalise(raw)


def test_a_licensed_tool_lists_no_items() -> None:
    raw = gcp2_raw()
    raw["areas"][0]["items"] = [{"id": "first", "name": "First"}]
    with pytest.raises(InvalidToolkitDefinition, match=r"areas\[0\]: items would carry licensed wording"):
        normalise(raw)


def test_every_problem_is_listed_at_once() -> None:
    raw = home_scale_raw()
    raw["tool"]["id"] = "Bad Id"
    raw["grade_scale"]["direction"] = "sideways"
    raw["areas"][0]["items"][0]["descriptor"] = "placeholder"
    del raw["areas"][1]["name"]
    with pytest.raises(InvalidToolkitDefinition) as caught:
        normalise(raw)
    fields = {p.field for p in caught.value.problems}
    assert {"tool.id", "grade_scale.direction", "areas[0].items[0]", "areas[1].name"} <= fields
