"""Errors of the token endpoint, carrying the OAuth 2.0 error code (RFC 6749 §5.2)
as an ``error`` member of the problem body, beside the RFC 9457 members."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from shared.errors import (
    BadRequest,
    Conflict,
    DomainError,
    DuplicateRecord,
    InvalidClient,
    NotFound,
    TooManyRequests,
    Unprocessable,
)


class OAuthProblem(DomainError):
    oauth_error: ClassVar[str] = "invalid_request"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, error=self.oauth_error)

    @classmethod
    def example(cls) -> dict[str, Any]:
        return {**super().example(), "instance": "/oauth/token", "error": cls.oauth_error}


class InvalidTokenRequest(OAuthProblem, BadRequest):
    slug, title = "invalid-token-request", "The token request is malformed"
    oauth_error = "invalid_request"


class UnsupportedGrantType(OAuthProblem, BadRequest):
    slug, title = "unsupported-grant-type", "Only the client_credentials grant is supported"
    oauth_error = "unsupported_grant_type"


class InvalidScope(OAuthProblem, BadRequest):
    slug, title = "invalid-scope", "The requested scope is not allowed for this client"
    oauth_error = "invalid_scope"


class ClientAuthenticationFailed(OAuthProblem, InvalidClient):
    slug, title = "invalid-client", "Client authentication failed"
    oauth_error = "invalid_client"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail)
        # RFC 6749 §5.2: name the scheme the client can authenticate with.
        self.headers["WWW-Authenticate"] = 'Basic realm="neglect-backbone"'


class DuplicateClient(DuplicateRecord):
    slug, title = "duplicate-client", "A client with this client id already exists"


class TokenRequestsLimited(TooManyRequests):
    slug, title = "token-rate-limited", "Too many token requests"

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__(detail)
        self.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))

    @classmethod
    def example(cls) -> dict[str, Any]:
        return {**super().example(), "instance": "/oauth/token"}


class ClientNotFound(NotFound):
    slug, title = "client-not-found", "No such client"


class InvalidClientRegistration(Unprocessable):
    slug, title = "invalid-client-registration", "The client registration is not valid"


class ClientRevoked(Conflict):
    slug, title = "client-revoked", "The client is revoked"
