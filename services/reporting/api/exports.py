from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse

from services.reporting.api.deps import (
    CanExport,
    ConfigurationDep,
    CsvOnly,
    ReportsDep,
    SettingsDep,
    XmlOnly,
)
from services.reporting.domain.errors import (
    AnnexListNotAvailable,
    AnnexListNotFound,
    ConfigurationIncomplete,
    InvalidPeriod,
    PeriodTooLong,
    UnsupportedCollectionYear,
)
from services.reporting.domain.exports import Exports, annex_csv, annex_list, default_annex_period
from services.reporting.domain.reference import load_census_years
from shared.audit import AuditDep
from shared.errors import NotAcceptable, problems

router = APIRouter(prefix="/exports", tags=["exports"])

XML_DOC: dict[int | str, dict[str, Any]] = {200: {"content": {"application/xml": {"schema": {"type": "string"}}},
                                                   "description": "The census return (streamed)."}}
CSV_DOC: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                                                   "description": "The list as CSV (streamed)."}}


def _exports(request: Request, configuration: ConfigurationDep, settings: SettingsDep) -> Exports:
    if not hasattr(request.app.state, "census_years"):
        request.app.state.census_years = load_census_years(settings.census_years_file)
    return Exports(configuration, request.app.state.census_years, settings.census_software_code, settings.census_release)


@router.get("/cin-census", response_class=StreamingResponse,
            responses={**XML_DOC, **problems(InvalidPeriod, UnsupportedCollectionYear, ConfigurationIncomplete, NotAcceptable)})
async def export_cin_census(
    who: CanExport, media: XmlOnly, request: Request, configuration: ConfigurationDep, settings: SettingsDep,
    audit: AuditDep,
    year: Annotated[str, Query(min_length=7, max_length=7, description="The collection year, e.g. `2025-26` (reference date 31 March 2026).",
                               examples=["2025-26"])],
) -> StreamingResponse:
    """The DfE children in need census return for a collection year, as XML (identifiable:
    needs `reporting:export`). Every child with an episode open at some point in the year, as
    at the reference date, cut to the year's activity by that year's validation rules (set as
    configuration; years without rules are refused). Built from the read model's events, so it
    passes the DfE's published validation rules whenever the referral service accepted the
    data. Streamed a page of children at a time. The export is audited."""
    exports = _exports(request, configuration, settings)
    plan = await exports.plan_census(year)
    audit.record(who, "export", "cin_census", [])
    db = request.app.state.db
    stream = exports.census(lambda: db.sessions(), plan, settings.export_page_size)
    return StreamingResponse(stream, media_type="application/xml", headers={
        "Content-Disposition": f'attachment; filename="cin-census-{plan.la_code}-{plan.year.year}.xml"'})


@router.get("/annex-a/{list_name}", response_class=StreamingResponse,
            responses={**CSV_DOC, **problems(AnnexListNotFound, AnnexListNotAvailable, InvalidPeriod, PeriodTooLong, NotAcceptable)})
async def export_annex_a(
    who: CanExport, media: CsvOnly, request: Request, reports: ReportsDep, audit: AuditDep, settings: SettingsDep,
    list_name: Annotated[str, Path(max_length=40, description="contacts, early-help, referrals, assessments, section-47, children-in-need or child-protection.")],
    period: Annotated[str | None, Query(max_length=30, description="The window the list covers (default: the 12 months to today).")] = None,
) -> StreamingResponse:
    """An Ofsted Annex A list for an inspection, as CSV (identifiable: needs `reporting:export`):
    list 1 contacts, 2 early help, 3 referrals, 4 assessments, 5 s47 enquiries and ICPCs, 6 children
    in need, 7 child protection. Each row carries the child's LA id, gender, ethnicity, birth date,
    age at the end of the window and disability. Lists whose source records no service announces
    yet (contacts, early help) answer 409 with the reason. Streamed; the export is audited."""
    spec = annex_list(list_name)
    window = reports.period(period) if period else default_annex_period(datetime.now(UTC).date())
    audit.record(who, "export", f"annex_a_{spec.number}", [])
    db = request.app.state.db
    return StreamingResponse(annex_csv(lambda: db.sessions(), spec, window, settings.export_page_size), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="annex-a-{spec.number}-{spec.slug}.csv"'})
