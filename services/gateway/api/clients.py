"""Client administration (scope ``admin``): register, list, rotate secrets, revoke.

Secrets are generated here, shown once in the answer (``Cache-Control: no-store``) and kept
only as scrypt hashes. No ``Idempotency-Key``: a stored replay would keep the secret. A
registration retried after a lost answer is a 409 for its client id; rotate the secret then.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from services.gateway.api.deps import ClientAdminDep, IsAdmin
from services.gateway.domain.clients import WithSecret
from services.gateway.domain.errors import ClientNotFound, ClientRevoked, DuplicateClient
from services.gateway.models import ApiClient
from services.gateway.schemas import ClientCreate, ClientPage, ClientRead, ClientWithSecret
from shared.errors import PreconditionFailed, PreconditionRequired, problems
from shared.etag import IfMatch, set_etag
from shared.pagination import InvalidCursor, PageDep, set_link_header

router = APIRouter(prefix="/clients", tags=["clients"])
ClientId = Annotated[str, Path(max_length=100, description="The client id.")]

_CLIENT: dict[str, Any] = {
    "client_id": "police-niche", "agency_id": "3f5e1d2c-8a4b-4c6d-9e7f-1a2b3c4d5e6f",
    "name": "Northshire Police (Niche RMS)", "scopes": ["referral:read", "referral:write"], "active": True,
    "created_at": "2026-03-02T10:15:04Z", "secret_rotated_at": None, "revoked_at": None, "version": 1,
}
_WITH_SECRET = {**_CLIENT, "client_secret": "x0Yq3vS1-example-only-Jb7Tz9kQm2Lr5Wc8Pd4Hn6"}


def _ok(example: dict[str, Any], status: int = 200) -> dict[int | str, dict[str, Any]]:
    return {status: {"content": {"application/json": {"example": example}}}}


def client_read(client: ApiClient) -> ClientRead:
    return ClientRead.model_validate(client, from_attributes=True)


def _with_secret(issued: WithSecret, response: Response) -> ClientWithSecret:
    # RFC 6749 §5.1 asks the same of tokens: an answer carrying a secret is never cached.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    set_etag(response, issued.client.version)
    return ClientWithSecret(**client_read(issued.client).model_dump(), client_secret=issued.secret)


@router.post("", status_code=201, response_model=ClientWithSecret,
             responses={**_ok(_WITH_SECRET, 201), **problems(DuplicateClient)})
async def register_client(body: ClientCreate, who: IsAdmin, clients: ClientAdminDep, response: Response) -> ClientWithSecret:
    """Register a partner system for an agency with the scopes it may ask for. The answer
    carries its `client_secret` this once: only a hash is kept. `client_id` is generated from
    the name when left out. A taken client id is 409. Audited (`register`, `api_client`)."""
    issued = await clients.register(who, body.client_id, body.agency_id, body.scopes, body.name)
    response.headers["Location"] = f"/v1/clients/{issued.client.client_id}"
    return _with_secret(issued, response)


@router.get("", response_model=ClientPage, responses={**_ok({"items": [_CLIENT], "next_cursor": None}),
                                                       **problems(InvalidCursor)})
async def list_clients(
    who: IsAdmin, clients: ClientAdminDep, page: PageDep, response: Response,
    agency_id: Annotated[uuid.UUID | None, Query(description="Only this agency's clients.")] = None,
) -> ClientPage:
    """Registered clients in client id order, revoked ones included. Never their secrets."""
    rows, next_cursor = await clients.page(page, agency_id)
    set_link_header(response, page, next_cursor)
    return ClientPage(items=[client_read(c) for c in rows], next_cursor=next_cursor)


@router.get("/{client_id}", response_model=ClientRead, responses={**_ok(_CLIENT), **problems(ClientNotFound)})
async def get_client(client_id: ClientId, who: IsAdmin, clients: ClientAdminDep, response: Response) -> ClientRead:
    """One client, with its `ETag` for rotating or revoking it."""
    client = await clients.get(client_id)
    set_etag(response, client.version)
    return client_read(client)


@router.post("/{client_id}/secret", response_model=ClientWithSecret,
             responses={**_ok({**_WITH_SECRET, "version": 2, "secret_rotated_at": "2026-03-09T08:00:00Z"}),
                        **problems(ClientNotFound, ClientRevoked, PreconditionFailed, PreconditionRequired)})
async def rotate_client_secret(
    client_id: ClientId, who: IsAdmin, version: IfMatch, clients: ClientAdminDep, response: Response,
) -> ClientWithSecret:
    """A new secret for the client, shown this once. The old secret stops working at once (no
    grace period): rotate when the partner system is ready to take the new one. Tokens already
    issued stay valid until they expire (`GATEWAY_TOKEN_TTL_SECONDS`). Needs `If-Match`.
    A revoked client is 409. Audited (`rotate_secret`)."""
    return _with_secret(await clients.rotate_secret(who, client_id, version), response)


@router.post("/{client_id}/revoke", response_model=ClientRead,
             responses={**_ok({**_CLIENT, "active": False, "version": 2, "revoked_at": "2026-03-09T08:00:00Z"}),
                        **problems(ClientNotFound, ClientRevoked, PreconditionFailed, PreconditionRequired)})
async def revoke_client(
    client_id: ClientId, who: IsAdmin, version: IfMatch, clients: ClientAdminDep, response: Response,
) -> ClientRead:
    """Revoke the client for good: the token endpoint answers `invalid_client` from now on.
    Tokens already issued stay valid until they expire (at most `GATEWAY_TOKEN_TTL_SECONDS`).
    Needs `If-Match`; revoking twice is 409. Audited (`revoke`)."""
    client = await clients.revoke(who, client_id, version)
    set_etag(response, client.version)
    return client_read(client)
