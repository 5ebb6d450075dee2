"""The partnership's OpenID Connect provider: checking the ID tokens the dashboard brings to
exchange for a gateway token (RFC 8693 token exchange).

Only what the exchange needs: the token's signature against the provider's JWKS (fetched by
URL, cached, refetched at most every 30 s for an unknown key id), its issuer, its audience (the
dashboard's client id at the provider), its expiry and its subject. Asymmetric algorithms only.
Never called inside a database transaction (the JWKS fetch is a network call).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import httpx
from jose import jwt
from jose.exceptions import ExpiredSignatureError, JOSEError

from services.gateway.domain.credentials import ACTING_USER
from services.gateway.domain.login import InvalidGrant
from shared.errors import ServiceUnavailable

ALGORITHMS = ["RS256", "ES256", "PS256", "RS384", "ES384"]
REFETCH_SECONDS = 30.0
MAX_TOKEN_CHARS = 16_384


class IdTokenVerifier:
    def __init__(self, *, issuer: str, client_id: str, jwks_url: str,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.issuer, self.client_id, self.jwks_url = issuer, client_id, jwks_url
        self._transport = transport
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at = 0.0

    async def _refresh(self) -> None:
        if time.monotonic() - self._fetched_at < REFETCH_SECONDS and self._keys:
            return
        try:
            async with httpx.AsyncClient(timeout=3.0, transport=self._transport) as client:
                response = await client.get(self.jwks_url)
                response.raise_for_status()
                document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ServiceUnavailable("The identity provider's keys could not be fetched.") from exc
        self._keys = {k["kid"]: k for k in document.get("keys", []) if isinstance(k, dict) and k.get("kid")}
        self._fetched_at = time.monotonic()

    async def subject(self, token: str) -> str:
        """The provider's ``sub`` for a valid ID token, as the gateway token's acting user."""
        if len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
            raise InvalidGrant("subject_token must be the identity provider's ID token (a signed JWT).")
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except JOSEError as exc:
            raise InvalidGrant("The ID token's header is malformed.") from exc
        if not isinstance(kid, str) or kid not in self._keys:
            await self._refresh()
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidGrant("The ID token was signed with a key the identity provider does not publish.")
        try:
            claims = jwt.decode(token, key, algorithms=ALGORITHMS, audience=self.client_id, issuer=self.issuer,
                                options={"require_exp": True, "require_iat": True, "require_sub": True,
                                         "verify_at_hash": False, "leeway": 30})
        except ExpiredSignatureError as exc:
            raise InvalidGrant("The ID token has expired.") from exc
        except JOSEError as exc:
            raise InvalidGrant("The ID token is not valid for the dashboard.") from exc
        sub = str(claims["sub"])
        # The acting user is a staff id in every audit trail: the provider's id as it is, or a digest of it.
        return sub if ACTING_USER.match(sub) else "oidc-" + hashlib.sha256(sub.encode()).hexdigest()[:40]
