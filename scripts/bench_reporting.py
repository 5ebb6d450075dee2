"""`make bench` (reporting part): the quarterly dataset's time, and the CIN census export's time
and peak memory, on synthetic partnerships of two sizes.

For each size: a fresh PostgreSQL database, migrated; the synthetic partnership
(scripts/synthetic.py, fixed seed) applied in-process through the reporting
service's own ingest; then the reporting service started as a real uvicorn
process and timed over HTTP: the quarterly dataset for a financial year and a
quarter, the dashboards, and the census export, streamed, while the server's
resident memory is sampled from /proc. Prints a Markdown table and, with
--write, appends it to docs/benchmarks.md with the command that produced it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench import (  # noqa: E402
    AUDIENCE,
    ISSUER,
    drop_db,
    free_port,
    make_db,
    say,
    start,
    wait_ready,
    write_between,
)
from synthetic import Generator, apply_in_process, batches  # noqa: E402

from shared.migrate import upgrade  # noqa: E402
from shared.tokens import load_or_create_signer  # noqa: E402


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class PeakMemory:
    """Samples a process's resident set size every few milliseconds while in use."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self.base = pid, 0, rss_kib(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.005)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def timed(client: httpx.AsyncClient, path: str, headers: dict[str, str], runs: int) -> tuple[float, float]:
    """First (cold) and median of the following runs, in milliseconds."""
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        r = await client.get(path, headers=headers)
        r.raise_for_status()
        times.append((time.perf_counter() - began) * 1000)
    return times[0], statistics.median(times[1:] or times)


async def one_size(children: int, seed: int, signer: Any, suffix: str) -> dict[str, Any]:
    name = f"bench_reporting_{children}_{suffix}"
    url = await make_db(name)
    proc = None
    try:
        await asyncio.to_thread(upgrade, "reporting", url)
        say(f"reporting: {children:,} synthetic children, ingesting")
        gen = Generator(seed, children, date(2022, 4, 1), date(2026, 3, 31), "919")
        began = time.perf_counter()
        events = await apply_in_process(batches(gen, 5000), url)
        ingest_s = time.perf_counter() - began
        say(f"reporting: {events:,} events ingested in {ingest_s:.0f} s; timing the dataset and the census export")
        port = free_port()
        env = {"REPORTING_DATABASE_URL": url, "REPORTING_JWKS_JSON": json.dumps(signer.jwks()),
               "REPORTING_TOKEN_ISSUER": ISSUER, "REPORTING_TOKEN_AUDIENCE": AUDIENCE, "REPORTING_ENVIRONMENT": "test",
               "REPORTING_WEBHOOK_SECRET": "bench-" + suffix, "REPORTING_LOG_LEVEL": "WARNING",
               "REPORTING_LA_CODE": "919", "REPORTING_POPULATION_0_17": str(children * 5), "REPORTING_POPULATION_YEAR": "2024"}
        proc = start("reporting", port, env)
        base = f"http://127.0.0.1:{port}"
        await wait_ready(base)
        jwt = signer.issue(issuer=ISSUER, audience=AUDIENCE, subject="bench", agency_id=uuid.uuid4(),
                           scopes=["reporting:read", "reporting:export"], ttl_seconds=3600)
        headers = {"Authorization": f"Bearer {jwt}"}
        out: dict[str, Any] = {"children": children, "events": events, "ingest_s": ingest_s}
        async with httpx.AsyncClient(base_url=base, timeout=600) as client:
            await timed(client, "/v1/dashboard/summary", headers, 2)
            out["year_ms"] = await timed(client, "/v1/datasets/quarterly?period=2025-26", headers, 4)
            out["quarter_ms"] = await timed(client, "/v1/datasets/quarterly?period=2025-26-Q4", headers, 4)
            out["caseload_ms"] = await timed(client, "/v1/dashboard/caseload?at=2026-03-31", headers, 6)
            out["alerts_ms"] = await timed(client, "/v1/dashboard/alerts?at=2026-03-31", headers, 6)
            size = 0
            with PeakMemory(proc.pid) as memory:
                began = time.perf_counter()
                async with client.stream("GET", "/v1/exports/cin-census?year=2025-26", headers=headers) as r:
                    r.raise_for_status()
                    count = 0
                    async for chunk in r.aiter_bytes():
                        size += len(chunk)
                        count += chunk.count(b"<Child>")
                out["census_s"] = time.perf_counter() - began
            out |= {"census_children": count, "census_mib": size / 2**20, "rss_before_mib": memory.base / 1024,
                    "rss_peak_mib": memory.peak / 1024}
            began = time.perf_counter()
            r = await client.get("/v1/exports/annex-a/child-protection?period=2025-04-01..2026-03-31", headers=headers)
            r.raise_for_status()
            out["annex_cp_ms"] = (time.perf_counter() - began) * 1000
        return out
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        await drop_db(name)


async def main(sizes: list[int], seed: int, write: bool) -> None:
    suffix = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory() as tmp:
        signer = load_or_create_signer(Path(tmp) / "keys")
        results = [await one_size(n, seed, signer, suffix) for n in sizes]
    table = ["| children | events | ingest s | dataset year ms (computed / repeat) | dataset quarter ms (computed / repeat) | "
             "caseload ms (computed / repeat) | alerts ms (computed / repeat) | census s | census children | census MiB | "
             "server RSS before / peak MiB | Annex A CP ms |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        table.append(
            f"| {r['children']:,} | {r['events']:,} | {r['ingest_s']:.0f} | {r['year_ms'][0]:.0f} / {r['year_ms'][1]:.0f} | "
            f"{r['quarter_ms'][0]:.0f} / {r['quarter_ms'][1]:.0f} | {r['caseload_ms'][0]:.0f} / {r['caseload_ms'][1]:.1f} | "
            f"{r['alerts_ms'][0]:.0f} / {r['alerts_ms'][1]:.1f} | "
            f"{r['census_s']:.1f} | {r['census_children']:,} | {r['census_mib']:.1f} | "
            f"{r['rss_before_mib']:.0f} / {r['rss_peak_mib']:.0f} | {r['annex_cp_ms']:.0f} |")
    report = "\n".join(table)
    print(report)
    if write:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        sizes_text = " ".join(str(s) for s in sizes)
        section = (
            f"### Reporting: quarterly dataset and CIN census export ({stamp})\n\n"
            f"Command: `make bench` (`python scripts/bench_reporting.py --sizes {sizes_text} --seed {seed} --write`). "
            f"PostgreSQL; the synthetic partnership (scripts/synthetic.py, seed {seed}, April 2022 to March 2026) applied "
            f"in-process through the reporting ingest; one uvicorn worker; httpx client on the same machine "
            f"({os.cpu_count()} cores, Python {platform.python_version()}). Dataset and dashboard times: the first request "
            f"(computed in SQL) and the median of the repeats (served from the per-process memo, as page loads are "
            f"between two events); the census is the 2025-26 return, streamed; RSS is the server's resident memory "
            f"sampled every 5 ms during the export.\n\n{report}\n"
        )
        write_between("bench-reporting", section)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000],
                        help="children per partnership; 100000 takes about 10 minutes of ingest alone")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--write", action="store_true", help="append the table to docs/benchmarks.md")
    args = parser.parse_args()
    asyncio.run(main(args.sizes, args.seed, args.write))
