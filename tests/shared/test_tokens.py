"""Negative tests for token verification (DESIGN.md §4)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import pytest

from shared.errors import Unauthorized
from shared.tokens import TokenSigner, TokenVerifier, generate_private_pem
from tests.support import AUDIENCE, ISSUER, Keys

AGENCY = uuid.uuid4()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, object], claims: dict[str, object], signature: bytes = b"") -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}.{b64(signature)}"


def good_claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {"iss": ISSUER, "aud": AUDIENCE, "sub": "c", "agency": str(AGENCY),
                                 "scope": "referral:read", "iat": now, "exp": now + 60, "jti": "j1"}
    claims.update(overrides)
    return claims


@pytest.fixture
def verifier(keys: Keys) -> TokenVerifier:
    return TokenVerifier(issuer=ISSUER, audience=AUDIENCE, algorithms=["ES256", "RS256"], jwks=keys.signer.jwks())


async def test_good_token_gives_principal(keys: Keys, verifier: TokenVerifier) -> None:
    principal = await verifier.verify(keys.token(AGENCY, "referral:read", acting_user="worker-17"))
    assert principal.agency_id == AGENCY
    assert principal.scopes == frozenset({"referral:read"})
    assert principal.acting_user == "worker-17"


async def test_alg_none_is_refused(keys: Keys, verifier: TokenVerifier) -> None:
    token = forge({"alg": "none", "kid": keys.signer.kid}, good_claims())
    with pytest.raises(Unauthorized, match="algorithm"):
        await verifier.verify(token)


async def test_hs256_with_the_public_key_as_secret_is_refused(keys: Keys, verifier: TokenVerifier) -> None:
    # The classic confusion attack: sign with HMAC using the public key bytes.
    public = json.dumps(keys.signer.jwks()["keys"][0]).encode()
    header = {"alg": "HS256", "kid": keys.signer.kid}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(good_claims()).encode())}"
    sig = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(Unauthorized, match="algorithm"):
        await verifier.verify(f"{signing_input}.{b64(sig)}")


async def test_rs256_header_on_an_ec_key_is_refused(keys: Keys, verifier: TokenVerifier) -> None:
    token = forge({"alg": "RS256", "kid": keys.signer.kid}, good_claims(), b"x" * 256)
    with pytest.raises(Unauthorized, match="does not match its key"):
        await verifier.verify(token)


@pytest.mark.parametrize(
    ("issuer", "audience"), [("https://evil.example", AUDIENCE), (ISSUER, "other-audience")]
)
async def test_wrong_issuer_or_audience_is_refused(issuer: str, audience: str, keys: Keys, verifier: TokenVerifier) -> None:
    token = keys.signer.issue(issuer=issuer, audience=audience, subject="c", agency_id=AGENCY,
                              scopes=["referral:read"], ttl_seconds=60)
    with pytest.raises(Unauthorized, match="claims"):
        await verifier.verify(token)


async def test_expired_token_is_refused(keys: Keys, verifier: TokenVerifier) -> None:
    token = keys.signer.issue(issuer=ISSUER, audience=AUDIENCE, subject="c", agency_id=AGENCY,
                              scopes=["referral:read"], ttl_seconds=60, now=time.time() - 3600)
    with pytest.raises(Unauthorized, match="expired"):
        await verifier.verify(token)


async def test_unknown_kid_is_refused(verifier: TokenVerifier) -> None:
    stranger = TokenSigner([generate_private_pem()])
    token = stranger.issue(issuer=ISSUER, audience=AUDIENCE, subject="c", agency_id=AGENCY,
                           scopes=["referral:read"], ttl_seconds=60)
    with pytest.raises(Unauthorized, match="unknown key"):
        await verifier.verify(token)


async def test_tampered_payload_is_refused(keys: Keys, verifier: TokenVerifier) -> None:
    header, _, sig = keys.token(AGENCY, "referral:read").split(".")
    payload = b64(json.dumps(good_claims(scope="admin")).encode())
    with pytest.raises(Unauthorized, match="signature"):
        await verifier.verify(f"{header}.{payload}.{sig}")


@pytest.mark.parametrize("token", ["a.b.c.d.e", "x" * 9000, "not-a-jwt", "e30.e30.e30"])
async def test_malformed_oversized_and_jwe_are_refused(token: str, verifier: TokenVerifier) -> None:
    with pytest.raises(Unauthorized):
        await verifier.verify(token)


async def test_missing_required_claim_is_refused(keys: Keys, verifier: TokenVerifier) -> None:
    from jose import jwt  # test-only: build a token lacking jti with the real key

    claims = good_claims()
    del claims["jti"]
    pem = keys.signer._keys[-1][1].decode()
    token = jwt.encode(claims, pem, algorithm="ES256", headers={"kid": keys.signer.kid})
    with pytest.raises(Unauthorized):
        await verifier.verify(token)


def test_symmetric_algorithms_cannot_be_configured() -> None:
    from pydantic import ValidationError

    from shared.settings import ServiceSettings

    with pytest.raises(ValidationError):
        ServiceSettings(token_algorithms=["HS256"])
