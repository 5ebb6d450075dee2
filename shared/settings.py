"""Settings base shared by every service.

Each service subclasses :class:`ServiceSettings` with its own ``env_prefix``
(``REFERRAL_`` and so on). Settings are passed into ``create_app``; nothing
reads them from a global.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "change-me", "dev-only-webhook-secret", "secret"}
REPO_ROOT = Path(__file__).resolve().parent.parent
# Where `make run` keeps its SQLite files, keys, dev secrets and demo credentials (git ignores it).
# NEGLECT_VAR_DIR moves it (a second demo beside the first; the first-steps test).
VAR_DIR = Path(os.environ.get("NEGLECT_VAR_DIR") or REPO_ROOT / "var")


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "service"
    environment: Literal["dev", "test", "prod"] = "dev"
    database_url: str = ""
    #: Tokens are verified against the gateway's public keys (JWKS).
    token_issuer: str = "http://127.0.0.1:8000"  # noqa: S105 - a URL, not a secret
    token_audience: str = "neglect-backbone"  # noqa: S105 - a name, not a secret
    jwks_url: str = "http://127.0.0.1:8000/.well-known/jwks.json"
    #: A JWKS document given inline (tests, air-gapped deployments); wins over jwks_url.
    jwks_json: str = ""
    #: Algorithms accepted on tokens: asymmetric only (DESIGN.md §4).
    token_algorithms: list[str] = Field(default_factory=lambda: ["ES256", "RS256"])
    #: Tokens whose ``exp - iat`` is longer are refused (the gateway issues 15-minute tokens).
    token_max_lifetime_seconds: int = Field(default=3600, ge=60)
    #: Shared HMAC secret for signed service events (Standard Webhooks).
    webhook_secret: str = "dev-only-webhook-secret"  # noqa: S105 - refused outside dev
    #: Where this service's outbox delivers events (other services' /v1/events).
    outbox_subscribers: list[str] = Field(default_factory=list)
    outbox_poll_seconds: float = 1.0
    #: Attempts before a delivery is dead-lettered. With the backoff cap below the retries of
    #: one delivery span about 24 hours (16-32 h with jitter: ``shared.events.retry_horizon``),
    #: so a subscriber may be down for most of a day without losing an event.
    outbox_max_attempts: int = Field(default=75, ge=1)
    #: The longest wait between two attempts (the backoff doubles from 1 s up to this).
    outbox_backoff_cap_seconds: float = Field(default=1800.0, ge=1)
    #: How long a relay owns the deliveries it claimed; a relay that dies leaves them to the
    #: next relay once this runs out. It stops sending from a batch before its lease ends.
    outbox_lease_seconds: float = Field(default=120.0, ge=10)
    outbox_batch_size: int = Field(default=50, ge=1, le=1000)
    relay_enabled: bool = True
    max_body_bytes: int = 1_048_576
    default_page_size: int = 50
    max_page_size: int = 200
    cors_origins: list[str] = Field(default_factory=list)
    log_level: str = "INFO"

    @field_validator("token_algorithms")
    @classmethod
    def _asymmetric_only(cls, value: list[str]) -> list[str]:
        allowed = {"ES256", "ES384", "RS256", "RS384", "RS512", "PS256"}
        bad = [alg for alg in value if alg not in allowed]
        if bad or not value:
            raise ValueError(f"token algorithms must be asymmetric, one or more of {sorted(allowed)}")
        return value

    @model_validator(mode="after")
    def _no_placeholder_secrets_in_prod(self) -> ServiceSettings:
        if self.environment == "prod" and self.webhook_secret in PLACEHOLDER_SECRETS:
            raise ValueError("webhook_secret must be set to a real secret outside dev")
        return self

    def default_sqlite_url(self) -> str:
        return f"sqlite+aiosqlite:///{VAR_DIR / (self.service_name + '.db')}"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or self.default_sqlite_url()

    def jwks_document(self) -> dict[str, Any] | None:
        return json.loads(self.jwks_json) if self.jwks_json else None
