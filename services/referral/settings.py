from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class ReferralSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REFERRAL_", extra="ignore")

    service_name: str = "referral"
    #: Agency types that see every child: the local authority's children's social care / MASH.
    full_access_agency_types: list[str] = Field(default_factory=lambda: ["childrens_social_care"])
