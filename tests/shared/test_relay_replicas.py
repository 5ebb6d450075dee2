"""Outbox relays in several replicas against one database: every event delivered exactly once,
no connection held while a relay waits on the subscriber, and a relay that shuts down (SIGTERM)
gives its leases back so another replica sends at once.

Each relay has a ``Database`` of its own (its own engine and connection pool), as a replica
would. Meant for PostgreSQL (``FOR UPDATE SKIP LOCKED``); on SQLite the claims are serialised
by ``BEGIN IMMEDIATE`` and the same guarantees hold.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, event
from sqlmodel import select
from starlette.types import Receive, Scope, Send

from services.referral.app import create_app as create_referral
from services.referral.settings import ReferralSettings
from shared.db import Database
from shared.events import OutboxRelay, emit
from shared.models import DeliveryAttempt, OutboxDelivery, OutboxMessage
from tests.gateway.stub import running, serve
from tests.support import WEBHOOK_SECRET, Keys, common_settings, create_database, drop_database

SUBSCRIBER = "http://consumer.test/v1/events"
#: Guards against a hang only; no assertion depends on time.
GUARD_SECONDS = 60


@pytest.fixture(scope="module")
async def url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    tmp: Path = tmp_path_factory.mktemp("relay-replicas")
    url = await create_database("referral", tmp)
    yield url
    await drop_database(url)


@pytest.fixture
async def replicas(url: str) -> AsyncIterator[list[Database]]:
    """Two databases handles on one database: two replicas' connection pools."""
    handles = [Database(url), Database(url)]
    yield handles
    async with handles[0].sessions() as session:
        for table in (DeliveryAttempt, OutboxDelivery, OutboxMessage):
            await session.exec(delete(table))  # type: ignore[call-overload]
        await session.commit()
    for handle in handles:
        await handle.dispose()


async def add_events(db: Database, count: int) -> set[str]:
    async with db.sessions() as session:
        messages = [await emit(session, [SUBSCRIBER], "test", "thing.happened", thing_id=uuid.uuid4())
                    for _ in range(count)]
        await session.commit()
    return {str(m.id) for m in messages}


def consumer(handler: Callable[[httpx.Request], Awaitable[None]]) -> httpx.AsyncClient:
    async def respond(request: httpx.Request) -> httpx.Response:
        await handler(request)
        return httpx.Response(204)
    return httpx.AsyncClient(transport=httpx.MockTransport(respond))


async def rows(db: Database) -> list[OutboxDelivery]:
    async with db.sessions() as session:
        return list((await session.exec(select(OutboxDelivery))).all())


async def test_two_relays_deliver_every_event_exactly_once(replicas: list[Database]) -> None:
    first_db, second_db = replicas
    events = await add_events(first_db, 30)
    received: Counter[str] = Counter()
    senders: Counter[str] = Counter()
    held_during_send: list[int] = []
    first_waits = asyncio.Event()
    both_sent = asyncio.Event()
    all_received = asyncio.Event()
    relays: list[OutboxRelay] = []
    checked_out: Counter[str] = Counter()

    async def handle(request: httpx.Request) -> None:
        webhook_id = request.headers["webhook-id"]
        sender = request.headers["x-relay"]
        relay = next(r for r in relays if r.owner == sender)
        # The sending replica holds no connection at all (so no transaction, no row lock).
        held_during_send.append(checked_out[relay.db.url + relay.owner])
        received[webhook_id] += 1
        senders[sender] += 1
        if sum(received.values()) >= len(events):
            all_received.set()
        if sender == relays[0].owner and not first_waits.is_set():
            # The first relay stalls on its first send, holding the rest of its batch, until
            # the second relay has sent: their batches must be disjoint.
            first_waits.set()
            await asyncio.wait_for(both_sent.wait(), GUARD_SECONDS)
        elif sender == relays[1].owner:
            both_sent.set()

    async with consumer(handle) as client:
        for name, db in (("relay-a", first_db), ("relay-b", second_db)):
            relay = OutboxRelay(db, WEBHOOK_SECRET, client, batch_size=4, owner=name)
            relays.append(relay)
            count_connections(db, checked_out, db.url + name)
        for relay in relays:
            relay.client = _tagged(client, relay.owner)
        tasks = [asyncio.create_task(r.run_forever(0.01)) for r in relays]

        try:
            await asyncio.wait_for(all_received.wait(), GUARD_SECONDS)
        finally:
            for relay, task in zip(relays, tasks, strict=True):
                await relay.shutdown(task, grace_seconds=GUARD_SECONDS)

    assert set(received) == events  # none lost
    assert all(n == 1 for n in received.values()), [k for k, n in received.items() if n > 1]  # none twice
    assert set(senders) == {"relay-a", "relay-b"}  # both replicas took part
    assert len(held_during_send) == len(events)
    assert set(held_during_send) == {0}
    assert not any(r.held for r in relays)
    delivered = await rows(second_db)
    assert {(r.status, r.attempts, r.lease_owner) for r in delivered} == {("delivered", 1, None)}
    async with second_db.sessions() as session:
        attempts = (await session.exec(select(DeliveryAttempt))).all()
    assert len(attempts) == len(events)


def count_connections(db: Database, counts: Counter[str], key: str) -> None:
    """Keep ``counts[key]`` at the number of connections ``db``'s pool has handed out."""

    def checkout(*_: Any) -> None:
        counts[key] += 1

    def checkin(*_: Any) -> None:
        counts[key] -= 1

    event.listen(db.engine.sync_engine, "checkout", checkout)
    event.listen(db.engine.sync_engine, "checkin", checkin)


