"""Partner clients and the client-credentials grant (RFC 6749 §4.4)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from services.gateway.domain.credentials import (
    check_client_id,
    check_new_secret,
    decoy_hash,
    hash_secret,
    known_scopes,
    narrow_scopes,
    verify_secret,
)
from services.gateway.domain.errors import (
    ClientAuthenticationFailed,
    DuplicateClient,
    InvalidTokenRequest,
    UnsupportedGrantType,
)
from services.gateway.models import ApiClient
from services.gateway.queries import ClientQueries
from shared.tokens import TokenSigner

log = logging.getLogger("gateway.clients")
GRANT_TYPE = "client_credentials"


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scopes: list[str]


class Clients:
    def __init__(self, queries: ClientQueries) -> None:
        self.queries = queries

    async def register(
        self, client_id: str, secret: str, agency_id: uuid.UUID, scopes: Iterable[str], name: str
    ) -> ApiClient:
        check_client_id(client_id)
        check_new_secret(secret)
        granted = known_scopes(scopes)
        if await self.queries.by_client_id(client_id) is not None:
            raise DuplicateClient(f"Client {client_id} is already registered.")
        # scrypt is deliberately slow: keep it off the event loop.
        secret_hash = await asyncio.to_thread(hash_secret, secret)
        client = ApiClient(client_id=client_id, secret_hash=secret_hash, agency_id=agency_id,
                           scopes=granted, name=name)
        await self.queries.add(client)
        return client

    async def reset(
        self, client: ApiClient, secret: str, agency_id: uuid.UUID, scopes: Iterable[str], name: str
    ) -> ApiClient:
        """Give an existing client a new secret and configuration; the old secret stops working."""
        check_new_secret(secret)
        client.scopes = known_scopes(scopes)
        client.secret_hash = await asyncio.to_thread(hash_secret, secret)
        client.agency_id, client.name, client.active = agency_id, name, True
        await self.queries.add(client)
        return client

    async def authenticate(self, client_id: str, secret: str) -> ApiClient:
        """The active client with this id and secret; one answer for every kind of failure."""
        client = await self.queries.by_client_id(client_id)
        usable = client is not None and client.active
        stored = client.secret_hash if client is not None and usable else decoy_hash()
        matches = await asyncio.to_thread(verify_secret, secret, stored)
        if client is None or not usable or not matches:
            # Which part failed stays out of the response and the log alike.
            log.info("client authentication failed")
            raise ClientAuthenticationFailed("The client id or secret is not valid, or the client is disabled.")
        return client


class TokenIssuer:
    def __init__(self, clients: Clients, signer: TokenSigner, *, issuer: str, audience: str, ttl_seconds: int) -> None:
        self.clients = clients
        self.signer = signer
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = ttl_seconds

    async def client_credentials(
        self, grant_type: str | None, client_id: str, secret: str, scope: str | None
    ) -> IssuedToken:
        if not grant_type:
            raise InvalidTokenRequest("grant_type is required.")
        if grant_type != GRANT_TYPE:
            raise UnsupportedGrantType(f"Use grant_type={GRANT_TYPE}.")
        client = await self.clients.authenticate(client_id, secret)
        scopes = narrow_scopes(client.scopes, scope)
        token = self.signer.issue(
            issuer=self.issuer, audience=self.audience, subject=client.client_id,
            agency_id=client.agency_id, scopes=scopes, ttl_seconds=self.ttl_seconds,
        )
        log.info("token issued", extra={"client_id": client.client_id, "scope_count": len(scopes)})
        return IssuedToken(access_token=token, expires_in=self.ttl_seconds, scopes=scopes)
