"""Signed access tokens: the only module that touches python-jose.

Hardening (DESIGN.md §4): an explicit asymmetric algorithm allow-list checked
against the header before any key is chosen; the key comes only from our JWKS
by ``kid`` (``jku``/``jwk``/``x5u`` headers are never followed); the key type
must match the algorithm family (no HS/RS confusion); ``aud``, ``iss``, ``exp``,
``iat``, ``sub`` and ``jti`` are required; JWE and oversized tokens are refused.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jose import jwk, jws, jwt
from jose.exceptions import ExpiredSignatureError, JOSEError, JWTClaimsError

from shared.db import check_no_transaction
from shared.errors import ServiceUnavailable, Unauthorized

MAX_TOKEN_CHARS = 8192
LEEWAY_SECONDS = 30
#: Tokens living longer than this are refused, whoever signed them (the gateway issues 15 minutes).
DEFAULT_MAX_LIFETIME_SECONDS = 3600
#: Verified tokens remembered by their exact text (least recently used dropped first).
VERIFIED_CACHE_SIZE = 4096
_KEY_FAMILY = {"ES": "EC", "RS": "RSA", "PS": "RSA"}


@dataclass(frozen=True)
class Principal:
    """Who is calling: a partner system (client) of one agency, maybe acting for a person."""

    client_id: str
    agency_id: uuid.UUID
    scopes: frozenset[str]
    token_id: str = ""
    acting_user: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def has(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _thumbprint(public_jwk: dict[str, Any]) -> str:
    # RFC 7638: the required members only, sorted, no whitespace.
    members = ("crv", "kty", "x", "y") if public_jwk["kty"] == "EC" else ("e", "kty", "n")
    canonical = json.dumps({k: public_jwk[k] for k in members}, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode()).digest())


class TokenSigner:
    """Issues tokens with the newest key and publishes every loaded key's public half."""

    def __init__(self, private_pems: list[bytes], algorithm: str = "ES256") -> None:
        if not private_pems:
            raise ValueError("at least one signing key is needed")
        self.algorithm = algorithm
        self._keys: list[tuple[str, bytes, dict[str, Any]]] = []
        for pem in private_pems:
            public = jwk.construct(pem.decode(), algorithm).public_key().to_dict()
            public = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in public.items()}
            kid = _thumbprint(public)
            public.update({"kid": kid, "use": "sig", "alg": algorithm})
            self._keys.append((kid, pem, public))

    @property
    def kid(self) -> str:
        return self._keys[-1][0]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public for _, _, public in self._keys]}

    def issue(
        self,
        *,
        issuer: str,
        audience: str,
        subject: str,
        agency_id: uuid.UUID,
        scopes: Iterable[str],
        ttl_seconds: int,
        acting_user: str | None = None,
        now: float | None = None,
    ) -> str:
        issued = int(now if now is not None else time.time())
        claims: dict[str, Any] = {
            "iss": issuer,
            "aud": audience,
            "sub": subject,
            "agency": str(agency_id),
            "scope": " ".join(sorted(set(scopes))),
            "iat": issued,
            "exp": issued + ttl_seconds,
            "jti": uuid.uuid4().hex,
        }
        if acting_user:
            claims["act"] = {"sub": acting_user}
        kid, pem, _ = self._keys[-1]
        token: str = jwt.encode(claims, pem.decode(), algorithm=self.algorithm, headers={"kid": kid})
        return token


def generate_private_pem() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_or_create_signer(key_dir: Path) -> TokenSigner:
    """Load every ``*.pem`` in ``key_dir`` (oldest first); create one on first run.

    Keys are never committed: the default directory is ``var/keys``, which git ignores.
    Rotation: drop a newer key in the folder; old keys keep verifying until removed.
    """
    key_dir.mkdir(parents=True, exist_ok=True)
    pems = sorted(key_dir.glob("*.pem"), key=lambda p: (p.stat().st_mtime, p.name))
    if not pems:
        path = key_dir / f"signing-{int(time.time())}.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(generate_private_pem())
        pems = [path]
    return TokenSigner([p.read_bytes() for p in pems])