def _tagged(client: httpx.AsyncClient, owner: str) -> httpx.AsyncClient:
    """The same consumer, told which relay is calling (by a header the test adds)."""
    transport = client._transport  # the MockTransport

    class Tagged(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            request.headers["x-relay"] = owner
            return await transport.handle_async_request(request)

    return httpx.AsyncClient(transport=Tagged())


async def test_a_relay_shutting_down_finishes_its_send_and_gives_back_the_rest(replicas: list[Database]) -> None:
    leaving_db, staying_db = replicas
    await add_events(leaving_db, 3)
    in_flight, finish = asyncio.Event(), asyncio.Event()
    sent: list[str] = []

    async def slow(request: httpx.Request) -> None:
        in_flight.set()
        await asyncio.wait_for(finish.wait(), GUARD_SECONDS)
        sent.append(request.headers["webhook-id"])

    async with consumer(slow) as client:
        leaving = OutboxRelay(leaving_db, WEBHOOK_SECRET, client, batch_size=10, lease_seconds=600)
        task = asyncio.create_task(leaving.run_forever(0.01))
        await asyncio.wait_for(in_flight.wait(), GUARD_SECONDS)
        assert len(leaving.held) == 3
        stopping = asyncio.create_task(leaving.shutdown(task, grace_seconds=GUARD_SECONDS))
        await asyncio.sleep(0)
        finish.set()  # the send under way completes...
        await stopping
    assert len(sent) == 1
    assert leaving.held == set()
    states = sorted((r.status, r.lease_owner) for r in await rows(staying_db))
    # ...it is recorded, and the two it never started are free for any relay now, not in 10 minutes.
    assert states == [("delivered", None), ("pending", None), ("pending", None)]

    async def quick(request: httpx.Request) -> None:
        sent.append(request.headers["webhook-id"])

    async with consumer(quick) as client:
        assert await OutboxRelay(staying_db, WEBHOOK_SECRET, client).run_once() == 2
    assert len(set(sent)) == 3


async def test_a_relay_stuck_past_its_grace_is_cut_short_and_its_leases_given_back(
    replicas: list[Database],
) -> None:
    leaving_db, staying_db = replicas
    await add_events(leaving_db, 2)
    in_flight, never = asyncio.Event(), asyncio.Event()

    async def stuck(request: httpx.Request) -> None:
        in_flight.set()
        await never.wait()

    async with consumer(stuck) as client:
        leaving = OutboxRelay(leaving_db, WEBHOOK_SECRET, client, lease_seconds=600)
        task = asyncio.create_task(leaving.run_forever(0.01))
        await asyncio.wait_for(in_flight.wait(), GUARD_SECONDS)
        await leaving.shutdown(task, grace_seconds=0)
    assert task.cancelled()
    assert {(r.status, r.lease_owner, r.leased_until) for r in await rows(staying_db)} == {("pending", None, None)}
    async with consumer(lambda request: asyncio.sleep(0)) as client:
        # Both due again at once: the cut-short one is sent again (the consumer ignores a repeat).
        assert await OutboxRelay(staying_db, WEBHOOK_SECRET, client).run_once() == 2
    assert {r.status for r in await rows(staying_db)} == {"delivered"}


async def test_rows_of_the_database_are_claimed_by_one_relay_at_a_time(replicas: list[Database]) -> None:
    """Both relays claiming at the same moment split the due rows between them."""
    first_db, second_db = replicas
    await add_events(first_db, 6)
    async with consumer(lambda request: asyncio.sleep(0)) as client:
        relays = [OutboxRelay(db, WEBHOOK_SECRET, client, batch_size=4) for db in (first_db, second_db)]
        (a, _), (b, _) = await asyncio.gather(*(r.claim() for r in relays))
    ids_a, ids_b = {c.delivery_id for c in a}, {c.delivery_id for c in b}
    assert not ids_a & ids_b
    assert len(ids_a | ids_b) == 6
    owners = {r.id: r.lease_owner for r in await rows(first_db)}
    assert all(owners[i] == relays[0].owner for i in ids_a)
    assert all(owners[i] == relays[1].owner for i in ids_b)


async def test_a_service_shutting_down_gives_back_its_relays_leases(
    replicas: list[Database], url: str, keys: Keys,
) -> None:
    """The service's lifespan (what uvicorn runs after SIGTERM) stops the relay the same way."""
    db = replicas[0]
    in_flight = asyncio.Event()

    async def subscriber(scope: Scope, receive: Receive, send: Send) -> None:
        in_flight.set()
        # The send completes only once the shutdown has begun.
        await asyncio.wait_for(app.state.relay.stopping.wait(), GUARD_SECONDS)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async with serve(subscriber) as events_url:
        settings = ReferralSettings(**{**common_settings(keys, url), "relay_enabled": True,  # type: ignore[arg-type]
                                       "outbox_subscribers": [events_url + "/v1/events"],
                                       "outbox_poll_seconds": 0.05, "outbox_lease_seconds": 600})
        app = create_referral(settings)
        async with db.sessions() as session:
            for _ in range(3):
                await emit(session, settings.outbox_subscribers, "referral", "thing.happened", thing_id=uuid.uuid4())
            await session.commit()
        async with running(app):
            await asyncio.wait_for(in_flight.wait(), GUARD_SECONDS)
        assert app.state.relay.held == set()
    states = sorted((r.status, r.lease_owner) for r in await rows(db))
    assert states == [("delivered", None), ("pending", None), ("pending", None)]
