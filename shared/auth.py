"""Bearer-token dependencies: every service checks tokens itself (DESIGN.md §4).

The token comes from the gateway's OAuth 2.0 client-credentials flow. ``require_scopes``
declares its scopes through ``Security``, so each operation's OpenAPI ``security`` names
the scopes it needs (``[{"OAuth2": ["referral:write"]}]``) and a generated client or the
docs' Authorize dialog asks for exactly those. Every dependency here is ``async def``: no
thread-pool hop per request.

The scopes are declared on the dependency that reads and verifies the token (``caller``, the
same OAuth2 scheme as ``bearer``), so a route's token is parsed and verified once: declared
beside a plain ``Depends(bearer)``, FastAPI would call the scheme twice, as a dependency with
scopes and one without have different cache keys.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import HTTPAuthorizationCredentials, OAuth2
from fastapi.security.base import SecurityBase
from starlette.requests import HTTPConnection

from shared.errors import InsufficientScope, Unauthorized
from shared.tokens import Principal, TokenVerifier

#: The scheme's name in every document; the gateway's combined document defines it with the
#: gateway's public token URL and the scope registry (services.gateway.openapi_merge).
OAUTH_SCHEME = "OAuth2"
TOKEN_PATH = "/oauth/token"  # noqa: S105 - a path, not a secret


class ClientCredentialsBearer(OAuth2):
    """OAuth 2.0 client credentials; the access token arrives as ``Authorization: Bearer``."""

    def __init__(self) -> None:
        super().__init__(
            flows=OAuthFlows(clientCredentials=OAuthFlowClientCredentials(tokenUrl=TOKEN_PATH, scopes={})),
            scheme_name=OAUTH_SCHEME,
            description="Access token from the gateway's POST /oauth/token.",
            auto_error=False,
        )

    async def __call__(self, request: HTTPConnection) -> str | None:
        return bearer_token(request)


def bearer_token(request: HTTPConnection) -> str | None:
    scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


bearer = ClientCredentialsBearer()


async def bearer_credentials(token: Annotated[str | None, Depends(bearer)]) -> HTTPAuthorizationCredentials | None:
    """The caller's own token, for a route that passes it on to another service."""
    return HTTPAuthorizationCredentials(scheme="Bearer", credentials=token) if token else None


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_credentials)]


class AuthenticatedCaller(SecurityBase):
    """``bearer``'s scheme (the same name and definition in the document) as the dependency
    that yields the verified caller: the token is read and verified in this one call."""

    def __init__(self) -> None:
        self.model = bearer.model
        self.scheme_name = bearer.scheme_name

    async def __call__(self, request: Request) -> Principal:
        token = bearer_token(request)
        if token is None:
            raise Unauthorized("A bearer token is required.")
        verifier: TokenVerifier = request.app.state.verifier
        principal = await verifier.verify(token)
        request.state.principal = principal
        return principal


caller = AuthenticatedCaller()


def require_scopes(*scopes: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that yields the caller when its token carries every scope named; the
    operation's OpenAPI ``security`` lists those scopes."""

    # A default, not Annotated: the annotation must not name this closure's ``scopes``.
    verified_caller = Security(caller, scopes=list(scopes))

    async def dependency(principal: Principal = verified_caller) -> Principal:
        missing = [s for s in scopes if not principal.has(s)]
        if missing:
            raise InsufficientScope(f"This operation needs the scope(s): {' '.join(missing)}.")
        return principal

    dependency.__name__ = "require_" + "_".join(s.replace(":", "_") for s in scopes)
    return dependency
