"""Direct identifiers in event data: kept apart for the statutory exports, or never kept.

The event log and every read-model table except ``rm_child_identity`` are pseudonymised:
ids and codes only. An event's data is split on arrival:

- the census identifiers a statutory export needs (:data:`CENSUS_IDENTIFIERS`: LA child
  id, UPN, dates of birth, expected birth and death) go to the export-scoped
  ``event_identity`` table, beside the log row, so the read model can still be rebuilt
  from the log alone;
- anything else that identifies a person, or is text rather than an id or a code, is
  dropped before it is logged or projected: names, NHS numbers, addresses and postcodes
  under any key, and any string value shaped like an NHS number, a UPN or a postcode, or
  holding spaces (free text). The producers never send these (docs/events.md); this is
  the guard for the day one does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Keys whose values the census export needs: kept, but only in ``event_identity``.
CENSUS_IDENTIFIERS = frozenset({"la_child_id", "upn", "birth_date", "expected_birth_date", "death_date"})

#: Keys that name a person or a place: never kept anywhere.
_IDENTIFYING_KEY = re.compile(
    r"(^|_)(nhs|chi|name|names|forename|forenames|surname|initials|alias|"
    r"address|postcode|post_code|street|town|email|phone|telephone|mobile|dob|ni_number|nino)(_|$)"
)
_NHS_NUMBER = re.compile(r"^\d{3}[ -]?\d{3}[ -]?\d{4}$")
_UPN = re.compile(r"^[A-Za-z]\d{11}[A-Za-z0-9]$")
_POSTCODE = re.compile(r"^[A-Za-z]{1,2}\d[A-Za-z\d]?\s*\d[A-Za-z]{2}$")
_SPACE = re.compile(r"\s")


@dataclass(frozen=True)
class Separated:
    kept: dict[str, Any]  # for the event log: ids, codes, numbers, flags, event dates
    identity: dict[str, Any]  # census identifiers, for the export-scoped table only
    dropped: tuple[str, ...]  # key names only: the values are never logged

    @property
    def projected(self) -> dict[str, Any]:
        """What the projection reads: everything except what was dropped."""
        return {**self.kept, **self.identity}


def identifying_value(value: Any) -> bool:
    """A string that is an identifier or text rather than an id or a code."""
    if not isinstance(value, str):
        return False
    return bool(_SPACE.search(value) or _NHS_NUMBER.match(value) or _UPN.match(value) or _POSTCODE.match(value))


def identifying_key(key: str) -> bool:
    return key not in CENSUS_IDENTIFIERS and bool(_IDENTIFYING_KEY.search(key.lower()))


def _identifying(key: str, value: Any) -> bool:
    if identifying_key(key):
        return True
    if isinstance(value, list):
        return any(identifying_value(v) for v in value)
    if isinstance(value, Mapping):
        return any(identifying_value(k) or identifying_value(v) for k, v in value.items())
    return identifying_value(value)


def separate(data: Mapping[str, Any]) -> Separated:
    kept: dict[str, Any] = {}
    identity: dict[str, Any] = {}
    dropped: list[str] = []
    for key, value in data.items():
        if key in CENSUS_IDENTIFIERS:
            identity[key] = value
        elif _identifying(key, value):
            dropped.append(key)
        else:
            kept[key] = value
    return Separated(kept=kept, identity=identity, dropped=tuple(dropped))
