from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from services.gateway.login_settings import LoginSettings
from shared.settings import VAR_DIR, ServiceSettings


class GatewaySettings(LoginSettings, ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    service_name: str = "gateway"
    #: Where partners reach the gateway (GATEWAY_PUBLIC_URL): the combined document's ``servers``
    #: entry and its OAuth2 token URL, so a generated client and the docs call the right host.
    public_url: str = "http://127.0.0.1:8000"
    referral_url: str = "http://127.0.0.1:8001"
    assessment_url: str = "http://127.0.0.1:8002"
    reporting_url: str = "http://127.0.0.1:8003"
    #: Signing keys (PEM) for development; created on first start. Never commit them.
    key_dir: Path = VAR_DIR / "keys"
    #: Production: a mounted ES256 private key (PEM), or a directory of them for rotation (the
    #: name sorting last signs, all are published). Read only; required when environment=prod.
    signing_key_file: Path | None = None
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
    #: Where the rate limit counts live: empty for this process's memory (each replica counts
    #: alone), or a redis:// / rediss:// URL shared by every replica (docs/deployment.md).
    rate_limit_storage: str = ""
    #: Prefix of every key the gateway writes in that Redis (several deployments may share one).
    rate_limit_key_prefix: str = "neglect-gateway"
    #: Longest wait for Redis per request; past it /v1 fails open and the token endpoint counts locally.
    rate_limit_storage_timeout: float = Field(default=0.25, gt=0, le=5)
    #: How long the combined OpenAPI document reuses a service's document.
    openapi_cache_seconds: float = Field(default=60.0, ge=0)

    @field_validator("signing_key_file", mode="before")
    @classmethod
    def _empty_means_unset(cls, value: object) -> object:
        # GATEWAY_SIGNING_KEY_FILE= (set but empty, as a compose default would give) is unset, not ".".
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _ttl_within_accepted_lifetime(self) -> GatewaySettings:
        # The services refuse tokens that live longer than their token_max_lifetime_seconds.
        if self.token_ttl_seconds > self.token_max_lifetime_seconds:
            raise ValueError("token_ttl_seconds must not exceed token_max_lifetime_seconds")
        if self.rate_limit_storage and not self.rate_limit_storage.startswith(("redis://", "rediss://", "memory://")):
            raise ValueError("rate_limit_storage must be empty or a redis:// or rediss:// URL")
        return self

    def upstream_urls(self) -> dict[str, str]:
        return {
            "referral": self.referral_url,
            "assessment": self.assessment_url,
            "reporting": self.reporting_url,
        }
