"""Toolkit definitions as versioned data, and the rules a definition must keep.

A shipped definition (``reference/*.yaml``) carries structure only: areas,
sub-areas, the grade scale with our own neutral labels and the judgement
rules. Licensed wording (GCP2 item text, grade descriptors, guidance) is
refused here so that it can never reach the database, the API or the docs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from services.assessment.domain.errors import ToolkitNotFound, ToolkitVersionNotFound
from services.assessment.models import PUBLISHED, Toolkit, ToolkitVersion
from services.assessment.queries import ToolkitQueries, ToolkitRow
from shared.db import utcnow
from shared.pagination import PageParams

log = logging.getLogger("assessment.toolkits")

#: The shape of the normalised definition stored in ``toolkit_version.definition``.
DEFINITION_FORMAT = 1
SCALE_TYPES = frozenset({"ordinal"})
DIRECTIONS = frozenset({"higher_is_worse", "higher_is_better"})
# A profile tool such as GCP2 is never summed or averaged; a local tool may define a total.
AGGREGATIONS = frozenset({"none", "sum"})
# Keys that would carry licensed wording if they appeared inside areas or sub-areas.
LICENSED_KEYS = frozenset({"items", "descriptor", "descriptors", "grade_descriptors", "wording", "guidance", "text"})
_SLUG = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


class InvalidToolkitDefinition(ValueError):
    """A definition file breaks a rule; the service refuses to start with it."""


@dataclass(frozen=True)
class ShippedToolkit:
    id: str
    name: str
    owner: str
    version: str
    definition: dict[str, Any]


def definition_etag(version: ToolkitVersion) -> str:
    """A strong validator for one immutable version (changes when a newer one becomes latest)."""
    canonical = json.dumps([version.toolkit_id, version.version, version.definition], sort_keys=True, separators=(",", ":"))
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


# --- Normalising a definition file ------------------------------------------------

def _require(mapping: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in mapping or mapping[key] in (None, ""):
        raise InvalidToolkitDefinition(f"{where}: '{key}' is required")
    return mapping[key]


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidToolkitDefinition(f"{where}: expected a mapping")
    return value


def _list(value: Any, where: str) -> Sequence[Any]:
    if not isinstance(value, list):
        raise InvalidToolkitDefinition(f"{where}: expected a list")
    return value


def _slug(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _SLUG.match(value):
        raise InvalidToolkitDefinition(f"{where}: ids are lower-case snake_case slugs")
    return value


def _no_licensed_wording(node: Mapping[str, Any], where: str) -> None:
    found = sorted(LICENSED_KEYS & set(node))
    if found:
        raise InvalidToolkitDefinition(
            f"{where}: {', '.join(found)} would carry licensed wording; ship structure only "
            "and load descriptors into a licensed tenant store"
        )


def _licence(tool: Mapping[str, Any], items: Mapping[str, Any]) -> dict[str, Any]:
    if tool.get("licensed_content", False) is not False:
        raise InvalidToolkitDefinition("tool.licensed_content must be false: shipped definitions hold no licensed content")
    if items.get("shipped", False) is not False:
        raise InvalidToolkitDefinition("items.shipped must be false: item wording is licensed and is never shipped")
    _no_licensed_wording({k: v for k, v in items.items() if k not in ("source", "shipped")}, "items")
    return {
        "licensed_content": False,
        "licence_required_for_use": bool(tool.get("licence_required_for_use", False)),
        "items_shipped": False,
        "items_source": str(items.get("source", "none")),
    }


def _scale(raw: Mapping[str, Any]) -> dict[str, Any]:
    where = "grade_scale"
    kind = _require(raw, "type", where)
    direction = _require(raw, "direction", where)
    aggregation = raw.get("aggregation", "none")
    low, high = _require(raw, "min", where), _require(raw, "max", where)
    if kind not in SCALE_TYPES:
        raise InvalidToolkitDefinition(f"{where}: type must be one of {sorted(SCALE_TYPES)}")
    if direction not in DIRECTIONS:
        raise InvalidToolkitDefinition(f"{where}: direction must be one of {sorted(DIRECTIONS)}")
    if aggregation not in AGGREGATIONS:
        raise InvalidToolkitDefinition(f"{where}: aggregation must be one of {sorted(AGGREGATIONS)}")
    if not (isinstance(low, int) and isinstance(high, int) and low < high):
        raise InvalidToolkitDefinition(f"{where}: min and max are integers with min < max")
    values = []
    for i, entry in enumerate(_list(_require(raw, "values", where), f"{where}.values")):
        entry = _mapping(entry, f"{where}.values[{i}]")
        values.append({"value": _require(entry, "value", f"{where}.values[{i}]"),
                       "label": str(_require(entry, "label", f"{where}.values[{i}]"))})
    if [v["value"] for v in values] != list(range(low, high + 1)):
        raise InvalidToolkitDefinition(f"{where}: values must label every grade from {low} to {high} in order")
    return {
        "id": _slug(_require(raw, "id", where), f"{where}.id"),
        "type": kind,
        "min": low,
        "max": high,
        "direction": direction,
        "aggregation": aggregation,
        "values": values,
    }


def _judgement(raw: Mapping[str, Any]) -> dict[str, Any]:
    suggestion = _mapping(raw.get("system_suggestion", {"allowed": False}), "judgement_rules.system_suggestion")
    allowed = bool(suggestion.get("allowed", False))
    if suggestion.get("may_overwrite_practitioner_grade", False) is not False:
        raise InvalidToolkitDefinition(
            "judgement_rules.system_suggestion: a computed suggestion never overwrites the practitioner's grade"
        )
    if allowed and not suggestion.get("label"):
        raise InvalidToolkitDefinition("judgement_rules.system_suggestion: a suggestion must carry a label")
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
            "label": str(suggestion["label"]) if allowed else None,
            "example_rule": suggestion.get("example_rule"),
            "may_overwrite_practitioner_grade": False,
        },
    }


def _areas(raw: Sequence[Any]) -> list[dict[str, Any]]:
    areas: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, area_raw in enumerate(raw):
        where = f"areas[{i}]"
        area_raw = _mapping(area_raw, where)
        _no_licensed_wording(area_raw, where)
        area_id = _slug(_require(area_raw, "id", where), f"{where}.id")
        sub_areas: list[dict[str, Any]] = []
        for j, sub_raw in enumerate(_list(_require(area_raw, "sub_areas", where), f"{where}.sub_areas")):
            sub_where = f"{where}.sub_areas[{j}]"
            sub_raw = _mapping(sub_raw, sub_where)
            _no_licensed_wording(sub_raw, sub_where)
            sub_areas.append({
                "id": _slug(_require(sub_raw, "id", sub_where), f"{sub_where}.id"),
                "name": str(_require(sub_raw, "name", sub_where)),
                # Unconfirmed placements (e.g. GCP2's added safety sub-areas) stay flagged.
                "confirmed_level": bool(sub_raw.get("confirmed_level", True)),
                "note": sub_raw.get("note"),
            })
        ids = [area_id, *(s["id"] for s in sub_areas)]
        if seen & set(ids) or len(set(ids)) != len(ids):
            raise InvalidToolkitDefinition(f"{where}: area and sub-area ids must be unique within the toolkit")
        seen.update(ids)
        areas.append({
            "id": area_id,
            "code": area_raw.get("code"),
            "name": str(_require(area_raw, "name", where)),
            "former_name": area_raw.get("former_gcp_name", area_raw.get("former_name")),
            "sub_areas": sub_areas,
            "reported_additions": [str(x) for x in area_raw.get("added_items_reported", [])],
        })
    if not areas:
        raise InvalidToolkitDefinition("areas: a toolkit has at least one area")
    return areas


def normalise(raw: Mapping[str, Any]) -> ShippedToolkit:
    """Turn a definition file into the stored shape, or refuse it with the rule it breaks."""
    tool = _mapping(_require(raw, "tool", "definition"), "tool")
    items = _mapping(raw.get("items", {}), "items")
    version = str(_require(tool, "structure_version", "tool"))
    if not _VERSION.match(version):
        raise InvalidToolkitDefinition("tool.structure_version: 1-40 letters, digits and . _ -")
    definition = {
        "format": DEFINITION_FORMAT,
        "licence": _licence(tool, items),
        "scale": _scale(_mapping(_require(raw, "grade_scale", "definition"), "grade_scale")),
        "judgement_rules": _judgement(_mapping(raw.get("judgement_rules", {}), "judgement_rules")),
        "areas": _areas(_list(_require(raw, "areas", "definition"), "areas")),
        "variants": [
            {"id": _slug(v["id"], "tool.variants"), "note": v.get("note")}
            for v in (_mapping(v, "tool.variants") for v in tool.get("variants", []))
        ],
        "practice_notes": [str(n) for n in tool.get("practice_notes", [])],
        "target_fields": [str(f) for f in _mapping(raw.get("targets", {}), "targets").get("fields", [])],
    }
    return ShippedToolkit(
        id=_slug(_require(tool, "id", "tool"), "tool.id"),
        name=str(_require(tool, "name", "tool")),
        owner=str(_require(tool, "owner", "tool")),
        version=version,
        definition=definition,
    )


def read_definition_files(directory: Path) -> list[ShippedToolkit]:
    """Every ``*.yaml`` in ``directory``, normalised; a bad file stops the start."""
    shipped = []
    for path in sorted(directory.glob("*.yaml")):
        with path.open(encoding="utf-8") as fh:
            raw = yaml.safe_load(fh)
        try:
            shipped.append(normalise(_mapping(raw, path.name)))
        except InvalidToolkitDefinition as exc:
            raise InvalidToolkitDefinition(f"{path.name}: {exc}") from exc
    return shipped


# --- The catalogue ----------------------------------------------------------------

class Toolkits:
    def __init__(self, queries: ToolkitQueries) -> None:
        self.queries = queries

    async def page(self, page: PageParams) -> tuple[Sequence[ToolkitRow], str | None]:
        return await self.queries.page(page)

    async def latest(self, toolkit_id: str) -> tuple[Toolkit, ToolkitVersion]:
        toolkit = await self._toolkit(toolkit_id)
        version = await self.queries.latest_version(toolkit_id)
        if version is None:
            raise ToolkitVersionNotFound(f"Toolkit {toolkit_id} has no published version yet.")
        return toolkit, version

    async def version(self, toolkit_id: str, version: str) -> tuple[Toolkit, ToolkitVersion]:
        toolkit = await self._toolkit(toolkit_id)
        found = await self.queries.version(toolkit_id, version)
        if found is None or found.status != PUBLISHED:
            raise ToolkitVersionNotFound(f"Toolkit {toolkit_id} has no published version {version}.")
        return toolkit, found

    async def _toolkit(self, toolkit_id: str) -> Toolkit:
        toolkit = await self.queries.get(toolkit_id)
        if toolkit is None:
            raise ToolkitNotFound(f"No toolkit {toolkit_id}.")
        return toolkit

    async def load_shipped(self, shipped: Iterable[ShippedToolkit]) -> int:
        """Publish every shipped version not yet in the database; returns how many were added.

        Idempotent and safe when replicas start together: a version another
        replica has just written is skipped, never duplicated or changed.
        """
        added = 0
        for item in shipped:
            await self.queries.add_toolkit_if_missing(Toolkit(id=item.id, name=item.name, owner=item.owner))
            existing = await self.queries.version(item.id, item.version)
            if existing is not None:
                if existing.definition != item.definition:
                    # Published versions never change; a changed file needs a new version.
                    log.warning("shipped toolkit differs from its published version; keeping the published one",
                                extra={"toolkit_id": item.id, "version": item.version})
                continue
            now = utcnow()
            version = ToolkitVersion(toolkit_id=item.id, version=item.version, status=PUBLISHED,
                                     definition=item.definition, published_at=now, created_at=now)
            if await self.queries.add_version_if_missing(version):
                added += 1
                log.info("toolkit version published", extra={"toolkit_id": item.id, "version": item.version})
        return added