class TokenVerifier:
    """Verifies bearer tokens against a JWKS given inline or fetched (and cached) by URL."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        algorithms: list[str],
        jwks: dict[str, Any] | None = None,
        jwks_url: str | None = None,
        refetch_interval: float = 30.0,
        max_lifetime_seconds: int = DEFAULT_MAX_LIFETIME_SECONDS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.algorithms = list(algorithms)
        self.jwks_url = jwks_url
        self.refetch_interval = refetch_interval
        self.max_lifetime_seconds = max_lifetime_seconds
        self._transport = transport
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched_at: float | None = None
        self._fetch: asyncio.Future[None] | None = None
        # Raw token text -> (principal, exp): a partner sends the same token for its whole life,
        # and ES256 verification is most of an authenticated request's CPU. Only tokens that
        # passed every check are kept; a hit is still refused once exp (with leeway) passes.
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self.cache_size = VERIFIED_CACHE_SIZE
        if jwks is not None:
            self._load(jwks)

    def _load(self, document: dict[str, Any]) -> None:
        keys = {}
        for key in document.get("keys", []):
            if isinstance(key, dict) and key.get("kid") and key.get("kty") in {"EC", "RSA"}:
                keys[key["kid"]] = key
        self._keys = keys
        self._verified.clear()  # a key taken out of the set stops verifying at once

    async def _refresh(self) -> None:
        """Fetch the JWKS at most once per interval; every caller waits for the one fetch.

        Right after a start every first request has an unknown ``kid``: they all await the
        same in-flight fetch, so none is refused while the keys are on their way.
        """
        if not self.jwks_url:
            return
        if self._fetch is None:
            recent = self._fetched_at is not None and time.monotonic() - self._fetched_at < self.refetch_interval
            if recent:
                return
            self._fetch = asyncio.ensure_future(self._fetch_jwks(self.jwks_url))
            self._fetch.add_done_callback(self._fetch_done)
        # Shielded: a caller that gives up (cancelled) does not cancel the others' fetch.
        await asyncio.shield(self._fetch)

    def _fetch_done(self, fetch: asyncio.Future[None]) -> None:
        self._fetch = None
        if not fetch.cancelled() and fetch.exception() is None:
            self._fetched_at = time.monotonic()

    async def _fetch_jwks(self, url: str) -> None:
        check_no_transaction("the JWKS endpoint")
        try:
            async with httpx.AsyncClient(timeout=3.0, transport=self._transport) as client:
                response = await client.get(url)
                response.raise_for_status()
                self._load(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            raise ServiceUnavailable("The token signing keys could not be fetched.") from exc

    async def _key_for(self, kid: str) -> dict[str, Any]:
        if kid not in self._keys:
            await self._refresh()
        key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("The token was signed with an unknown key.")
        return key

    async def verify(self, token: str) -> Principal:
        cached = self._verified.get(token)
        if cached is not None:
            principal, expires = cached
            if time.time() < expires + LEEWAY_SECONDS:
                self._verified.move_to_end(token)
                return principal
            del self._verified[token]
            raise Unauthorized("The token has expired.")
        principal, expires = await self._verify(token)
        self._verified[token] = (principal, expires)
        if len(self._verified) > self.cache_size:
            self._verified.popitem(last=False)
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float]:
        if len(token) > MAX_TOKEN_CHARS:
            raise Unauthorized("The token is too large.")
        if token.count(".") != 2:
            # Five segments would be JWE: never accepted.
            raise Unauthorized("The token is not a signed JWT.")
        try:
            header = jws.get_unverified_header(token)
        except JOSEError as exc:
            raise Unauthorized("The token header is malformed.") from exc
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.algorithms:
            raise Unauthorized("The token's algorithm is not accepted.")
        if "crit" in header:
            raise Unauthorized("The token has critical header parameters we do not support.")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("The token has no key id.")
        key = await self._key_for(kid)
        if _KEY_FAMILY.get(alg[:2]) != key.get("kty") or key.get("alg", alg) != alg:
            raise Unauthorized("The token's algorithm does not match its key.")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                options={
                    "require_aud": True, "require_iss": True, "require_exp": True,
                    "require_iat": True, "require_sub": True, "require_jti": True,
                    "leeway": LEEWAY_SECONDS,
                },
            )
        except ExpiredSignatureError as exc:
            raise Unauthorized("The token has expired.") from exc
        except JWTClaimsError as exc:
            raise Unauthorized("The token's claims are not valid for this service.") from exc
        except JOSEError as exc:
            raise Unauthorized("The token signature is not valid.") from exc
        self._check_times(claims)
        return _principal(claims), float(claims["exp"])

    def _check_times(self, claims: dict[str, Any]) -> None:
        """python-jose checks that ``exp`` is ahead; it does not check ``iat`` is behind us."""
        issued, expires = claims.get("iat"), claims.get("exp")
        if not isinstance(issued, int | float) or not isinstance(expires, int | float):
            raise Unauthorized("The token's iat and exp must be numbers.")
        if issued > time.time() + LEEWAY_SECONDS:
            raise Unauthorized("The token was issued in the future.")
        if expires - issued > self.max_lifetime_seconds:
            raise Unauthorized("The token lives longer than this service accepts.")


def _principal(claims: dict[str, Any]) -> Principal:
    try:
        agency = uuid.UUID(str(claims["agency"]))
    except (KeyError, ValueError) as exc:
        raise Unauthorized("The token names no valid agency.") from exc
    scope = claims.get("scope", "")
    if not isinstance(scope, str):
        raise Unauthorized("The token's scope claim is malformed.")
    act = claims.get("act")
    acting = act.get("sub") if isinstance(act, dict) and isinstance(act.get("sub"), str) else None
    return Principal(
        client_id=str(claims["sub"]),
        agency_id=agency,
        scopes=frozenset(scope.split()),
        token_id=str(claims["jti"]),
        acting_user=acting,
    )
