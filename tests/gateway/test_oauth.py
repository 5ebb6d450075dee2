from __future__ import annotations

import base64
import json
import uuid
from urllib.parse import quote_plus

import httpx
import pytest

from services.gateway.app import Gateway
from shared.tokens import TokenVerifier
from tests.gateway.factories import make_client
from tests.support import AUDIENCE, ISSUER

PROBLEM = "application/problem+json"
GRANT = {"grant_type": "client_credentials"}


def _claims(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    result: dict[str, object] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return result


async def test_token_for_a_valid_client_verifies_with_the_published_keys(
    gateway: httpx.AsyncClient, gateway_app: Gateway
) -> None:
    partner = await make_client(gateway_app, ["referral:read", "referral:write", "assessment:read"])
    r = await gateway.post("/oauth/token", data=GRANT, headers=partner.basic())
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["scope"] == "assessment:read referral:read referral:write"

    jwks = (await gateway.get("/.well-known/jwks.json")).json()
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, algorithms=["ES256"], jwks=jwks)
    principal = await verifier.verify(body["access_token"])
    assert principal.client_id == partner.client_id
    assert principal.agency_id == partner.agency_id
    assert principal.scopes == {"assessment:read", "referral:read", "referral:write"}
    claims = _claims(body["access_token"])
    assert claims["exp"] == claims["iat"] + 900  # type: ignore[operator]


async def test_client_may_send_its_credentials_in_the_form(gateway: httpx.AsyncClient, gateway_app: Gateway) -> None:
    partner = await make_client(gateway_app)
    r = await gateway.post("/oauth/token", data={**GRANT, "client_id": partner.client_id,
                                                 "client_secret": partner.secret})
    assert r.status_code == 200, r.text
    assert _claims(r.json()["access_token"])["sub"] == partner.client_id


async def test_basic_credentials_are_form_decoded(gateway: httpx.AsyncClient, gateway_app: Gateway) -> None:
    # RFC 6749 §2.3.1: id and secret are form-encoded before base64, so '+' stands for a space.
    partner = await make_client(gateway_app)
    raw = f"{quote_plus(partner.client_id)}:{quote_plus(partner.secret)}".encode()
    r = await gateway.post("/oauth/token", data=GRANT,
                           headers={"Authorization": "Basic " + base64.b64encode(raw).decode()})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("how", ["basic", "form"])
async def test_wrong_secret_is_401_invalid_client(gateway: httpx.AsyncClient, gateway_app: Gateway, how: str) -> None:
    partner = await make_client(gateway_app)
    wrong = partner.secret[:-1] + ("A" if partner.secret[-1] != "A" else "B")
    if how == "basic":
        r = await gateway.post("/oauth/token", data=GRANT, headers=partner.basic(wrong))
    else:
        r = await gateway.post("/oauth/token", data={**GRANT, "client_id": partner.client_id, "client_secret": wrong})
    assert r.status_code == 401
    assert r.headers["content-type"] == PROBLEM
    assert r.headers["www-authenticate"].startswith("Basic")
    problem = r.json()
    assert problem["error"] == "invalid_client"
    assert problem["type"].endswith("/invalid-client")
    assert problem["request_id"] == r.headers["x-request-id"]
    assert partner.secret not in r.text
    assert wrong not in r.text


async def test_unknown_and_disabled_clients_get_the_same_401(gateway: httpx.AsyncClient, gateway_app: Gateway) -> None:
    disabled = await make_client(gateway_app, active=False)
    unknown = await gateway.post("/oauth/token", data={**GRANT, "client_id": "nobody-" + uuid.uuid4().hex,
                                                        "client_secret": "x" * 43})
    off = await gateway.post("/oauth/token", data=GRANT, headers=disabled.basic())
    assert unknown.status_code == off.status_code == 401
    assert unknown.json()["detail"] == off.json()["detail"]
    assert unknown.json()["error"] == off.json()["error"] == "invalid_client"


async def test_no_credentials_is_401(gateway: httpx.AsyncClient) -> None:
    r = await gateway.post("/oauth/token", data=GRANT)
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"


