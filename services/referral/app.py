"""Referral service: children, agencies and, later, the whole journey from concern to closure."""

from __future__ import annotations

from fastapi import FastAPI

from services.referral.api import agencies, children, episodes
from services.referral.settings import ReferralSettings
from shared.service import build_service_app

TAGS = [
    {"name": "children", "description": "Children and unborn children known to the partnership."},
    {"name": "agencies", "description": "Partner agencies and their types."},
    {"name": "episodes", "description": "Children in need episodes and the statutory steps in them, refused when the DfE census would reject them."},
]


def create_app(settings: ReferralSettings | None = None) -> FastAPI:
    settings = settings or ReferralSettings()
    return build_service_app(
        settings,
        title="Referral API",
        description="Children, agencies, referrals and thresholds of the partnership's neglect model.",
        routers=[children.router, agencies.router, episodes.router],
        tags=TAGS,
    )
