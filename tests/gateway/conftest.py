"""Gateway fixtures.

Two kinds of gateway: ``gateway`` (in-process, no services behind it, every
write rolled back) for the token endpoint, and ``edge`` (in-process, its
lifespan running) in front of real servers on free ports: the referral
service, the stub service as assessment, and a closed port as reporting.
``edge_url`` is a gateway on a real server too, for streaming.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.gateway.app import Gateway, create_app
from services.gateway.settings import GatewaySettings
from services.referral.app import create_app as create_referral
from services.referral.settings import ReferralSettings
from shared.tokens import TokenSigner, load_or_create_signer
from tests.gateway.stub import Stub, refusing_url, running, serve
from tests.support import (
    AUDIENCE,
    ISSUER,
    Keys,
    TokenFor,
    common_settings,
    create_database,
    drop_database,
    isolated,
)

GATEWAY = "http://gateway.test"
MakeGateway = Callable[..., Awaitable[Gateway]]


@pytest.fixture(scope="session")
def gateway_key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gateway-keys")


@pytest.fixture(scope="session")
def gateway_signer(gateway_key_dir: Path) -> TokenSigner:
    """The key the gateways under test sign with (they load it from the same folder)."""
    return load_or_create_signer(gateway_key_dir)


@pytest.fixture(scope="session")
def gateway_token_for(gateway_signer: TokenSigner) -> TokenFor:
    """Headers with a token as the gateway would issue it."""

    def headers(agency_id: uuid.UUID, *scopes: str, client_id: str = "test-client", ttl: int = 300) -> dict[str, str]:
        token = gateway_signer.issue(issuer=ISSUER, audience=AUDIENCE, subject=client_id, agency_id=agency_id,
                                     scopes=scopes, ttl_seconds=ttl)
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture(scope="session")
async def gateway_db(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    url = await create_database("gateway", tmp_path_factory.mktemp("gateway-db"))
    yield url
    await drop_database(url)


@pytest.fixture(scope="session")
def gateway_settings(keys: Keys, gateway_db: str, gateway_key_dir: Path) -> Callable[..., GatewaySettings]:
    def settings(**overrides: Any) -> GatewaySettings:
        values: dict[str, Any] = {
            **common_settings(keys, gateway_db), "key_dir": gateway_key_dir,
            "rate_limit_per_minute": 0, "token_rate_limit_per_client": 0, "token_rate_limit_per_address": 0,
            "upstream_connect_timeout": 2.0, "upstream_read_timeout": 5.0,
            **overrides,
        }
        return GatewaySettings(**values)

    return settings


@pytest.fixture(scope="session")
async def gateway_app(gateway_settings: Callable[..., GatewaySettings]) -> AsyncIterator[Gateway]:
    app = create_app(gateway_settings(), upstreams={})
    yield app
    await app.state.db.dispose()


@pytest.fixture
async def gateway(gateway_app: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    async with isolated(gateway_app, GATEWAY) as client:  # type: ignore[arg-type]
        yield client


# --- services behind the gateway ----------------------------------------------------


@pytest.fixture(scope="session")
async def stub_server() -> AsyncIterator[tuple[Stub, str]]:
    stub = Stub()
    async with serve(stub) as url:
        yield stub, url


@pytest.fixture
def stub(stub_server: tuple[Stub, str]) -> Stub:
    stub_server[0].reset()
    return stub_server[0]


@pytest.fixture(scope="session")
async def referral_server(
    keys: Keys, gateway_signer: TokenSigner, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """The real referral service, trusting the gateway's key, on a database of its own."""
    url = await create_database("referral", tmp_path_factory.mktemp("gateway-referral-db"))
    settings = ReferralSettings(**{**common_settings(keys, url), "jwks_json": json.dumps(gateway_signer.jwks())})  # type: ignore[arg-type]
    try:
        async with serve(create_referral(settings), lifespan="on") as base:
            yield base
    finally:
        await drop_database(url)


@pytest.fixture(scope="session")
def upstreams(referral_server: str, stub_server: tuple[Stub, str]) -> Iterator[dict[str, str]]:
    with refusing_url() as down:
        yield {"referral": referral_server, "assessment": stub_server[1], "reporting": down}


@pytest.fixture(scope="session")
async def edge_app(gateway_settings: Callable[..., GatewaySettings], upstreams: dict[str, str]) -> AsyncIterator[Gateway]:
    app = create_app(gateway_settings(), upstreams=upstreams)
    async with running(app):
        yield app


@pytest.fixture
async def edge(edge_app: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=edge_app), base_url=GATEWAY) as client:
        yield client


@pytest.fixture(scope="session")
async def edge_url(gateway_settings: Callable[..., GatewaySettings], upstreams: dict[str, str]) -> AsyncIterator[str]:
    """A gateway on a real server: the only way to see bodies stream through it."""
    async with serve(create_app(gateway_settings(max_body_bytes=4096), upstreams=upstreams), lifespan="on") as url:
        yield url


@pytest.fixture
async def make_gateway(gateway_settings: Callable[..., GatewaySettings]) -> AsyncIterator[MakeGateway]:
    """Gateways with settings of their own, running until the test ends."""
    async with AsyncExitStack() as stack:

        async def make(upstreams: dict[str, str], **overrides: Any) -> Gateway:
            app = create_app(gateway_settings(**overrides), upstreams=upstreams)
            await stack.enter_async_context(running(app))
            return app

        yield make
