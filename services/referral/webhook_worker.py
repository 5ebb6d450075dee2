"""The two loops behind partner webhooks, beside the outbox relay, never in a request.

1. **Fan-out.** Every event the referral service writes to its outbox is also queued for
   webhooks, in the same transaction (``on_emit``). After commit, :class:`WebhookFanOut`
   takes queued events in one short transaction and writes one delivery per endpoint that
   asked for the event's type and may be told (``domain.webhooks.recipients``: the child
   visibility rule of the reads; the referrer for the decision on its referral). Database
   work only: no network.
2. **Delivery.** :class:`WebhookDeliverer` leases due deliveries in a short transaction,
   then sends each outside any transaction, concurrently, each with its own time limit: a
   partner that hangs or fails holds up only its own delivery, never the write that made the
   event nor another partner's. Before each attempt the URL is checked again against SSRF
   (DNS may have changed since registration) and the connection goes to the address that
   was checked. Each result is recorded in its own short transaction; failures retry with
   exponential backoff and jitter, and become dead letters after ``webhook_max_attempts``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI
from sqlmodel.ext.asyncio.session import AsyncSession

from services.referral.domain import webhooks as rules
from services.referral.models import WebhookAttempt, WebhookDelivery, WebhookFanout
from services.referral.queries.webhooks import WebhookQueries
from services.referral.settings import ReferralSettings
from shared.db import Database, check_no_transaction, utcnow
from shared.events import Emitted, add_outbox_row
from shared.models import OutboxMessage
from shared.ssrf import Target

log = logging.getLogger("referral.webhooks")


_FANOUT_TABLE = WebhookFanout.__table__  # type: ignore[attr-defined]


async def queue_for_webhooks(session: AsyncSession, message: Emitted) -> None:
    """``on_emit``: the event waits for fan-out, committed (or rolled back) with its change
    (inserted with the outbox rows as the transaction commits, after its message)."""
    add_outbox_row(session, _FANOUT_TABLE, {"message_id": message.id, "created_at": utcnow()})


class WebhookFanOut:
    def __init__(self, db: Database, full_access_types: list[str], *, batch_size: int = 100,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.db, self.full_access_types, self.batch_size, self.clock = db, full_access_types, batch_size, clock

    async def run_once(self) -> int:
        """Fan out one batch of queued events; returns how many events were taken."""
        async with self.db.sessions() as session:
            queries = WebhookQueries(session, self.full_access_types)
            events = await queries.queued_events(self.batch_size, skip_locked=self.db.is_postgres)
            if not events:
                await session.commit()
                return 0
            subscribed = await queries.subscribed(sorted({m.event_type for m in events}))
            now = self.clock()
            for message in events:
                for delivery in await self._deliveries(queries, message, subscribed, now):
                    session.add(delivery)
            await queries.dequeue([m.id for m in events])
            await session.commit()
        return len(events)

    async def _deliveries(self, queries: WebhookQueries, message: OutboxMessage, subscribed: list[Any],
                          now: datetime) -> list[WebhookDelivery]:
        subscribers = [rules.Subscriber(e.id, e.agency_id, e.event_types) for e in subscribed
                       if message.event_type in e.event_types]
        if not subscribers:
            return []
        ids = rules.event_ids(message.event_type, message.payload.get("data", {}))
        readers: set[uuid.UUID] = set()
        referrer = None
        with contextlib.suppress(KeyError, ValueError):
            readers = await queries.readers(uuid.UUID(ids["child_id"]), [s.agency_id for s in subscribers])
        if message.event_type in rules.OUTCOME_EVENTS:
            with contextlib.suppress(KeyError, ValueError):
                referrer = await queries.referrer(uuid.UUID(ids["referral_id"]))
        return [
            WebhookDelivery(endpoint_id=r.endpoint_id, webhook_id=str(message.id), event_type=message.event_type,
                            payload=rules.body(message.event_type, message.occurred_at, r.data), next_attempt_at=now)
            for r in rules.recipients(message.event_type, ids, subscribers, readers, referrer)
        ]


@dataclass(frozen=True)
class Job:
    """A leased delivery and what sending it needs (read before the lease committed)."""

    delivery_id: uuid.UUID
    url: str
    secrets: list[str]
    webhook_id: str
    payload: dict[str, Any]
    tries: int  # attempts since queued or redelivered, before this one


Resolver = Callable[[str], Awaitable[Target]]


class WebhookDeliverer:
    def __init__(
        self, db: Database, client: httpx.AsyncClient, *, allow_private: bool, timeout: float, max_attempts: int,
        backoff_cap: float, concurrency: int, clock: Callable[[], datetime] = utcnow, owner: str | None = None,
    ) -> None:
        self.db, self.client, self.allow_private, self.timeout = db, client, allow_private, timeout
        self.max_attempts, self.backoff_cap, self.concurrency, self.clock = max_attempts, backoff_cap, concurrency, clock
        self.owner = owner or f"webhooks-{uuid.uuid4().hex[:12]}"
        # A lease outlives the attempt (its time limit), so no other worker takes the row meanwhile.
        self.lease = timedelta(seconds=max(60.0, timeout * 3))
        self._record = asyncio.Lock()  # results are written one at a time: short transactions, in order

    async def claim(self, limit: int) -> list[Job]:
        now = self.clock()
        async with self.db.sessions() as session:
            rows = await WebhookQueries(session, []).claim_due(now, now + self.lease, self.owner, limit,
                                                               skip_locked=self.db.is_postgres)
            jobs = [Job(d.id, e.url, rules.signing_secrets(e.secret, e.previous_secret, e.previous_secret_expires_at, now),
                        d.webhook_id, dict(d.payload), d.attempts - d.attempts_before_redelivery) for d, e in rows]
            await session.commit()
        return jobs

    async def send(self, job: Job) -> rules.Outcome:
        """One signed POST to the checked address, within the time limit. No transaction is open."""
        check_no_transaction("a partner's webhook endpoint")
        started = time.perf_counter()
        status_code: int | None = None
        error: str | None = None
        try:
            target = await rules.check_url(job.url, allow_private=self.allow_private)
            content = json.dumps(job.payload, separators=(",", ":")).encode()
            stamp = int(time.time())
            headers = {
                "webhook-id": job.webhook_id,
                "webhook-timestamp": str(stamp),
                "webhook-signature": rules.signature_header(job.secrets, job.webhook_id, stamp, content),
                "content-type": "application/json",
                "user-agent": "neglect-backbone-webhooks/1",
            }
            status_code = await asyncio.wait_for(self._post(target, content, headers), self.timeout)
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except rules.UnsafeWebhookUrl as exc:
            error = f"refused: {exc.detail}"[:500]
        except TimeoutError:
            error = "timeout"
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        return rules.Outcome(self.clock(), status_code, error, round((time.perf_counter() - started) * 1000, 2))

    async def _post(self, target: Target, content: bytes, headers: dict[str, str]) -> int:
        # Connect to the address that was checked, not to whatever the name resolves to now;
        # the Host header and TLS (SNI, certificate) still name the host.
        parts = urlsplit(target.url)
        address = target.addresses[0]
        literal = f"[{address}]" if address.version == 6 else str(address)
        url = parts._replace(netloc=f"{literal}:{target.port}").geturl()
        default_port = 443 if target.scheme == "https" else 80
        host = f"[{target.host}]" if ":" in target.host else target.host
        headers = {**headers, "host": host if target.port == default_port else f"{host}:{target.port}"}
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        # The answer's status is all we keep: its body is never read (a partner could send gigabytes).
        async with self.client.stream("POST", url, content=content, headers=headers, extensions=extensions) as response:
            return response.status_code

    async def record(self, job: Job, outcome: rules.Outcome) -> None:
        async with self._record, self.db.sessions() as session:
            delivery = await WebhookQueries(session, []).leased(job.delivery_id, self.owner)
            session.add(WebhookAttempt(delivery_id=job.delivery_id, attempted_at=outcome.attempted_at,
                                       status_code=outcome.status_code, error=outcome.error,
                                       duration_ms=outcome.duration_ms))
            if delivery is None:  # the lease ran out and another worker holds it: it decides
                await session.commit()
                return
            state = rules.after_attempt(job.tries + 1, outcome, self.max_attempts, self.backoff_cap)
            delivery.attempts += 1
            delivery.leased_until = delivery.lease_owner = None
            delivery.last_status_code, delivery.last_error, delivery.status = outcome.status_code, outcome.error, state.status
            if state.status == rules.DELIVERED:
                delivery.delivered_at = outcome.attempted_at
            elif state.status == rules.DEAD:
                delivery.dead_at = outcome.attempted_at
                log.warning("webhook delivery dead-lettered", extra={"delivery_id": str(delivery.id)})
            elif state.next_attempt_at is not None:
                delivery.next_attempt_at = state.next_attempt_at
            session.add(delivery)
            await session.commit()

    async def deliver(self, job: Job) -> None:
        await self.record(job, await self.send(job))

    async def run_once(self) -> int:
        """Send the due deliveries (up to the concurrency), all at once; returns how many."""
        jobs = await self.claim(self.concurrency)
        await asyncio.gather(*(self.deliver(job) for job in jobs))
        return len(jobs)

    async def run_forever(self, interval: float) -> None:
        """Keep up to ``concurrency`` deliveries in flight; a slow one never holds up the next claim."""
        in_flight: set[asyncio.Task[None]] = set()
        try:
            while True:
                jobs: list[Job] = []
                free = self.concurrency - len(in_flight)
                if free > 0:
                    try:
                        jobs = await self.claim(free)
                    except Exception as exc:  # keep going after a transient database error
                        log.warning("webhook claim failed", extra={"error_type": type(exc).__name__})
                for job in jobs:
                    task = asyncio.create_task(self._deliver_logged(job))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                await asyncio.sleep(interval if not jobs else 0.05)
        finally:
            for task in in_flight:
                task.cancel()

    async def _deliver_logged(self, job: Job) -> None:
        try:
            await self.deliver(job)
        except Exception as exc:  # the lease runs out and the delivery is tried again
            log.warning("webhook delivery failed", extra={"error_type": type(exc).__name__})


async def _fan_out_forever(fan_out: WebhookFanOut, interval: float) -> None:
    while True:
        try:
            taken = await fan_out.run_once()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("webhook fan-out failed", extra={"error_type": type(exc).__name__})
            taken = 0
        if taken == 0:
            await asyncio.sleep(interval)


def deliverer_for(app: FastAPI, client: httpx.AsyncClient) -> WebhookDeliverer:
    settings: ReferralSettings = app.state.settings
    return WebhookDeliverer(
        app.state.db, client, allow_private=settings.webhook_allow_private_urls,
        timeout=settings.webhook_timeout_seconds, max_attempts=settings.webhook_max_attempts,
        backoff_cap=settings.webhook_backoff_cap_seconds, concurrency=settings.webhook_concurrency,
    )


def fan_out_for(app: FastAPI) -> WebhookFanOut:
    settings: ReferralSettings = app.state.settings
    return WebhookFanOut(app.state.db, list(settings.full_access_agency_types))


def webhook_client(timeout: float) -> httpx.AsyncClient:
    """No redirects (a 3xx is a failed attempt: a redirect could lead inside), no proxies from the environment."""
    return httpx.AsyncClient(timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False)


async def run_webhook_workers(app: FastAPI) -> None:
    """Both loops, for as long as the app runs (``build_service_app(workers=...)``)."""
    settings: ReferralSettings = app.state.settings
    async with webhook_client(settings.webhook_timeout_seconds) as client:
        await asyncio.gather(
            _fan_out_forever(fan_out_for(app), settings.webhook_poll_seconds),
            deliverer_for(app, client).run_forever(settings.webhook_poll_seconds),
        )
