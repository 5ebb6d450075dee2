"""Code lists loaded from the service's versioned reference data."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REFERENCE = Path(__file__).resolve().parent.parent / "reference"


@dataclass(frozen=True)
class AgencyType:
    id: str
    name: str
    sector: str
    referral_source: str | None


def _load(name: str) -> dict[str, Any]:
    with (REFERENCE / name).open(encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return data


@cache
def agency_types() -> dict[str, AgencyType]:
    rows = _load("agency_types.yaml")["agency_types"]
    return {
        r["id"]: AgencyType(id=r["id"], name=r["name"], sector=r["sector"], referral_source=r.get("referral_source"))
        for r in rows
    }


@cache
def census_codes(list_name: str) -> frozenset[str]:
    return frozenset(str(r["code"]) for r in _load("cin_census_codes.yaml")[list_name])
