"""Threshold models: each partnership's levels, allowed outcomes and indicator rules as
versioned data. Published versions never change; one version per partnership is active."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from services.referral.api.deps import CanRead, IsAdmin
from services.referral.domain.threshold_models import (
    InvalidThresholdModelData,
    NoActiveThresholdModel,
    ThresholdModelNotFound,
    ThresholdModels,
    ThresholdModelVersionExists,
)
from services.referral.models import ThresholdModelVersion
from services.referral.queries.referrals import ThresholdModelQueries
from services.referral.schemas.referrals import (
    ThresholdModelCreate,
    ThresholdModelPage,
    ThresholdModelRead,
)
from shared.audit import AuditDep
from shared.db import SessionDep
from shared.errors import IdempotencyInFlight, IdempotencyKeyReused, MalformedBody, problems
from shared.events import OutboxDep
from shared.idempotency import Created, IdempotencyDep
from shared.pagination import InvalidCursor, PageDep, set_link_header

router = APIRouter(prefix="/threshold-models", tags=["threshold-models"])

PartnershipId = Annotated[str, Path(pattern=r"^[a-z0-9_]{1,60}$", examples=["example_partnership_a"])]
RulesetVersion = Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,30}$", examples=["2026.1"])]


async def threshold_models_domain(session: SessionDep, audit: AuditDep, outbox: OutboxDep) -> ThresholdModels:
    return ThresholdModels(ThresholdModelQueries(session), audit, outbox)


ThresholdModelsDep = Annotated[ThresholdModels, Depends(threshold_models_domain)]


def model_read(row: ThresholdModelVersion) -> ThresholdModelRead:
    return ThresholdModelRead(
        id=row.id, partnership_id=row.partnership_id, ruleset_version=row.ruleset_version, name=row.name,
        active=row.active, created_at=row.created_at, created_by=row.created_by, definition=row.definition,
    )


def _configured(request: Request) -> str:
    partnership: str = request.app.state.settings.partnership_id
    return partnership


@router.get("", responses=problems(NoActiveThresholdModel, InvalidCursor))
async def list_threshold_models(
    request: Request,
    who: CanRead,
    models: ThresholdModelsDep,
    page: PageDep,
    response: Response,
    partnership_id: Annotated[str | None, Query(max_length=60, description="Only this partnership's versions.")] = None,
    active: Annotated[bool | None, Query(description="`true`: only the versions in force.")] = None,
) -> ThresholdModelPage:
    """Every published threshold model version, oldest first, with its full definition.
    The configured partnership's reference model is loaded on first use."""
    rows, next_cursor = await models.page(page, partnership_id, active, _configured(request))
    set_link_header(response, page, next_cursor)
    return ThresholdModelPage(items=[model_read(r) for r in rows], next_cursor=next_cursor)


@router.get("/{partnership_id}/versions/{ruleset_version}", responses=problems(ThresholdModelNotFound))
async def get_threshold_model(
    request: Request, partnership_id: PartnershipId, ruleset_version: RulesetVersion,
    who: CanRead, models: ThresholdModelsDep,
) -> ThresholdModelRead:
    """One version of a partnership's model, active or not: decisions name the version they used."""
    return model_read(await models.get(partnership_id, ruleset_version, _configured(request)))


@router.post(
    "", status_code=201, response_model=ThresholdModelRead,
    responses=problems(InvalidThresholdModelData, ThresholdModelVersionExists, MalformedBody, IdempotencyInFlight,
                       IdempotencyKeyReused),
)
async def publish_threshold_model(
    body: ThresholdModelCreate, who: IsAdmin, models: ThresholdModelsDep, idem: IdempotencyDep,
) -> JSONResponse:
    """Publish a new version of a partnership's threshold model (scope `admin`). It is checked
    against the shared decision outcomes and the facts the engine knows, and every problem is
    listed in the 422. A published version never changes: publish a new `ruleset_version`
    (409 if it exists). The new version is inactive until activated. Emits `threshold_model.published`.

    Facts a rule may read (`reference/thresholds_example.yaml`, `engine.facts`): toolkit results
    (`toolkit.*`), engagement events and history (`events.count`, `history.*`), the child
    (`child.*`), the household (`household.parental_factor`) and the referral's concern:
    `concern.neglect_types`, and the referrer's neglect indicators: `concern.indicator_severity`
    (highest severity, 0 none / 1 low / 2 medium / 3 high, optionally of one `domain`),
    `concern.indicator_count` (optionally of one `domain`, at exactly `severity` or at least
    `min_severity`) and `concern.high_severity_indicator` (optionally of one `domain`).
    Unknown facts, parameters or parameter values are refused."""

    async def create() -> Created:
        row = await models.publish(who, body.model_dump(mode="json"))
        return Created(model_read(row), {"Location": f"/v1/threshold-models/{row.partnership_id}/versions/{row.ruleset_version}"})

    return await idem.run(who, body, create)


@router.post("/{partnership_id}/versions/{ruleset_version}/activation", responses=problems(ThresholdModelNotFound))
async def activate_threshold_model(
    partnership_id: PartnershipId, ruleset_version: RulesetVersion, who: IsAdmin, models: ThresholdModelsDep,
) -> ThresholdModelRead:
    """Make this version the partnership's active model (scope `admin`): new recommendations and
    decisions use it from now on. The previous version stays readable, and the decisions made
    with it keep naming it. Activating the active version again changes nothing.
    Emits `threshold_model.activated`."""
    return model_read(await models.activate(who, partnership_id, ruleset_version))
