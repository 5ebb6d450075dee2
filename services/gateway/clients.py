"""Registering partner clients from code (demo-data seeder, operators' scripts).

    secret = generate_secret()
    await register_client(session, "police-niche", secret, agency_id,
                          ["referral:read", "referral:write"], "Northshire Police (Niche RMS)")
    await session.commit()
    print(secret)  # shown once; only its hash is stored
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from services.gateway.domain.clients import Clients
from services.gateway.domain.credentials import (
    SCOPES,
    check_client_id,
    generate_secret,
    hash_secret,
    known_scopes,
)
from services.gateway.models import ApiClient
from services.gateway.queries import ClientQueries
from services.gateway.settings import GatewaySettings
from shared.db import Database

__all__ = ["SCOPES", "ensure_demo_clients", "generate_secret", "register_client"]

#: (client_id, name, agency_id, scopes)
WantedClient = tuple[str, str, uuid.UUID, Sequence[str]]
#: (client_id, secret, agency_id, name, scopes)
IssuedClient = tuple[str, str, uuid.UUID, str, list[str]]


async def register_client(
    session: AsyncSession,
    client_id: str,
    secret: str,
    agency_id: uuid.UUID,
    scopes: Iterable[str],
    name: str,
) -> ApiClient:
    """Add a client that may ask for tokens for ``agency_id`` with (a subset of) ``scopes``.

    Raises ValueError for a malformed client id, a weak secret (under 32 characters)
    or an unknown scope, and ``DuplicateClient`` for a taken client id. Flushes but
    never commits: the caller's transaction decides.
    """
    return await Clients(ClientQueries(session)).register(client_id, secret, agency_id, scopes, name)


async def ensure_demo_clients(settings: GatewaySettings, wanted: Sequence[WantedClient]) -> list[IssuedClient]:
    """Create each wanted client with a fresh secret, in one transaction, and return the secrets.

    A client that already exists gets a new secret (and the wanted agency and
    scopes): its old secret was never kept anywhere, so it could not be used.
    """
    # The secrets are hashed first (scrypt, tens of ms each), then written in one short transaction.
    fresh = []
    for client_id, name, agency_id, scopes in wanted:
        check_client_id(client_id)
        secret = generate_secret()
        fresh.append((client_id, name, agency_id, known_scopes(scopes), secret,
                      await asyncio.to_thread(hash_secret, secret)))
    db = Database(settings.effective_database_url)
    issued: list[IssuedClient] = []
    try:
        async with db.sessions() as session:
            queries = ClientQueries(session)
            clients = Clients(queries)
            for client_id, name, agency_id, scopes, secret, secret_hash in fresh:
                existing = await queries.by_client_id(client_id)
                if existing is None:
                    client = await clients.register_hashed(client_id, secret_hash, agency_id, scopes, name)
                else:
                    client = await clients.reset_hashed(existing, secret_hash, agency_id, scopes, name)
                issued.append((client_id, secret, agency_id, name, list(client.scopes)))
            await session.commit()
    finally:
        await db.dispose()
    return issued
