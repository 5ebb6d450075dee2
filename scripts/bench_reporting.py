"""`make bench` (reporting part): the quarterly dataset's time against one hand-written SQL statement
computing the same figures, and the CIN census export's time and peak memory, on synthetic
partnerships of two sizes (10,000 and 100,000 children by default).

The smallest size is loaded the honest way: a fresh PostgreSQL database, migrated, the synthetic
partnership (scripts/synthetic.py, fixed seed) applied in-process through the reporting service's
own ingest. A size that is a multiple of it is, by default, that database copied and its read model
replicated in SQL (scripts/dataset_by_hand.py ``replicate``: fresh ids, unique census identifiers),
so 100,000 children are ten copies of the 10,000 and every count of their dataset must be exactly
ten times the smaller one's (checked; ``--ingest-all`` ingests every size instead, about 10 minutes
at 100,000). Each database is vacuumed and analysed (``VACUUM ANALYZE``) before it is timed, as
autovacuum would after a bulk load: otherwise the first statement to read each freshly written row
(the service's first request) pays for setting its hint bits, and the hand statement, run after it,
does not.

Then the reporting service runs as a real uvicorn process and is timed over HTTP: the quarterly
dataset for a financial year and a quarter (the first request is computed, the repeats come from
the memo), the dashboards, and the census export, streamed, while the server's resident memory is
sampled from /proc. The hand-written statement (scripts/dataset_by_hand.py) runs on the same
database in the same run (median of three) and its figures are compared with the API's, every one;
a disagreement is printed and written to the report. Prints Markdown tables and, with --write,
puts them in docs/benchmarks.md with the command that produced them.
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

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench import (  # noqa: E402
    AUDIENCE,
    ISSUER,
    PG,
    drop_db,
    free_port,
    make_db,
    say,
    start,
    wait_ready,
    write_between,
)
from dataset_by_hand import compare, hand_figures, replicate, scaled  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402
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
    first, median, _ = await timed_body(client, path, headers, runs)
    return first, median


async def timed_body(client: httpx.AsyncClient, path: str, headers: dict[str, str],
                     runs: int) -> tuple[float, float, Any]:
    """As :func:`timed`, with the first answer's JSON body."""
    times, body = [], None
    for _ in range(runs):
        began = time.perf_counter()
        r = await client.get(path, headers=headers)
        r.raise_for_status()
        times.append((time.perf_counter() - began) * 1000)
        body = r.json() if body is None else body
    return times[0], statistics.median(times[1:] or times), body


async def copy_db(name: str, template: str) -> str:
    """A new database as a copy of ``template`` (which nothing may be connected to)."""
    conn = await asyncpg.connect(PG)
    try:
        for attempt in range(20):  # an autovacuum worker may still be connected to the template for a moment
            try:
                await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                break
            except asyncpg.ObjectInUseError:
                if attempt == 19:
                    raise
                await asyncio.sleep(0.5)
    finally:
        await conn.close()
    return PG.rsplit("/", 1)[0] + "/" + name


def engine_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


async def analyse(url: str) -> None:
    engine = create_async_engine(engine_url(url), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("VACUUM ANALYZE"))
    finally:
        await engine.dispose()


async def by_hand(url: str, body: dict[str, Any], runs: int = 3) -> dict[str, Any]:
    """The hand-written statement for the period of ``body`` (an API dataset): once with the server's
    default JIT setting, then ``runs`` times without JIT (the median is the baseline); and every
    figure of ``body`` it disagrees with."""
    start_, end = date.fromisoformat(body["period"]["start"]), date.fromisoformat(body["period"]["end"])
    engine = create_async_engine(engine_url(url), poolclass=NullPool)
    times = []
    try:
        async with engine.connect() as connection:
            began = time.perf_counter()
            async with connection.begin():
                await hand_figures(connection, start_, end, jit=True)
            jit_ms = (time.perf_counter() - began) * 1000
            for _ in range(runs):
                began = time.perf_counter()
                async with connection.begin():
                    figures = await hand_figures(connection, start_, end)
                times.append((time.perf_counter() - began) * 1000)
    finally:
        await engine.dispose()
    return {"ms": statistics.median(times), "jit_ms": jit_ms, "cells": len(figures),
            "disagreements": compare(body, figures)}


