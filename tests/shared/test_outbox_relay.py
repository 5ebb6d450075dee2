"""The outbox relay: no transaction open while it waits on a subscriber, leases that make
several relays (replicas) safe and a crashed relay harmless, and a retry horizon of hours.

These tests use a database of their own, committed for real (not the rolled-back test
transaction of the other tests), so that other connections see what the relay committed.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.db import Database
from shared.events import OutboxRelay, backoff_seconds, emit, retry_horizon
from shared.models import DeliveryAttempt, OutboxDelivery, OutboxMessage
from shared.settings import ServiceSettings
from tests.support import WEBHOOK_SECRET, Clock, create_database, drop_database

SUBSCRIBER = "http://consumer.test/v1/events"


@pytest.fixture(scope="module")
async def db(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Database]:
    tmp: Path = tmp_path_factory.mktemp("relay")
    url = await create_database("referral", tmp)
    database = Database(url)
    yield database
    await database.dispose()
    await drop_database(url)


@pytest.fixture(autouse=True)
async def empty_outbox(db: Database) -> AsyncIterator[None]:
    yield
    async with db.sessions() as session:
        for table in (DeliveryAttempt, OutboxDelivery, OutboxMessage):
            await session.exec(delete(table))  # type: ignore[call-overload]
        await session.commit()


async def add_events(db: Database, count: int) -> list[uuid.UUID]:
    async with db.sessions() as session:
        messages = [await emit(session, [SUBSCRIBER], "test", "thing.happened", thing_id=uuid.uuid4())
                    for _ in range(count)]
        await session.commit()
    async with db.sessions() as session:
        rows = (await session.exec(
            select(OutboxDelivery.id).where(col(OutboxDelivery.message_id).in_([m.id for m in messages]))
        )).all()
    return list(rows)


async def deliveries(db: Database) -> list[OutboxDelivery]:
    async with db.sessions() as session:
        return list((await session.exec(select(OutboxDelivery))).all())


def consumer(check: Callable[[httpx.Request], Any] | None = None, status: int = 204) -> httpx.AsyncClient:
    async def handler(request: httpx.Request) -> httpx.Response:
        if check is not None:
            await check(request)
        return httpx.Response(status)
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


def tracked(db: Database) -> list[AsyncSession]:
    """Every session the relay opens from now on, to look at while it sends."""
    made: list[AsyncSession] = []
    factory = db.sessions

    def sessions(*args: Any, **kwargs: Any) -> AsyncSession:
        session = factory(*args, **kwargs)
        made.append(session)
        return session

    db.sessions = sessions  # type: ignore[assignment]
    return made


async def test_the_relay_sends_with_no_transaction_open(db: Database) -> None:
    [delivery_id] = await add_events(db, 1)
    original = db.sessions
    made = tracked(db)
    seen: list[str | None] = []

    async def check(request: httpx.Request) -> None:
        assert made, "the claim ran in a session"
        assert not any(s.in_transaction() for s in made), "a relay session has a transaction open during the send"
        # Another connection may lock and write the row at once: the claim committed and
        # released it. SQLite: a write lock held by the relay would fail this after busy_timeout;
        # PostgreSQL: NOWAIT fails at once on a row lock.
        async with db.engine.connect() as other:
            owner = (await other.execute(
                select(OutboxDelivery.lease_owner).where(OutboxDelivery.id == delivery_id).with_for_update(nowait=True)
            )).scalar_one()
            await other.execute(update(OutboxDelivery).where(col(OutboxDelivery.id) == delivery_id)
                                .values(lease_owner=OutboxDelivery.lease_owner))
            await other.rollback()
        seen.append(owner)

    try:
        async with consumer(check) as client:
            relay = OutboxRelay(db, WEBHOOK_SECRET, client)
            assert await relay.run_once() == 1
    finally:
        db.sessions = original  # type: ignore[method-assign]
    assert seen == [relay.owner]  # the lease was committed before the send
    [row] = await deliveries(db)
    assert (row.status, row.attempts, row.leased_until, row.lease_owner) == ("delivered", 1, None, None)


async def test_a_relay_that_dies_leaves_its_rows_to_another_once_the_lease_runs_out(db: Database) -> None:
    await add_events(db, 2)
    clock = Clock()
    sent: list[str] = []

    async def check(request: httpx.Request) -> None:
        sent.append(request.headers["webhook-id"])

    async with consumer(check) as client:
        crashed = OutboxRelay(db, WEBHOOK_SECRET, client, clock=clock, lease_seconds=60)
        claimed, _ = await crashed.claim()  # ... and the process dies before sending
        assert len(claimed) == 2
        other = OutboxRelay(db, WEBHOOK_SECRET, client, clock=clock, lease_seconds=60)
        assert await other.run_once() == 0  # leased: not another relay's to send
        clock.advance(61)
        assert await other.run_once() == 2
        assert sorted(sent) == sorted(str(c.message_id) for c in claimed)

        # The first relay wakes up late and reports a result: the row stays the other's.
        late = await crashed.send(claimed[0])
        await crashed.record(claimed[0], late)
    rows = await deliveries(db)
    assert {(r.status, r.attempts, r.lease_owner) for r in rows} == {("delivered", 1, None)}
    async with db.sessions() as session:
        attempts = (await session.exec(select(DeliveryAttempt))).all()
    assert len(attempts) == 3  # every attempt is recorded, even the late one


async def test_relays_in_several_replicas_claim_disjoint_batches(db: Database) -> None:
    ids = await add_events(db, 5)
    async with consumer() as client:
        relays = [OutboxRelay(db, WEBHOOK_SECRET, client, batch_size=2) for _ in range(4)]
        batches = [[c.delivery_id for c in (await r.claim())[0]] for r in relays]
    assert [len(b) for b in batches] == [2, 2, 1, 0]
    assert sorted(i for b in batches for i in b) == sorted(ids)
    owners = {r.id: r.lease_owner for r in await deliveries(db)}
    for relay, batch in zip(relays, batches, strict=True):
        assert all(owners[i] == relay.owner for i in batch)


async def test_a_row_locked_by_another_relays_claim_is_skipped_not_waited_for(db: Database) -> None:
    """PostgreSQL: FOR UPDATE SKIP LOCKED. A relay whose claim transaction holds a row (it has
    not committed its lease yet) does not make the next relay wait."""
    if not db.is_postgres:
        pytest.skip("SQLite serialises claims with BEGIN IMMEDIATE; row locks are PostgreSQL's")
    ids = await add_events(db, 3)
    async with db.engine.connect() as first:
        locked = (await first.execute(
            select(OutboxDelivery.id).where(OutboxDelivery.id == ids[0]).with_for_update()
        )).scalar_one()
        async with consumer() as client:
            claimed, _ = await OutboxRelay(db, WEBHOOK_SECRET, client).claim()
        await first.rollback()
    assert sorted(c.delivery_id for c in claimed) == sorted(ids[1:])
    assert locked not in [c.delivery_id for c in claimed]


async def test_a_relay_gives_back_what_it_cannot_send_before_its_lease_ends(db: Database) -> None:
    await add_events(db, 3)
    clock = Clock()

    async def slow(request: httpx.Request) -> None:
        clock.advance(100)  # the first send takes most of the lease

    async with consumer(slow) as client:
        relay = OutboxRelay(db, WEBHOOK_SECRET, client, clock=clock, lease_seconds=120)
        assert await relay.run_once() == 1
    rows = await deliveries(db)
    assert sorted(r.status for r in rows) == ["delivered", "pending", "pending"]
    assert all(r.lease_owner is None and r.leased_until is None for r in rows)
    async with consumer() as client:  # given back: another relay takes them at once
        assert await OutboxRelay(db, WEBHOOK_SECRET, client, clock=clock).run_once() == 2


def test_the_default_retry_horizon_is_about_a_day() -> None:
    settings = ServiceSettings()
    shortest, typical, longest = retry_horizon(settings.outbox_max_attempts, settings.outbox_backoff_cap_seconds)
    hour = 3600
    assert 20 * hour <= typical <= 28 * hour
    assert shortest >= 12 * hour  # an outage of half a day never dead-letters an event
    assert longest <= 36 * hour
    assert all(backoff_seconds(n, settings.outbox_backoff_cap_seconds) <= settings.outbox_backoff_cap_seconds
               for n in range(1, 100))
    # The old default (8 attempts, 1-2 minutes in all) lost events in a 150 s outage.
    assert retry_horizon(8, 300)[0] < 150
