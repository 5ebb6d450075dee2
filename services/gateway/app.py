"""Gateway: the one public entry. Issues tokens to partner systems, publishes
their keys, serves the combined docs and forwards ``/v1`` to the services.

uvicorn runs it with ``uvicorn --factory services.gateway.app:create_app``.
The stack, outermost first: request ids and access log, CORS (when configured),
the forwarder (``/v1``: body limit, token, rate limit, streaming), then for the
gateway's own paths (``/oauth/token``, keys, docs, and under ``/v1`` client administration
and its audit trail) the shared body guard and the FastAPI app.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

from fastapi import FastAPI
from starlette.datastructures import State
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from services.gateway.api import clients, docs, keys, oauth
from services.gateway.api import dashboard as dashboard_files
from services.gateway.api import login as dashboard_login
from services.gateway.domain.ratelimit import LimitStore, RequestLimit, TokenEndpointLimits
from services.gateway.domain.routing import service_for
from services.gateway.forwarder import Forwarder, UpstreamPool
from services.gateway.openapi_merge import OpenAPICatalog
from services.gateway.settings import GatewaySettings
from services.gateway.signing import load_signer
from shared.audit_api import audit_router
from shared.db import Database
from shared.errors import install_problem_handlers
from shared.logs import configure_logging
from shared.middleware import BodyGuardMiddleware, RequestContextMiddleware
from shared.openapi import operation_id
from shared.service import health, install_openapi, startup_frozen
from shared.tokens import TokenVerifier

TAGS = [
    {"name": "oauth", "description": "Access tokens for partner systems and the keys that verify them."},
    {"name": "clients", "description": "Partner systems allowed to ask for tokens: register, rotate secrets, revoke (scope `admin`)."},
    {"name": "audit", "description": "Who accessed a child's records, and what an agency accessed (scope `audit:read`); "
                                     "the gateway's own trail is client administration."},
    {"name": "health", "description": "Liveness and readiness of the gateway itself."},
]
# The token endpoint takes a form (RFC 6749), not JSON.
FORM_PATHS = ["/oauth/token", "/oauth/authorize"]


class Gateway:
    """The ASGI app uvicorn runs. ``api`` is the FastAPI app of the gateway's own paths."""

    def __init__(self, api: FastAPI, stack: ASGIApp) -> None:
        self.api = api
        self._stack = stack

    @property
    def state(self) -> State:
        return self.api.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._stack(scope, receive, send)


def _lifespan(pool: UpstreamPool) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await pool.start()
        try:
            with startup_frozen():
                yield
        finally:
            await pool.close()
            await app.state.db.dispose()

    return lifespan


def create_app(settings: GatewaySettings | None = None, *, upstreams: Mapping[str, str] | None = None) -> Gateway:
    """``upstreams`` maps referral, assessment and reporting to base URLs (default: from settings)."""
    settings = settings or GatewaySettings()
    configure_logging(settings.log_level)
    signer = load_signer(settings)  # refuses to start in production without a mounted key
    # The gateway trusts only its own keys; the services verify the same tokens again.
    verifier = TokenVerifier(issuer=settings.token_issuer, audience=settings.token_audience,
                             algorithms=settings.token_algorithms, jwks=signer.jwks(),
                             max_lifetime_seconds=settings.token_max_lifetime_seconds)
    pool = UpstreamPool.from_urls(
        upstreams if upstreams is not None else settings.upstream_urls(),
        connect_timeout=settings.upstream_connect_timeout, read_timeout=settings.upstream_read_timeout,
        pool_size=settings.upstream_pool_size, keepalive_seconds=settings.upstream_keepalive_seconds,
    )

    api = FastAPI(title="Gateway", version="1.0.0", lifespan=_lifespan(pool), openapi_tags=TAGS,
                  openapi_url=None, docs_url=None, redoc_url=None, generate_unique_id_function=operation_id,
                  separate_input_output_schemas=False)
    api.state.settings = settings
    api.state.db = Database(settings.effective_database_url)
    api.state.signer = signer
    api.state.verifier = verifier
    api.state.upstreams = pool
    # Counts in this process's memory, or in Redis shared by every replica (domain/ratelimit.py).
    limit_store = LimitStore.from_url(settings.rate_limit_storage, key_prefix=settings.rate_limit_key_prefix,
                                      storage_timeout=settings.rate_limit_storage_timeout)
    api.state.limit_store = limit_store
    api.state.token_limits = TokenEndpointLimits(limit_store, settings.token_rate_limit_per_client,
                                                 settings.token_rate_limit_per_address)
    install_problem_handlers(api)
    api.include_router(oauth.router)
    api.include_router(keys.router)
    # The gateway's own /v1 paths (domain/routing.GATEWAY_PREFIXES); the forwarder checks their
    # token and rate limit as for the services' paths, and the routes check the token again.
    api.include_router(clients.router, prefix="/v1")
    api.include_router(audit_router("gateway"), prefix="/v1")
    api.include_router(docs.router)
    api.include_router(dashboard_login.router)  # the dashboard's sign-in and its files
    api.include_router(dashboard_files.router)
    api.include_router(health)
    install_openapi(api)
    api.state.openapi = OpenAPICatalog(
        api.openapi, pool, service_for, cache_seconds=settings.openapi_cache_seconds,
        fetch_timeout=settings.upstream_connect_timeout + min(settings.upstream_read_timeout, 5.0),
        public_url=settings.public_url,
    )

    own: ASGIApp = BodyGuardMiddleware(api, max_bytes=settings.max_body_bytes, form_paths=FORM_PATHS)
    limiter = (RequestLimit(limit_store, "client", settings.rate_limit_per_minute, on_failure="open")
               if settings.rate_limit_per_minute else None)
    # The forwarder limits /v1 bodies itself while streaming them (the shared guard would
    # hold a chunked body whole) and leaves content types to each service (415 there).
    stack: ASGIApp = Forwarder(own, pool, verifier, service_for,
                               max_body_bytes=settings.max_body_bytes, limiter=limiter)
    if settings.cors_origins:
        stack = CORSMiddleware(
            stack, allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"], allow_headers=["*"],
            expose_headers=["ETag", "Link", "Location", "Retry-After", "X-Request-ID"],
        )
    stack = RequestContextMiddleware(stack, service=settings.service_name)
    return Gateway(api, stack)
