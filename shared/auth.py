"""Bearer-token dependencies: every service checks tokens itself (DESIGN.md §4)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.errors import InsufficientScope, Unauthorized
from shared.tokens import Principal, TokenVerifier

bearer = HTTPBearer(auto_error=False, description="Access token from the gateway's POST /oauth/token.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def current_principal(request: Request, credentials: Credentials) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthorized("A bearer token is required.")
    verifier: TokenVerifier = request.app.state.verifier
    principal = await verifier.verify(credentials.credentials)
    request.state.principal = principal
    return principal


def require_scopes(*scopes: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that yields the caller when its token carries every scope named."""

    async def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        missing = [s for s in scopes if not principal.has(s)]
        if missing:
            raise InsufficientScope(f"This operation needs the scope(s): {' '.join(missing)}.")
        return principal

    dependency.__name__ = "require_" + "_".join(s.replace(":", "_") for s in scopes)
    return dependency
