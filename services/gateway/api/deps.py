from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from services.gateway.domain.clients import ClientAdmin, Clients, TokenIssuer
from services.gateway.queries import ClientQueries
from services.gateway.settings import GatewaySettings
from shared.audit import AuditDep
from shared.auth import require_scopes
from shared.db import SessionDep
from shared.errors import DomainError, problems
from shared.tokens import Principal

# The gateway's own /v1 routes verify the bearer token with the gateway's own keys
# (app.state.verifier), exactly as the services do.
IsAdmin = Annotated[Principal, Depends(require_scopes("admin"))]


async def token_issuer(request: Request, session: SessionDep) -> TokenIssuer:
    settings: GatewaySettings = request.app.state.settings
    return TokenIssuer(
        Clients(ClientQueries(session)), request.app.state.signer,
        issuer=settings.token_issuer, audience=settings.token_audience,
        ttl_seconds=settings.token_ttl_seconds,
    )


TokenIssuerDep = Annotated[TokenIssuer, Depends(token_issuer)]


async def client_admin(session: SessionDep, audit: AuditDep) -> ClientAdmin:
    return ClientAdmin(Clients(ClientQueries(session)), audit)


ClientAdminDep = Annotated[ClientAdmin, Depends(client_admin)]


def only(*errors: type[DomainError]) -> dict[int | str, dict[str, Any]]:
    """The gateway's own routes take no bearer token; ``problems`` lists only what is named,
    and ``shared.openapi`` adds what each operation's shape implies."""
    return problems(*errors)
