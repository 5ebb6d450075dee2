"""The token endpoint under pressure: rate limits per client id and per address (failed attempts
count), and the slow secret check kept outside any database transaction."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from services.gateway.app import Gateway
from services.gateway.domain import clients as clients_domain
from tests.gateway.conftest import GATEWAY, MakeGateway
from tests.gateway.factories import make_client

PROBLEM = "application/problem+json"
GRANT = {"grant_type": "client_credentials"}


def _client(app: Gateway, address: str = "192.0.2.10") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url=GATEWAY)


def _assert_limited(r: httpx.Response) -> None:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["type"].endswith("/token-rate-limited")
    assert 1 <= int(r.headers["retry-after"]) <= 60


async def test_failed_attempts_count_towards_the_clients_limit(make_gateway: MakeGateway) -> None:
    app = await make_gateway({}, token_rate_limit_per_client=3, token_rate_limit_per_address=0)
    partner = await make_client(app)
    wrong = partner.secret[:-1] + ("A" if partner.secret[-1] != "A" else "B")
    async with _client(app) as gateway:
        guesses = [(await gateway.post("/oauth/token", data=GRANT, headers=partner.basic(wrong))).status_code
                   for _ in range(3)]
        # The right secret now waits too: guessing used up the allowance.
        right = await gateway.post("/oauth/token", data=GRANT, headers=partner.basic())
        other = await make_client(app)
        unaffected = await gateway.post("/oauth/token", data=GRANT, headers=other.basic())
    assert guesses == [401, 401, 401]
    _assert_limited(right)
    assert partner.secret not in right.text
    assert unaffected.status_code == 200


async def test_one_address_is_limited_across_client_ids(make_gateway: MakeGateway) -> None:
    app = await make_gateway({}, token_rate_limit_per_client=0, token_rate_limit_per_address=2)
    partner = await make_client(app)
    async with _client(app, "198.51.100.7") as noisy, _client(app, "198.51.100.8") as quiet:
        # Malformed and unknown credentials count as much as good ones.
        first = await noisy.post("/oauth/token", data=GRANT)
        second = await noisy.post("/oauth/token", data=GRANT, auth=(f"guess-{uuid.uuid4().hex[:6]}", "x" * 43))
        third = await noisy.post("/oauth/token", data=GRANT, headers=partner.basic())
        elsewhere = await quiet.post("/oauth/token", data=GRANT, headers=partner.basic())
    assert (first.status_code, second.status_code) == (401, 401)
    _assert_limited(third)
    assert elsewhere.status_code == 200


async def test_an_address_turned_away_does_not_spend_the_clients_allowance(make_gateway: MakeGateway) -> None:
    app = await make_gateway({}, token_rate_limit_per_client=2, token_rate_limit_per_address=1)
    partner = await make_client(app)
    async with _client(app, "203.0.113.1") as attacker, _client(app, "203.0.113.2") as partner_system:
        await attacker.post("/oauth/token", data=GRANT, headers=partner.basic("x" * 43))
        for _ in range(3):
            _assert_limited(await attacker.post("/oauth/token", data=GRANT, headers=partner.basic("x" * 43)))
        ok = await partner_system.post("/oauth/token", data=GRANT, headers=partner.basic())
    assert ok.status_code == 200, ok.text


async def test_the_secret_is_checked_outside_any_transaction(
    make_gateway: MakeGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While scrypt runs, another connection can take the write lock (SQLite) and the request
    holds no connection in a transaction (PostgreSQL)."""
    app = await make_gateway({})
    partner = await make_client(app)
    db = app.state.db
    seen: list[Any] = []
    real_verify = clients_domain.verify_secret  # type: ignore[attr-defined]

    async def probe() -> Any:
        async with db.engine.connect() as conn:
            if db.is_postgres:
                return (await conn.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"))).scalar_one()
            try:
                # Every transaction begins IMMEDIATE (shared/db.py): it fails while the request holds the write lock.
                await conn.execute(text("SELECT 1"))
                await conn.rollback()
            except OperationalError:
                return "database is locked"
            return 0

    def verify(secret: str, stored: str) -> bool:
        seen.append(asyncio.run_coroutine_threadsafe(probe(), loop).result(timeout=30))
        return real_verify(secret, stored)

    loop = asyncio.get_running_loop()
    monkeypatch.setattr(clients_domain, "verify_secret", verify)
    async with _client(app) as gateway:
        r = await gateway.post("/oauth/token", data=GRANT, headers=partner.basic())
    assert r.status_code == 200, r.text
    assert seen == [0]


async def test_sixteen_concurrent_token_requests_all_succeed(make_gateway: MakeGateway) -> None:
    app = await make_gateway({})
    partners = [await make_client(app) for _ in range(4)]
    async with _client(app) as gateway:
        answers = await asyncio.gather(*(
            gateway.post("/oauth/token", data=GRANT, headers=partners[n % 4].basic()) for n in range(16)))
    assert [a.status_code for a in answers] == [200] * 16
