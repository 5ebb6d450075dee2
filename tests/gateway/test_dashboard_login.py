"""The dashboard's sign-in: the development login at /oauth/authorize, then the authorization code
with PKCE (S256) at /oauth/token. Wrong verifier, reused code, wrong redirect URI, wrong client:
each refused with problem+json and the OAuth error code."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from jose import jwt

from services.gateway.app import Gateway, create_app
from services.gateway.login_settings import DASHBOARD_AGENCY
from services.gateway.settings import GatewaySettings
from tests.gateway.conftest import GATEWAY
from tests.support import isolated

PROBLEM = "application/problem+json"
REDIRECT = f"{GATEWAY}/dashboard/"
USERS = [{"id": "analyst", "name": "Demo analyst"}, {"id": "manager", "name": "Demo manager"}]


@pytest.fixture(scope="module")
async def login_app(gateway_settings: Callable[..., GatewaySettings]) -> AsyncIterator[Gateway]:
    app = create_app(gateway_settings(dev_login_users=USERS), upstreams={})
    yield app
    await app.state.db.dispose()


@pytest.fixture
async def login(login_app: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    async with isolated(login_app, GATEWAY) as client:  # type: ignore[arg-type]
        yield client


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_params(challenge: str, **overrides: str) -> dict[str, str]:
    return {"response_type": "code", "client_id": "dashboard", "redirect_uri": REDIRECT, "code_challenge": challenge,
            "code_challenge_method": "S256", "state": "s-123", "scope": "openid reporting:read", **overrides}


async def sign_in(client: httpx.AsyncClient, challenge: str, user: str = "analyst") -> str:
    r = await client.post("/oauth/authorize", data={**authorize_params(challenge), "user": user})
    assert r.status_code == 303, r.text
    location = urlsplit(r.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["s-123"]
    return query["code"][0]


def token_form(code: str, verifier: str, **overrides: str) -> dict[str, str]:
    return {"grant_type": "authorization_code", "code": code, "code_verifier": verifier, "client_id": "dashboard",
            "redirect_uri": REDIRECT, **overrides}


def assert_refused(r: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert (r.status_code, r.headers["content-type"]) == (status, PROBLEM), r.text
    body: dict[str, Any] = r.json()
    assert body["error"] == error
    return body


async def test_the_login_page_lists_the_demo_users_without_scripts(login: httpx.AsyncClient) -> None:
    _, challenge = pkce()
    r = await login.get("/oauth/authorize", params=authorize_params(challenge))
    assert r.status_code == 200, r.text
    assert "script-src" not in r.headers["content-security-policy"]
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert "<script" not in r.text
    assert re.findall(r'name="user" id="user-\d" value="([^"]+)"', r.text) == ["analyst", "manager"]
    assert '<label for="user-0">Demo analyst' in r.text
    assert f'value="{challenge}"' in r.text


async def test_code_with_the_right_verifier_gives_a_read_only_reporting_token(
    login: httpx.AsyncClient, gateway_signer: Any,
) -> None:
    verifier, challenge = pkce()
    code = await sign_in(login, challenge, "manager")
    r = await login.post("/oauth/token", data=token_form(code, verifier))
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert (body["token_type"], body["scope"]) == ("Bearer", "reporting:read")
    claims = jwt.get_unverified_claims(body["access_token"])
    assert (claims["sub"], claims["act"], claims["agency"]) == ("dashboard", {"sub": "manager"}, str(DASHBOARD_AGENCY))
    # The gateway's own /v1 routes accept it as any token: but it holds no admin scope.
    r = await login.get("/v1/clients", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert r.status_code == 403


async def test_a_wrong_verifier_is_refused_and_spends_the_code(login: httpx.AsyncClient) -> None:
    verifier, challenge = pkce()
    code = await sign_in(login, challenge)
    body = assert_refused(await login.post("/oauth/token", data=token_form(code, pkce()[0])), 400, "invalid_grant")
    assert "code_verifier" in body["detail"]
    # Not a second try, even with the right verifier.
    body = assert_refused(await login.post("/oauth/token", data=token_form(code, verifier)), 400, "invalid_grant")
    assert "already used" in body["detail"]


async def test_a_code_is_used_once(login: httpx.AsyncClient) -> None:
    verifier, challenge = pkce()
    code = await sign_in(login, challenge)
    assert (await login.post("/oauth/token", data=token_form(code, verifier))).status_code == 200
    body = assert_refused(await login.post("/oauth/token", data=token_form(code, verifier)), 400, "invalid_grant")
    assert "already used" in body["detail"]


async def test_a_different_redirect_uri_at_the_token_endpoint_is_refused(login: httpx.AsyncClient) -> None:
    verifier, challenge = pkce()
    code = await sign_in(login, challenge)
    r = await login.post("/oauth/token", data=token_form(code, verifier, redirect_uri=REDIRECT + "elsewhere"))
    assert "redirect_uri" in assert_refused(r, 400, "invalid_grant")["detail"]


@pytest.mark.parametrize(("form", "error"), [
    ({"code": "not-a-code-we-issued"}, "invalid_grant"),
    ({"code_verifier": ""}, "invalid_request"),
    ({"client_id": "someone-else"}, "invalid_request"),
    ({"client_secret": "x" * 40}, "unsupported_grant_type"),  # a confidential client's request
])
async def test_malformed_token_requests_are_refused(login: httpx.AsyncClient, form: dict[str, str], error: str) -> None:
    verifier, challenge = pkce()
    code = await sign_in(login, challenge)
    assert_refused(await login.post("/oauth/token", data={**token_form(code, verifier), **form}), 400, error)


@pytest.mark.parametrize("overrides", [
    {"redirect_uri": "https://evil.example/dashboard/"},
    {"redirect_uri": REDIRECT + "?x=1"},
    {"redirect_uri": REDIRECT.rstrip("/")},
    {"client_id": "police-niche"},
    {"code_challenge_method": "plain"},
    {"code_challenge": "too-short"},
    {"response_type": "token"},
    {"scope": "reporting:read admin"},
])
async def test_bad_authorization_requests_are_refused_without_a_redirect(
    login: httpx.AsyncClient, overrides: dict[str, str],
) -> None:
    _, challenge = pkce()
    params = authorize_params(challenge, **overrides)
    got = await login.get("/oauth/authorize", params=params)
    assert_refused(got, 400, "invalid_request")
    posted = await login.post("/oauth/authorize", data={**params, "user": "analyst"})
    assert_refused(posted, 400, "invalid_request")
    assert "location" not in posted.headers


async def test_an_unknown_user_gets_no_code(login: httpx.AsyncClient) -> None:
    _, challenge = pkce()
    r = await login.post("/oauth/authorize", data={**authorize_params(challenge), "user": "mallory"})
    assert_refused(r, 400, "invalid_request")


async def test_without_dev_users_the_login_is_off(gateway: httpx.AsyncClient) -> None:
    _, challenge = pkce()
    r = await gateway.get("/oauth/authorize", params=authorize_params(challenge))
    assert (r.status_code, r.headers["content-type"]) == (404, PROBLEM)
    r = await gateway.post("/oauth/token", data=token_form("x" * 43, pkce()[0]))
    assert_refused(r, 400, "unsupported_grant_type")
    config = (await gateway.get("/dashboard/config.json")).json()
    assert (config["exchange"], config["dev_login"]) == (False, False)


# --- an identity provider: its ID token exchanged for a gateway token (RFC 8693) ---------------------

IDP = "https://idp.test"
EXCHANGE = {"grant_type": "urn:ietf:params:oauth:grant-type:token-exchange", "client_id": "dashboard",
            "subject_token_type": "urn:ietf:params:oauth:token-type:id_token"}


@pytest.fixture(scope="module")
def idp_signer(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from shared.tokens import load_or_create_signer

    return load_or_create_signer(tmp_path_factory.mktemp("idp-keys"))


@pytest.fixture(scope="module")
async def idp_app(gateway_settings: Callable[..., GatewaySettings], idp_signer: Any) -> AsyncIterator[Gateway]:
    app = create_app(gateway_settings(
        oidc_issuer=IDP, oidc_authorize_url=f"{IDP}/authorize", oidc_token_url=f"{IDP}/token",
        oidc_jwks_url=f"{IDP}/jwks", oidc_client_id="dashboard-at-idp"), upstreams={})
    # The provider's keys, served without a network.
    app.state.oidc_transport = httpx.MockTransport(lambda request: httpx.Response(200, json=idp_signer.jwks()))
    yield app
    await app.state.db.dispose()


def id_token(signer: Any, **overrides: Any) -> str:
    claims: dict[str, Any] = {"issuer": IDP, "audience": "dashboard-at-idp", "subject": "staff-77",
                              "agency_id": DASHBOARD_AGENCY, "scopes": [], "ttl_seconds": 300, **overrides}
    token: str = signer.issue(**claims)
    return token


async def test_an_id_token_from_the_provider_is_exchanged(idp_app: Gateway, idp_signer: Any) -> None:
    async with isolated(idp_app, GATEWAY) as client:  # type: ignore[arg-type]
        config = (await client.get("/dashboard/config.json")).json()
        assert (config["exchange"], config["authorize_url"], config["client_id"]) == (True, f"{IDP}/authorize", "dashboard-at-idp")
        r = await client.post("/oauth/token", data={**EXCHANGE, "subject_token": id_token(idp_signer)})
        assert r.status_code == 200, r.text
        claims = jwt.get_unverified_claims(r.json()["access_token"])
        assert (claims["sub"], claims["act"], claims["scope"]) == ("dashboard", {"sub": "staff-77"}, "reporting:read")
        for wrong in (id_token(idp_signer, audience="someone-else"), id_token(idp_signer, issuer="https://other.test"),
                      "not.a.token"):
            assert_refused(await client.post("/oauth/token", data={**EXCHANGE, "subject_token": wrong}), 400, "invalid_grant")
        # Codes are the development login's: off when a provider is configured.
        assert_refused(await client.post("/oauth/token", data=token_form("x" * 43, pkce()[0])), 400, "unsupported_grant_type")
