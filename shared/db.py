"""Async database engine and the one-transaction-per-request session.

SQLite is the embedded default (foreign keys enforced, real transactions with
savepoints); PostgreSQL in CI and production. Timestamps are timezone-aware
UTC on both and round-trip as such.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import DateTime, MetaData, Table, event, text
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import await_only
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.errors import ServiceUnavailable

log = logging.getLogger("shared.db")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is stored and returned as an aware UTC datetime.

    SQLite has no time zones: values are normalised to UTC on the way in and
    get their tzinfo back on the way out, so comparisons never mix naive and
    aware values.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def to_async_url(url: str) -> str:
    """Accept plain ``postgresql://`` and ``sqlite:///`` URLs and pick the async driver."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url.split(":///", 1)[1]
    return url


# --- Who holds a transaction ------------------------------------------------------
# Each open transaction or savepoint, per connection, with the asyncio task that began it.
# The network guard (shared/http.py) asks whether the current task holds one: a call to
# another service made while holding a transaction keeps locks (and, on SQLite, the whole
# database) while waiting on the network, and deadlocks when that service calls back.
_open: dict[int, list[asyncio.Task[Any] | None]] = defaultdict(list)


def _task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


def holds_transaction() -> bool:
    """True when the running task has begun a database transaction it has not ended."""
    task = _task()
    return task is not None and any(task in owners for owners in _open.values())


class TransactionHeldDuringCall(RuntimeError):
    """A call over the network was about to start while this task held a database transaction."""


_guard = {"strict": True}


def strict_network_guard(strict: bool) -> None:
    """Raise (dev, test) or only log (prod) when a network call starts inside a transaction."""
    _guard["strict"] = strict


def check_no_transaction(call: str) -> None:
    """Call before any request to another service: no locks are held while we wait on it."""
    if not holds_transaction():
        return
    if _guard["strict"]:
        raise TransactionHeldDuringCall(f"{call} was called inside an open database transaction")
    log.error("network call inside a database transaction", extra={"call": call})


def _track_transactions(engine: AsyncEngine) -> None:
    sync = engine.sync_engine

    def _began(conn: Connection, *_: Any) -> None:
        _open[id(conn)].append(_task())

    def _released(conn: Connection, *_: Any) -> None:
        owners = _open.get(id(conn))
        if owners:
            owners.pop()

    def _ended(conn: Connection) -> None:
        _open.pop(id(conn), None)

    event.listen(sync, "begin", _began)
    event.listen(sync, "savepoint", _began)
    event.listen(sync, "release_savepoint", _released)
    event.listen(sync, "rollback_savepoint", _released)
    event.listen(sync, "commit", _ended)
    event.listen(sync, "rollback", _ended)


def make_engine(url: str, *, pool_size: int = 10, write_wait_seconds: float = 30.0) -> AsyncEngine:
    url = to_async_url(url)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, poolclass=NullPool if ":memory:" not in url else None)
        _sqlite_hooks(engine, WriteGate(write_wait_seconds))
    else:
        engine = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size)
        _ping_on_checkout(engine)
    _track_transactions(engine)
    return engine


def _ping_on_checkout(engine: AsyncEngine) -> None:
    """``pool_pre_ping`` in one round trip: every connection taken from the pool is checked
    first, and a dead one (the database restarted) is replaced before the request uses it.

    SQLAlchemy's own pre-ping for asyncpg opens a transaction around the ping and rolls it
    back (for pgbouncer's transaction mode, which this service does not sit behind): three
    round trips per request, about a tenth of a child read's time under load
    (docs/benchmarks.md). This is SQLAlchemy's documented pessimistic-disconnect recipe:
    raising ``DisconnectionError`` in ``checkout`` makes the pool discard the connection and
    try another (up to three times; a database that is down fails the checkout as before).
    """

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        try:
            await_only(dbapi_connection.driver_connection.fetchrow(";"))
        except Exception as exc:
            raise DisconnectionError("the pooled connection did not answer its ping") from exc


