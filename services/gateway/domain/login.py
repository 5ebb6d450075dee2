"""The dashboard's sign-in: authorization codes with PKCE (RFC 6749 §4.1, RFC 7636 S256).

The dashboard is a public client: it has no secret, so the code alone must not be enough.
It sends ``code_challenge = BASE64URL(SHA256(code_verifier))`` with the authorization request
and the verifier with the token request; a code is bound to its client, its exact redirect URI
and its challenge, lives ``authorization_code_ttl_seconds`` and is spent by the first attempt to
redeem it, right or wrong (a stolen code cannot be tried against many verifiers). Only the
code's SHA-256 is stored. Every refusal at the token endpoint is ``invalid_grant`` (RFC 6749 §5.2),
saying which check failed; a code that does not exist and one already spent are told apart only
in the detail text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from services.gateway.domain.errors import InvalidTokenRequest, OAuthProblem
from services.gateway.models import AuthorizationCode
from services.gateway.queries_login import CodeQueries
from shared.db import utcnow
from shared.errors import BadRequest, NotFound

log = logging.getLogger("gateway.login")
AUTHORIZATION_CODE = "authorization_code"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # noqa: S105 - a URN, not a secret
#: RFC 7636 §4.1: 43-128 unreserved characters.
VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
#: BASE64URL(SHA256(...)) without padding: 43 characters.
CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
STATE = re.compile(r"^[\x20-\x7e]{1,500}$")


class InvalidGrant(OAuthProblem, BadRequest):
    slug, title = "invalid-grant", "The authorization code is not valid"
    oauth_error = "invalid_grant"


class InvalidAuthorizationRequest(OAuthProblem, BadRequest):
    """Refused before any redirect: the redirect URI or the client cannot be trusted (RFC 6749 §4.1.2.1)."""

    slug, title = "invalid-authorization-request", "The authorization request is not valid"
    oauth_error = "invalid_request"

    @classmethod
    def example(cls) -> dict[str, object]:
        return {**super().example(), "instance": "/oauth/authorize"}


class LoginUnavailable(NotFound):
    slug, title = "login-unavailable", "The development login is switched off"


@dataclass(frozen=True)
class AuthorizationRequest:
    client_id: str
    redirect_uri: str
    code_challenge: str
    state: str | None
    scopes: list[str]


@dataclass(frozen=True)
class Redeemed:
    subject: str
    scopes: list[str]


def challenge_of(verifier: str) -> str:
    """S256: BASE64URL(SHA256(ASCII(code_verifier))), unpadded (RFC 7636 §4.2)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def check_authorization_request(
    params: dict[str, str], *, client_id: str, redirect_uris: list[str], scopes: list[str],
) -> AuthorizationRequest:
    """The request's parameters, or InvalidAuthorizationRequest naming the first problem."""

    def need(name: str) -> str:
        value = params.get(name)
        if not value:
            raise InvalidAuthorizationRequest(f"{name} is required.")
        return value

    if need("client_id") != client_id:
        raise InvalidAuthorizationRequest("Unknown client_id: only the dashboard signs in here.")
    redirect_uri = need("redirect_uri")
    if redirect_uri not in redirect_uris:
        raise InvalidAuthorizationRequest("redirect_uri is not one registered for the client (exact match).")
    if need("response_type") != "code":
        raise InvalidAuthorizationRequest("response_type must be code.")
    if need("code_challenge_method") != "S256":
        raise InvalidAuthorizationRequest("code_challenge_method must be S256 (PKCE).")
    challenge = need("code_challenge")
    if not CHALLENGE.match(challenge):
        raise InvalidAuthorizationRequest("code_challenge must be BASE64URL(SHA256(code_verifier)): 43 characters.")
    state = params.get("state") or None
    if state is not None and not STATE.match(state):
        raise InvalidAuthorizationRequest("state must be 1-500 printable ASCII characters.")
    wanted = set((params.get("scope") or "").split()) - {"openid", "profile"}
    if wanted - set(scopes):
        raise InvalidAuthorizationRequest(f"The dashboard may ask only for: {' '.join(scopes)}.")
    return AuthorizationRequest(client_id, redirect_uri, challenge, state, sorted(wanted or set(scopes)))


class Codes:
    def __init__(self, queries: CodeQueries, ttl_seconds: int) -> None:
        self.queries = queries
        self.ttl_seconds = ttl_seconds

    async def issue(self, request: AuthorizationRequest, subject: str) -> str:
        code = secrets.token_urlsafe(32)
        await self.queries.purge_expired(utcnow() - timedelta(hours=1))
        await self.queries.add(AuthorizationCode(
            code_hash=_hash(code), client_id=request.client_id, redirect_uri=request.redirect_uri,
            code_challenge=request.code_challenge, subject=subject, scopes=request.scopes,
            expires_at=utcnow() + timedelta(seconds=self.ttl_seconds),
        ))
        log.info("authorization code issued", extra={"client_id": request.client_id})
        return code

    async def redeem(self, form: dict[str, str], client_id: str) -> Redeemed:
        """Spend the code (whatever follows), then check it against the token request."""
        code, verifier, redirect_uri = form.get("code"), form.get("code_verifier"), form.get("redirect_uri")
        if not code or not redirect_uri:
            raise InvalidTokenRequest("code and redirect_uri are required.")
        if not verifier:
            raise InvalidTokenRequest("code_verifier is required (PKCE).")
        if form.get("client_id") != client_id:
            raise InvalidTokenRequest("client_id must name the dashboard.")
        row = await self.queries.by_hash(_hash(code))
        if row is None:
            raise InvalidGrant("The code is unknown.")
        if not await self.queries.spend(row.code_hash, utcnow()):
            log.info("authorization code reused", extra={"client_id": row.client_id})
            raise InvalidGrant("The code was already used.")
        # The spent mark must stay even though the request is refused: commit it now.
        await self.queries.commit()
        if row.expires_at <= utcnow():
            raise InvalidGrant("The code has expired.")
        if row.client_id != client_id:
            raise InvalidGrant("The code was issued to another client.")
        if row.redirect_uri != redirect_uri:
            raise InvalidGrant("redirect_uri differs from the authorization request's.")
        if not VERIFIER.match(verifier) or not hmac.compare_digest(challenge_of(verifier), row.code_challenge):
            raise InvalidGrant("code_verifier does not match the code_challenge.")
        return Redeemed(subject=row.subject, scopes=list(row.scopes))