async def test_scope_narrows_the_token(gateway: httpx.AsyncClient, gateway_app: Gateway) -> None:
    partner = await make_client(gateway_app, ["referral:read", "referral:write", "reporting:read"])
    r = await gateway.post("/oauth/token", data={**GRANT, "scope": "referral:read"}, headers=partner.basic())
    assert r.status_code == 200, r.text
    assert r.json()["scope"] == "referral:read"
    assert _claims(r.json()["access_token"])["scope"] == "referral:read"


@pytest.mark.parametrize("scope", ["admin", "referral:read admin", "no-such-scope"])
async def test_scope_beyond_the_clients_is_400_invalid_scope(
    gateway: httpx.AsyncClient, gateway_app: Gateway, scope: str
) -> None:
    partner = await make_client(gateway_app, ["referral:read"])
    r = await gateway.post("/oauth/token", data={**GRANT, "scope": scope}, headers=partner.basic())
    assert r.status_code == 400
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["error"] == "invalid_scope"
    assert "access_token" not in r.text


@pytest.mark.parametrize(("form", "error"), [
    ({"grant_type": "password", "username": "u", "password": "p"}, "unsupported_grant_type"),
    ({"grant_type": "authorization_code", "code": "x"}, "unsupported_grant_type"),
    ({}, "invalid_request"),
])
async def test_other_grants_are_400(
    gateway: httpx.AsyncClient, gateway_app: Gateway, form: dict[str, str], error: str
) -> None:
    partner = await make_client(gateway_app)
    r = await gateway.post("/oauth/token", data=form, headers=partner.basic())
    assert r.status_code == 400
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["error"] == error


async def test_repeated_parameter_and_two_ways_of_authenticating_are_400(
    gateway: httpx.AsyncClient, gateway_app: Gateway
) -> None:
    partner = await make_client(gateway_app)
    twice = await gateway.post("/oauth/token", content="grant_type=client_credentials&scope=a&scope=b",
                               headers={**partner.basic(), "Content-Type": "application/x-www-form-urlencoded"})
    both = await gateway.post("/oauth/token", data={**GRANT, "client_secret": partner.secret}, headers=partner.basic())
    assert twice.status_code == both.status_code == 400
    assert twice.json()["error"] == both.json()["error"] == "invalid_request"


async def test_json_body_is_415(gateway: httpx.AsyncClient, gateway_app: Gateway) -> None:
    partner = await make_client(gateway_app)
    r = await gateway.post("/oauth/token", json=GRANT, headers=partner.basic())
    assert r.status_code == 415
    assert r.headers["content-type"] == PROBLEM


async def test_oversized_token_request_is_413(gateway: httpx.AsyncClient) -> None:
    r = await gateway.post("/oauth/token", data={**GRANT, "scope": "x" * 2_000_000})
    assert r.status_code == 413
    assert r.headers["content-type"] == PROBLEM


async def test_jwks_publishes_public_keys_only(gateway: httpx.AsyncClient) -> None:
    r = await gateway.get("/.well-known/jwks.json")
    assert r.status_code == 200
    keys = r.json()["keys"]
    assert keys
    for key in keys:
        assert key["kid"]
        assert (key["kty"], key["alg"], key["use"]) == ("EC", "ES256", "sig")
        assert not {"d", "p", "q", "dp", "dq", "qi", "k"} & key.keys()


async def test_health(gateway: httpx.AsyncClient) -> None:
    assert (await gateway.get("/livez")).json() == {"status": "ok"}
    ready = await gateway.get("/readyz")
    assert ready.status_code == 200
    assert ready.headers["x-request-id"]


@pytest.mark.parametrize("field", ["client_id", "client_secret", "scope"])
async def test_nul_in_the_token_form_is_422(gateway: httpx.AsyncClient, field: str) -> None:
    form = {"grant_type": "client_credentials", "client_id": "demo-client", "client_secret": "s" * 40, field: "a\x00b"}
    r = await gateway.post("/oauth/token", data=form)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
