from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class ReferralSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REFERRAL_", extra="ignore")

    service_name: str = "referral"
    #: Agency types that see every child: the local authority's children's social care / MASH.
    full_access_agency_types: list[str] = Field(default_factory=lambda: ["childrens_social_care"])
    #: The partnership whose threshold model this service applies (loaded from reference data on first use).
    partnership_id: str = "example_partnership_a"
    #: The assessment service, asked for the child's latest toolkit results when recommending a level.
    assessment_url: str = "http://127.0.0.1:8002"
    assessment_timeout_seconds: float = 2.0
    #: Alerts: a clock due within this many working days is listed as due soon.
    due_soon_working_days: int = Field(default=2, ge=0, le=20)
    #: A partnership's own timescales file (same shape as reference/timescales.yaml); empty: the bundled one.
    timescales_file: str = ""
