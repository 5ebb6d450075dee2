"""Partner webhooks: an agency's own endpoints, their secrets, pings and deliveries
(scope `webhooks:manage`). What is sent and how to verify it: docs/webhooks.md."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from services.referral.domain import webhooks as rules
from services.referral.domain.errors import AgencyNotRegistered
from services.referral.models import Agency, WebhookDelivery, WebhookEndpoint
from services.referral.queries.webhooks import WebhookQueries
from services.referral.schemas.webhooks import (
    AttemptRead,
    DeliveryPage,
    DeliveryQueued,
    DeliveryRead,
    EndpointCreate,
    EndpointCreated,
    EndpointPage,
    EndpointRead,
    EndpointUpdate,
    RotateSecret,
    SecretRotated,
)
from services.referral.settings import ReferralSettings
from shared.auth import require_scopes
from shared.db import SessionDep, utcnow
from shared.errors import problems
from shared.etag import IfMatch, check_version, set_etag
from shared.pagination import InvalidCursor, PageDep, set_link_header
from shared.tokens import Principal

router = APIRouter(prefix="/webhook-endpoints", tags=["webhooks"])
CanManage = Annotated[Principal, Depends(require_scopes("webhooks:manage"))]


def _settings(request: Request) -> ReferralSettings:
    settings: ReferralSettings = request.app.state.settings
    return settings


Settings = Annotated[ReferralSettings, Depends(_settings)]


def queries(request: Request, session: SessionDep) -> WebhookQueries:
    return WebhookQueries(session, request.app.state.settings.full_access_agency_types)


QueriesDep = Annotated[WebhookQueries, Depends(queries)]


def endpoint_read(e: WebhookEndpoint) -> EndpointRead:
    return EndpointRead(id=e.id, url=e.url, event_types=list(e.event_types), description=e.description, enabled=e.enabled,
                        secret_rotated_at=e.secret_rotated_at, previous_secret_expires_at=e.previous_secret_expires_at,
                        created_at=e.created_at, updated_at=e.updated_at, version=e.version)


def delivery_read(d: WebhookDelivery, attempts: list[Any]) -> DeliveryRead:
    return DeliveryRead(
        id=d.id, webhook_id=d.webhook_id, event_type=d.event_type, status=d.status,
        attempts=d.attempts, redeliveries=d.redeliveries, payload=dict(d.payload),
        next_attempt_at=d.next_attempt_at if d.status == rules.PENDING else None,
        last_status_code=d.last_status_code, last_error=d.last_error, created_at=d.created_at,
        delivered_at=d.delivered_at, dead_at=d.dead_at,
        attempt_log=[AttemptRead(attempted_at=a.attempted_at, status_code=a.status_code, error=a.error,
                                 duration_ms=a.duration_ms) for a in attempts],
    )


async def _own(q: WebhookQueries, who: Principal, endpoint_id: uuid.UUID, *, for_update: bool = False) -> WebhookEndpoint:
    endpoint = await q.endpoint(who.agency_id, endpoint_id, for_update=for_update)
    if endpoint is None:
        raise rules.WebhookEndpointNotFound(f"No webhook endpoint {endpoint_id} of your agency.")
    return endpoint


@router.post("", status_code=201, summary="Register a webhook endpoint",
             responses=problems(rules.UnsafeWebhookUrl, rules.TooManyEndpoints, AgencyNotRegistered))
async def register_endpoint(body: EndpointCreate, who: CanManage, q: QueriesDep, settings: Settings,
                            response: Response) -> EndpointCreated:
    """Register an HTTPS endpoint for the event types given, about children your agency may
    read (and the decision on each of your own referrals). The answer holds the signing
    `secret`, **shown this once**. The URL must resolve to public addresses only (no private,
    loopback, link-local, metadata or reserved ones: `422 unsafe-webhook-url`); it is checked
    again before every delivery. Not idempotent: a retry registers a second endpoint (list
    them, and delete the extra one). Scope `webhooks:manage`."""
    await rules.check_url(body.url, allow_private=settings.webhook_allow_private_urls)  # DNS: before the transaction
    if await q.session.get(Agency, who.agency_id) is None:
        raise AgencyNotRegistered("Your agency is not registered with the partnership.")
    if await q.count(who.agency_id) >= settings.webhook_max_endpoints_per_agency:
        raise rules.TooManyEndpoints(f"Your agency has {settings.webhook_max_endpoints_per_agency} endpoints; "
                                     "delete or change one.")
    endpoint = WebhookEndpoint(agency_id=who.agency_id, created_by=who.client_id, url=body.url,
                               description=body.description, event_types=body.event_types, enabled=body.enabled,
                               secret=rules.new_secret())
    await q.add(endpoint)
    response.headers["Location"] = f"/v1/webhook-endpoints/{endpoint.id}"
    set_etag(response, endpoint.version)
    return EndpointCreated(**endpoint_read(endpoint).model_dump(), secret=endpoint.secret)


@router.get("", summary="List your webhook endpoints", responses=problems(InvalidCursor))
async def list_endpoints(who: CanManage, q: QueriesDep, page: PageDep, response: Response) -> EndpointPage:
    """Your agency's endpoints, oldest first; follow `Link: rel="next"` for more. Never the secrets. Scope `webhooks:manage`; only your agency's own endpoints."""
    items, next_cursor = await q.endpoints(who.agency_id, page)
    set_link_header(response, page, next_cursor)
    return EndpointPage(items=[endpoint_read(e) for e in items], next_cursor=next_cursor)


@router.get("/{endpoint_id}", summary="Read a webhook endpoint", responses=problems(rules.WebhookEndpointNotFound))
async def get_endpoint(endpoint_id: uuid.UUID, who: CanManage, q: QueriesDep, response: Response) -> EndpointRead:
    """One of your endpoints, with its `ETag` for changes. Never the secret. Scope `webhooks:manage`; only your agency's own endpoints."""
    endpoint = await _own(q, who, endpoint_id)
    set_etag(response, endpoint.version)
    return endpoint_read(endpoint)


