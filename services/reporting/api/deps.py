from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from services.reporting.domain.calendar import WorkingCalendar, load_holidays
from services.reporting.domain.configuration import Configuration
from services.reporting.domain.dashboard import Dashboard
from services.reporting.domain.errors import EventIdMismatch, InvalidEventSignature
from services.reporting.domain.memo import Memo
from services.reporting.domain.read_model import ReadModel
from services.reporting.domain.reference import Clock, load_clocks
from services.reporting.domain.reports import Reports
from services.reporting.queries.dashboard import DashboardQueries
from services.reporting.queries.dataset import DatasetQueries
from services.reporting.queries.read_model import ReadModelQueries
from services.reporting.schemas import EventEnvelope
from services.reporting.settings import ReportingSettings
from shared.auth import require_scopes
from shared.db import SessionDep
from shared.errors import NotAcceptable, Unauthorized
from shared.events import verify_webhook
from shared.tokens import Principal

CanRead = Annotated[Principal, Depends(require_scopes("reporting:read"))]
CanExport = Annotated[Principal, Depends(require_scopes("reporting:export"))]
CanAdminister = Annotated[Principal, Depends(require_scopes("admin"))]

JSON, CSV, XML = "application/json", "text/csv", "application/xml"


@dataclass(frozen=True)
class SignedEvent:
    webhook_id: str
    event: EventEnvelope


async def signed_event(request: Request) -> SignedEvent:
    """Authenticate a service event by its Standard Webhooks signature, then parse it.

    The signature covers the exact bytes sent, so the raw body is read here and
    validated only after it is verified: 401, then 400 (not JSON), then 422.
    """
    body = await request.body()
    try:
        webhook_id = verify_webhook(request.app.state.settings.webhook_secret, request.headers, body)
    except Unauthorized as exc:
        raise InvalidEventSignature(exc.detail) from exc
    try:
        event = EventEnvelope.model_validate_json(body)
    except ValidationError as exc:
        # Rendered by the shared handler like any body error: 400 for bad JSON, else 422 per field.
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from exc
    if event.id != webhook_id:
        raise EventIdMismatch(
            "The body's id must equal the webhook-id header.",
            errors=[{"field": "body.id", "message": "must equal the webhook-id header", "code": "webhook_id_mismatch"}],
        )
    return SignedEvent(webhook_id=webhook_id, event=event)


def settings_of(request: Request) -> ReportingSettings:
    settings: ReportingSettings = request.app.state.settings
    return settings


def working_calendar(request: Request) -> WorkingCalendar:
    if not hasattr(request.app.state, "working_calendar"):
        request.app.state.working_calendar = WorkingCalendar(load_holidays(settings_of(request).bank_holidays_file or None))
    calendar: WorkingCalendar = request.app.state.working_calendar
    return calendar


def read_model(session: SessionDep) -> ReadModel:
    return ReadModel(ReadModelQueries(session))


async def ready_read_model(request: Request, session: SessionDep) -> ReadModel:
    """The read model with its day table loaded: clocks and durations are computed on it."""
    model = ReadModel(ReadModelQueries(session))
    if not getattr(request.app.state, "calendar_ready", False):
        # Remember only a table found complete: one loaded now commits with this request.
        request.app.state.calendar_ready = not await model.ensure_calendar(working_calendar(request))
    return model


def configuration(request: Request, session: SessionDep) -> Configuration:
    return Configuration(ReadModelQueries(session), settings_of(request))


def clocks_of(request: Request) -> dict[str, Clock]:
    if not hasattr(request.app.state, "clocks"):
        request.app.state.clocks = load_clocks(settings_of(request).timescales_file)
    clocks: dict[str, Clock] = request.app.state.clocks
    return clocks


def memo_of(request: Request) -> Memo:
    if not hasattr(request.app.state, "memo"):
        request.app.state.memo = Memo()
    memo: Memo = request.app.state.memo
    return memo


def reports(request: Request, session: SessionDep, model: Annotated[ReadModel, Depends(ready_read_model)]) -> Reports:
    settings = settings_of(request)
    return Reports(DatasetQueries(session), model, Configuration(ReadModelQueries(session), settings), settings,
                   clocks_of(request), toolkit_events=settings.toolkit_events, memo=memo_of(request))


def dashboard(request: Request, session: SessionDep, calendar: Annotated[WorkingCalendar, Depends(working_calendar)],
              model: Annotated[ReadModel, Depends(ready_read_model)]) -> Dashboard:
    settings = settings_of(request)
    return Dashboard(DashboardQueries(session), Configuration(ReadModelQueries(session), settings), settings,
                     clocks_of(request), calendar, settings.toolkit_events, read_model=model, memo=memo_of(request))


def accepts(*offered: str) -> Callable[[Request], str]:
    """A dependency choosing the response type from the Accept header among ``offered``
    (the first is the default for */* or no header); 406 when none is acceptable."""

    def negotiate(request: Request) -> str:
        header = request.headers.get("accept", "")
        if not header.strip():
            return offered[0]
        wanted: list[tuple[float, str]] = []
        for part in header.split(","):
            media, *params = [p.strip() for p in part.split(";")]
            q = 1.0
            for param in params:
                name, _, value = param.partition("=")
                if name.strip() == "q":
                    try:
                        q = float(value)
                    except ValueError:
                        q = 0.0
            if q > 0 and media:
                wanted.append((q, media.lower()))
        for _, media in sorted(wanted, key=lambda w: -w[0]):
            for offer in offered:
                kind = offer.split("/")[0]
                if media in (offer, "*/*", f"{kind}/*"):
                    return offer
        raise NotAcceptable(f"This resource is available as {', '.join(offered)}.")

    negotiate.__name__ = "negotiate_" + "_".join(o.split("/")[1] for o in offered)
    return negotiate


SignedEventDep = Annotated[SignedEvent, Depends(signed_event)]
ReadModelDep = Annotated[ReadModel, Depends(read_model)]
ReadyReadModelDep = Annotated[ReadModel, Depends(ready_read_model)]
ConfigurationDep = Annotated[Configuration, Depends(configuration)]
ReportsDep = Annotated[Reports, Depends(reports)]
DashboardDep = Annotated[Dashboard, Depends(dashboard)]
SettingsDep = Annotated[ReportingSettings, Depends(settings_of)]
CalendarDep = Annotated[WorkingCalendar, Depends(working_calendar)]
JsonOnly = Annotated[str, Depends(accepts(JSON))]
JsonOrCsv = Annotated[str, Depends(accepts(JSON, CSV))]
CsvOnly = Annotated[str, Depends(accepts(CSV))]
XmlOnly = Annotated[str, Depends(accepts(XML))]
