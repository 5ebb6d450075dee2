"""Events: the outbox (emit in the request's transaction), its HTTP relay,
Standard Webhooks signing, and the consumer's once-only inbox.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import random
import time
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Annotated, Any

import httpx
from fastapi import Depends, Request
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.context import current_traceparent
from shared.db import Database, SessionDep, utcnow
from shared.errors import Unauthorized
from shared.models import DeliveryAttempt, InboxEvent, OutboxDelivery, OutboxMessage

log = logging.getLogger("shared.events")
SIGNATURE_TOLERANCE_SECONDS = 300
EVENT_VERSION = 1


# --- Standard Webhooks signing -------------------------------------------------

def _secret_bytes(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        return base64.b64decode(secret.removeprefix("whsec_"))
    return secret.encode()


def sign_webhook(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(_secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_headers(secret: str, webhook_id: str, body: bytes, now: int | None = None) -> dict[str, str]:
    timestamp = int(now if now is not None else time.time())
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign_webhook(secret, webhook_id, timestamp, body),
        "content-type": "application/json",
    }


def verify_webhook(secret: str, headers: Mapping[str, str], body: bytes, now: int | None = None) -> str:
    """Check a signed event; returns its webhook-id or raises Unauthorized."""
    webhook_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not webhook_id or not stamp.isdigit() or not signatures:
        raise Unauthorized("Events must carry webhook-id, webhook-timestamp and webhook-signature.")
    current = int(now if now is not None else time.time())
    if abs(current - int(stamp)) > SIGNATURE_TOLERANCE_SECONDS:
        raise Unauthorized("The event timestamp is outside the accepted window.")
    expected = sign_webhook(secret, webhook_id, int(stamp), body).split(",", 1)[1]
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return webhook_id
    raise Unauthorized("The event signature is not valid.")


# --- Emitting --------------------------------------------------------------------

class Outbox:
    """Writes an event beside the domain change, in the same transaction."""

    def __init__(self, session: SessionDep, request: Request) -> None:
        self.session = session
        self.subscribers: list[str] = list(request.app.state.settings.outbox_subscribers)
        self.source: str = request.app.state.settings.service_name

    async def emit(self, event_type: str, occurred_at: datetime | None = None, **data: Any) -> OutboxMessage:
        return await emit(self.session, self.subscribers, self.source, event_type, occurred_at, **data)


async def emit(
    session: AsyncSession,
    subscribers: list[str],
    source: str,
    event_type: str,
    occurred_at: datetime | None = None,
    **data: Any,
) -> OutboxMessage:
    """Thin events: type, ids, when, version. Receivers fetch details with their own token."""
    when = occurred_at or utcnow()
    message = OutboxMessage(event_type=event_type, occurred_at=when, payload={})
    message.payload = {
        "id": str(message.id),
        "type": event_type,
        "source": source,
        "occurred_at": when.isoformat(),
        "version": EVENT_VERSION,
        "data": {k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in data.items()},
    }
    session.add(message)
    await session.flush()  # the message row first: deliveries reference it
    for url in subscribers:
        session.add(OutboxDelivery(message_id=message.id, subscriber=url, next_attempt_at=when))
    return message


OutboxDep = Annotated[Outbox, Depends()]


# --- Relaying --------------------------------------------------------------------

def backoff_seconds(attempts: int, cap: float = 300.0) -> float:
    """Exponential backoff with full jitter: 1 s, 2 s, 4 s ... capped, randomised."""
    base: float = min(cap, 2.0 ** max(0, attempts - 1))
    return base / 2 + random.uniform(0, base / 2)  # noqa: S311 - jitter, not security


class OutboxRelay:
    """Delivers due outbox rows as signed HTTP POSTs, recording every attempt.

    Safe to run in every replica: on PostgreSQL rows are claimed with
    ``FOR UPDATE SKIP LOCKED``, so two relays never send the same row at once.
    """

    def __init__(
        self,
        db: Database,
        secret: str,
        client: httpx.AsyncClient,
        *,
        max_attempts: int = 8,
        batch_size: int = 50,
    ) -> None:
        self.db = db
        self.secret = secret
        self.client = client
        self.max_attempts = max_attempts
        self.batch_size = batch_size

    async def run_once(self) -> int:
        """Send one batch of due deliveries; returns how many were attempted."""
        async with self.db.sessions() as session:
            stmt = (
                select(OutboxDelivery, OutboxMessage)
                .join(OutboxMessage, col(OutboxMessage.id) == col(OutboxDelivery.message_id))
                .where(OutboxDelivery.status == "pending", col(OutboxDelivery.next_attempt_at) <= utcnow())
                .order_by(col(OutboxMessage.occurred_at), col(OutboxDelivery.id))
                .limit(self.batch_size)
            )
            if self.db.is_postgres:
                stmt = stmt.with_for_update(skip_locked=True, of=OutboxDelivery)
            rows = (await session.exec(stmt)).all()
            for delivery, message in rows:
                await self._deliver(session, delivery, message)
            await session.commit()
            return len(rows)

    async def _deliver(self, session: AsyncSession, delivery: OutboxDelivery, message: OutboxMessage) -> None:
        body = json.dumps(message.payload, separators=(",", ":")).encode()
        headers = webhook_headers(self.secret, str(message.id), body)
        if tp := current_traceparent():
            headers["traceparent"] = tp
        started = time.perf_counter()
        status_code: int | None = None
        error: str | None = None
        try:
            response = await self.client.post(delivery.subscriber, content=body, headers=headers)
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        delivery.attempts += 1
        now = utcnow()
        session.add(DeliveryAttempt(
            delivery_id=delivery.id, attempted_at=now, status_code=status_code, error=error,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        ))
        if error is None:
            delivery.status, delivery.delivered_at, delivery.last_error = "delivered", now, None
        elif delivery.attempts >= self.max_attempts:
            delivery.status, delivery.last_error = "dead", error
            log.warning("delivery dead-lettered", extra={"delivery_id": str(delivery.id), "event_type": message.event_type})
        else:
            delivery.last_error = error
            delivery.next_attempt_at = now + timedelta(seconds=backoff_seconds(delivery.attempts))
        session.add(delivery)

    async def run_forever(self, interval: float) -> None:
        while True:
            try:
                sent = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep relaying after a transient database error
                log.warning("relay batch failed", extra={"error_type": type(exc).__name__})
                sent = 0
            if sent == 0:
                await asyncio.sleep(interval)


# --- Consuming -------------------------------------------------------------------

async def first_delivery(session: AsyncSession, webhook_id: str, event_type: str) -> bool:
    """Record the event id; False when it was applied before (a redelivery)."""
    try:
        async with session.begin_nested():
            session.add(InboxEvent(webhook_id=webhook_id, event_type=event_type))
    except IntegrityError:
        return False
    return True
