"""Reference data the reporting service loads (copied from the shared reference/ and the
referral service, so that no service imports another's code): code lists, agency types,
timescales, the quarterly dataset's metric definitions and the census years.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REFERENCE = Path(__file__).resolve().parent.parent / "reference"

#: libyaml's safe loader (same documents, about seven times faster) where PyYAML was built with it.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load(name: str | Path) -> Any:
    path = Path(name) if Path(name).is_absolute() or Path(name).exists() else REFERENCE / name
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_Loader)  # noqa: S506 - a safe loader (libyaml's SafeLoader)


@cache
def census_codes() -> Mapping[str, Any]:
    data: Mapping[str, Any] = _load("cin_census_codes.yaml")
    return data


@cache
def ethnicity_groups() -> dict[str, str]:
    return {row["code"]: row["group"] for row in census_codes()["Ethnicity"]}


@cache
def ethnicity_group_order() -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for row in census_codes()["Ethnicity"]:
        seen.setdefault(row["group"], None)
    return tuple(seen)


@cache
def agency_types_by_source() -> dict[str, str]:
    """ReferralSource code -> the one agency type whose default it is (codes shared by several types are
    absent); the individuals' codes (1A family, 1B acquaintance, 1C self, ...) map to their non-agency source."""
    found: dict[str, list[str]] = {}
    data = _load("agency_types.yaml")
    for row in [*data["agency_types"], *data.get("non_agency_sources", [])]:
        if row.get("referral_source"):
            found.setdefault(row["referral_source"], []).append(row["id"])
    return {code: ids[0] for code, ids in found.items() if len(ids) == 1}


def referring_agency_type(given: str | None, referral_source: str | None) -> str | None:
    """The referrer's agency type when the event names it; otherwise the type the DfE code
    belongs to when only one type uses it; otherwise the code itself as ``source:<code>``."""
    if given:
        return given
    if not referral_source:
        return None
    return agency_types_by_source().get(referral_source, f"source:{referral_source}")


@dataclass(frozen=True)
class Clock:
    id: str
    name: str
    limit: int | None
    unit: str
    kind: str
    source: str


def load_clocks(path: str = "") -> dict[str, Clock]:
    data = _load(path or "timescales.yaml")
    return {
        c["id"]: Clock(id=c["id"], name=c["name"], limit=c.get("limit"), unit=c["unit"],
                       kind=c.get("kind", "deadline"), source=c.get("source", ""))
        for c in data["clocks"]
    }


@cache
def dataset_definitions() -> Mapping[str, Any]:
    data: Mapping[str, Any] = _load("quarterly_dataset.yaml")
    return data


def preload() -> None:
    """Read the code lists and definitions at start-up, not in a reader's first request."""
    ethnicity_groups()
    ethnicity_group_order()
    agency_types_by_source()
    dataset_definitions()


@dataclass(frozen=True)
class CensusYear:
    year: str
    reference_date: str
    header_year: str
    validator_ruleset: str
    boolean_true: str
    boolean_false: str
    child_identifiers: tuple[str, ...]
    sex_from_gender: Mapping[str, str]
    pre_proceedings: bool


def load_census_years(path: str = "") -> dict[str, CensusYear]:
    data = _load(path or "census_years.yaml")
    return {
        year: CensusYear(
            year=year, reference_date=str(row["reference_date"]), header_year=str(row["header_year"]),
            validator_ruleset=row["validator_ruleset"], boolean_true=str(row["boolean_true"]),
            boolean_false=str(row["boolean_false"]), child_identifiers=tuple(row["child_identifiers"]),
            sex_from_gender={str(k): str(v) for k, v in row["sex_from_gender"].items()},
            pre_proceedings=bool(row["pre_proceedings"]),
        )
        for year, row in data["years"].items()
    }
