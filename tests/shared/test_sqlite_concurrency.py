"""Concurrent writers on the embedded database: queued, never a 500.

These apps commit for real (no rolled-back outer transaction), each on a database of its own.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.referral.app import create_app as create_referral
from services.referral.settings import ReferralSettings
from tests.referral.factories import child_body, make_agency
from tests.support import Keys, TokenFor, common_settings, create_database, drop_database

WRITERS = 32
ROUNDS = 4


@pytest.fixture
async def committing_referral(keys: Keys, tmp_path: Path) -> AsyncIterator[FastAPI]:
    url = await create_database("referral", tmp_path)
    app = create_referral(ReferralSettings(**common_settings(keys, url)))  # type: ignore[arg-type]
    yield app
    await app.state.db.dispose()
    await drop_database(url)


async def test_32_concurrent_writers_get_no_server_error(committing_referral: FastAPI, token_for: TokenFor) -> None:
    transport = httpx.ASGITransport(app=committing_referral)
    async with httpx.AsyncClient(transport=transport, base_url="http://referral") as client:
        agency = await make_agency(client, token_for, "school")
        headers = token_for(uuid.UUID(agency["id"]), "referral:write", "referral:read")

        async def writer(n: int) -> list[int]:
            statuses = []
            for round_ in range(ROUNDS):
                r = await client.post("/v1/children", json=child_body(external_ref=f"W{n}-{round_}"), headers=headers)
                statuses.append(r.status_code)
                r = await client.get(f"/v1/children?external_ref=W{n}-{round_}", headers=headers)
                statuses.append(r.status_code)
            return statuses

        results = await asyncio.gather(*(writer(n) for n in range(WRITERS)))
        statuses = Counter(s for statuses in results for s in statuses)
        assert statuses == {201: WRITERS * ROUNDS, 200: WRITERS * ROUNDS}

        listed = await client.get("/v1/children?limit=200", headers=headers)
        assert listed.status_code == 200