class WriteGate:
    """One SQLite transaction at a time per process, queued first come, first served.

    SQLite has one writer, and every transaction here begins IMMEDIATE (see below). Left to
    SQLite, waiting transactions poll the lock with growing sleeps and give up after the busy
    timeout: under 32 concurrent writers some waited over five seconds and failed with
    "database is locked". Queueing on an asyncio lock is fair, wakes the next transaction as
    soon as the lock is free, and leaves the busy timeout for other processes (the CLI).
    """

    def __init__(self, wait_seconds: float) -> None:
        self.wait_seconds = wait_seconds
        self.lock = asyncio.Lock()
        self.owner: asyncio.Task[Any] | None = None
        self.holder: int | None = None  # id() of the connection whose transaction holds the gate

    async def acquire(self, connection: int) -> None:
        task = _task()
        if self.owner is not None and self.owner.done():
            # Its task ended without our commit or rollback event (a dropped connection).
            self.release(self.holder)
        if task is not None and task is self.owner:
            # A second session in the same task would wait on itself for ever.
            raise RuntimeError("this task already holds a SQLite transaction")
        try:
            await asyncio.wait_for(self.lock.acquire(), self.wait_seconds)
        except TimeoutError as exc:
            log.warning("sqlite write gate timed out", extra={"wait_seconds": self.wait_seconds})
            busy = ServiceUnavailable("The database is busy; try again shortly.")
            busy.headers["Retry-After"] = "1"
            raise busy from exc
        self.owner, self.holder = task, connection

    def release(self, connection: int | None) -> None:
        # Only the holder's end releases: a rollback after a failed COMMIT ends the same
        # transaction a second time, when another may already hold the gate.
        if self.lock.locked() and connection == self.holder:
            self.owner = self.holder = None
            self.lock.release()


def _sqlite_hooks(engine: AsyncEngine, gate: WriteGate) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT and defers BEGIN;
    # the documented recipe hands transaction control back to SQLAlchemy.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    # IMMEDIATE: take the write lock when the transaction starts. A deferred transaction that
    # has read and then writes fails at once ("database is locked") if another connection
    # committed in between, and nearly every request writes (its audit row) after reading.
    # This process's gate is taken first, so its transactions queue there rather than on the
    # busy timeout. Events run inside SQLAlchemy's greenlet, where await_only() may wait.
    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        await_only(gate.acquire(id(conn)))
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            gate.release(id(conn))
            raise

    def _on_end(conn: Any) -> None:
        gate.release(id(conn))

    event.listen(engine.sync_engine, "commit", _on_end)
    event.listen(engine.sync_engine, "rollback", _on_end)


class Database:
    """The engine and session factory of one service."""

    def __init__(self, url: str) -> None:
        self.url = to_async_url(url)
        self.engine = make_engine(self.url)
        self.sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    async def ping(self) -> None:
        async with self.sessions() as session:
            await session.exec(text("SELECT 1"))  # type: ignore[call-overload]

    async def dispose(self) -> None:
        await self.engine.dispose()


@event.listens_for(Session, "after_flush")
def _note_write(session: Session, _context: Any) -> None:
    session.info["wrote"] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_write(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        session.info.pop("wrote", None)


async def end_read_transaction(session: AsyncSession) -> None:
    """End a transaction that has only read, before calling another service over HTTP.

    No transaction stays open over the network (``check_no_transaction``): on SQLite it would
    hold the database's write lock (every transaction begins IMMEDIATE) and deadlock when the
    other service calls back into this one; on PostgreSQL it would hold its snapshot and any
    row locks. Ending a read-only transaction loses nothing, but rows read before it must be
    read again (with their lock) before they are changed. A transaction that has written is
    left open, so one request's writes stay in one transaction, and the guard then reports the
    call: such code must gather what it needs from other services before its first write.
    """
    if not session.in_transaction():
        return
    # "audit_rows", "outbox_rows": audit and outbox rows recorded and not yet written (shared.audit,
    # shared.events) count as a write.
    if session.info.get("wrote") or session.info.get("audit_rows") or session.info.get("outbox_rows") \
            or session.new or session.dirty or session.deleted:
        return
    await session.commit()


def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: commit after the handler, roll back on any error.

    Declared with ``scope="function"`` so the commit happens before the response
    is sent: a failed commit becomes an error response, never a lost write.
    """
    db = get_database(request)
    async with db.sessions() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def service_metadata(tables: Iterable[Table]) -> MetaData:
    """A MetaData holding only one service's tables (for its Alembic history)."""
    metadata = MetaData()
    for table in tables:
        table.to_metadata(metadata)
    return metadata