@router.patch("/{endpoint_id}", summary="Change a webhook endpoint",
              responses=problems(rules.WebhookEndpointNotFound, rules.UnsafeWebhookUrl))
async def update_endpoint(endpoint_id: uuid.UUID, body: EndpointUpdate, who: CanManage, q: QueriesDep,
                          settings: Settings, expected: IfMatch, response: Response) -> EndpointRead:
    """Change the URL, event types, description or `enabled` (only the fields given), with
    `If-Match`. A new URL is checked as at registration. Disabling keeps deliveries waiting;
    enabling sends them. Scope `webhooks:manage`; only your agency's own endpoints."""
    if body.url is not None:
        await rules.check_url(body.url, allow_private=settings.webhook_allow_private_urls)
    endpoint = await _own(q, who, endpoint_id, for_update=True)
    check_version(endpoint.version, expected)
    for name, value in body.model_dump(exclude_unset=True).items():
        if value is not None or name == "description":
            setattr(endpoint, name, value)
    endpoint.version += 1
    endpoint.updated_at = utcnow()
    await q.add(endpoint)
    set_etag(response, endpoint.version)
    return endpoint_read(endpoint)


@router.delete("/{endpoint_id}", status_code=204, summary="Delete a webhook endpoint",
               responses=problems(rules.WebhookEndpointNotFound))
async def delete_endpoint(endpoint_id: uuid.UUID, who: CanManage, q: QueriesDep) -> Response:
    """Delete one of your endpoints with its deliveries: nothing more is sent to it. Scope `webhooks:manage`; only your agency's own endpoints."""
    await q.remove(await _own(q, who, endpoint_id, for_update=True))
    return Response(status_code=204)


@router.post("/{endpoint_id}/rotate-secret", summary="Rotate a webhook endpoint's secret",
             responses=problems(rules.WebhookEndpointNotFound))
async def rotate_secret(endpoint_id: uuid.UUID, who: CanManage, q: QueriesDep, settings: Settings,
                        response: Response, body: Annotated[RotateSecret | None, Body()] = None) -> SecretRotated:
    """A new signing secret, **shown this once**. The old one keeps signing beside it for a
    grace period (`grace_period_seconds`, default 24 hours), so every delivery meanwhile
    carries two `v1,` signatures and verifies with either secret: install the new secret,
    then let the old one lapse. `0` stops the old secret at once. Scope `webhooks:manage`; only your agency's own endpoints."""
    endpoint = await _own(q, who, endpoint_id, for_update=True)
    grace = settings.webhook_rotation_grace_seconds if body is None or body.grace_period_seconds is None \
        else body.grace_period_seconds
    now = utcnow()
    endpoint.secret, endpoint.previous_secret, endpoint.previous_secret_expires_at = rules.rotation(endpoint.secret, now, grace)
    endpoint.secret_rotated_at = endpoint.updated_at = now
    endpoint.version += 1
    await q.add(endpoint)
    set_etag(response, endpoint.version)
    return SecretRotated(secret=endpoint.secret, previous_secret_expires_at=endpoint.previous_secret_expires_at,
                         version=endpoint.version)


