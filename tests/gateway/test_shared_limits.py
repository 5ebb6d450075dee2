"""Rate limits shared by several gateway replicas through Redis, and what happens when Redis fails.

The shared tests need Redis at 127.0.0.1:6379 (``REDIS_URL`` moves it); without it they are
skipped with a message, except in CI (``CI=true``), where ``.ci/run`` starts one and a missing
Redis is a failure. The failure tests point at a port where nothing listens and need no Redis.
"""

from __future__ import annotations

import os
import socket
import uuid
from urllib.parse import urlsplit

import httpx
import pytest

from services.gateway.app import Gateway
from tests.gateway.conftest import GATEWAY, MakeGateway
from tests.gateway.factories import make_client
from tests.gateway.stub import Stub, refusing_url
from tests.support import TokenFor

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
GRANT = {"grant_type": "client_credentials"}


def _redis_reachable() -> bool:
    parts = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def redis_url() -> str:
    if not _redis_reachable():
        message = f"Redis is not reachable at {REDIS_URL}: the shared rate limit tests need it"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: .ci/run starts one)")
        pytest.skip(message)
    return REDIS_URL


def _client(app: Gateway, address: str = "192.0.2.10") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url=GATEWAY)


def _prefix() -> str:
    # Each test counts under keys of its own, so runs and tests never see each other's counts.
    return f"test-{uuid.uuid4().hex}"


async def test_two_replicas_share_one_client_limit(
    make_gateway: MakeGateway, upstreams: dict[str, str], gateway_token_for: TokenFor, stub: Stub, redis_url: str
) -> None:
    shared = {"rate_limit_storage": redis_url, "rate_limit_key_prefix": _prefix(), "rate_limit_per_minute": 4}
    first, second = await make_gateway(upstreams, **shared), await make_gateway(upstreams, **shared)
    headers = gateway_token_for(uuid.uuid4(), "assessment:read", client_id="busy-client")
    statuses = []
    async with _client(first) as one, _client(second) as two:
        for replica in (one, two, one, two, one, two):
            statuses.append((await replica.get("/v1/toolkits/echo", headers=headers)).status_code)
        limited = await two.get("/v1/toolkits/echo", headers=headers)
        quiet = await one.get("/v1/toolkits/echo", headers=gateway_token_for(uuid.uuid4(), client_id="quiet-client"))
    # Four between the two replicas, not four each.
    assert statuses == [200, 200, 200, 200, 429, 429]
    assert limited.headers["content-type"] == "application/problem+json"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert quiet.status_code == 200
    assert len(stub.seen) == 5
    assert first.state.limit_store.failed_open == second.state.limit_store.failed_open == 0


async def test_two_replicas_share_the_token_endpoint_limits(make_gateway: MakeGateway, redis_url: str) -> None:
    shared = {"rate_limit_storage": redis_url, "rate_limit_key_prefix": _prefix(),
              "token_rate_limit_per_client": 3, "token_rate_limit_per_address": 0}
    first, second = await make_gateway({}, **shared), await make_gateway({}, **shared)
    partner = await make_client(first)
    async with _client(first) as one, _client(second) as two:
        statuses = [(await replica.post("/oauth/token", data=GRANT, headers=partner.basic())).status_code
                    for replica in (one, two, one, two)]
    assert statuses == [200, 200, 200, 429]
    assert first.state.limit_store.fell_back == second.state.limit_store.fell_back == 0


async def test_without_redis_v1_fails_open_and_is_counted(
    make_gateway: MakeGateway, upstreams: dict[str, str], gateway_token_for: TokenFor, stub: Stub
) -> None:
    with refusing_url() as down:
        app = await make_gateway(upstreams, rate_limit_storage=down.replace("http://", "redis://"),
                                 rate_limit_per_minute=2)
        headers = gateway_token_for(uuid.uuid4(), "assessment:read", client_id="busy-client")
        async with _client(app) as client:
            statuses = [(await client.get("/v1/toolkits/echo", headers=headers)).status_code for _ in range(4)]
    # Casework goes on while the counter is away; each uncounted request is counted as such.
    assert statuses == [200, 200, 200, 200]
    assert app.state.limit_store.failed_open == 4
    assert len(stub.seen) == 4


async def test_without_redis_the_token_endpoint_counts_in_the_replica(make_gateway: MakeGateway) -> None:
    with refusing_url() as down:
        app = await make_gateway({}, rate_limit_storage=down.replace("http://", "redis://"),
                                 token_rate_limit_per_client=2, token_rate_limit_per_address=0)
        partner = await make_client(app)
        async with _client(app) as client:
            statuses = [(await client.post("/oauth/token", data=GRANT, headers=partner.basic())).status_code
                        for _ in range(3)]
    # Never unlimited: the replica's own memory keeps the limit.
    assert statuses == [200, 200, 429]
    assert app.state.limit_store.fell_back == 3
    assert app.state.limit_store.failed_open == 0


async def test_a_redis_that_never_answers_is_treated_as_down(
    make_gateway: MakeGateway, upstreams: dict[str, str], gateway_token_for: TokenFor, stub: Stub
) -> None:
    """Connections are accepted (the kernel's backlog) but nothing ever answers: each request
    waits at most rate_limit_storage_timeout, then goes ahead (/v1) or is counted locally."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        app = await make_gateway(upstreams, rate_limit_storage=url, rate_limit_storage_timeout=0.2,
                                 rate_limit_per_minute=1, token_rate_limit_per_client=1, token_rate_limit_per_address=0)
        partner = await make_client(app)
        headers = gateway_token_for(uuid.uuid4(), "assessment:read", client_id="busy-client")
        async with _client(app) as client:
            calls = [(await client.get("/v1/toolkits/echo", headers=headers)).status_code for _ in range(2)]
            tokens = [(await client.post("/oauth/token", data=GRANT, headers=partner.basic())).status_code
                      for _ in range(2)]
    assert calls == [200, 200]
    assert tokens == [200, 429]
    assert (app.state.limit_store.failed_open, app.state.limit_store.fell_back) == (2, 2)


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "memcached://127.0.0.1:11211", "redis"])
def test_other_storage_urls_are_refused(url: str) -> None:
    from services.gateway.settings import GatewaySettings

    with pytest.raises(ValueError, match="rate_limit_storage"):
        GatewaySettings(rate_limit_storage=url)
