from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import httpx

from services.gateway.app import Gateway
from tests.gateway.conftest import GATEWAY, MakeGateway
from tests.gateway.factories import make_client
from tests.gateway.stub import Stub, refusing_url
from tests.support import Keys, TokenFor

PROBLEM = "application/problem+json"
ADMIN_AGENCY = uuid.UUID("00000000-0000-4000-8000-00000000a0a0")


def _seen_headers(stub: Stub) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in stub.seen[-1]["headers"]:
        out.setdefault(name, []).append(value)
    return out


# --- to the real referral service --------------------------------------------------


async def test_writes_and_reads_reach_the_referral_service(edge: httpx.AsyncClient, gateway_token_for: TokenFor) -> None:
    r = await edge.post("/v1/agencies", json={"name": "Northshire Police", "agency_type": "police"},
                        headers=gateway_token_for(ADMIN_AGENCY, "admin"))
    assert r.status_code == 201, r.text
    agency = r.json()
    assert agency["agency_type"] == "police"
    assert r.headers["location"] == f"/v1/agencies/{agency['id']}"
    assert r.headers["etag"] == '"1"'
    assert r.headers["content-type"] == "application/json"

    again = await edge.get(f"/v1/agencies/{agency['id']}", headers=gateway_token_for(ADMIN_AGENCY, "referral:read"))
    assert again.status_code == 200
    assert again.json()["name"] == "Northshire Police"
    assert again.headers["etag"] == '"1"'


async def test_services_problem_carries_the_gateways_request_id(
    edge: httpx.AsyncClient, gateway_token_for: TokenFor
) -> None:
    request_id = "partner-req-" + uuid.uuid4().hex[:12]
    r = await edge.get(f"/v1/children/{uuid.uuid4()}",
                       headers={**gateway_token_for(uuid.uuid4(), "referral:read"), "X-Request-ID": request_id})
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM
    assert r.headers["x-request-id"] == request_id
    assert r.json()["request_id"] == request_id  # written by the referral service


async def test_token_from_the_gateway_works_at_the_service(edge: httpx.AsyncClient, edge_app: Gateway) -> None:
    partner = await make_client(edge_app, ["referral:read"])
    token = (await edge.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=partner.basic())).json()
    r = await edge.get("/v1/agency-types", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert r.status_code == 200, r.text
    assert any(t["id"] == "police" for t in r.json())

    # The service checks scopes itself: the gateway only authenticates.
    forbidden = await edge.post("/v1/children", json={},
                                headers={"Authorization": f"Bearer {token['access_token']}"})
    assert forbidden.status_code == 403


# --- authentication and limits at the gateway ---------------------------------------


async def test_v1_without_token_is_401_at_the_gateway(edge: httpx.AsyncClient, stub: Stub) -> None:
    r = await edge.get("/v1/toolkits")
    assert r.status_code == 401
    assert r.headers["content-type"] == PROBLEM
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["request_id"] == r.headers["x-request-id"]
    assert stub.seen == []


async def test_token_from_another_issuer_key_is_401(edge: httpx.AsyncClient, keys: Keys, stub: Stub) -> None:
    # Signed correctly, but not with the gateway's key.
    r = await edge.get("/v1/toolkits", headers=keys.headers(uuid.uuid4(), "assessment:read"))
    assert r.status_code == 401
    assert r.json()["detail"] == "The token was signed with an unknown key."
    assert stub.seen == []


async def test_rate_limit_per_client_is_429_with_retry_after(
    make_gateway: MakeGateway, upstreams: dict[str, str], gateway_token_for: TokenFor, stub: Stub
) -> None:
    app = await make_gateway(upstreams, rate_limit_per_minute=2)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=GATEWAY) as client:
        busy = gateway_token_for(uuid.uuid4(), "assessment:read", client_id="busy-client")
        statuses = [(await client.get("/v1/toolkits/echo", headers=busy)).status_code for _ in range(2)]
        limited = await client.get("/v1/toolkits/echo", headers=busy)
        other = await client.get("/v1/toolkits/echo", headers=gateway_token_for(uuid.uuid4(), client_id="quiet-client"))
    assert statuses == [200, 200]
    assert limited.status_code == 429
    assert limited.headers["content-type"] == PROBLEM
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert other.status_code == 200
    assert len(stub.seen) == 3


async def test_oversized_body_is_413_before_the_service(
    make_gateway: MakeGateway, upstreams: dict[str, str], gateway_token_for: TokenFor, stub: Stub
) -> None:
    app = await make_gateway(upstreams, max_body_bytes=1000)
    headers = gateway_token_for(uuid.uuid4(), "assessment:write")

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"x" * 600

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=GATEWAY) as client:
        declared = await client.post("/v1/assessments/echo", content=b"x" * 2000, headers=headers)
        streamed = await client.post("/v1/assessments/upload", content=chunks(), headers=headers)
        fits = await client.post("/v1/assessments/echo", content=b"x" * 1000, headers=headers)
    assert declared.status_code == 413
    assert declared.headers["content-type"] == PROBLEM
    assert streamed.status_code == 413, streamed.text
    assert streamed.headers["content-type"] == PROBLEM
    assert fits.status_code == 200
    assert [s["path"] for s in stub.seen] == ["/v1/assessments/echo"]


