"""Partner clients and the client-credentials grant (RFC 6749 §4.4).

scrypt is deliberately slow (tens of milliseconds): it never runs inside a database
transaction. A new secret is hashed before the transaction begins; a presented secret is
checked after the read that found the client has ended (``ClientQueries.end_read``).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from services.gateway.domain.credentials import (
    check_acting_user,
    check_client_id,
    check_new_secret,
    decoy_hash,
    generate_secret,
    hash_secret,
    known_scopes,
    narrow_scopes,
    verify_secret,
)
from services.gateway.domain.errors import (
    ClientAuthenticationFailed,
    ClientNotFound,
    ClientRevoked,
    DuplicateClient,
    InvalidTokenRequest,
    UnsupportedGrantType,
)
from services.gateway.models import ApiClient
from services.gateway.queries import ClientQueries
from shared.audit import Audit
from shared.db import utcnow
from shared.etag import Precondition, check_version
from shared.pagination import PageParams
from shared.tokens import Principal, TokenSigner

log = logging.getLogger("gateway.clients")
GRANT_TYPE = "client_credentials"
AUDIT_RESOURCE = "api_client"


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scopes: list[str]


@dataclass(frozen=True)
class WithSecret:
    """A client and its new secret: the only moment the secret exists outside the partner's system."""

    client: ApiClient
    secret: str


async def _hash(secret: str) -> str:
    # Off the event loop, and before any transaction begins.
    return await asyncio.to_thread(hash_secret, secret)


class Clients:
    def __init__(self, queries: ClientQueries) -> None:
        self.queries = queries

    async def register(
        self, client_id: str, secret: str, agency_id: uuid.UUID, scopes: Iterable[str], name: str
    ) -> ApiClient:
        check_client_id(client_id)
        check_new_secret(secret)
        granted = known_scopes(scopes)
        return await self.register_hashed(client_id, await _hash(secret), agency_id, granted, name)

    async def register_hashed(
        self, client_id: str, secret_hash: str, agency_id: uuid.UUID, scopes: list[str], name: str
    ) -> ApiClient:
        if await self.queries.by_client_id(client_id) is not None:
            raise DuplicateClient(f"Client {client_id} is already registered.")
        client = ApiClient(client_id=client_id, secret_hash=secret_hash, agency_id=agency_id,
                           scopes=scopes, name=name)
        await self.queries.add(client)
        return client

    async def reset_hashed(
        self, client: ApiClient, secret_hash: str, agency_id: uuid.UUID, scopes: Iterable[str], name: str
    ) -> ApiClient:
        """Give an existing client a new secret and configuration; the old secret stops working."""
        client.scopes = known_scopes(scopes)
        client.secret_hash = secret_hash
        client.agency_id, client.name, client.active, client.revoked_at = agency_id, name, True, None
        client.secret_rotated_at, client.version = utcnow(), client.version + 1
        await self.queries.add(client)
        return client

    async def authenticate(self, client_id: str, secret: str) -> ApiClient:
        """The active client with this id and secret; one answer for every kind of failure."""
        client = await self.queries.by_client_id(client_id)
        await self.queries.end_read()
        usable = client is not None and client.active
        stored = client.secret_hash if client is not None and usable else decoy_hash()
        matches = await asyncio.to_thread(verify_secret, secret, stored)
        if client is None or not usable or not matches:
            # Which part failed stays out of the response and the log alike.
            log.info("client authentication failed")
            raise ClientAuthenticationFailed("The client id or secret is not valid, or the client is revoked.")
        return client


def new_client_id(name: str) -> str:
    """A client id for a registration that named none: a readable stem from the name and a random tail."""
    stem = "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in name.lower()).strip("-")
    stem = "-".join(part for part in stem.split("-") if part)[:40] or "client"
    return f"{stem}-{secrets.token_hex(4)}"


class ClientAdmin:
    """The admin API's acts on clients; each is audited (resource ``api_client``, its client id)."""

    def __init__(self, clients: Clients, audit: Audit) -> None:
        self.clients = clients
        self.queries = clients.queries
        self.audit = audit

    async def get(self, client_id: str) -> ApiClient:
        client = await self.queries.by_client_id(client_id)
        if client is None:
            raise ClientNotFound(f"No client {client_id}.")
        return client

    async def page(self, page: PageParams, agency_id: uuid.UUID | None) -> tuple[Sequence[ApiClient], str | None]:
        return await self.queries.page(page, agency_id)

    async def register(
        self, who: Principal, client_id: str | None, agency_id: uuid.UUID, scopes: list[str], name: str
    ) -> WithSecret:
        client_id = client_id or new_client_id(name)
        secret = generate_secret()
        client = await self.clients.register_hashed(client_id, await _hash(secret), agency_id, known_scopes(scopes), name)
        self.audit.record(who, "register", AUDIT_RESOURCE, [], resource_id=client.client_id)
        log.info("client registered", extra={"client_id": client.client_id})
        return WithSecret(client, secret)

    async def rotate_secret(self, who: Principal, client_id: str, version: Precondition) -> WithSecret:
        """A new secret; the old one stops working at once (no grace period). Tokens already
        issued with it stay valid until they expire."""
        secret = generate_secret()
        secret_hash = await _hash(secret)
        client = await self.get(client_id)
        check_version(client.version, version)
        if not client.active:
            raise ClientRevoked(f"Client {client_id} is revoked; register a new client instead.")
        client.secret_hash, client.secret_rotated_at, client.version = secret_hash, utcnow(), client.version + 1
        await self.queries.add(client)
        self.audit.record(who, "rotate_secret", AUDIT_RESOURCE, [], resource_id=client.client_id)
        log.info("client secret rotated", extra={"client_id": client.client_id})
        return WithSecret(client, secret)

    async def revoke(self, who: Principal, client_id: str, version: Precondition) -> ApiClient:
        """For good: the token endpoint answers invalid_client from now on."""
        client = await self.get(client_id)
        check_version(client.version, version)
        if not client.active:
            raise ClientRevoked(f"Client {client_id} is already revoked.")
        client.active, client.revoked_at, client.version = False, utcnow(), client.version + 1
        await self.queries.add(client)
        self.audit.record(who, "revoke", AUDIT_RESOURCE, [], resource_id=client.client_id)
        log.info("client revoked", extra={"client_id": client.client_id})
        return client


class TokenIssuer:
    def __init__(self, clients: Clients, signer: TokenSigner, *, issuer: str, audience: str, ttl_seconds: int) -> None:
        self.clients = clients
        self.signer = signer
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = ttl_seconds

    async def client_credentials(
        self, grant_type: str | None, client_id: str, secret: str, scope: str | None,
        acting_user: str | None = None,
    ) -> IssuedToken:
        if not grant_type:
            raise InvalidTokenRequest("grant_type is required.")
        if grant_type != GRANT_TYPE:
            raise UnsupportedGrantType(f"Use grant_type={GRANT_TYPE}.")
        if acting_user is not None:
            check_acting_user(acting_user)
        client = await self.clients.authenticate(client_id, secret)
        scopes = narrow_scopes(client.scopes, scope)
        token = self.signer.issue(
            issuer=self.issuer, audience=self.audience, subject=client.client_id,
            agency_id=client.agency_id, scopes=scopes, ttl_seconds=self.ttl_seconds, acting_user=acting_user,
        )
        log.info("token issued", extra={"client_id": client.client_id, "scope_count": len(scopes),
                                        "acting_user_named": acting_user is not None})
        return IssuedToken(access_token=token, expires_in=self.ttl_seconds, scopes=scopes)
