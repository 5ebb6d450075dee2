from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import Depends, FastAPI, Request

from services.assessment.domain.assessments import Assessments
from services.assessment.domain.children import ChildDirectory
from services.assessment.domain.toolkits import Toolkits
from services.assessment.domain.trajectory import TrajectoryRule
from services.assessment.queries.assessments import AssessmentQueries
from services.assessment.queries.toolkits import ToolkitQueries
from services.assessment.settings import AssessmentSettings
from shared.audit import AuditDep
from shared.auth import require_scopes
from shared.db import SessionDep
from shared.events import OutboxDep
from shared.tokens import Principal

CanRead = Annotated[Principal, Depends(require_scopes("assessment:read"))]
CanWrite = Annotated[Principal, Depends(require_scopes("assessment:write"))]
IsAdmin = Annotated[Principal, Depends(require_scopes("admin"))]


def referral_client(app: FastAPI) -> httpx.AsyncClient:
    """The shared client for the referral service: set by start-up (or by tests, e.g. an
    ``httpx.ASGITransport`` on the referral app); made here if neither did."""
    client: httpx.AsyncClient | None = getattr(app.state, "referral_client", None)
    if client is None:
        settings: AssessmentSettings = app.state.settings
        client = httpx.AsyncClient(timeout=settings.referral_timeout_seconds)
        app.state.referral_client = client
        app.state.referral_client_owned = True
    return client


async def child_directory(request: Request, session: SessionDep) -> ChildDirectory:
    settings: AssessmentSettings = request.app.state.settings
    return ChildDirectory(
        referral_client(request.app), settings.referral_url, settings.referral_timeout_seconds,
        request.headers.get("authorization"), request.headers.get("x-purpose"), session,
    )


async def toolkits_domain(session: SessionDep) -> Toolkits:
    return Toolkits(ToolkitQueries(session))


async def assessments_domain(
    request: Request, session: SessionDep, audit: AuditDep, outbox: OutboxDep,
    children: Annotated[ChildDirectory, Depends(child_directory)],
) -> Assessments:
    settings: AssessmentSettings = request.app.state.settings
    rule = TrajectoryRule(worse_by=settings.trajectory_worse_by, better_by=settings.trajectory_better_by,
                          sustained_months=settings.sustained_improvement_months)
    return Assessments(AssessmentQueries(session), ToolkitQueries(session), children, audit, outbox, rule)


ToolkitsDep = Annotated[Toolkits, Depends(toolkits_domain)]
AssessmentsDep = Annotated[Assessments, Depends(assessments_domain)]
