from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from services.reporting.api.deps import CanAdminister, CanRead, JsonOnly, clocks_of
from services.reporting.domain.dataset import SPECS
from services.reporting.domain.targets import (
    InvalidTargets,
    Target,
    Targets,
    TargetSet,
    known_figures,
)
from services.reporting.queries.targets import TargetQueries
from services.reporting.schemas_targets import TargetBody, TargetsRead, TargetsUpdate
from shared.db import SessionDep
from shared.errors import NotAcceptable, PreconditionFailed, PreconditionRequired, problems
from shared.etag import IfMatch, set_etag

router = APIRouter(prefix="/dashboard", tags=["dashboard"])


def targets(session: SessionDep) -> Targets:
    return Targets(TargetQueries(session))


TargetsDep = Annotated[Targets, Depends(targets)]


def _read(found: TargetSet, response: Response) -> TargetsRead:
    set_etag(response, found.version)
    return TargetsRead(targets=[TargetBody.model_validate(asdict(t)) for t in found.targets], version=found.version,
                       updated_at=found.updated_at, updated_by=found.updated_by)


@router.get("/targets", responses=problems(NotAcceptable))
async def get_targets(who: CanRead, media: JsonOnly, found: TargetsDep, response: Response) -> TargetsRead:
    """The partnership's targets for dashboard figures, with the thresholds that colour them
    red, amber or green. `ETag` is the version to send as `If-Match` when replacing them
    (`"0"` while none were ever set)."""
    return _read(await found.current(), response)


@router.put("/targets", responses=problems(NotAcceptable, PreconditionRequired, PreconditionFailed, InvalidTargets))
async def replace_targets(
    who: CanAdminister, version: IfMatch, media: JsonOnly, body: TargetsUpdate, found: TargetsDep,
    request: Request, response: Response,
) -> TargetsRead:
    """Replace the whole set of targets (admin), with `If-Match` carrying the ETag you read.

    Each target names a figure (`timeliness:<clock>` for the percentage on time,
    `alerts:<clock>` for items overdue, `caseload:<figure>`, `metric:<NQxx>` for the
    quarter's total), which way is better, and two thresholds: with `higher_is_better` a
    figure at or above `green` is green, at or above `amber` amber, else red; with
    `lower_is_better` the other way round. An unknown figure, a figure named twice or
    thresholds in the wrong order is a 422 naming each field, and nothing is changed."""
    known = known_figures(clocks_of(request), SPECS)
    wanted = [Target(**t.model_dump()) for t in body.targets]
    return _read(await found.replace(who, wanted, version, known), response)
