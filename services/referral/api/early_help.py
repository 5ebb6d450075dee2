"""Early help episodes: support below the statutory threshold, with a lead agency.
Not part of the CIN census; step-up and step-down are explicit transitions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.referral.api.deps import CanRead, CanWrite, JourneysDep
from services.referral.api.referrals import ReferralsDep, referral_read
from services.referral.domain.errors import ChildNotFound, EpisodeNotFound
from services.referral.domain.journey import RuleBroken
from services.referral.models import Episode
from services.referral.schemas.early_help import (
    EarlyHelpClose,
    EarlyHelpList,
    EarlyHelpOpen,
    EarlyHelpRead,
)
from services.referral.schemas.referrals import ReferralCreate, ReferralRead
from shared.errors import PreconditionFailed, PreconditionRequired, Unprocessable, problems
from shared.etag import IfMatch, set_etag

router = APIRouter(prefix="/early-help-episodes", tags=["early help"])
STEP_ERRORS = problems(EpisodeNotFound, RuleBroken, PreconditionFailed, PreconditionRequired)


def early_help_read(episode: Episode) -> EarlyHelpRead:
    return EarlyHelpRead(id=episode.id, child_id=episode.child_id, start_date=episode.referral_date,
                         lead_agency_id=episode.lead_agency_id, closure_date=episode.closure_date,
                         reason_for_closure=episode.reason_for_closure, created_at=episode.created_at,
                         version=episode.version)


@router.post("", status_code=201, responses=problems(ChildNotFound, EpisodeNotFound, RuleBroken))
async def open_early_help(body: EarlyHelpOpen, who: CanWrite, journeys: JourneysDep, response: Response) -> EarlyHelpRead:
    """Start early help for a child, led by your agency or the one named. One open early help
    episode per child. Emits `early_help.started`."""
    episode = await journeys.open_early_help(who, body.child_id, body.start_date, body.lead_agency_id)
    set_etag(response, episode.version)
    response.headers["Location"] = f"/v1/early-help-episodes/{episode.id}"
    return early_help_read(episode)


@router.get("", responses=problems(ChildNotFound))
async def list_early_help(who: CanRead, journeys: JourneysDep,
                          child_id: Annotated[uuid.UUID, Query(description="The child.")]) -> EarlyHelpList:
    """A child's early help episodes, oldest first."""
    return EarlyHelpList(items=[early_help_read(e) for e in await journeys.early_help_of_child(who, child_id)])


@router.get("/{episode_id}", responses=problems(EpisodeNotFound))
async def get_early_help(episode_id: uuid.UUID, who: CanRead, journeys: JourneysDep, response: Response) -> EarlyHelpRead:
    """One early help episode."""
    episode = await journeys.early_help(who, episode_id)
    set_etag(response, episode.version)
    return early_help_read(episode)


@router.post("/{episode_id}/closure", responses=STEP_ERRORS)
async def close_early_help(episode_id: uuid.UUID, body: EarlyHelpClose, who: CanWrite, version: IfMatch,
                           journeys: JourneysDep, response: Response) -> EarlyHelpRead:
    """End early help with a reason. Emits `early_help.closed`."""
    episode = await journeys.close_early_help(who, episode_id, version, body.closure_date, body.reason)
    set_etag(response, episode.version)
    return early_help_read(episode)


@router.post("/{episode_id}/step-up", status_code=201, responses=problems(EpisodeNotFound, RuleBroken, Unprocessable,
                                                                          PreconditionFailed, PreconditionRequired))
async def step_up(episode_id: uuid.UUID, body: ReferralCreate, who: CanWrite, version: IfMatch,
                  journeys: JourneysDep, referrals: ReferralsDep) -> ReferralRead:
    """Step up to children's social care: a referral from your agency about the same child (its
    threshold decision follows as for any referral), and early help closes as `stepped_up` on the
    day the referral is received."""
    episode = await journeys.early_help(who, episode_id)
    if body.child_id != episode.child_id:
        raise Unprocessable("A step-up refers the child of this early help episode.",
                            errors=[{"field": "body.child_id", "message": "not this episode's child", "code": "value_error"}])
    shown = await referrals.receive(who, body)
    await journeys.close_early_help(who, episode_id, version, shown.referral.received_at.date(), "stepped_up")
    return referral_read(shown)
