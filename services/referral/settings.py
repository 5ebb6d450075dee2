from __future__ import annotations

from pydantic import Field, model_validator
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
    #: Partner webhooks (docs/webhooks.md). Development only: accept http and private or loopback
    #: addresses (a receiver on localhost); `make run` sets it. Never in production.
    webhook_allow_private_urls: bool = False
    #: Each delivery attempt's whole time limit (connect, send, answer); a partner slower than this fails the attempt.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    #: Attempts before a delivery becomes a dead letter (the backoff doubles from 1 s up to the cap).
    webhook_max_attempts: int = Field(default=12, ge=1, le=100)
    webhook_backoff_cap_seconds: float = Field(default=3600.0, ge=1)
    #: After a secret rotation, how long the old secret still signs deliveries beside the new one.
    webhook_rotation_grace_seconds: int = Field(default=86400, ge=0, le=7 * 86400)
    #: Deliveries sent at once, across every endpoint (each endpoint's slowness costs only its own).
    webhook_concurrency: int = Field(default=20, ge=1, le=200)
    webhook_poll_seconds: float = Field(default=1.0, gt=0)
    #: Endpoints one agency may register.
    webhook_max_endpoints_per_agency: int = Field(default=10, ge=1, le=100)

    @model_validator(mode="after")
    def _private_webhook_urls_in_development_only(self) -> ReferralSettings:
        if self.environment == "prod" and self.webhook_allow_private_urls:
            raise ValueError("webhook_allow_private_urls is for development; it may not be set in prod")
        return self
