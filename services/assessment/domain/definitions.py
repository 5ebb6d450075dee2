"""Toolkit definitions as data: the rules a definition keeps, and a typed view of one.

A definition (a shipped ``reference/*.yaml`` file, or a partnership's own tool
sent to ``POST /v1/toolkits``) carries structure only: areas, sub-areas or
items, the rating scale with neutral labels, raters, totals and the judgement
rules. Licensed wording (GCP2 item text, grade descriptors, guidance) is
refused here so that it can never reach the database, the API or the docs.

Every problem in a definition is collected and reported together, so a
partnership fixes its file in one round.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

#: The shape of the normalised definition stored in ``toolkit_version.definition``.
#: Format 1 (GCP2 structure only) is read through :func:`as_current`.
DEFINITION_FORMAT = 2
SCALE_TYPES = frozenset({"ordinal"})
DIRECTIONS = frozenset({"higher_is_worse", "higher_is_better"})
# A profile tool such as GCP2 is never summed or averaged; a local tool may define totals.
AGGREGATIONS = frozenset({"none", "sum"})
SUGGESTION_RULES = frozenset({"worst_in_area"})
#: What a rater kind is reported as in a child's latest results (``safety_scale``).
RATER_REPORTS = frozenset({"worker", "parent", "child", "network"})
# Keys that would carry licensed wording if they appeared inside areas or sub-areas.
LICENSED_KEYS = frozenset({"items", "descriptor", "descriptors", "grade_descriptors", "wording", "guidance", "text"})
ITEM_KEYS = frozenset({"id", "name", "note"})
_SLUG = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


class InvalidToolkitDefinition(ValueError):
    """A definition breaks one or more rules; ``problems`` lists every one."""

    def __init__(self, problems: Sequence[Problem], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        text = "; ".join(f"{p.field}: {p.message}" for p in self.problems)
        super().__init__(f"{source}: {text}" if source else text)


@dataclass(frozen=True)
class ShippedToolkit:
    id: str
    name: str
    owner: str
    version: str
    definition: dict[str, Any]


# --- Normalising ----------------------------------------------------------------------


class _Checker:
    """Collects problems instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))

    def present(self, mapping: Mapping[str, Any] | None, key: str, where: str) -> Any:
        if mapping is None:
            return None
        if key not in mapping or mapping[key] in (None, ""):
            self.add(f"{where}.{key}" if where else key, "is required")
            return None
        return mapping[key]

    def mapping(self, value: Any, where: str) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.add(where, "expected a mapping")
            return None
        return value

    def sequence(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            self.add(where, "expected a list")
            return []
        return value

    def slug(self, value: Any, where: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not _SLUG.match(value):
            self.add(where, "ids are lower-case snake_case slugs (a letter, then letters, digits, _)")
            return None
        return value

    def no_licensed_wording(self, node: Mapping[str, Any], where: str, allowed: Iterable[str] = ()) -> None:
        # An empty list or value carries no wording (a published body lists `items: []` by default).
        found = sorted(k for k in (LICENSED_KEYS - set(allowed)) & set(node) if node[k] not in (None, "", [], {}))
        if found:
            self.add(where, f"{', '.join(found)} would carry licensed wording; ship structure only "
                            "and load descriptors into a licensed tenant store")


def _licence(c: _Checker, tool: Mapping[str, Any], items: Mapping[str, Any]) -> dict[str, Any]:
    if tool.get("licensed_content", False) is not False:
        c.add("tool.licensed_content", "must be false: definitions hold no licensed content")
    if items.get("shipped", False) is not False:
        c.add("items.shipped", "must be false: licensed item wording is never shipped")
    c.no_licensed_wording({k: v for k, v in items.items() if k not in ("source", "shipped")}, "items")
    return {
        "licensed_content": False,
        "licence_required_for_use": bool(tool.get("licence_required_for_use", False)),
        "items_shipped": False,
        "items_source": str(items.get("source", "none")),
    }


MAX_GRADES = 101  # one per value, and GradeScaleIn takes at most 101 values


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _scale(c: _Checker, raw: Mapping[str, Any]) -> dict[str, Any]:
    where = "grade_scale"
    kind = c.present(raw, "type", where)
    direction = c.present(raw, "direction", where)
    aggregation = raw.get("aggregation", "none")
    low, high = c.present(raw, "min", where), c.present(raw, "max", where)
    step = raw.get("step", 1)
    if kind is not None and kind not in SCALE_TYPES:
        c.add(f"{where}.type", f"must be one of {sorted(SCALE_TYPES)}")
    if direction is not None and direction not in DIRECTIONS:
        c.add(f"{where}.direction", f"must be one of {sorted(DIRECTIONS)}")
    if aggregation not in AGGREGATIONS:
        c.add(f"{where}.aggregation", f"must be one of {sorted(AGGREGATIONS)}")
    bounds_ok = _int(low) and _int(high) and low < high
    if low is not None and high is not None and not bounds_ok:
        c.add(f"{where}.min", "min and max are integers with min < max")
    if not _int(step) or step < 1 or (bounds_ok and (high - low) % step):
        c.add(f"{where}.step", "a positive integer that divides max - min")
        bounds_ok = False
    values: list[dict[str, Any]] = []
    for i, entry in enumerate(c.sequence(c.present(raw, "values", where) or [], f"{where}.values")):
        at = f"{where}.values[{i}]"
        entry = c.mapping(entry, at)
        if entry is None:
            continue
        c.no_licensed_wording(entry, at)
        value = c.present(entry, "value", at)
        label = c.present(entry, "label", at)
        values.append({
            "value": value,
            "id": c.slug(entry.get("id"), f"{at}.id"),
            "label": str(label) if label is not None else "",
            "evidence_required": bool(entry.get("evidence_required", False)),
        })
    if bounds_ok and (high - low) // step + 1 > MAX_GRADES:
        c.add(f"{where}.max", f"a scale has at most {MAX_GRADES} grades")
    elif bounds_ok and [v["value"] for v in values] != list(range(low, high + 1, step)):
        c.add(f"{where}.values", f"values must label every grade from {low} to {high} in order (step {step})")
    ids = [v["id"] for v in values]
    if any(ids) and (None in ids or len(set(ids)) != len(ids)):
        c.add(f"{where}.values", "when values have ids, every value has one and they are unique")
    return {
        "id": c.slug(c.present(raw, "id", where), f"{where}.id"),
        "type": kind,
        "min": low,
        "max": high,
        "step": step,
        "direction": direction,
        "aggregation": aggregation,
        "values": values,
    }


def rule_description(rule: str, direction: str, rating_level: str) -> str:
    """How a suggestion rule reads to a practitioner (shown beside every suggestion)."""
    unit = "sub-area" if rating_level == "sub_area" else "item"
    if rule == "worst_in_area":
        worst = "highest" if direction == "higher_is_worse" else "lowest"
        return (f"The least favourable rating among the area's rated {unit}s: the {worst} value "
                f"({direction.replace('_', ' ')}). Unrated {unit}s are left out.")
    return ""


def _judgement(c: _Checker, raw: Mapping[str, Any], scale: Mapping[str, Any], rating_level: str,
               has_raters: bool) -> dict[str, Any]:
    where = "judgement_rules.system_suggestion"
    suggestion = c.mapping(raw.get("system_suggestion", {"allowed": False}), where) or {}
    allowed = bool(suggestion.get("allowed", False))
    if suggestion.get("may_overwrite_practitioner_grade", False) is not False:
        c.add(f"{where}.may_overwrite_practitioner_grade",
              "a computed suggestion never overwrites the practitioner's grade")
    if allowed and not suggestion.get("label"):
        c.add(f"{where}.label", "a suggestion must carry a label")
    rule = suggestion.get("rule", "worst_in_area") if allowed else None
    if allowed and rule not in SUGGESTION_RULES:
        c.add(f"{where}.rule", f"must be one of {sorted(SUGGESTION_RULES)}")
    if allowed and has_raters:
        c.add(f"{where}.allowed", "a tool with several raters has no suggestion: raters' scores are never merged")
    # The practitioner's grades and overall judgement are authoritative whatever
    # the file says: that is a rule of the partnership, not of a tool.
    return {
        "practitioner_area_grade": {
            "required": True,
            "authoritative": True,
            "description": str(raw.get("practitioner_area_grade", "")),
        },
        "practitioner_overall_judgement": {
            "required": True,
            "form": "free_text",
            "description": str(raw.get("practitioner_overall_judgement", "")),
        },
        "system_suggestion": {
            "allowed": allowed,
            "label": str(suggestion["label"]) if allowed and suggestion.get("label") else None,
            "rule": rule if allowed else None,
            "rule_description": (rule_description(str(rule), str(scale.get("direction")), rating_level)
                                 if allowed else None),
            "example_rule": suggestion.get("example_rule"),
            "may_overwrite_practitioner_grade": False,
        },
    }


def _raters(c: _Checker, raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    block = c.mapping(raw, "raters")
    if block is None:
        return None
    kinds: list[dict[str, Any]] = []
    for i, kind in enumerate(c.sequence(c.present(block, "kinds", "raters") or [], "raters.kinds")):
        at = f"raters.kinds[{i}]"
        kind = c.mapping(kind, at)
        if kind is None:
            continue
        reports_as = c.present(kind, "reports_as", at)
        if reports_as is not None and reports_as not in RATER_REPORTS:
            c.add(f"{at}.reports_as", f"must be one of {sorted(RATER_REPORTS)}")
        name = c.present(kind, "name", at)
        kinds.append({"id": c.slug(c.present(kind, "id", at), f"{at}.id"),
                      "name": str(name) if name is not None else "", "reports_as": reports_as})
    ids = [k["id"] for k in kinds]
    if len(set(ids)) != len(ids):
        c.add("raters.kinds", "rater kind ids must be unique")
    if not kinds:
        c.add("raters.kinds", "a tool with raters names at least one rater kind")
    return {"kinds": kinds}


def _areas(c: _Checker, raw: Sequence[Any], licensed_tool: bool) -> tuple[list[dict[str, Any]], str]:
    areas: list[dict[str, Any]] = []
    seen: set[str] = set()
    allowed = () if licensed_tool else ("items",)
    for i, area_raw in enumerate(raw):
        where = f"areas[{i}]"
        area_raw = c.mapping(area_raw, where)
        if area_raw is None:
            continue
        c.no_licensed_wording(area_raw, where, allowed)
        area_id = c.slug(c.present(area_raw, "id", where), f"{where}.id")
        name = c.present(area_raw, "name", where)
        sub_areas: list[dict[str, Any]] = []
        for j, sub_raw in enumerate(c.sequence(area_raw.get("sub_areas", []), f"{where}.sub_areas")):
            sub_where = f"{where}.sub_areas[{j}]"
            sub_raw = c.mapping(sub_raw, sub_where)
            if sub_raw is None:
                continue
            c.no_licensed_wording(sub_raw, sub_where)
            sub_name = c.present(sub_raw, "name", sub_where)
            sub_areas.append({
                "id": c.slug(c.present(sub_raw, "id", sub_where), f"{sub_where}.id"),
                "name": str(sub_name) if sub_name is not None else "",
                # Unconfirmed placements (e.g. GCP2's added safety sub-areas) stay flagged.
                "confirmed_level": bool(sub_raw.get("confirmed_level", True)),
                "note": sub_raw.get("note"),
            })
        items: list[dict[str, Any]] = []
        if not licensed_tool:
            for j, item_raw in enumerate(c.sequence(area_raw.get("items", []), f"{where}.items")):
                item_where = f"{where}.items[{j}]"
                item_raw = c.mapping(item_raw, item_where)
                if item_raw is None:
                    continue
                c.no_licensed_wording(item_raw, item_where)
                if extra := sorted(set(item_raw) - ITEM_KEYS - LICENSED_KEYS):
                    c.add(item_where, f"an item carries an id, a short name and a note only (not {', '.join(extra)})")
                item_name = c.present(item_raw, "name", item_where)
                if isinstance(item_name, str) and len(item_name) > 120:
                    c.add(f"{item_where}.name", "a short name (at most 120 characters), not wording")
                items.append({"id": c.slug(c.present(item_raw, "id", item_where), f"{item_where}.id"),
                              "name": str(item_name) if item_name is not None else "",
                              "note": item_raw.get("note")})
        ids = [x for x in [area_id, *(s["id"] for s in sub_areas), *(t["id"] for t in items)] if x]
        if seen & set(ids) or len(set(ids)) != len(ids):
            c.add(where, "area, sub-area and item ids must be unique within the toolkit")
        seen.update(ids)
        former = area_raw.get("former_gcp_name", area_raw.get("former_name"))
        areas.append({
            "id": area_id,
            "code": area_raw.get("code"),
            "name": str(name) if name is not None else "",
            "former_name": former,
            "mandatory": bool(area_raw.get("mandatory", True)),
            "sub_areas": sub_areas,
            "items": items,
            "reported_additions": [str(x) for x in area_raw.get("added_items_reported", [])],
        })
    if not raw:
        c.add("areas", "a toolkit has at least one area")
    rating_level = "item" if any(a["items"] for a in areas) else "sub_area"
    for i, area in enumerate(areas):
        units = area["items"] if rating_level == "item" else area["sub_areas"]
        if not units:
            what = "item" if rating_level == "item" else "sub-area"
            c.add(f"areas[{i}]", f"every area has at least one {what} to rate")
    return areas, rating_level


def _totals(c: _Checker, raw: Any, scale: Mapping[str, Any], areas: Sequence[Mapping[str, Any]],
            rating_level: str, has_raters: bool) -> list[dict[str, Any]]:
    entries = c.sequence(raw, "totals") if raw is not None else []
    if not entries:
        return []
    if scale.get("aggregation") != "sum":
        c.add("totals", "a tool whose scale is a profile (aggregation none) never adds ratings up")
    if has_raters:
        c.add("totals", "a tool with several raters has no totals: raters' scores are never merged")
    key = "items" if rating_level == "item" else "sub_areas"
    units_of = {a["id"]: [u["id"] for u in a[key]] for a in areas}
    all_units = [u for units in units_of.values() for u in units]
    totals: list[dict[str, Any]] = []
    for i, entry in enumerate(entries):
        at = f"totals[{i}]"
        entry = c.mapping(entry, at)
        if entry is None:
            continue
        counted: list[str] = []
        for area_id in c.sequence(entry.get("areas", []), f"{at}.areas"):
            if area_id not in units_of:
                c.add(f"{at}.areas", f"{area_id} is not an area of this toolkit")
            else:
                counted += units_of[area_id]
        for unit_id in c.sequence(entry.get("items", []), f"{at}.items"):
            if unit_id not in all_units:
                c.add(f"{at}.items", f"{unit_id} is not a rated {key[:-1].replace('_', '-')} of this toolkit")
            elif unit_id not in counted:
                counted.append(unit_id)
        name = c.present(entry, "name", at)
        totals.append({"id": c.slug(c.present(entry, "id", at), f"{at}.id"),
                       "name": str(name) if name is not None else "",
                       "items": counted or list(all_units)})
    ids = [t["id"] for t in totals]
    if len(set(ids)) != len(ids):
        c.add("totals", "total ids must be unique")
    return totals


def normalise(raw: Mapping[str, Any]) -> ShippedToolkit:
    """Turn a definition document into the stored shape, or refuse it with every rule it breaks."""
    c = _Checker()
    tool = c.mapping(c.present(raw, "tool", ""), "tool") or {}
    items = c.mapping(raw.get("items", {}), "items") or {}
    version = c.present(tool, "structure_version", "tool")
    if version is not None and not _VERSION.match(str(version)):
        c.add("tool.structure_version", "1-40 letters, digits and . _ -")
    licence = _licence(c, tool, items)
    scale = _scale(c, c.mapping(c.present(raw, "grade_scale", ""), "grade_scale") or {})
    raters = _raters(c, raw.get("raters"))
    areas, rating_level = _areas(c, c.sequence(c.present(raw, "areas", ""), "areas"),
                                 licence["licence_required_for_use"])
    judgement = _judgement(c, c.mapping(raw.get("judgement_rules", {}), "judgement_rules") or {}, scale,
                           rating_level, raters is not None)
    totals = _totals(c, raw.get("totals"), scale, areas, rating_level, raters is not None)
    variants = []
    for i, v in enumerate(c.sequence(tool.get("variants", []), "tool.variants")):
        v = c.mapping(v, f"tool.variants[{i}]")
        if v is not None:
            variants.append({"id": c.slug(v.get("id"), f"tool.variants[{i}].id"), "note": v.get("note")})
    targets = c.mapping(raw.get("targets", {}), "targets") or {}
    tool_id = c.slug(c.present(tool, "id", "tool"), "tool.id")
    name, owner = c.present(tool, "name", "tool"), c.present(tool, "owner", "tool")
    if c.problems:
        raise InvalidToolkitDefinition(c.problems)
    definition = {
        "format": DEFINITION_FORMAT,
        "licence": licence,
        "scale": scale,
        "rating_level": rating_level,
        "raters": raters,
        "judgement_rules": judgement,
        "areas": areas,
        "totals": totals,
        "variants": variants,
        "practice_notes": [str(n) for n in tool.get("practice_notes", [])],
        "target_fields": [str(f) for f in targets.get("fields", [])],
    }
    return ShippedToolkit(id=str(tool_id), name=str(name), owner=str(owner), version=str(version),
                          definition=definition)


def read_definition_files(directory: Path) -> list[ShippedToolkit]:
    """Every ``*.yaml`` in ``directory``, normalised; a bad file stops the start, naming itself."""
    shipped = []
    for path in sorted(directory.glob("*.yaml")):
        with path.open(encoding="utf-8") as fh:
            raw = yaml.safe_load(fh)
        if not isinstance(raw, Mapping):
            raise InvalidToolkitDefinition([Problem("definition", "expected a mapping")], source=path.name)
        try:
            shipped.append(normalise(raw))
        except InvalidToolkitDefinition as exc:
            raise InvalidToolkitDefinition(exc.problems, source=path.name) from exc
    return shipped


def as_current(definition: Mapping[str, Any]) -> dict[str, Any]:
    """A stored definition in the current format. Format 1 (structure of a graded profile,
    rated by sub-area) is read as format 2 with the defaults it implied; nothing is rewritten."""
    if definition.get("format") == DEFINITION_FORMAT:
        return dict(definition)
    upgraded = dict(definition)
    scale = dict(definition["scale"])
    scale["step"] = 1
    scale["values"] = [{"value": v["value"], "id": None, "label": v["label"], "evidence_required": False}
                       for v in scale["values"]]
    upgraded["scale"] = scale
    upgraded["rating_level"] = "sub_area"
    upgraded["raters"] = None
    rules = dict(definition["judgement_rules"])
    suggestion = dict(rules["system_suggestion"])
    allowed = bool(suggestion.get("allowed"))
    upgraded["judgement_rules"] = {**rules, "system_suggestion": {
        "allowed": allowed,
        "label": suggestion.get("label"),
        "rule": "worst_in_area" if allowed else None,
        "rule_description": rule_description("worst_in_area", scale["direction"], "sub_area") if allowed else None,
        "example_rule": suggestion.get("example_rule"),
        "may_overwrite_practitioner_grade": False,
    }}
    upgraded["areas"] = [{**{k: v for k, v in a.items() if k != "reported_additions"}, "mandatory": True,
                          "items": [], "reported_additions": a.get("reported_additions", [])}
                         for a in definition["areas"]]
    upgraded["totals"] = []
    upgraded["format"] = DEFINITION_FORMAT
    return {k: upgraded[k] for k in ("format", "licence", "scale", "rating_level", "raters", "judgement_rules",
                                     "areas", "totals", "variants", "practice_notes", "target_fields")}


# --- A typed view for the rules that use a definition -----------------------------------------


@dataclass(frozen=True)
class ScaleValue:
    value: int
    id: str | None
    label: str
    evidence_required: bool


@dataclass(frozen=True)
class Unit:
    """Something rated: a sub-area (GCP2) or an item (local tools)."""

    id: str
    name: str
    area_id: str


@dataclass(frozen=True)
class RaterKind:
    id: str
    name: str
    reports_as: str


class Definition:
    """Read-only helpers over one normalised definition."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = as_current(data)
        scale = self.data["scale"]
        self.direction: str = scale["direction"]
        self.aggregation: str = scale["aggregation"]
        self.values = [ScaleValue(v["value"], v["id"], v["label"], v["evidence_required"]) for v in scale["values"]]
        self._by_value = {v.value: v for v in self.values}
        self._by_id = {v.id: v for v in self.values if v.id}
        self.rating_level: str = self.data["rating_level"]
        key = "items" if self.rating_level == "item" else "sub_areas"
        self.area_ids: list[str] = [a["id"] for a in self.data["areas"]]
        self.area_names: dict[str, str] = {a["id"]: a["name"] for a in self.data["areas"]}
        self.mandatory_areas: list[str] = [a["id"] for a in self.data["areas"] if a["mandatory"]]
        self.sub_areas: dict[str, str] = {s["id"]: a["id"] for a in self.data["areas"] for s in a["sub_areas"]}
        self.units: dict[str, Unit] = {
            u["id"]: Unit(u["id"], u["name"], a["id"]) for a in self.data["areas"] for u in a[key]
        }
        raters = self.data.get("raters")
        self.rater_kinds: dict[str, RaterKind] | None = (
            {k["id"]: RaterKind(k["id"], k["name"], k["reports_as"]) for k in raters["kinds"]} if raters else None
        )
        suggestion = self.data["judgement_rules"]["system_suggestion"]
        self.suggestion_rule: str | None = suggestion["rule"] if suggestion["allowed"] else None
        self.suggestion_label: str | None = suggestion["label"]
        self.suggestion_description: str | None = suggestion.get("rule_description")
        self.totals: list[dict[str, Any]] = list(self.data.get("totals", []))
        self.licence_required: bool = bool(self.data["licence"]["licence_required_for_use"])
        self.has_value_ids = bool(self._by_id)

    def value(self, raw: int | str) -> ScaleValue | None:
        """The scale value a client sent, by number or (on a named scale) by id; None when off the scale."""
        if isinstance(raw, bool):
            return None
        if isinstance(raw, int):
            return self._by_value.get(raw)
        return self._by_id.get(raw)

    def of(self, value: int) -> ScaleValue:
        return self._by_value[value]

    def badness(self, value: int) -> int:
        """Higher means less favourable, whichever way the scale runs."""
        return value if self.direction == "higher_is_worse" else -value

    def worst(self, values: Iterable[int]) -> int | None:
        values = list(values)
        return max(values, key=self.badness) if values else None

    def units_of(self, area_id: str) -> list[str]:
        return [u.id for u in self.units.values() if u.area_id == area_id]