async def load(children: int, seed: int, name: str, base: dict[str, Any] | None) -> dict[str, Any]:
    """A database holding ``children`` synthetic children's read model: ingested, or (``base``) the base
    size's database copied and replicated. The database's name and how it was loaded."""
    began = time.perf_counter()
    if base is None:
        url = await make_db(name)
        await asyncio.to_thread(upgrade, "reporting", url)
        say(f"reporting: {children:,} synthetic children, ingesting")
        gen = Generator(seed, children, date(2022, 4, 1), date(2026, 3, 31), "919")
        events = await apply_in_process(batches(gen, 5000), url)
        ingest_s = time.perf_counter() - began
        say(f"reporting: {events:,} events ingested in {ingest_s:.0f} s; vacuuming and analysing")
        await analyse(url)
        return {"url": url, "events": events, "load": f"{ingest_s:.0f} (ingest)", "load_s": ingest_s}
    copies = children // base["children"]
    url = await copy_db(name, base["db"])
    say(f"reporting: {children:,} children as {copies} copies of the {base['children']:,}-child read model")
    engine = create_async_engine(engine_url(url), poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            rows = await replicate(connection, copies)
    finally:
        await engine.dispose()
    await analyse(url)
    took = time.perf_counter() - began
    say(f"reporting: replicated in {took:.0f} s ({sum(rows.values()):,} read-model rows)")
    return {"url": url, "events": base["events"] * copies, "load": f"{took:.0f} (copy of {base['children']:,} x {copies})",
            "load_s": took, "copies": copies}


async def one_size(children: int, seed: int, signer: Any, name: str, base: dict[str, Any] | None) -> dict[str, Any]:
    suffix = name.rsplit("_", 1)[1]
    proc = None
    loaded = await load(children, seed, name, base)
    url = loaded["url"]
    out: dict[str, Any] = {"children": children, "db": name, "events": loaded["events"], "load": loaded["load"],
                           "load_s": loaded["load_s"], "copies": loaded.get("copies")}
    try:
        say(f"reporting: {children:,} children: timing the dataset against the hand-written SQL, and the census export")
        port = free_port()
        env = {"REPORTING_DATABASE_URL": url, "REPORTING_JWKS_JSON": json.dumps(signer.jwks()),
               "REPORTING_TOKEN_ISSUER": ISSUER, "REPORTING_TOKEN_AUDIENCE": AUDIENCE, "REPORTING_ENVIRONMENT": "test",
               "REPORTING_WEBHOOK_SECRET": "bench-" + suffix, "REPORTING_LOG_LEVEL": "WARNING",
               "REPORTING_LA_CODE": "919", "REPORTING_POPULATION_0_17": str(children * 5), "REPORTING_POPULATION_YEAR": "2024"}
        proc = start("reporting", port, env)
        base_url = f"http://127.0.0.1:{port}"
        await wait_ready(base_url)
        jwt = signer.issue(issuer=ISSUER, audience=AUDIENCE, subject="bench", agency_id=uuid.uuid4(),
                           scopes=["reporting:read", "reporting:export"], ttl_seconds=3600)
        headers = {"Authorization": f"Bearer {jwt}"}
        reader = {"Authorization": "Bearer " + signer.issue(
            issuer=ISSUER, audience=AUDIENCE, subject="bench-reader", agency_id=uuid.uuid4(), scopes=["reporting:read"],
            ttl_seconds=3600)}
        async with httpx.AsyncClient(base_url=base_url, timeout=600) as client:
            await timed(client, "/v1/dashboard/summary", headers, 2)
            for key, period in (("year", "2025-26"), ("quarter", "2025-26-Q4")):
                first, repeat, body = await timed_body(client, f"/v1/datasets/quarterly?period={period}", headers, 4)
                out[f"{key}_ms"] = (first, repeat)
                out[f"{key}_body"] = body
                # The same figures computed again in the now warm process: a token without the unsuppressed
                # scope has its own memo entry (the suppression itself is a pass over the ~300 cells).
                began = time.perf_counter()
                r = await client.get(f"/v1/datasets/quarterly?period={period}", headers=reader)
                r.raise_for_status()
                out[f"{key}_warm_ms"] = (time.perf_counter() - began) * 1000
                hand = await by_hand(url, body)
                out[f"{key}_hand"] = hand
                say(f"reporting: {period}: computed {first:.0f} ms (warm {out[f'{key}_warm_ms']:.0f}), hand SQL {hand['ms']:.0f} ms "
                    f"({hand['jit_ms']:.0f} ms with JIT), {hand['cells']} cells, {len(hand['disagreements'])} disagreements")
                for line in hand["disagreements"]:
                    say(f"  disagreement: {line}")
                if base is not None:
                    off = scaled(body, base[f"{key}_body"], out["copies"])
                    out[f"{key}_scaled"] = off
                    say(f"reporting: {period}: {len(off)} figures not exactly {out['copies']} x the "
                        f"{base['children']:,}-child partnership's")
                    for line in off:
                        say(f"  not scaled: {line}")
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


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"


async def main(sizes: list[int], seed: int, write: bool, ingest_all: bool) -> None:
    suffix = uuid.uuid4().hex[:8]
    sizes = sorted(set(sizes))
    results: list[dict[str, Any]] = []
    created: list[str] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            signer = load_or_create_signer(Path(tmp) / "keys")
            for n in sizes:
                base = None if ingest_all or not results or n % sizes[0] else results[0]
                created.append(f"bench_reporting_{n}_{suffix}")
                results.append(await one_size(n, seed, signer, created[-1], base))
    finally:
        for name in created:
            await drop_db(name)
    table = ["| children | events | load s | dataset year ms (computed / repeat) | dataset quarter ms (computed / repeat) | "
             "caseload ms (computed / repeat) | alerts ms (computed / repeat) | census s | census children | census MiB | "
             "server RSS before / peak MiB | Annex A CP ms |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        table.append(
            f"| {r['children']:,} | {r['events']:,} | {r['load']} | {r['year_ms'][0]:.0f} / {r['year_ms'][1]:.0f} | "
            f"{r['quarter_ms'][0]:.0f} / {r['quarter_ms'][1]:.0f} | {r['caseload_ms'][0]:.0f} / {r['caseload_ms'][1]:.1f} | "
            f"{r['alerts_ms'][0]:.0f} / {r['alerts_ms'][1]:.1f} | "
            f"{r['census_s']:.1f} | {r['census_children']:,} | {r['census_mib']:.1f} | "
            f"{r['rss_before_mib']:.0f} / {r['rss_peak_mib']:.0f} | {r['annex_cp_ms']:.0f} |")
    hand = ["| children | period | dataset computed ms (service, over HTTP) | hand SQL ms (median of 3) | "
            "hand SQL ms, JIT on (1 run) | service / hand SQL | computed again, warm process ms | warm / hand SQL | "
            "cells compared | disagreements |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    problems: list[str] = []
    for r in results:
        for key, period in (("year", "2025-26"), ("quarter", "2025-26-Q4")):
            h = r[f"{key}_hand"]
            hand.append(f"| {r['children']:,} | {period} | {r[f'{key}_ms'][0]:.0f} | {h['ms']:.0f} | {h['jit_ms']:.0f} | "
                        f"**{ratio(r[f'{key}_ms'][0], h['ms'])}** | {r[f'{key}_warm_ms']:.0f} | {ratio(r[f'{key}_warm_ms'], h['ms'])} | "
                        f"{h['cells']} | {len(h['disagreements'])} |")
            problems += [f"{r['children']:,} children, {period}: {line}" for line in h["disagreements"]]
            problems += [f"{r['children']:,} children, {period}, not {r['copies']} x: {line}" for line in r.get(f"{key}_scaled", [])]
    growth = []
    if len(results) > 1:
        small, large = results[0], results[-1]
        data = large["children"] / small["children"]
        for key, period in (("year", "2025-26"), ("quarter", "2025-26-Q4")):
            growth.append(f"- {period}: for {data:.0f}x the children the computed dataset took "
                          f"{ratio(large[f'{key}_ms'][0], small[f'{key}_ms'][0])} as long (computed again, warm: "
                          f"{ratio(large[f'{key}_warm_ms'], small[f'{key}_warm_ms'])}; hand SQL "
                          f"{ratio(large[f'{key}_hand']['ms'], small[f'{key}_hand']['ms'])}).")
        growth.append(f"- Census export: {ratio(large['census_s'], small['census_s'])} as long for "
                      f"{ratio(large['census_children'], small['census_children'])} the children in the return; server peak "
                      f"RSS {small['rss_peak_mib']:.0f} MiB at {small['children']:,}, {large['rss_peak_mib']:.0f} MiB at "
                      f"{large['children']:,}.")
        scaled_checked = [r for r in results if r.get("copies")]
        for r in scaled_checked:
            off = len(r.get("year_scaled", [])) + len(r.get("quarter_scaled", []))
            growth.append(f"- {r['children']:,} children are {r['copies']} copies of the {small['children']:,}: "
                          f"{'every' if not off else f'{off} figures NOT'} count and denominator of both datasets "
                          f"{'exactly' if not off else ''} {r['copies']} times the smaller partnership's"
                          f"{'' if not off else ' (listed below)'}.".replace("  ", " "))
    report = "\n".join(table) + "\n\n" + "\n".join(hand)
    if growth:
        report += "\n\nGrowth from the smallest to the largest size:\n" + "\n".join(growth)
    report += ("\n\nDisagreements:\n" + "\n".join(f"- {p}" for p in problems)) if problems else \
        "\n\nEvery figure of both datasets at every size agrees with the hand-written SQL."
    print(report)
    if write:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        sizes_text = " ".join(str(s) for s in sizes)
        how = ("every size ingested" if ingest_all else
               f"the {sizes[0]:,}-child partnership applied in-process through the reporting ingest; larger sizes are its "
               f"database copied and the read model replicated in SQL (fresh ids, unique census identifiers)")
        section = (
            f"### Reporting: quarterly dataset against hand-written SQL, and CIN census export ({stamp})\n\n"
            f"Command: `make bench` (`python scripts/bench_reporting.py --sizes {sizes_text} --seed {seed}"
            f"{' --ingest-all' if ingest_all else ''} --write`). "
            f"PostgreSQL; the synthetic partnership (scripts/synthetic.py, seed {seed}, April 2022 to March 2026): {how}; "
            f"`VACUUM ANALYZE` after loading; one uvicorn worker; httpx client on the same machine "
            f"({os.cpu_count()} cores, Python {platform.python_version()}). Dataset and dashboard times: the first request "
            f"(computed in SQL) and the median of the repeats (served from the per-process memo, as page loads are "
            f"between two events); the census is the 2025-26 return, streamed; RSS is the server's resident memory "
            f"sampled every 5 ms during the export. Hand SQL: scripts/dataset_by_hand.py, one statement for every figure "
            f"of the dataset, run on the same database right after the service's first request, JIT off for its "
            f"transaction (the JIT-on run shows why); its figures compared with the API's unsuppressed ones, cell by cell. "
            f"Computed again: the same period asked with a token without the unsuppressed scope (its own memo entry), "
            f"so computed in a warm process."
            f"\n\n{report}\n"
        )
        write_between("bench-reporting", section)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000],
                        help="children per partnership (default 10000 100000); a multiple of the smallest is "
                             "replicated from it unless --ingest-all")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--ingest-all", action="store_true",
                        help="ingest every size through the reporting ingest (100000 takes about 10 minutes)")
    parser.add_argument("--write", action="store_true", help="put the tables in docs/benchmarks.md")
    args = parser.parse_args()
    asyncio.run(main(args.sizes, args.seed, args.write, args.ingest_all))
