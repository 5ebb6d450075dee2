"""Registering clients from code, as the demo seeder and operators do."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest

from services.gateway.app import Gateway
from services.gateway.clients import ensure_demo_clients, generate_secret, register_client
from services.gateway.domain.errors import DuplicateClient
from services.gateway.models import METADATA, ApiClient
from services.gateway.settings import GatewaySettings
from shared.migrate import schema_drift
from tests.gateway.conftest import GATEWAY

GRANT = {"grant_type": "client_credentials"}


@pytest.mark.parametrize(("client_id", "secret", "scopes", "message"), [
    ("ok-client", "short", ["referral:read"], "secrets must be"),
    ("ok-client", generate_secret(), ["referral:read", "everything"], "unknown scope"),
    ("has spaces", generate_secret(), ["referral:read"], "client ids"),
])
async def test_bad_registrations_are_refused(
    gateway: httpx.AsyncClient, gateway_app: Gateway, client_id: str, secret: str, scopes: list[str], message: str
) -> None:
    async with gateway_app.state.db.sessions() as session:
        with pytest.raises(ValueError, match=message):
            await register_client(session, client_id, secret, uuid.uuid4(), scopes, "x")


async def test_secret_is_stored_hashed_and_client_ids_are_unique(
    gateway: httpx.AsyncClient, gateway_app: Gateway
) -> None:
    secret = generate_secret()
    async with gateway_app.state.db.sessions() as session:
        client = await register_client(session, "unique-client", secret, uuid.uuid4(), ["admin"], "Admin")
        await session.commit()
        assert isinstance(client, ApiClient)
        assert secret not in client.secret_hash
        with pytest.raises(DuplicateClient):
            await register_client(session, "unique-client", generate_secret(), uuid.uuid4(), ["admin"], "Again")


async def test_demo_clients_get_working_secrets_and_a_rerun_replaces_them(
    gateway_app: Gateway, gateway_settings: Callable[..., GatewaySettings]
) -> None:
    # Committed, like the seeder's: a client outside any rolled-back test transaction.
    client_id, agency = f"demo-{uuid.uuid4().hex[:8]}", uuid.uuid4()
    wanted = [(client_id, "Demo police", agency, ["referral:write", "referral:read"])]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway_app), base_url=GATEWAY) as gateway:
        [(cid, first, agency_id, name, scopes)] = await ensure_demo_clients(gateway_settings(), wanted)
        assert (cid, agency_id, name, scopes) == (client_id, agency, "Demo police", ["referral:read", "referral:write"])
        ok = await gateway.post("/oauth/token", data=GRANT, auth=(client_id, first))
        assert ok.status_code == 200, ok.text

        [(_, second, *_)] = await ensure_demo_clients(gateway_settings(), wanted)
        assert second != first
        assert (await gateway.post("/oauth/token", data=GRANT, auth=(client_id, second))).status_code == 200
        assert (await gateway.post("/oauth/token", data=GRANT, auth=(client_id, first))).status_code == 401


async def test_migrations_match_models(gateway_db: str) -> None:
    assert await schema_drift(gateway_db, METADATA) == []
