"""Referral service: children, agencies and, later, the whole journey from concern to closure."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from services.referral.api import (
    agencies,
    alerts,
    audit,
    children,
    chronology,
    contacts,
    early_help,
    episodes,
    involvements,
    people,
    practice,
    referrals,
    sharing,
    threshold_models,
    webhooks,
)
from services.referral.api.webhook_events import document_webhooks
from services.referral.domain.threshold_models import (
    NoActiveThresholdModel,
    ensure_active,
    publish_reference_update,
)
from services.referral.queries.referrals import ThresholdModelQueries
from services.referral.settings import ReferralSettings
from services.referral.webhook_worker import queue_for_webhooks, run_webhook_workers
from shared.service import build_service_app

log = logging.getLogger("referral")

TAGS = [
    {"name": "children", "description": "Children and unborn children known to the partnership."},
    {"name": "agencies", "description": "Partner agencies and their types."},
    {"name": "early help", "description": "Early help episodes with a lead agency; step-up to and step-down from children's social care."},
    {"name": "episodes", "description": "Children in need episodes and the statutory steps in them, refused when the DfE census would reject them."},
    {"name": "alerts", "description": "Timescale clocks (versioned data) and the drift and delay alerts raised on them."},
    {"name": "contacts", "description": "Every concern received at the front door, with its outcome; some become referrals."},
    {"name": "referrals", "description": "Referrals from partners, the threshold recommendation (advice with its reasons) and the practitioner's decision."},
    {"name": "threshold-models", "description": "Each partnership's threshold levels, allowed outcomes and indicator rules, as versioned data."},
    {"name": "chronology", "description": "The child's multi-agency chronology: append-only, every partner's significant events side by side."},
    {"name": "people", "description": "Think family: adults around the child, households, the unborn child's mother."},
    {"name": "involvements", "description": "Professionals and the agencies working with a child (an active involvement lets the agency see the child)."},
    {"name": "practice", "description": "Visits (seen, seen alone, home conditions) and the child's own voice."},
    {"name": "engagement", "description": "Service offers, engagement events and the non-engaging pathway."},
    {"name": "sharing", "description": "Consent (recorded, never a gate) and the append-only information-sharing log."},
    {"name": "webhooks", "description": "Partner webhooks: your agency's endpoints, told of events about the children it may "
                                         "read, signed the Standard Webhooks way (scope `webhooks:manage`; docs/webhooks.md)."},
    {"name": "audit", "description": "Who accessed a child's records, and what an agency accessed (scope `audit:read`)."},
]


async def load_reference_data(app: FastAPI) -> None:
    """Start-up: the partnership's threshold model is in place before the first request, so
    requests only read it (and never hold a write lock while they call another service)."""
    settings: ReferralSettings = app.state.settings
    async with app.state.db.sessions() as session:
        try:
            queries = ThresholdModelQueries(session)
            await ensure_active(queries, settings.partnership_id)
            if await publish_reference_update(queries, settings.partnership_id) is not None:
                log.info("a newer reference threshold model is published, inactive",
                         extra={"partnership_id": settings.partnership_id})
            await session.commit()
        except NoActiveThresholdModel:
            log.warning("no threshold model for the partnership yet", extra={"partnership_id": settings.partnership_id})


def create_app(settings: ReferralSettings | None = None) -> FastAPI:
    settings = settings or ReferralSettings()
    app = build_service_app(
        settings,
        title="Referral API",
        description="Children, agencies, referrals and thresholds of the partnership's neglect model.",
        routers=[children.router, agencies.router, episodes.router, early_help.router, alerts.router, chronology.router,
                 contacts.router, referrals.router, threshold_models.router,
                 people.router, involvements.router, practice.router, sharing.router, audit.router, webhooks.router],
        tags=TAGS,
        on_startup=load_reference_data,
        workers=[run_webhook_workers],
    )
    # Every event written to the outbox is queued for partner webhooks in the same transaction.
    app.state.on_emit = queue_for_webhooks
    document_webhooks(app)
    return app
