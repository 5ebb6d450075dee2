"""Signed events, as another service's outbox relay sends them."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from shared.events import webhook_headers
from tests.support import WEBHOOK_SECRET, TokenFor

READER = uuid.UUID("00000000-0000-4000-8000-0000000000b1")


def event(event_type: str = "child.registered", **data: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "source": "referral",
        "occurred_at": datetime.now(UTC).isoformat(),
        "version": 1,
        "data": data or {"child_id": str(uuid.uuid4()), "agency_id": str(uuid.uuid4()), "unborn": False},
    }


def signed(payload: dict[str, Any] | bytes, *, webhook_id: str | None = None, secret: str = WEBHOOK_SECRET,
           now: int | None = None) -> tuple[bytes, dict[str, str]]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":")).encode()
    if webhook_id is None:
        webhook_id = payload["id"] if isinstance(payload, dict) else str(uuid.uuid4())
    return body, webhook_headers(secret, webhook_id, body, now=now)


async def send(client: httpx.AsyncClient, payload: dict[str, Any] | bytes, **kw: Any) -> httpx.Response:
    body, headers = signed(payload, **kw)
    return await client.post("/v1/events", content=body, headers=headers)


async def summary(client: httpx.AsyncClient, token_for: TokenFor) -> dict[str, Any]:
    r = await client.get("/v1/dashboard/summary", headers=token_for(READER, "reporting:read"))
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result
