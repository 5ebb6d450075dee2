from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from services.gateway.domain.clients import Clients, TokenIssuer
from services.gateway.queries import ClientQueries
from services.gateway.settings import GatewaySettings
from shared.db import SessionDep
from shared.errors import DomainError, problems


def token_issuer(request: Request, session: SessionDep) -> TokenIssuer:
    settings: GatewaySettings = request.app.state.settings
    return TokenIssuer(
        Clients(ClientQueries(session)), request.app.state.signer,
        issuer=settings.token_issuer, audience=settings.token_audience,
        ttl_seconds=settings.token_ttl_seconds,
    )


TokenIssuerDep = Annotated[TokenIssuer, Depends(token_issuer)]


def only(*errors: type[DomainError]) -> dict[int | str, dict[str, Any]]:
    """The gateway's own routes take no bearer token; ``problems`` lists only what is named,
    and ``shared.openapi`` adds what each operation's shape implies."""
    return problems(*errors)
