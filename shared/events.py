"""Events: the outbox (emit in the request's transaction), its HTTP relay,
Standard Webhooks signing, and the consumer's once-only inbox.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

import httpx
from fastapi import Depends, Request
from sqlalchemy import event, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.context import current_traceparent
from shared.db import Database, SessionDep, check_no_transaction, utcnow
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

@dataclass(frozen=True, slots=True)
class Emitted:
    """An event recorded in the outbox: its row is written as the transaction commits."""

    id: uuid.UUID
    event_type: str
    occurred_at: datetime
    payload: dict[str, Any]


#: Outbox rows recorded in a session and not yet written (``Session.info`` key): table to rows,
#: in the order the tables were first used (messages before what references them).
PENDING = "outbox_rows"
_MESSAGE_TABLE = OutboxMessage.__table__  # type: ignore[attr-defined]
_DELIVERY_TABLE = OutboxDelivery.__table__  # type: ignore[attr-defined]


def add_outbox_row(session: AsyncSession | Session, table: Any, row: dict[str, Any]) -> None:
    """Queue one row for the commit of the session's transaction (``_write_outbox``): a row that
    belongs with an outbox message (a delivery, a service's own queue row) and references it.

    Give every column's value that has no server default: the row is inserted with Core, so the
    model's Python defaults do not apply."""
    session.info.setdefault(PENDING, {}).setdefault(table, []).append(row)


class Outbox:
    """Writes an event beside the domain change, in the same transaction."""

    def __init__(self, session: SessionDep, request: Request) -> None:
        self.session = session
        self.subscribers: list[str] = list(request.app.state.settings.outbox_subscribers)
        self.source: str = request.app.state.settings.service_name
        #: A service may add to the same transaction for each event (referral: queue its webhook fan-out).
        self.on_emit: Callable[[AsyncSession, Emitted], Awaitable[None]] | None = getattr(
            request.app.state, "on_emit", None)

    async def emit(self, event_type: str, occurred_at: datetime | None = None, **data: Any) -> Emitted:
        message = await emit(self.session, self.subscribers, self.source, event_type, occurred_at, **data)
        if self.on_emit is not None:
            await self.on_emit(self.session, message)
        return message


async def emit(
    session: AsyncSession,
    subscribers: list[str],
    source: str,
    event_type: str,
    occurred_at: datetime | None = None,
    **data: Any,
) -> Emitted:
    """Thin events: type, ids, when, version. Receivers fetch details with their own token.

    The message and one delivery per subscriber are inserted with Core as the transaction
    commits (one statement per table), not through the ORM's unit of work; a rollback drops
    them with the change they describe, exactly as the audit rows (shared/audit.py)."""
    when = occurred_at or utcnow()
    message_id = uuid.uuid4()
    payload = {
        "id": str(message_id),
        "type": event_type,
        "source": source,
        "occurred_at": when.isoformat(),
        "version": EVENT_VERSION,
        "data": {k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in data.items()},
    }
    add_outbox_row(session, _MESSAGE_TABLE, {"id": message_id, "event_type": event_type, "payload": payload,
                                             "occurred_at": when})
    for url in subscribers:
        add_outbox_row(session, _DELIVERY_TABLE, {
            "id": uuid.uuid4(), "message_id": message_id, "subscriber": url, "status": "pending", "attempts": 0,
            "next_attempt_at": when, "last_error": None, "delivered_at": None, "leased_until": None,
            "lease_owner": None, "dead_at": None, "replays": 0, "replayed_at": None, "replayed_by": None,
            "attempts_before_replay": 0,
        })
    session.info[_EMITTED] = True  # wakes this process's relays when the transaction commits
    return Emitted(message_id, event_type, when, payload)


@event.listens_for(Session, "before_commit")
def _write_outbox(session: Session) -> None:
    tables: dict[Any, list[dict[str, Any]]] | None = session.info.pop(PENDING, None)
    if tables:
        connection = session.connection()
        for table, rows in tables.items():
            connection.execute(insert(table), rows)


@event.listens_for(Session, "after_transaction_end")
def _drop_unwritten(session: Session, transaction: Any) -> None:
    # A rolled-back transaction takes its events with it, as it takes the change they describe.
    if transaction.parent is None:
        session.info.pop(PENDING, None)


async def get_outbox(session: SessionDep, request: Request) -> Outbox:
    # async: a plain class dependency would be built on the thread pool, once per request.
    return Outbox(session, request)


OutboxDep = Annotated[Outbox, Depends(get_outbox)]


# --- Relaying --------------------------------------------------------------------

# A relay in this process sleeps between empty polls; a commit that wrote outbox rows wakes it,
# so an event leaves within milliseconds of its write rather than up to a poll interval later.
_EMITTED = "outbox_emitted"
_relay_wakers: set[Callable[[], None]] = set()


@event.listens_for(Session, "after_commit")
def _wake_relays(session: Session) -> None:
    if session.info.pop(_EMITTED, False):
        for wake in list(_relay_wakers):
            wake()


@event.listens_for(Session, "after_rollback")
def _forget_emitted(session: Session) -> None:
    session.info.pop(_EMITTED, None)


BACKOFF_CAP_SECONDS = 1800.0
MAX_ATTEMPTS = 75
LEASE_SECONDS = 120.0


def backoff_seconds(attempts: int, cap: float = BACKOFF_CAP_SECONDS) -> float:
    """Exponential backoff with jitter: 1 s, 2 s, 4 s ... up to ``cap``, each randomised to [half, whole]."""
    base: float = min(cap, 2.0 ** max(0, attempts - 1))
    return base / 2 + random.uniform(0, base / 2)  # noqa: S311 - jitter, not security


def retry_horizon(max_attempts: int, cap: float = BACKOFF_CAP_SECONDS) -> tuple[float, float, float]:
    """Seconds from a delivery's first attempt to its last one: (shortest, typical, longest) with jitter.

    A subscriber that is down for less than the shortest horizon loses nothing; after the
    longest, the delivery is a dead letter waiting for a replay.
    """
    whole = sum(min(cap, 2.0 ** (k - 1)) for k in range(1, max_attempts))
    return whole / 2, whole * 3 / 4, whole


@dataclass(frozen=True)
class Claimed:
    """A delivery this relay holds a lease on, with what it sends (read before the claim commits)."""

    delivery_id: uuid.UUID
    message_id: uuid.UUID
    event_type: str
    subscriber: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float


class OutboxRelay:
    """Delivers due outbox rows as signed HTTP POSTs, recording every attempt.

    No database transaction is open while it waits on a subscriber: it claims a batch in
    one short transaction (a lease: ``leased_until``, ``lease_owner``; on PostgreSQL the
    rows are picked with ``FOR UPDATE SKIP LOCKED``, so relays in several replicas never
    claim the same row), sends outside any transaction, then records each result in
    another short transaction. A relay that dies mid-batch leaves leases that run out,
    and the rows are claimed again; consumers are idempotent on ``webhook-id``, so a
    resend after a crash changes nothing.
    """

    def __init__(
        self,
        db: Database,
        secret: str,
        client: httpx.AsyncClient,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        backoff_cap: float = BACKOFF_CAP_SECONDS,
        lease_seconds: float = LEASE_SECONDS,
        batch_size: int = 50,
        clock: Callable[[], datetime] = utcnow,
        owner: str | None = None,
    ) -> None:
        self.db = db
        self.secret = secret
        self.client = client
        self.max_attempts = max_attempts
        self.backoff_cap = backoff_cap
        self.lease = timedelta(seconds=lease_seconds)
        self.batch_size = batch_size
        self.clock = clock
        self.owner = owner or f"relay-{uuid.uuid4().hex[:12]}"
        #: Deliveries leased by this relay and not yet recorded or given back.
        self.held: set[uuid.UUID] = set()
        #: Set by :meth:`shutdown`: no new send starts after it.
        self.stopping = asyncio.Event()
        self._woken: asyncio.Event | None = None

    async def run_once(self) -> int:
        """Send one batch of due deliveries; returns how many were attempted."""
        claimed, deadline = await self.claim()
        self.held.update(c.delivery_id for c in claimed)
        # Stop with time to spare: a send may take a while, and past the deadline another
        # relay may claim the row (a duplicate the consumer would ignore, but a waste).
        # Stopping (shutdown) gives the rest of the batch back at once too.
        stop_at = deadline - self.lease / 4
        sent = 0
        for index, item in enumerate(claimed):
            if self.clock() >= stop_at or self.stopping.is_set():
                await self.release([c.delivery_id for c in claimed[index:]])
                break
            outcome = await self.send(item)
            await self.record(item, outcome)
            self.held.discard(item.delivery_id)
            sent += 1
        return sent

    async def claim(self) -> tuple[list[Claimed], datetime]:
        """Lease up to a batch of due deliveries, in one short transaction."""
        now = self.clock()
        until = now + self.lease
        async with self.db.sessions() as session:
            due = (
                select(OutboxDelivery.id)
                .join(OutboxMessage, col(OutboxMessage.id) == col(OutboxDelivery.message_id))
                .where(
                    OutboxDelivery.status == "pending",
                    col(OutboxDelivery.next_attempt_at) <= now,
                    or_(col(OutboxDelivery.leased_until).is_(None), col(OutboxDelivery.leased_until) <= now),
                )
                .order_by(col(OutboxMessage.occurred_at), col(OutboxDelivery.id))
                .limit(self.batch_size)
            )
            if self.db.is_postgres:
                due = due.with_for_update(skip_locked=True, of=OutboxDelivery)
            ids = list((await session.exec(due)).all())
            if not ids:
                await session.commit()
                return [], until
            await session.exec(
                update(OutboxDelivery).where(col(OutboxDelivery.id).in_(ids))
                .values(leased_until=until, lease_owner=self.owner)
            )
            rows = (await session.exec(
                select(OutboxDelivery, OutboxMessage)
                .join(OutboxMessage, col(OutboxMessage.id) == col(OutboxDelivery.message_id))
                .where(col(OutboxDelivery.id).in_(ids))
                .order_by(col(OutboxMessage.occurred_at), col(OutboxDelivery.id))
            )).all()
            claimed = [Claimed(d.id, m.id, m.event_type, d.subscriber, dict(m.payload)) for d, m in rows]
            await session.commit()
        return claimed, until

    async def release(self, delivery_ids: list[uuid.UUID]) -> None:
        """Give back leases this relay will not use (due again at once for any relay)."""
        self.held.difference_update(delivery_ids)
        async with self.db.sessions() as session:
            await session.exec(
                update(OutboxDelivery)
                .where(col(OutboxDelivery.id).in_(delivery_ids), col(OutboxDelivery.lease_owner) == self.owner)
                .values(leased_until=None, lease_owner=None)
            )
            await session.commit()

    async def send(self, item: Claimed) -> Outcome:
        """One signed POST. Called with no database transaction open."""
        body = json.dumps(item.payload, separators=(",", ":")).encode()
        headers = webhook_headers(self.secret, str(item.message_id), body)
        if tp := current_traceparent():
            headers["traceparent"] = tp
        check_no_transaction("an event subscriber")
        started = time.perf_counter()
        status_code: int | None = None
        error: str | None = None
        try:
            response = await self.client.post(item.subscriber, content=body, headers=headers)
            status_code = response.status_code
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        return Outcome(self.clock(), status_code, error, round((time.perf_counter() - started) * 1000, 2))

    async def record(self, item: Claimed, outcome: Outcome) -> None:
        """The attempt row and the delivery's new state, in one short transaction."""
        async with self.db.sessions() as session:
            stmt = select(OutboxDelivery).where(
                OutboxDelivery.id == item.delivery_id, OutboxDelivery.lease_owner == self.owner,
            ).execution_options(populate_existing=True)
            if self.db.is_postgres:
                stmt = stmt.with_for_update()
            delivery = (await session.exec(stmt)).first()
            session.add(DeliveryAttempt(
                delivery_id=item.delivery_id, attempted_at=outcome.attempted_at, status_code=outcome.status_code,
                error=outcome.error, duration_ms=outcome.duration_ms,
            ))
            if delivery is None:
                # Our lease ran out and another relay holds the row now: it decides the state.
                log.warning("delivery lease lost", extra={"delivery_id": str(item.delivery_id)})
                await session.commit()
                return
            self._apply(delivery, outcome, item.event_type)
            session.add(delivery)
            await session.commit()

    def _apply(self, delivery: OutboxDelivery, outcome: Outcome, event_type: str) -> None:
        now = outcome.attempted_at
        delivery.attempts += 1
        delivery.leased_until = delivery.lease_owner = None
        # After a replay the budget and the backoff start again; the attempt count keeps the history.
        tries = delivery.attempts - delivery.attempts_before_replay
        if outcome.error is None:
            delivery.status, delivery.delivered_at, delivery.last_error = "delivered", now, None
        elif tries >= self.max_attempts:
            delivery.status, delivery.last_error, delivery.dead_at = "dead", outcome.error, now
            log.warning("delivery dead-lettered", extra={"delivery_id": str(delivery.id), "event_type": event_type})
        else:
            delivery.last_error = outcome.error
            delivery.next_attempt_at = now + timedelta(seconds=backoff_seconds(tries, self.backoff_cap))

    async def run_forever(self, interval: float) -> None:
        """Relay until :meth:`shutdown`; a commit that wrote outbox rows wakes it at once."""
        woken = asyncio.Event()
        self._woken = woken
        _relay_wakers.add(woken.set)
        try:
            while not self.stopping.is_set():
                woken.clear()  # before the claim: a commit during the batch wakes the next wait
                try:
                    sent = await self.run_once()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # keep relaying after a transient database error
                    log.warning("relay batch failed", extra={"error_type": type(exc).__name__})
                    sent = 0
                if sent == 0 and not self.stopping.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(woken.wait(), interval)
        finally:
            _relay_wakers.discard(woken.set)

    async def shutdown(self, task: asyncio.Task[None], grace_seconds: float) -> None:
        """Stop relaying (SIGTERM): the send under way may finish and be recorded, within
        ``grace_seconds``; then every lease still held is given back, so another replica
        sends those deliveries at once instead of when the lease runs out.

        A send cut short may have reached the subscriber: it is sent again by the next
        relay, and the consumer ignores the repeat (same ``webhook-id``).
        """
        self.stopping.set()
        if self._woken is not None:
            self._woken.set()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), grace_seconds)
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.held:
            try:
                await self.release(sorted(self.held))
            except Exception as exc:  # the database is gone too: the leases run out instead
                log.warning("relay could not give back its leases", extra={"error_type": type(exc).__name__})


# --- Consuming -------------------------------------------------------------------

async def first_delivery(session: AsyncSession, webhook_id: str, event_type: str) -> bool:
    """Record the event id; False when it was applied before (a redelivery)."""
    try:
        async with session.begin_nested():
            session.add(InboxEvent(webhook_id=webhook_id, event_type=event_type))
    except IntegrityError:
        return False
    return True
