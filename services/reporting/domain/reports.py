"""The reporting service's outputs from the read model: the quarterly dataset and the
dashboards' figures. Rules live here and in ``dataset``; SQL lives in ``queries``."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.reporting.domain import dataset as ds
from services.reporting.domain.configuration import Configuration, Partnership
from services.reporting.domain.errors import InvalidPeriod, UnknownMetric
from services.reporting.domain.memo import Memo
from services.reporting.domain.periods import Period, parse_period, quarters_between
from services.reporting.domain.read_model import ReadModel
from services.reporting.domain.reference import Clock, dataset_definitions
from services.reporting.queries.dataset import DatasetQueries
from services.reporting.settings import ReportingSettings
from shared.tokens import Principal

CSV_COLUMNS = ("id", "title", "unit", "period_basis", "at", "from", "to", "breakdown", "key", "count",
               "denominator", "percent", "value", "available", "reason", "definition")


@dataclass(frozen=True)
class SeriesPoint:
    period: Period
    metric: dict[str, Any]


class Reports:
    def __init__(self, queries: DatasetQueries, read_model: ReadModel, configuration: Configuration,
                 settings: ReportingSettings, clocks: dict[str, Clock], toolkit_events: bool, memo: Memo | None = None) -> None:
        self.memo = memo
        self.queries = queries
        self.read_model = read_model
        self.configuration = configuration
        self.settings = settings
        self.clocks = clocks
        self.toolkit_events = toolkit_events

    def period(self, text: str) -> Period:
        return parse_period(text, self.settings.max_period_days)

    def _settings(self, partnership: Partnership) -> ds.Settings:
        return ds.Settings(
            population=partnership.population_0_17, population_year=partnership.population_year,
            bands=tuple(self.settings.duration_bands_months), step_down_days=partnership.step_down_window_days,
            minimum_months=partnership.neglect_cp_plan_minimum_months,
            assessment_from_start=self.settings.assessment_clock_start == "assessment_start",
            toolkit_events=self.toolkit_events, clocks=self.clocks,
            scale_directions=self.settings.toolkit_scale_directions,
        )

    async def _cached(self, key: tuple[Any, ...], compute: Callable[[], Awaitable[Any]]) -> Any:
        if self.memo is None:
            return await compute()
        return await self.memo.get((*key, await self.read_model.generation()), compute)

    async def quarterly(self, who: Principal, period: Period) -> dict[str, Any]:
        """Every metric for the period, suppressed unless the caller's scopes allow otherwise."""
        partnership = await self.configuration.current()
        suppress = partnership.suppress_for(who)
        body: dict[str, Any] = await self._cached(("quarterly", period, suppress),
                                                  lambda: self._quarterly(partnership, period, suppress))
        return body

    async def _quarterly(self, partnership: Partnership, period: Period, suppress: bool) -> dict[str, Any]:
        s = self._settings(partnership)
        metrics = [ds.present(result, period, suppress=suppress)
                   for result in await ds.compute(self.queries, ds.metric_ids(), period, s)]
        summary = await self.read_model.summary()
        return {
            "definitions_version": str(dataset_definitions().get("version", "2026.1")),
            "period": {"name": period.name, "kind": period.kind, "start": period.start, "end": period.end},
            "population": {"children_0_17": partnership.population_0_17, "year": partnership.population_year},
            "events_received": summary.counts["events_received"], "last_event_at": summary.last_event_at,
            "metrics": metrics,
        }

    async def series(self, who: Principal, metric_id: str, first: Period, last: Period) -> list[SeriesPoint]:
        """One metric for each financial quarter from ``first`` to ``last``."""
        if metric_id not in ds.SPECS:
            raise UnknownMetric(f"Metrics are {', '.join(ds.metric_ids())}.")
        quarters = quarters_between(first, last)
        if not quarters:
            raise InvalidPeriod("The series ends before it starts.", field="query.to")
        if len(quarters) > self.settings.max_series_quarters:
            raise InvalidPeriod(f"At most {self.settings.max_series_quarters} quarters in one series.", field="query.to")
        partnership = await self.configuration.current()
        suppress = partnership.suppress_for(who)
        s = self._settings(partnership)

        async def point(q: Period) -> SeriesPoint:
            [result] = await ds.compute(self.queries, [metric_id], q, s)
            return SeriesPoint(q, ds.present(result, q, suppress=suppress))

        return [await self._cached(("series", metric_id, q, suppress), lambda q=q: point(q)) for q in quarters]  # type: ignore[misc]


def dataset_csv(body: dict[str, Any]) -> str:
    """The dataset as CSV: one row per figure, each with its definition and period basis."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for metric in body["metrics"]:
        for row in ds.figures_as_rows(metric):
            writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return value
