"""The partnership's configuration the outputs depend on: its DfE LA code, its 0-17
population (and the year of that estimate), small-number suppression per token scope, and
the dataset's local rules: the step-down window after a neglect plan (NQ11, NQ12) and the
minimum duration of a neglect plan (NQ10).

Defaults come from the service settings (environment); an administrator changes
them through the API, and the stored values win from then on. Every change bumps
the version (the ETag), so two administrators cannot overwrite each other unseen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.reporting.models import PartnershipConfig
from services.reporting.queries.read_model import ReadModelQueries
from services.reporting.settings import ReportingSettings
from shared.db import utcnow
from shared.etag import Precondition, check_version
from shared.tokens import Principal

KEYS = ("la_code", "population_0_17", "population_year", "suppression", "step_down_window_days",
        "neglect_cp_plan_minimum_months")


@dataclass(frozen=True)
class Partnership:
    la_code: str
    population_0_17: int | None
    population_year: int | None
    suppression: dict[str, bool]
    step_down_window_days: int
    neglect_cp_plan_minimum_months: int
    version: int
    updated_at: datetime | None
    updated_by: str | None

    def suppress_for(self, who: Principal) -> bool:
        """Suppressed unless the caller holds a scope configured as unsuppressed."""
        return not any(who.has(scope) for scope, on in self.suppression.items() if not on)


def defaults(settings: ReportingSettings) -> dict[str, Any]:
    return {
        "la_code": settings.la_code,
        "population_0_17": settings.population_0_17,
        "population_year": settings.population_year,
        "suppression": dict(settings.suppression),
        "step_down_window_days": settings.step_down_window_days,
        "neglect_cp_plan_minimum_months": settings.neglect_cp_plan_minimum_months,
    }


class Configuration:
    def __init__(self, queries: ReadModelQueries, settings: ReportingSettings) -> None:
        self.queries = queries
        self.settings = settings

    async def current(self) -> Partnership:
        row = await self.queries.config()
        values = {**defaults(self.settings), **(row.settings if row else {})}
        return Partnership(
            la_code=values["la_code"], population_0_17=values["population_0_17"],
            population_year=values["population_year"], suppression=dict(values["suppression"]),
            step_down_window_days=int(values["step_down_window_days"]),
            neglect_cp_plan_minimum_months=int(values["neglect_cp_plan_minimum_months"]),
            version=row.version if row else 0, updated_at=row.updated_at if row else None,
            updated_by=row.updated_by if row else None,
        )

    async def change(self, who: Principal, changes: dict[str, Any], version: Precondition) -> Partnership:
        """Apply the given settings on top of the current ones (If-Match on the current version)."""
        row = await self.queries.config()
        check_version(row.version if row else 0, version)
        stored = dict(row.settings) if row else {}
        for key in KEYS:
            if key in changes:
                stored[key] = changes[key]
        if row is None:
            row = PartnershipConfig(id=1, version=1, settings=stored, updated_by=who.client_id)
        else:
            row.settings, row.version = stored, row.version + 1
            row.updated_at, row.updated_by = utcnow(), who.client_id
        await self.queries.save_config(row)
        return await self.current()