@router.post("/{endpoint_id}/ping", status_code=202, summary="Ping a webhook endpoint",
             responses=problems(rules.WebhookEndpointNotFound))
async def ping_endpoint(endpoint_id: uuid.UUID, who: CanManage, q: QueriesDep) -> DeliveryQueued:
    """Queue a `webhook.ping` delivery to the endpoint (signed like every event, data
    `endpoint_id`), to try the endpoint and its signature check. Its outcome shows in the
    endpoint's deliveries within seconds. Scope `webhooks:manage`; only your agency's own endpoints."""
    endpoint = await _own(q, who, endpoint_id)
    now = utcnow()
    delivery = WebhookDelivery(endpoint_id=endpoint.id, webhook_id=str(uuid.uuid4()), event_type=rules.PING,
                               payload=rules.body(rules.PING, now, {"endpoint_id": str(endpoint.id)}), next_attempt_at=now)
    await q.add(delivery)
    return DeliveryQueued(delivery_id=delivery.id, webhook_id=delivery.webhook_id)


@router.get("/{endpoint_id}/deliveries", summary="List an endpoint's deliveries",
            responses=problems(rules.WebhookEndpointNotFound, InvalidCursor))
async def list_deliveries(
    endpoint_id: uuid.UUID, who: CanManage, q: QueriesDep, page: PageDep, response: Response,
    status: Annotated[str | None, Query(pattern="^(pending|delivered|dead)$",
                                        description="Only `pending`, `delivered` or `dead` (dead letters).")] = None,
) -> DeliveryPage:
    """Deliveries to the endpoint, oldest first, each with every attempt (time, status code,
    error, duration); `status=dead` lists the dead letters. Follow `Link: rel="next"`. Scope `webhooks:manage`; only your agency's own endpoints."""
    await _own(q, who, endpoint_id)
    items, next_cursor = await q.deliveries(endpoint_id, page, status)
    attempts = await q.attempts([d.id for d in items])
    set_link_header(response, page, next_cursor)
    return DeliveryPage(items=[delivery_read(d, attempts[d.id]) for d in items], next_cursor=next_cursor)


@router.post("/{endpoint_id}/deliveries/{delivery_id}/redeliver", status_code=202, summary="Redeliver a dead letter",
             responses=problems(rules.WebhookEndpointNotFound, rules.WebhookDeliveryNotFound, rules.NotADeadLetter))
async def redeliver(endpoint_id: uuid.UUID, delivery_id: uuid.UUID, who: CanManage, q: QueriesDep) -> JSONResponse:
    """Send a dead letter again: due at once, with a fresh retry budget; its earlier attempts
    stay listed. The same `webhook-id`, so a partner that did apply it ignores it. A pending
    or delivered one is a `409`. Scope `webhooks:manage`; only your agency's own endpoints."""
    await _own(q, who, endpoint_id)
    delivery = await q.delivery(endpoint_id, delivery_id)
    if delivery is None:
        raise rules.WebhookDeliveryNotFound(f"No delivery {delivery_id} to this endpoint.")
    if delivery.status != rules.DEAD:
        raise rules.NotADeadLetter(f"Delivery {delivery_id} is {delivery.status}, not a dead letter.")
    delivery.status, delivery.next_attempt_at, delivery.dead_at = rules.PENDING, utcnow(), None
    delivery.attempts_before_redelivery = delivery.attempts
    delivery.redeliveries += 1
    delivery.leased_until = delivery.lease_owner = None
    await q.add(delivery)
    return JSONResponse(DeliveryQueued(delivery_id=delivery.id, webhook_id=delivery.webhook_id).model_dump(mode="json"),
                        status_code=202)