# --- what passes through, and what does not -------------------------------------------


async def test_routing_by_path(edge: httpx.AsyncClient, gateway_token_for: TokenFor, stub: Stub) -> None:
    headers = gateway_token_for(uuid.uuid4(), "assessment:read", "referral:read")
    child = uuid.uuid4()
    trajectory = await edge.get(f"/v1/children/{child}/trajectory", headers=headers)
    toolkits = await edge.get("/v1/toolkits", headers=headers)
    assessments = await edge.get("/v1/assessments/x", headers=headers)
    child_record = await edge.get(f"/v1/children/{child}", headers=headers)
    assert trajectory.headers["x-upstream"] == toolkits.headers["x-upstream"] == assessments.headers["x-upstream"] == "stub"
    assert "x-upstream" not in child_record.headers  # the referral service answered
    assert child_record.status_code == 404
    assert [s["path"] for s in stub.seen] == [f"/v1/children/{child}/trajectory", "/v1/toolkits", "/v1/assessments/x"]


async def test_request_passes_through_with_ids_and_forwarding_headers(
    edge: httpx.AsyncClient, gateway_token_for: TokenFor, stub: Stub, upstreams: dict[str, str]
) -> None:
    trace_id = uuid.uuid4().hex
    r = await edge.post(
        "/v1/toolkits/a%2Fb/echo?q=1&q=two%20words", content=b"not json at all",
        headers={**gateway_token_for(uuid.uuid4(), "assessment:write"), "Content-Type": "text/plain",
                 "X-Request-ID": "req-abcdefgh-1234", "traceparent": f"00-{trace_id}-{'1' * 16}-01",
                 "X-Partner-Header": "kept", "X-Forwarded-For": "203.0.113.7"},
    )
    # The gateway leaves content types to the service: this one accepts text.
    assert r.status_code == 200, r.text
    seen = r.json()
    assert seen["method"] == "POST"
    assert seen["raw_path"] == "/v1/toolkits/a%2Fb/echo"
    assert seen["query"] == "q=1&q=two%20words"
    assert seen["body"] == "not json at all"
    headers = _seen_headers(stub)
    assert headers["x-request-id"] == ["req-abcdefgh-1234"]
    assert headers["traceparent"][0].startswith(f"00-{trace_id}-")
    assert headers["x-partner-header"] == ["kept"]
    assert headers["content-type"] == ["text/plain"]
    assert headers["authorization"][0].startswith("Bearer ")
    assert headers["x-forwarded-for"] == ["203.0.113.7, 127.0.0.1"]
    assert headers["x-forwarded-proto"] == ["http"]
    assert headers["x-forwarded-host"] == ["gateway.test"]
    assert headers["host"] == [upstreams["assessment"].removeprefix("http://")]
    assert headers["user-agent"][0].startswith("python-httpx/")  # the client's, not aiohttp's
    assert r.headers["x-request-id"] == "req-abcdefgh-1234"


async def test_gateway_makes_a_request_id_and_the_service_gets_it(
    edge: httpx.AsyncClient, gateway_token_for: TokenFor, stub: Stub
) -> None:
    r = await edge.get("/v1/toolkits/echo", headers=gateway_token_for(uuid.uuid4(), "assessment:read"))
    assert r.status_code == 200
    assert _seen_headers(stub)["x-request-id"] == [r.headers["x-request-id"]]
    assert _seen_headers(stub)["host"] != ["gateway.test"]


async def test_hop_by_hop_headers_are_dropped_both_ways(
    edge: httpx.AsyncClient, gateway_token_for: TokenFor, stub: Stub
) -> None:
    r = await edge.get("/v1/toolkits/hop", headers={
        **gateway_token_for(uuid.uuid4(), "assessment:read"),
        "Connection": "keep-alive, X-Client-Hop", "X-Client-Hop": "secret", "Keep-Alive": "timeout=5",
        "Proxy-Authorization": "Basic c2VjcmV0", "TE": "trailers", "Trailer": "X-Checksum",
        "Upgrade": "h2c", "X-End-To-End": "kept",
    })
    assert r.status_code == 200
    sent = _seen_headers(stub)
    for name in ("connection", "x-client-hop", "keep-alive", "proxy-authorization", "te", "trailer", "upgrade"):
        assert name not in sent, name
    assert sent["x-end-to-end"] == ["kept"]
    for name in ("connection", "x-upstream-hop", "keep-alive", "proxy-authenticate"):
        assert name not in r.headers, name
    assert r.headers["x-kept"] == "yes"
    assert r.json() == {"hop": True}


async def test_bodiless_response(edge: httpx.AsyncClient, gateway_token_for: TokenFor, stub: Stub) -> None:
    r = await edge.delete("/v1/toolkits/empty", headers=gateway_token_for(uuid.uuid4(), "assessment:write"))
    assert r.status_code == 204
    assert r.content == b""
    assert stub.seen[-1]["method"] == "DELETE"


