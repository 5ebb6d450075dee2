from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from services.reporting.api.deps import (
    CSV,
    CalendarDep,
    CanAdminister,
    CanRead,
    ConfigurationDep,
    JsonOnly,
    JsonOrCsv,
    ReadyReadModelDep,
    ReportsDep,
    SettingsDep,
)
from services.reporting.domain.configuration import Partnership
from services.reporting.domain.errors import InvalidPeriod, PeriodTooLong
from services.reporting.domain.reports import dataset_csv
from services.reporting.schemas import ConfigurationRead, ConfigurationUpdate, Dataset, RebuildRead
from shared.errors import NotAcceptable, PreconditionFailed, PreconditionRequired, problems
from shared.etag import IfMatch, set_etag

router = APIRouter(prefix="/datasets", tags=["datasets"])

PERIOD = Query(
    min_length=4, max_length=30,
    description="A financial-year quarter (`2025-26-Q4` = January-March 2026), a financial year (`2025-26`) "
                "or an inclusive date range (`2025-04-01..2025-06-30`, at most the configured number of days).",
    examples=["2025-26-Q4"],
)
CSV_DOC: dict[int | str, dict[str, Any]] = {200: {"content": {CSV: {"schema": {"type": "string"}}},
                                                   "description": "JSON, or CSV with `Accept: text/csv`."}}


@router.get("/quarterly", response_model=Dataset, response_model_by_alias=True,
            responses={**CSV_DOC, **problems(InvalidPeriod, PeriodTooLong, NotAcceptable)})
async def get_quarterly_dataset(
    who: CanRead, media: JsonOrCsv, reports: ReportsDep, period: Annotated[str, PERIOD],
) -> Any:
    """The partnership's quarterly neglect dataset for a period: every metric of the dataset's
    definitions (version in the response) with its breakdowns (age band, sex, ethnicity group,
    disability, referring agency type, threshold level...), each figure carrying its definition
    and period basis (*snapshot* at the period end, *in period*, or the *rolling 12 months* to it).

    Rates per 10,000 use the configured 0-17 population. Unless your token holds a scope
    configured as unsuppressed, small numbers are suppressed for publication: counts 1-5 show
    as `c`, ratios built on them too, and a second cell is hidden where one hidden cell could be
    worked out from the total. Metrics whose source events no service emits yet are listed as
    not available, with the reason, and carry no figures. Ask with `Accept: text/csv` for one
    CSV row per figure. Computed from the read model (pseudonymised, no child-level data)."""
    body = await reports.quarterly(who, reports.period(period))
    if media == CSV:
        name = period.replace("..", "_to_")
        return Response(dataset_csv(body), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="neglect-dataset-{name}.csv"'})
    return Dataset.model_validate(body)


def _configuration(partnership: Partnership, response: Response) -> ConfigurationRead:
    set_etag(response, partnership.version)
    return ConfigurationRead(
        la_code=partnership.la_code, population_0_17=partnership.population_0_17,
        population_year=partnership.population_year, suppression=partnership.suppression,
        step_down_window_days=partnership.step_down_window_days,
        neglect_cp_plan_minimum_months=partnership.neglect_cp_plan_minimum_months,
        version=partnership.version, updated_at=partnership.updated_at, updated_by=partnership.updated_by,
    )


@router.get("/configuration", responses=problems(NotAcceptable))
async def get_configuration(who: CanRead, media: JsonOnly, configuration: ConfigurationDep, response: Response) -> ConfigurationRead:
    """The partnership settings the dataset and the exports depend on: the DfE LA code, the 0-17
    population and its year, small-number suppression per token scope, the step-down window
    after a neglect plan (NQ11, NQ12) and the minimum duration of a neglect plan (NQ10).
    Until an administrator changes one, each has the service default (environment:
    `REPORTING_LA_CODE`, `REPORTING_STEP_DOWN_WINDOW_DAYS`, ...). `ETag` is the version to
    send as `If-Match` when changing them."""
    return _configuration(await configuration.current(), response)


@router.patch("/configuration", responses=problems(NotAcceptable, PreconditionRequired, PreconditionFailed))
async def change_configuration(
    who: CanAdminister, version: IfMatch, media: JsonOnly, body: ConfigurationUpdate,
    configuration: ConfigurationDep, response: Response,
) -> ConfigurationRead:
    """Change the partnership settings (admin). Send only what changes; `If-Match` carries the
    ETag you read (`"0"` while the service defaults are in force). Figures computed afterwards
    use the new settings (a new step-down window or minimum plan duration recomputes NQ10-NQ12
    for every period, past ones included); nothing already served changes. An invalid value
    is a 422 naming the field, and nothing is changed."""
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    return _configuration(await configuration.change(who, changes, version), response)


@router.post("/rebuild", responses=problems(NotAcceptable))
async def rebuild_read_model(
    who: CanAdminister, media: JsonOnly, model: ReadyReadModelDep, settings: SettingsDep, calendar: CalendarDep,
) -> RebuildRead:
    """Rebuild the read model from scratch (admin): empty every projected table and replay the
    whole event log into it, reload the day table from the bank-holiday data and recount the
    summary. Runs in one transaction, so readers see the old figures until it completes. Also
    available offline as `python -m services.reporting.rebuild`."""
    await model.ensure_calendar(calendar)
    done = await model.rebuild(settings.rebuild_batch_size)
    return RebuildRead(events=done.events, unreadable=done.unreadable)
