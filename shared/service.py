"""The parts every service app is built from: state, lifespan, middleware,
problem handlers, health endpoints and the OpenAPI additions.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi

from shared.db import Database, strict_network_guard
from shared.errors import (
    PROBLEM_SCHEMA,
    ServiceUnavailable,
    install_problem_handlers,
)
from shared.events import OutboxRelay
from shared.logs import configure_logging
from shared.middleware import BodyGuardMiddleware, RequestContextMiddleware
from shared.openapi import (
    add_examples,
    document_common_problems,
    one_security_requirement,
    operation_id,
)
from shared.outbox_api import outbox_router
from shared.settings import ServiceSettings
from shared.tokens import TokenVerifier

health = APIRouter(tags=["health"])
OUTBOX_TAG = {"name": "outbox", "description": "Administrators: this service's dead-lettered event deliveries, listed and replayed (scope `admin`)."}


@health.get("/livez", summary="Liveness", responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}})
async def livez() -> dict[str, str]:
    """The process is up. Says nothing about its dependencies."""
    return {"status": "ok"}


@health.get("/readyz", summary="Readiness", responses={503: {"description": "Database unreachable"}})
async def readyz(request: Request) -> dict[str, str]:
    """Ready to serve: its database answers."""
    db: Database = request.app.state.db
    try:
        await asyncio.wait_for(db.ping(), timeout=3)
    except Exception as exc:
        raise ServiceUnavailable("The database is not reachable.") from exc
    return {"status": "ok"}


def make_verifier(settings: ServiceSettings) -> TokenVerifier:
    return TokenVerifier(
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        algorithms=settings.token_algorithms,
        jwks=settings.jwks_document(),
        jwks_url=None if settings.jwks_json else settings.jwks_url,
        max_lifetime_seconds=settings.token_max_lifetime_seconds,
    )


@contextlib.contextmanager
def startup_frozen() -> Iterator[None]:
    """While an app runs, what its start-up built (modules, models, settings, reference data),
    which lives as long as the process, is kept out of the garbage collector's full passes: they
    would rescan it all and pause a request for tens of milliseconds (measured on the reporting
    service's first dataset: 80-110 ms of full collections). Start-up's garbage is collected first;
    everything is handed back to the collector when the app stops (tests start many apps)."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def build_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    tags: list[dict[str, Any]] | None = None,
    on_startup: Callable[[FastAPI], Any] | None = None,
    body_exempt_prefixes: Sequence[str] = (),
    workers: Sequence[Callable[[FastAPI], Coroutine[Any, Any, None]]] = (),
) -> FastAPI:
    """One domain service: its state is set here, so tests may swap the session factory."""
    configure_logging(settings.log_level)
    strict_network_guard(settings.environment != "prod")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if on_startup is not None:
            await on_startup(app)
        relay, relay_task = None, None
        client = httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=2.0))
        if settings.relay_enabled and settings.outbox_subscribers:
            relay = OutboxRelay(app.state.db, settings.webhook_secret, client,
                                max_attempts=settings.outbox_max_attempts,
                                backoff_cap=settings.outbox_backoff_cap_seconds,
                                lease_seconds=settings.outbox_lease_seconds,
                                batch_size=settings.outbox_batch_size)
            app.state.relay = relay
            relay_task = asyncio.create_task(relay.run_forever(settings.outbox_poll_seconds))
        # A service's own background loops (referral's webhook fan-out and delivery), run while it runs.
        worker_tasks = [asyncio.create_task(worker(app)) for worker in workers] if settings.relay_enabled else []
        try:
            with startup_frozen():
                yield
        finally:
            for task in worker_tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            # Shutdown (SIGTERM: uvicorn has stopped accepting and finished in-flight requests):
            # the relay finishes its send under way and gives back its other leases.
            if relay is not None and relay_task is not None:
                await relay.shutdown(relay_task, grace_seconds=5.0)
            await client.aclose()
            await app.state.db.dispose()

    if tags is not None:
        tags = [*tags, OUTBOX_TAG]
    # /openapi.json stays (the gateway merges it); the docs pages are the gateway's (offline, no CDN).
    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan, openapi_tags=tags,
                  docs_url=None, redoc_url=None, generate_unique_id_function=operation_id,
                  separate_input_output_schemas=False)
    app.state.settings = settings
    app.state.db = Database(settings.effective_database_url)
    app.state.verifier = make_verifier(settings)
    install_problem_handlers(app)
    app.include_router(health)
    for router in routers:
        app.include_router(router, prefix="/v1")
    app.include_router(outbox_router(settings.service_name), prefix="/v1")
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST", "PATCH"], allow_headers=["*"], expose_headers=["ETag", "Link", "X-Request-ID"])
    app.add_middleware(BodyGuardMiddleware, max_bytes=settings.max_body_bytes, exempt_prefixes=body_exempt_prefixes)
    app.add_middleware(RequestContextMiddleware, service=settings.service_name)
    install_openapi(app, body_exempt_prefixes=body_exempt_prefixes)
    return app


def install_openapi(app: FastAPI, *, body_exempt_prefixes: Sequence[str] = ()) -> None:
    """The app's document with the shared Problem schema in place of FastAPI's 422 schema, and
    the problems every operation can give documented on each (``shared.openapi``)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description,
                             routes=app.routes, tags=app.openapi_tags, webhooks=app.webhooks.routes,
                             separate_input_output_schemas=app.separate_input_output_schemas)
        one_security_requirement(schema)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = PROBLEM_SCHEMA
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                responses = operation.get("responses", {})
                unprocessable = responses.get("422")
                if unprocessable and "application/json" in unprocessable.get("content", {}):
                    ref = unprocessable["content"]["application/json"].get("schema", {}).get("$ref", "")
                    if ref.endswith("HTTPValidationError"):
                        del unprocessable["content"]["application/json"]
                        unprocessable.setdefault("content", {}).setdefault(
                            "application/problem+json", {"schema": {"$ref": "#/components/schemas/Problem"}})
        for path_item in schema.get("webhooks", {}).values():
            # What partners receive: our validation error is not one of their answers.
            for operation in path_item.values():
                operation.get("responses", {}).pop("422", None)
        app.openapi_schema = add_examples(document_common_problems(schema, body_exempt_prefixes=body_exempt_prefixes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
