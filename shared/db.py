"""Async database engine and the one-transaction-per-request session.

SQLite is the embedded default (foreign keys enforced, real transactions with
savepoints); PostgreSQL in CI and production. Timestamps are timezone-aware
UTC on both and round-trip as such.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import DateTime, MetaData, Table, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator
from sqlmodel.ext.asyncio.session import AsyncSession


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


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    url = to_async_url(url)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, poolclass=NullPool if ":memory:" not in url else None)
        _sqlite_hooks(engine)
        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _sqlite_hooks(engine: AsyncEngine) -> None:
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
    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


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


async def release_read_snapshot(session: AsyncSession) -> None:
    """End a transaction that has only read, before waiting on another service.

    On SQLite a request that keeps its read snapshot while another service calls back into
    this one (which then commits an audit row) can no longer write: the upgrade fails with
    "database is locked". Ending a read-only transaction loses nothing; a transaction that
    has written is left alone, so one request's writes stay in one transaction.
    """
    if session.bind is None or session.bind.dialect.name != "sqlite":
        return
    if session.info.get("wrote") or session.new or session.dirty or session.deleted:
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


async def end_read_transaction(session: AsyncSession) -> None:
    """End the session's transaction before calling another service over HTTP, on every database.

    No network call waits inside an open transaction: it would hold a snapshot, and locks or
    (SQLite) the write lock, for as long as the other service takes. Only a transaction that
    has not written may be ended here (ending it loses nothing); one that has written is a
    programming error, because a request's writes belong to one transaction: gather what
    other services know before the first write.
    """
    if not session.in_transaction():
        return
    if session.info.get("wrote") or session.new or session.dirty or session.deleted:
        raise RuntimeError("call other services before the request's first write, not inside its transaction")
    await session.commit()
