"""Fetching the signing keys: one fetch for every waiting caller, and the token's times checked."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest

from shared.errors import ServiceUnavailable, Unauthorized
from shared.tokens import TokenSigner, TokenVerifier, generate_private_pem
from tests.support import AUDIENCE, ISSUER, Keys

AGENCY = uuid.uuid4()
JWKS_URL = "http://gateway.test/.well-known/jwks.json"


class SlowJwks(httpx.AsyncBaseTransport):
    """The gateway's JWKS endpoint, answering after a pause, counting calls."""

    def __init__(self, document: dict[str, object], *, failures: int = 0) -> None:
        self.document = document
        self.calls = 0
        self.failures = failures

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        await asyncio.sleep(0.05)
        if self.failures:
            self.failures -= 1
            return httpx.Response(503)
        return httpx.Response(200, json=self.document)


def fetching_verifier(transport: httpx.AsyncBaseTransport) -> TokenVerifier:
    return TokenVerifier(issuer=ISSUER, audience=AUDIENCE, algorithms=["ES256"], jwks_url=JWKS_URL,
                         transport=transport)


async def test_concurrent_first_requests_all_wait_for_one_fetch(keys: Keys) -> None:
    transport = SlowJwks(keys.signer.jwks())
    verifier = fetching_verifier(transport)
    tokens = [keys.token(AGENCY, "referral:read", client_id=f"client-{n}") for n in range(30)]

    results = await asyncio.gather(*(verifier.verify(t) for t in tokens), return_exceptions=True)

    refused = [r for r in results if isinstance(r, Exception)]
    assert refused == []
    assert {r.client_id for r in results if not isinstance(r, BaseException)} == {f"client-{n}" for n in range(30)}
    assert transport.calls == 1


async def test_a_failed_fetch_is_retried_by_the_next_caller(keys: Keys) -> None:
    transport = SlowJwks(keys.signer.jwks(), failures=1)
    verifier = fetching_verifier(transport)
    token = keys.token(AGENCY, "referral:read")

    first = await asyncio.gather(verifier.verify(token), verifier.verify(token), return_exceptions=True)
    assert all(isinstance(r, ServiceUnavailable) for r in first)
    assert (await verifier.verify(token)).agency_id == AGENCY
    assert transport.calls == 2


async def test_unknown_keys_do_not_refetch_within_the_interval(keys: Keys) -> None:
    transport = SlowJwks(keys.signer.jwks())
    verifier = fetching_verifier(transport)
    await verifier.verify(keys.token(AGENCY, "referral:read"))
    stranger = TokenSigner([generate_private_pem()])
    forged = stranger.issue(issuer=ISSUER, audience=AUDIENCE, subject="c", agency_id=AGENCY,
                            scopes=["admin"], ttl_seconds=60)
    for _ in range(5):
        with pytest.raises(Unauthorized, match="unknown key"):
            await verifier.verify(forged)
    assert transport.calls == 1


@pytest.fixture
def verifier(keys: Keys) -> TokenVerifier:
    return TokenVerifier(issuer=ISSUER, audience=AUDIENCE, algorithms=["ES256"], jwks=keys.signer.jwks(),
                         max_lifetime_seconds=3600)


async def test_a_token_issued_in_the_future_is_refused(keys: Keys, verifier: TokenVerifier) -> None:
    token = keys.signer.issue(issuer=ISSUER, audience=AUDIENCE, subject="c", agency_id=AGENCY,
                              scopes=["referral:read"], ttl_seconds=900, now=time.time() + 600)
    with pytest.raises(Unauthorized, match="future"):
        await verifier.verify(token)


async def test_a_token_living_longer_than_the_maximum_is_refused(keys: Keys, verifier: TokenVerifier) -> None:
    token = keys.signer.issue(issuer=ISSUER, audience=AUDIENCE, subject="c", agency_id=AGENCY,
                              scopes=["referral:read"], ttl_seconds=7200)
    with pytest.raises(Unauthorized, match="longer"):
        await verifier.verify(token)


async def test_clock_skew_within_the_leeway_is_accepted(keys: Keys, verifier: TokenVerifier) -> None:
    token = keys.signer.issue(issuer=ISSUER, audience=AUDIENCE, subject="c", agency_id=AGENCY,
                              scopes=["referral:read"], ttl_seconds=900, now=time.time() + 10)
    assert (await verifier.verify(token)).agency_id == AGENCY
