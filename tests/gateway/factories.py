"""Clients registered the way the demo-data seeder does it."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from services.gateway.app import Gateway
from services.gateway.clients import generate_secret, register_client


@dataclass(frozen=True)
class Registered:
    client_id: str
    secret: str
    agency_id: uuid.UUID

    def basic(self, secret: str | None = None) -> dict[str, str]:
        raw = f"{self.client_id}:{self.secret if secret is None else secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


async def make_client(
    app: Gateway, scopes: Iterable[str] = ("referral:read", "referral:write"), *, active: bool = True,
    agency_id: uuid.UUID | None = None,
) -> Registered:
    client_id, secret, agency_id = f"test-{uuid.uuid4().hex[:12]}", generate_secret(), agency_id or uuid.uuid4()
    async with app.state.db.sessions() as session:
        client = await register_client(session, client_id, secret, agency_id, scopes, "Test partner system")
        client.active = active
        await session.commit()
    return Registered(client_id, secret, agency_id)
