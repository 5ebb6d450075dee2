"""A stand-in service for the gateway's tests, and real servers to run it on.

The stub is a raw ASGI app that reports what reached it, answers with
hop-by-hop headers, streams, reads uploads chunk by chunk, stalls, and serves
an OpenAPI document; the test and the stub share one event loop, so tests
steer it with asyncio events.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import PROBLEM_SCHEMA

STALL_SECONDS = 10.0

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "Assessment API", "version": "1.0.0"},
    "paths": {
        "/v1/toolkits": {"get": {
            "operationId": "list_toolkits", "tags": ["toolkits"], "security": [{"OAuth2": ["assessment:read"]}],
            "responses": {"200": {"description": "Toolkits", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/ToolkitSummary"}}}}},
        }},
        "/v1/children/{child_id}/trajectory": {"get": {
            "operationId": "get_trajectory", "security": [{"OAuth2": []}, {"OAuth2": ["assessment:read"]}],
            "responses": {"404": {"description": "No child", "content": {"application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"}}}}},
        }},
        # Neither is routed to assessment by the gateway: both must stay out of the combined document.
        "/v1/agencies/{agency_id}/stub-only": {"get": {"operationId": "not_ours", "responses": {"200": {"description": "x"}}}},
        "/livez": {"get": {"operationId": "stub_livez", "responses": {"200": {"description": "up"}}}},
    },
    "components": {
        "schemas": {
            # A schema of its own; a referral schema's name with another shape would fail the merge.
            "ToolkitSummary": {"type": "object", "properties": {"scores": {"type": "array", "items": {"type": "integer"}}}},
            # Same definition as every service's: must be shared.
            "Problem": PROBLEM_SCHEMA,
        },
        "securitySchemes": {"OAuth2": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "/oauth/token", "scopes": {}}}}},
    },
    "tags": [{"name": "toolkits", "description": "Assessment toolkits."}],
}


class Stub:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.release = asyncio.Event()
        self.first_chunk = asyncio.Event()
        self.openapi_fails = False
        self.openapi_fetches = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        path: str = scope["path"]
        if path == "/openapi.json":
            self.openapi_fetches += 1
            if self.openapi_fails:
                await _respond(send, 503, b'{"detail":"starting"}')
            else:
                await _respond(send, 200, json.dumps(OPENAPI).encode())
            return
        if path.endswith("/upload"):
            await self._upload(receive, send)
            return
        body = await _read_body(receive)
        self.seen.append({
            "method": scope["method"], "path": path, "raw_path": scope["raw_path"].decode(),
            "query": scope["query_string"].decode(),
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
            "body": body.decode("latin-1"),
        })
        if path.endswith("/stream"):
            await self._stream(send)
        elif path.endswith("/slow"):
            await _wait_for_disconnect(receive, STALL_SECONDS)
            await _respond(send, 200, b'{"late":true}')
        elif path.endswith("/hop"):
            await _respond(send, 200, b'{"hop":true}', [
                (b"connection", b"x-upstream-hop"), (b"x-upstream-hop", b"secret"),
                (b"keep-alive", b"timeout=5"), (b"proxy-authenticate", b"Basic"),
                (b"x-kept", b"yes"),
            ])
        elif path.endswith("/empty"):
            await _respond(send, 204, b"")
        elif path.endswith("/truncated"):
            # Declares 100 bytes and fails after 10 (uvicorn then cuts the connection).
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", b"100")]})
            await send({"type": "http.response.body", "body": b'{"partial"', "more_body": True})
            raise RuntimeError("the stub service fails mid-body")
        else:
            await _respond(send, 200, json.dumps(self.seen[-1]).encode(), [(b"x-upstream", b"stub")])

    async def _stream(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"first;", "more_body": True})
        await asyncio.wait_for(self.release.wait(), STALL_SECONDS)
        await send({"type": "http.response.body", "body": b"second", "more_body": False})

    async def _upload(self, receive: Receive, send: Send) -> None:
        total = 0
        chunks = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            if chunk:
                total += len(chunk)
                chunks += 1
                self.first_chunk.set()
            if not message.get("more_body", False):
                break
        await _respond(send, 200, json.dumps({"bytes": total, "chunks": chunks}).encode())


async def _read_body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return body
        body += bytes(message.get("body", b""))
        if not message.get("more_body", False):
            return body


async def _wait_for_disconnect(receive: Receive, seconds: float) -> None:
    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    with suppress(TimeoutError):
        await asyncio.wait_for(disconnected(), seconds)


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    start: Message = {"type": "http.response.start", "status": status,
                      "headers": [(b"content-type", b"application/json"), *(headers or [])]}
    if status != 204:
        start["headers"].append((b"content-length", str(len(body)).encode()))
    await send(start)
    await send({"type": "http.response.body", "body": body})


@asynccontextmanager
async def serve(app: ASGIApp, *, lifespan: str = "off") -> AsyncIterator[str]:
    """Run ``app`` on a real uvicorn server on a free local port; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan=lifespan, log_config=None, access_log=False,  # type: ignore[arg-type]
                            timeout_graceful_shutdown=2, timeout_keep_alive=5)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("uvicorn stopped before it started")
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@contextmanager
def refusing_url() -> Iterator[str]:
    """A local address where connecting is refused at once: bound (so no server
    can take the port meanwhile) but never listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@asynccontextmanager
async def running(app: ASGIApp) -> AsyncIterator[None]:
    """Drive an app's ASGI lifespan (startup, then shutdown), as a server would."""
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    outbox: asyncio.Queue[Message] = asyncio.Queue()

    async def lifespan() -> None:
        await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, inbox.get, outbox.put)

    task = asyncio.create_task(lifespan())
    await inbox.put({"type": "lifespan.startup"})
    started = await outbox.get()
    assert started["type"] == "lifespan.startup.complete", started
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        stopped = await outbox.get()
        assert stopped["type"] == "lifespan.shutdown.complete", stopped
        await task
