"""SIGTERM to a real uvicorn process: it stops accepting, finishes the request in flight
(200, whole body), then exits cleanly. The gateway runs as a subprocess in front of an
upstream in this test's event loop that holds its answer until the test lets it go."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from shared.tokens import TokenSigner, generate_private_pem
from tests.gateway.stub import serve
from tests.support import AUDIENCE, ISSUER, WEBHOOK_SECRET

ROOT = Path(__file__).resolve().parents[2]
#: Guards against a hang only; no assertion depends on time.
GUARD_SECONDS = 30

pytestmark = pytest.mark.e2e


class HeldUpstream:
    """Answers every request only once ``release`` is set."""

    def __init__(self) -> None:
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        self.arrived.set()
        await asyncio.wait_for(self.release.wait(), GUARD_SECONDS)
        body = json.dumps({"finished": True}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[HeldUpstream, str]]:
    held = HeldUpstream()
    async with serve(held) as url:
        yield held, url
        held.release.set()


async def _wait_live(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    async with httpx.AsyncClient() as client, asyncio.timeout(GUARD_SECONDS):
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the gateway exited early:\n{log.read_text()[-3000:]}")
            try:
                if (await client.get(base + "/livez", timeout=2)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)


async def _refused(base: str) -> None:
    """Return once a new connection is refused (the listening socket is closed)."""
    async with asyncio.timeout(GUARD_SECONDS):
        while True:
            try:
                async with httpx.AsyncClient() as fresh:
                    await fresh.get(base + "/livez", timeout=2)
            except httpx.ConnectError:
                return
            except httpx.HTTPError:
                pass  # accepted just before the socket closed, then dropped: look again
            await asyncio.sleep(0.05)


async def test_sigterm_finishes_the_request_in_flight(
    upstream: tuple[HeldUpstream, str], gateway_db: str, tmp_path: Path
) -> None:
    held, upstream_url = upstream
    key = tmp_path / "signing.pem"
    key.write_bytes(generate_private_pem())
    token = TokenSigner([key.read_bytes()]).issue(
        issuer=ISSUER, audience=AUDIENCE, subject="slow-client", agency_id=uuid.uuid4(),
        scopes=["assessment:read"], ttl_seconds=300)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "GATEWAY_ENVIRONMENT": "test", "GATEWAY_DATABASE_URL": gateway_db,
           "GATEWAY_TOKEN_ISSUER": ISSUER, "GATEWAY_TOKEN_AUDIENCE": AUDIENCE,
           "GATEWAY_WEBHOOK_SECRET": WEBHOOK_SECRET, "GATEWAY_SIGNING_KEY_FILE": str(key),
           "GATEWAY_ASSESSMENT_URL": upstream_url, "GATEWAY_RATE_LIMIT_PER_MINUTE": "0",
           "GATEWAY_UPSTREAM_READ_TIMEOUT": str(GUARD_SECONDS)}
    log = tmp_path / "gateway.log"
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "services.gateway.app:create_app",
           "--host", "127.0.0.1", "--port", str(port), "--timeout-graceful-shutdown", str(GUARD_SECONDS)]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        await _wait_live(base, proc, log)
        async with httpx.AsyncClient(timeout=GUARD_SECONDS) as client:
            in_flight = asyncio.create_task(
                client.get(base + "/v1/toolkits/slow", headers={"Authorization": f"Bearer {token}"}))
            await asyncio.wait_for(held.arrived.wait(), GUARD_SECONDS)

            proc.send_signal(signal.SIGTERM)
            await _refused(base)  # no new connections...
            assert not in_flight.done()
            held.release.set()  # ...while the request already in flight goes on
            response = await asyncio.wait_for(in_flight, GUARD_SECONDS)
        assert response.status_code == 200, response.text
        assert response.json() == {"finished": True}
        returncode = await asyncio.to_thread(proc.wait, GUARD_SECONDS)
        # uvicorn ends by raising the signal it caught again, after its clean shutdown.
        assert returncode in (0, -signal.SIGTERM), log.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Application shutdown complete" in log.read_text()  # the lifespan ran: pools closed
