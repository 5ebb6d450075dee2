"""Reporting's side of the event contracts: what it consumes is checked on arrival.

The producers' JSON Schemas are committed under ``services/reporting/contracts/
<producer>/<type>.v<version>.json`` (exported from the producers' models by
``scripts/event_docs.py``; reporting imports no producer code). For each event type
in ``projection.PROJECTIONS`` the check uses the producer's schema of the fields
reporting reads, and requires the ones the projection cannot do without. Fields
reporting does not read are not checked (a producer may add fields freely), and
event types it does not project are only logged.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

from services.reporting.domain.errors import EventContractBroken
from services.reporting.domain.projection import PROJECTIONS, Read

CONTRACTS_DIR = Path(__file__).resolve().parents[1] / "contracts"


def _parses(parse: Callable[[str], object]) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        try:
            parse(value)
        except ValueError:
            return False
        return True

    return check


#: The formats are checked with the same parsers the projection reads them with.
FORMATS: dict[str, Callable[[str], bool]] = {
    "uuid": _parses(uuid.UUID), "date": _parses(date.fromisoformat), "date-time": _parses(datetime.fromisoformat),
}


def schema_path(folder: Path, producer: str, event_type: str, version: int) -> Path:
    return folder / producer / f"{event_type}.v{version}.json"


def consumer_view(schema: Mapping[str, Any], reads: Mapping[str, Read]) -> dict[str, Any]:
    """The producer's schema cut down to the fields reporting reads (unknown fields allowed)."""
    properties = schema.get("properties", {})
    view: dict[str, Any] = {
        "type": "object",
        "properties": {name: properties[name] for name in reads if name in properties},
        "required": sorted(name for name, read in reads.items() if read.required),
    }
    if "$defs" in schema:
        view["$defs"] = schema["$defs"]
    return view


class Contracts:
    """The checks for every (producer, type, version) reporting has a committed schema for."""

    def __init__(self, folder: Path = CONTRACTS_DIR,
                 projections: Mapping[str, Mapping[str, Mapping[str, Read]]] = PROJECTIONS) -> None:
        self._checks: dict[tuple[str, str, int], tuple[Any, dict[str, Any]]] = {}
        for producer, types in projections.items():
            for event_type, reads in types.items():
                for path in sorted((folder / producer).glob(f"{event_type}.v*.json")):
                    version = int(path.name.removeprefix(f"{event_type}.v").removesuffix(".json"))
                    view = consumer_view(json.loads(path.read_text()), reads)
                    validator = jsonschema_rs.Draft202012Validator(view, formats=FORMATS, validate_formats=True)
                    self._checks[(producer, event_type, version)] = (validator, view)

    def known(self, producer: str, event_type: str, version: int) -> bool:
        return (producer, event_type, version) in self._checks

    def check(self, producer: str, event_type: str, version: int, data: Mapping[str, Any]) -> None:
        """Raise :class:`EventContractBroken` naming every field that breaks the contract."""
        found = self._checks.get((producer, event_type, version))
        if found is None:
            return
        validator, view = found
        errors = [{"field": f"body.data.{name}", "message": "is required by this event's contract", "code": "missing"}
                  for name in view["required"] if name not in data]
        for error in validator.iter_errors(dict(data)):
            if not error.instance_path:
                continue  # a required field, reported above by name
            # The schema the value broke: the path to the failing keyword, less the keyword.
            broken: Any = view
            for step in list(error.schema_path)[:-1]:
                broken = broken[step]
            errors.append({"field": "body.data." + ".".join(str(p) for p in error.instance_path),
                           "message": f"must be {_describe(broken)}", "code": "event_contract_broken"})
        errors.sort(key=lambda e: (e["code"] != "missing", e["field"]))
        if errors:
            names = ", ".join(e["field"].removeprefix("body.data.") for e in errors)
            raise EventContractBroken(
                f"The {event_type} event (version {version}) from {producer} breaks its contract: {names}. "
                "Nothing was stored.", errors=errors)


def _describe(schema: object) -> str:
    # The kind expected, never the value sent (event data stays out of answers and logs).
    if not isinstance(schema, Mapping):
        return "valid"
    if "anyOf" in schema:
        return " or ".join(_describe(option) for option in schema["anyOf"])
    if "format" in schema:
        return f"a {schema['format']} string"
    if "type" in schema:
        return f"{schema['type']}" if schema["type"] == "null" else f"of type {schema['type']}"
    return "valid"


@cache
def default_contracts() -> Contracts:
    return Contracts()
