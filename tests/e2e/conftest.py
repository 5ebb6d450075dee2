"""Starts the four services as real processes on free ports, each on its own database."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from shared.db import Database
from tests.support import create_database, drop_database

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("referral", "assessment", "reporting", "gateway")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    gateway: str
    urls: dict[str, str]
    gateway_db: str
    logs: Path

    async def register_client(self, agency_id: uuid.UUID, scopes: list[str]) -> tuple[str, str]:
        from services.gateway.clients import generate_secret, register_client

        client_id, secret = f"e2e-{uuid.uuid4().hex[:8]}", generate_secret()
        db = Database(self.gateway_db)
        try:
            async with db.sessions() as session:
                await register_client(session, client_id=client_id, secret=secret, agency_id=agency_id,
                                      scopes=scopes, name="e2e client")
                await session.commit()
        finally:
            await db.dispose()
        return client_id, secret

    async def token(self, client: httpx.AsyncClient, client_id: str, secret: str, scope: str | None = None) -> dict[str, str]:
        data = {"grant_type": "client_credentials"} | ({"scope": scope} if scope else {})
        r = await client.post("/oauth/token", data=data, auth=(client_id, secret))
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{url} exited early:\n{log.read_text()[-3000:]}")
            try:
                if (await client.get(url + "/readyz", timeout=2)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} not ready in {seconds}s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    tmp = tmp_path_factory.mktemp("e2e")
    db_urls = {s: await create_database(s, tmp) for s in SERVICES}
    ports = {s: free_port() for s in SERVICES}
    base = {s: f"http://127.0.0.1:{p}" for s, p in ports.items()}
    secret = "e2e-" + uuid.uuid4().hex
    env = dict(os.environ)
    for service in SERVICES:
        prefix = service.upper() + "_"
        env |= {
            prefix + "DATABASE_URL": db_urls[service],
            prefix + "ENVIRONMENT": "test",
            prefix + "TOKEN_ISSUER": base["gateway"],
            prefix + "JWKS_URL": base["gateway"] + "/.well-known/jwks.json",
            prefix + "WEBHOOK_SECRET": secret,
            prefix + "OUTBOX_POLL_SECONDS": "0.2",
        }
    env |= {
        "REFERRAL_OUTBOX_SUBSCRIBERS": f'["{base["reporting"]}/v1/events"]',
        "ASSESSMENT_OUTBOX_SUBSCRIBERS": f'["{base["reporting"]}/v1/events"]',
        "REFERRAL_ASSESSMENT_URL": base["assessment"],
        "ASSESSMENT_REFERRAL_URL": base["referral"],
        "GATEWAY_KEY_DIR": str(tmp / "keys"),
        "GATEWAY_REFERRAL_URL": base["referral"],
        "GATEWAY_ASSESSMENT_URL": base["assessment"],
        "GATEWAY_REPORTING_URL": base["reporting"],
    }
    procs: list[subprocess.Popen[bytes]] = []
    logs = tmp / "logs"
    logs.mkdir()
    try:
        for service in SERVICES:
            log = logs / f"{service}.log"
            cmd = [sys.executable, "-m", "uvicorn", "--factory", f"services.{service}.app:create_app",
                   "--host", "127.0.0.1", "--port", str(ports[service])]
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)  # noqa: S603
            procs.append(proc)
        for service, proc in zip(SERVICES, procs, strict=True):
            await _wait_ready(base[service], proc, logs / f"{service}.log")
        yield Stack(gateway=base["gateway"], urls=base, gateway_db=db_urls["gateway"], logs=logs)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        for url in db_urls.values():
            await drop_database(url)