async def test_response_streams_through(edge_url: str, gateway_token_for: TokenFor, stub: Stub) -> None:
    async with httpx.AsyncClient(base_url=edge_url) as client, client.stream(
        "GET", "/v1/toolkits/stream", headers=gateway_token_for(uuid.uuid4(), "assessment:read")
    ) as r:
        assert r.status_code == 200
        chunks = r.aiter_raw()
        # The service holds back its second chunk until we have the first: a buffering gateway never delivers it.
        first = await asyncio.wait_for(anext(chunks), 5)
        assert first == b"first;"
        stub.release.set()
        rest = b"".join([chunk async for chunk in chunks])
    assert rest == b"second"
    assert "transfer-encoding" not in {k for k, _ in stub.seen[-1]["headers"]}


async def test_small_answer_broken_mid_body_is_a_clean_502(
    edge: httpx.AsyncClient, gateway_token_for: TokenFor, stub: Stub
) -> None:
    # A small declared body is read whole before anything is sent: a service failing half way
    # through it is a problem the client can read, not a cut connection.
    r = await edge.get("/v1/toolkits/truncated", headers=gateway_token_for(uuid.uuid4(), "assessment:read"))
    assert r.status_code == 502
    assert r.headers["content-type"] == PROBLEM
    assert stub.seen[-1]["path"] == "/v1/toolkits/truncated"


async def test_request_body_streams_through(edge_url: str, gateway_token_for: TokenFor, stub: Stub) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"a" * 1000
        # Sent only once the service has the first chunk: a buffering gateway would wait forever.
        await asyncio.wait_for(stub.first_chunk.wait(), 5)
        yield b"b" * 1000

    async with httpx.AsyncClient(base_url=edge_url) as client:
        r = await client.post("/v1/assessments/upload", content=body(),
                              headers={**gateway_token_for(uuid.uuid4(), "assessment:write"),
                                       "Content-Type": "application/octet-stream"})
    assert r.status_code == 200, r.text
    assert r.json()["bytes"] == 2000
    assert r.json()["chunks"] >= 2


async def test_streamed_body_over_the_limit_is_413(edge_url: str, gateway_token_for: TokenFor) -> None:
    async def body() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"z" * 2000  # the edge_url gateway takes 4096 bytes

    async with httpx.AsyncClient(base_url=edge_url) as client:
        r = await client.post("/v1/assessments/upload", content=body(),
                              headers=gateway_token_for(uuid.uuid4(), "assessment:write"))
    assert r.status_code == 413
    assert r.headers["content-type"] == PROBLEM


# --- services that are down or slow --------------------------------------------------


async def test_service_down_is_502_problem_at_once(
    make_gateway: MakeGateway, gateway_token_for: TokenFor
) -> None:
    with refusing_url() as down:
        app = await make_gateway({"reporting": down}, upstream_connect_timeout=5.0)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=GATEWAY) as client:
            started = time.monotonic()
            r = await client.get("/v1/datasets/quarterly", params={"period": "2025-26-Q4"},
                                 headers=gateway_token_for(uuid.uuid4(), "reporting:read"))
            elapsed = time.monotonic() - started
    assert r.status_code == 502
    assert r.headers["content-type"] == PROBLEM
    problem = r.json()
    assert problem["type"].endswith("/bad-gateway")
    assert "reporting" in problem["detail"]
    assert problem["request_id"] == r.headers["x-request-id"]
    # Refused, not timed out: well inside the 5 s connect timeout.
    assert elapsed < 5.0


async def test_slow_service_is_504_problem(
    make_gateway: MakeGateway, upstreams: dict[str, str], gateway_token_for: TokenFor, stub: Stub
) -> None:
    app = await make_gateway(upstreams, upstream_read_timeout=0.3)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=GATEWAY) as client:
        r = await client.get("/v1/toolkits/slow", headers=gateway_token_for(uuid.uuid4(), "assessment:read"))
        fast = await client.get("/v1/toolkits/echo", headers=gateway_token_for(uuid.uuid4(), "assessment:read"))
    assert r.status_code == 504
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["type"].endswith("/gateway-timeout")
    assert fast.status_code == 200  # the pool survives a timed-out request


async def test_unconfigured_service_is_503(make_gateway: MakeGateway, gateway_token_for: TokenFor) -> None:
    app = await make_gateway({"referral": ""})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=GATEWAY) as client:
        r = await client.get("/v1/children", headers=gateway_token_for(uuid.uuid4(), "referral:read"))
    assert r.status_code == 503
    assert r.headers["content-type"] == PROBLEM


async def test_unknown_gateway_path_is_404_problem(edge: httpx.AsyncClient) -> None:
    r = await edge.get("/nowhere")
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM


async def test_browser_preflight_is_answered_at_the_gateway(
    make_gateway: MakeGateway, upstreams: dict[str, str], stub: Stub
) -> None:
    app = await make_gateway(upstreams, cors_origins=["https://dashboard.example"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=GATEWAY) as client:
        r = await client.options("/v1/toolkits", headers={
            "Origin": "https://dashboard.example", "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization"})
        other = await client.options("/v1/toolkits", headers={
            "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "https://dashboard.example"
    assert other.status_code == 400
    assert stub.seen == []
