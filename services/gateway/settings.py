from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from services.gateway.login_settings import LoginSettings
from shared.settings import VAR_DIR, ServiceSettings


class GatewaySettings(LoginSettings, ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    service_name: str = "gateway"
    referral_url: str = "http://127.0.0.1:8001"
    assessment_url: str = "http://127.0.0.1:8002"
    reporting_url: str = "http://127.0.0.1:8003"
    #: Signing keys (PEM); created on first start. Never commit them.
    key_dir: Path = VAR_DIR / "keys"
    token_ttl_seconds: int = Field(default=900, ge=60, le=86_400)
    upstream_connect_timeout: float = Field(default=2.0, gt=0)
    #: Longest wait for the next bytes of an upstream response (not for the whole response).
    upstream_read_timeout: float = Field(default=15.0, gt=0)
    #: Connections kept per upstream service.
    upstream_pool_size: int = Field(default=100, ge=1)
    #: Must stay below the services' own keep-alive (uvicorn: 5 s), or a reused
    #: connection may be one the service is just closing.
    upstream_keepalive_seconds: float = Field(default=4.0, gt=0)
    #: Requests per minute per client on /v1; 0 switches the limit off.
    rate_limit_per_minute: int = Field(default=600, ge=0)
    #: Token requests per minute per client id, failed ones included; 0 switches it off.
    token_rate_limit_per_client: int = Field(default=30, ge=0)
    #: Token requests per minute per source address (the peer the server sees: behind a proxy, run
    #: uvicorn with --proxy-headers and --forwarded-allow-ips set to it); 0 switches it off.
    token_rate_limit_per_address: int = Field(default=120, ge=0)
    #: How long the combined OpenAPI document reuses a service's document.
    openapi_cache_seconds: float = Field(default=60.0, ge=0)

    @model_validator(mode="after")
    def _ttl_within_accepted_lifetime(self) -> GatewaySettings:
        # The services refuse tokens that live longer than their token_max_lifetime_seconds.
        if self.token_ttl_seconds > self.token_max_lifetime_seconds:
            raise ValueError("token_ttl_seconds must not exceed token_max_lifetime_seconds")
        return self

    def upstream_urls(self) -> dict[str, str]:
        return {
            "referral": self.referral_url,
            "assessment": self.assessment_url,
            "reporting": self.reporting_url,
        }
