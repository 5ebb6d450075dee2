"""`make bench`: reading a child through the gateway vs directly from the referral service.

Starts the referral service and the gateway as real uvicorn processes on
PostgreSQL (fresh databases, dropped afterwards), registers one agency and one
child, then drives `GET /v1/children/{id}` with an aiohttp load generator at 1
and 32 concurrent connections, for a fixed time per run, direct and through the
gateway, in the same run. Prints a Markdown table and, with --write, appends it
to docs/benchmarks.md with the command that produced it.

The load generator runs on the same 2-core machine as the servers, so absolute
figures are low; the ratio between the two paths is the point.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shared.migrate import upgrade  # noqa: E402
from shared.tokens import load_or_create_signer  # noqa: E402

PG = os.environ.get("BENCH_POSTGRES_URL", os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
ISSUER = "http://bench-gateway"
AUDIENCE = "neglect-backbone"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def make_db(name: str) -> str:
    conn = await asyncpg.connect(PG)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return PG.rsplit("/", 1)[0] + "/" + name


async def drop_db(name: str) -> None:
    conn = await asyncpg.connect(PG)
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


def start(service: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "uvicorn", "--factory", f"services.{service}.app:create_app",
           "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"]
    return subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL)  # noqa: S603


async def wait_ready(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(url + "/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not become ready")


async def load(url: str, headers: dict[str, str], concurrency: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < stop:
                started = time.perf_counter()
                async with session.get(url) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "requests": len(latencies),
        "errors": errors,
    }


async def main(seconds: float, write: bool) -> None:
    suffix = uuid.uuid4().hex[:8]
    names = {s: f"bench_{s}_{suffix}" for s in ("gateway", "referral")}
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            urls = {s: await make_db(n) for s, n in names.items()}
            for service, url in urls.items():
                await asyncio.to_thread(upgrade, service, url)
            key_dir = Path(tmp) / "keys"
            signer = load_or_create_signer(key_dir)
            jwks = json.dumps(signer.jwks())
            ports = {"gateway": free_port(), "referral": free_port()}
            common = {"TOKEN_ISSUER": ISSUER, "TOKEN_AUDIENCE": AUDIENCE, "ENVIRONMENT": "test",
                      "WEBHOOK_SECRET": "bench-" + suffix, "LOG_LEVEL": "WARNING", "RELAY_ENABLED": "false"}
            env = {f"REFERRAL_{k}": v for k, v in common.items()} | {f"GATEWAY_{k}": v for k, v in common.items()}
            env |= {"REFERRAL_DATABASE_URL": urls["referral"], "REFERRAL_JWKS_JSON": jwks,
                    "GATEWAY_DATABASE_URL": urls["gateway"], "GATEWAY_KEY_DIR": str(key_dir),
                    "GATEWAY_REFERRAL_URL": f"http://127.0.0.1:{ports['referral']}",
                    "GATEWAY_RATE_LIMIT_PER_MINUTE": "0"}
            procs = [start("referral", ports["referral"], env), start("gateway", ports["gateway"], env)]
            direct = f"http://127.0.0.1:{ports['referral']}"
            gateway = f"http://127.0.0.1:{ports['gateway']}"
            await wait_ready(direct)
            await wait_ready(gateway)

            def token(agency: uuid.UUID, *scopes: str) -> dict[str, str]:
                jwt = signer.issue(issuer=ISSUER, audience=AUDIENCE, subject="bench", agency_id=agency,
                                   scopes=scopes, ttl_seconds=3600)
                return {"Authorization": f"Bearer {jwt}"}

            async with httpx.AsyncClient(base_url=direct) as client:
                r = await client.post("/v1/agencies", headers=token(uuid.uuid4(), "admin"),
                                      json={"name": "Bench agency", "agency_type": "school"})
                agency = uuid.UUID(r.json()["id"])
                r = await client.post("/v1/children", headers=token(agency, "referral:write"),
                                      json={"given_name": "Bench", "family_name": "Child", "birth_date": "2018-01-01", "gender": "1"})
                child = r.json()["id"]
            headers = token(agency, "referral:read")
            path = f"/v1/children/{child}"
            for base in (direct, gateway):  # warm up pools and caches
                await load(base + path, headers, 8, 1.0)
            rows = []
            for concurrency in (1, 32):
                d = await load(direct + path, headers, concurrency, seconds)
                g = await load(gateway + path, headers, concurrency, seconds)
                rows.append((concurrency, d, g))
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(timeout=10)
            for name in names.values():
                await drop_db(name)

    table = ["| connections | path | req/s | p50 ms | p99 ms | errors | gateway / direct |", "|---|---|---|---|---|---|---|"]
    for concurrency, d, g in rows:
        table.append(f"| {concurrency} | direct | {d['rps']:.0f} | {d['p50_ms']:.1f} | {d['p99_ms']:.1f} | {d['errors']} | |")
        table.append(f"| {concurrency} | gateway | {g['rps']:.0f} | {g['p50_ms']:.1f} | {g['p99_ms']:.1f} | {g['errors']} | **{g['rps'] / d['rps']:.2f}x** |")
    report = "\n".join(table)
    print(report)
    if write:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        section = (f"\n## Read a child: gateway vs direct ({stamp})\n\n"
                   f"Command: `make bench` (`python scripts/bench.py --seconds {seconds:g} --write`). "
                   f"PostgreSQL, one uvicorn worker per service, aiohttp load generator on the same machine "
                   f"({os.cpu_count()} cores, Python {platform.python_version()}), {seconds:g} s per run.\n\n{report}\n")
        path = ROOT / "docs" / "benchmarks.md"
        if not path.exists():
            path.write_text("# Benchmarks\n\nFigures from `make bench`; each section says the command and the machine.\n")
        with path.open("a") as fh:
            fh.write(section)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--write", action="store_true", help="append the table to docs/benchmarks.md")
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.write))
