"""Bodies for timescale clocks and the drift and delay alerts built on them."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from services.referral.domain.alerts import Alert, SummaryLine
from services.referral.domain.clocks import Clock, ClockSet


class ClockRead(BaseModel):
    id: str = Field(examples=["icpc_timeliness"])
    name: str
    limit: int | None = Field(description="Null: no value set yet, so the clock is not in force.", examples=[15])
    unit: Literal["working_days", "weeks", "months"]
    kind: str = Field(description="`deadline`, or e.g. `monitoring_flag`, `counting_window`.", examples=["deadline"])
    start_event: str | None
    end_event: str | None
    configurable: bool = Field(description="False: statutory or national; a partnership may only tighten it locally.")
    source: str | None = Field(description="Where the timescale comes from (guidance, DfE rule, local procedure).")
    enabled: bool
    alerts: bool = Field(description="Whether GET /v1/alerts raises alerts on this clock.")

    @classmethod
    def of(cls, clock: Clock, alerting: bool) -> ClockRead:
        return cls(
            id=clock.id, name=clock.name, limit=clock.limit, unit=clock.unit, kind=clock.kind,
            start_event=clock.start_event, end_event=clock.end_event, configurable=clock.configurable,
            source=clock.source, enabled=clock.enabled, alerts=alerting and clock.enabled,
        )


class TimescalesRead(BaseModel):
    version: str = Field(examples=["2026.1"])
    source: str = Field(description="The timescales file in force.", examples=["reference/timescales.yaml"])
    calendar: str = Field(default="england_and_wales", description="Working days exclude weekends and these bank holidays.")
    items: list[ClockRead]

    @classmethod
    def of(cls, clocks: ClockSet, alerting: frozenset[str]) -> TimescalesRead:
        return cls(version=clocks.version, source=clocks.source,
                   items=[ClockRead.of(c, c.id in alerting) for c in clocks.clocks])


class RecordRef(BaseModel):
    type: Literal["referral", "assessment", "s47", "cp_plan"]
    id: uuid.UUID


class AlertRule(BaseModel):
    text: str = Field(examples=["15 working days from s47.started."])
    limit: int
    unit: Literal["working_days", "weeks", "months"]
    source: str | None
    timescales_version: str


class AlertRead(BaseModel):
    clock: str = Field(examples=["icpc_timeliness"])
    clock_name: str
    kind: str = Field(description="`deadline`, or `monitoring_flag` for plans open 2 years or more.")
    child_id: uuid.UUID
    record: RecordRef
    started_on: date = Field(description="When the clock started (in England's calendar).")
    due_on: date = Field(description="The last day on which the timescale is met.")
    status: Literal["overdue", "due_soon"]
    days_overdue: int = Field(description="0 unless overdue; counted in `days_unit`.")
    days_unit: Literal["working_days", "days"]
    working_days_left: int = Field(description="For a due-soon alert: working days until the due date (0 = due today).")
    rule: AlertRule

    @classmethod
    def of(cls, alert: Alert, version: str) -> AlertRead:
        clock = alert.clock
        assert clock.limit is not None  # noqa: S101 - alerts come only from clocks in force
        return cls(
            clock=clock.id, clock_name=clock.name, kind=clock.kind, child_id=alert.child_id,
            record=RecordRef(type=alert.record_type, id=alert.record_id), started_on=alert.started_on,
            due_on=alert.due_on, status=alert.status, days_overdue=alert.days_overdue,
            days_unit="working_days" if clock.in_working_days else "days",
            working_days_left=alert.working_days_left,
            rule=AlertRule(text=clock.describe(), limit=clock.limit, unit=clock.unit, source=clock.source,
                           timescales_version=version),
        )


class AlertPage(BaseModel):
    as_of: date = Field(description="The day the alerts were computed for.")
    timescales_version: str
    items: list[AlertRead]
    next_cursor: str | None


class AlertList(BaseModel):
    as_of: date
    timescales_version: str
    items: list[AlertRead]


class AlertCount(BaseModel):
    clock: str
    clock_name: str
    overdue: int
    due_soon: int


class AlertSummary(BaseModel):
    agency_id: uuid.UUID | None = Field(description="The agency whose involved children were counted; null: every child you can see.")
    as_of: date
    timescales_version: str
    overdue: int
    due_soon: int
    by_clock: list[AlertCount]

    @classmethod
    def of(cls, agency_id: uuid.UUID | None, as_of: date, version: str, lines: list[SummaryLine]) -> AlertSummary:
        return cls(
            agency_id=agency_id, as_of=as_of, timescales_version=version,
            overdue=sum(line.overdue for line in lines), due_soon=sum(line.due_soon for line in lines),
            by_clock=[AlertCount(clock=line.clock.id, clock_name=line.clock.name, overdue=line.overdue,
                                 due_soon=line.due_soon) for line in lines],
        )
