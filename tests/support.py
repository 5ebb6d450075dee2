"""Test support shared by every service's tests: databases, keys, isolated clients."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncTransaction, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.db import Database, utcnow
from shared.migrate import upgrade
from shared.tokens import TokenSigner, generate_private_pem

BACKEND = os.environ.get("TEST_DB", "sqlite")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
ISSUER = "https://gateway.test"
AUDIENCE = "neglect-backbone"
WEBHOOK_SECRET = "test-webhook-secret-" + uuid.uuid4().hex

TokenFor = Callable[..., dict[str, str]]


class Clock:
    """A clock tests move by hand (the outbox relay takes one)."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _pg_admin_dsn() -> str:
    return POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")


def _pg_url_for(name: str) -> str:
    base, _, _ = _pg_admin_dsn().rpartition("/")
    return f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)


async def create_database(service: str, tmp_dir: Path, revision: str = "head") -> str:
    """A fresh database for one service, built by running its migrations (up to ``revision``)."""
    if BACKEND == "postgres":
        name = f"nbt_{service}_{uuid.uuid4().hex[:10]}"
        conn = await asyncpg.connect(_pg_admin_dsn())
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        url = _pg_url_for(name)
    else:
        url = f"sqlite+aiosqlite:///{tmp_dir / (service + '.db')}"
    await asyncio.to_thread(upgrade, service, url, revision)
    return url


async def drop_database(url: str) -> None:
    if BACKEND != "postgres":
        return
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(_pg_admin_dsn())
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


class Keys:
    """A real signing key for tests; tokens are verified exactly as in production."""

    def __init__(self) -> None:
        self.signer = TokenSigner([generate_private_pem()])

    def jwks_json(self) -> str:
        import json

        return json.dumps(self.signer.jwks())

    def token(self, agency_id: uuid.UUID, *scopes: str, client_id: str = "test-client", ttl: int = 300,
              acting_user: str | None = None) -> str:
        return self.signer.issue(issuer=ISSUER, audience=AUDIENCE, subject=client_id, agency_id=agency_id,
                                 scopes=scopes, ttl_seconds=ttl, acting_user=acting_user)

    def headers(self, agency_id: uuid.UUID, *scopes: str, **kw: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(agency_id, *scopes, **kw)}"}  # type: ignore[arg-type]


def common_settings(keys: Keys, url: str) -> dict[str, object]:
    return {
        "environment": "test",
        "database_url": url,
        "token_issuer": ISSUER,
        "token_audience": AUDIENCE,
        "jwks_json": keys.jwks_json(),
        "webhook_secret": WEBHOOK_SECRET,
        "relay_enabled": False,
    }


async def _begin(connection: AsyncConnection) -> AsyncTransaction:
    return await connection.begin()


@asynccontextmanager
async def isolated(app: FastAPI, base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on ``app`` whose every write is rolled back at the end.

    The test's outer transaction is never committed; the app's per-request
    session joins it through a savepoint, so commits inside requests work.
    """
    db: Database = app.state.db
    original = db.sessions
    async with db.engine.connect() as connection:
        # Begun in a task of its own: the outer transaction is the test's, not the requests'
        # (which run in the test's task and join it through savepoints), so the guard against
        # network calls inside a transaction sees each request's own savepoint only.
        outer = await asyncio.create_task(_begin(connection))
        db.sessions = async_sessionmaker(
            bind=connection, class_=AsyncSession, expire_on_commit=False,
            join_transaction_mode="create_savepoint",
        )
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
                yield client
        finally:
            db.sessions = original
            await outer.rollback()
