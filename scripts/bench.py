"""`make bench`: the referral service against hand-written baselines, and event propagation.

Starts on PostgreSQL (fresh databases, dropped afterwards) as real uvicorn processes: the
referral service, the gateway in front of it, nginx proxying to it, and the hand-written
baselines of scripts/bench_baseline.py (the "same work" endpoints and the bare ones) on the
referral database. wrk drives GET child, POST child and POST referral at 1 and 32 connections,
every target in the same run, and each figure is printed as a ratio against its baseline.
Then a second referral service with its outbox relay on delivers to a reporting service, and
the time from a write's response to its row being visible in reporting is measured while
wrk keeps writing (steady load).

The gateway's rate limiter is switched off for this run (GATEWAY_RATE_LIMIT_PER_MINUTE=0) so
no 429 is measured; every response that is not 2xx is counted and shown.

Prints Markdown; with --write, replaces the text between the markers in docs/benchmarks.md
(hand-written text outside them is kept). wrk and nginx must be installed:
`apt-get install wrk nginx-light`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shared.migrate import upgrade  # noqa: E402
from shared.tokens import load_or_create_signer  # noqa: E402

PG = os.environ.get("BENCH_POSTGRES_URL", os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
ISSUER = "http://bench-gateway"
AUDIENCE = "neglect-backbone"
DOC = ROOT / "docs" / "benchmarks.md"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
WRK = shutil.which("wrk")


def say(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


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


def start(service: str, port: int, env: dict[str, str], app: str | None = None) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "uvicorn", "--factory", app or f"services.{service}.app:create_app",
           "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"]
    if app is not None:
        cmd += ["--app-dir", str(ROOT / "scripts")]
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


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fcgi;
  uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  upstream referral {{ server 127.0.0.1:{upstream}; keepalive 64; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{ proxy_pass http://referral; proxy_http_version 1.1; proxy_set_header Connection ""; }}
  }}
}}
"""

def start_nginx(conf: Path, prefix: Path) -> subprocess.Popen[bytes]:
    cmd = [NGINX or "nginx", "-c", str(conf), "-p", str(prefix), "-e", str(prefix / "nginx-error.log")]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603


def py_spy(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    """Sample ``pid`` for ``seconds`` into collapsed stacks (``--format raw``) at ``out``."""
    cmd = [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid), "--duration", f"{seconds:g}",
           "--rate", "250", "--nonblocking", "--format", "raw", "-o", str(out)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603


LUA = """
wrk.method = "{method}"
wrk.headers["Content-Type"] = "application/json"
{auth}
local ids = {{{ids}}}
local template = [[{body}]]
request = function()
  if wrk.method == "GET" then return wrk.format(nil, "{path}") end
  local id = ids[math.random(#ids)]
  return wrk.format(nil, "{path}", nil, string.gsub(template, "CHILD_ID", id))
end
{pacing}
"""

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(url: str, script: Path, connections: int, seconds: float) -> dict[str, float]:
    threads = 1 if connections == 1 else 2
    out = subprocess.run([WRK or "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", str(script), url],  # noqa: S603
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(int(g) for g in sock.groups()) if sock else 0)
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "requests": total, "errors": errors}


def lua(tmp: Path, name: str, method: str, path: str, token: str | None, body: str, ids: list[str],
        pause_ms: int = 0) -> Path:
    script = tmp / f"{name}.lua"
    auth = f'wrk.headers["Authorization"] = "Bearer {token}"' if token else ""
    pacing = f"delay = function() return {pause_ms} end" if pause_ms else ""
    script.write_text(LUA.format(method=method, auth=auth, ids=", ".join(f'"{i}"' for i in ids), body=body, path=path,
                                 pacing=pacing))
    return script


CHILD_BODY = '{"given_name": "Bench", "family_name": "Child", "birth_date": "2018-01-01", "gender": "1"}'
REFERRAL_BODY = ('{"child_id": "CHILD_ID", "concern_summary": "Child often arrives hungry.", '
                 '"neglect_types": ["basic_provision"], '
                 '"indicators": [{"domain": "physical_care", "indicator": "hunger_at_school", "severity": "medium"}]}')


ALL_OPERATIONS = ("GET child", "POST child", "POST referral")
ALL_TARGETS = ("direct", "gateway", "nginx", "same work", "bare")


async def throughput(seconds: float, tmp: Path, signer: Any, suffix: str, *,
                     only_operations: tuple[str, ...] = ALL_OPERATIONS, only_targets: tuple[str, ...] = ALL_TARGETS,
                     connection_counts: tuple[int, ...] = (1, 32), profile_dir: Path | None = None,
                     rounds: int = 1) -> list[dict[str, Any]]:
    names = {s: f"bench_{s}_{suffix}" for s in ("gateway", "referral")}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        urls = {s: await make_db(n) for s, n in names.items()}
        for service, url in urls.items():
            await asyncio.to_thread(upgrade, service, url)
        key_dir = tmp / "keys"
        jwks = json.dumps(signer.jwks())
        ports = {k: free_port() for k in ("gateway", "referral", "nginx", "baseline")}
        common = {"TOKEN_ISSUER": ISSUER, "TOKEN_AUDIENCE": AUDIENCE, "ENVIRONMENT": "test",
                  "WEBHOOK_SECRET": "bench-" + suffix, "LOG_LEVEL": "WARNING", "RELAY_ENABLED": "false"}
        env = {f"REFERRAL_{k}": v for k, v in common.items()} | {f"GATEWAY_{k}": v for k, v in common.items()}
        env |= {"REFERRAL_DATABASE_URL": urls["referral"], "REFERRAL_JWKS_JSON": jwks,
                "REFERRAL_OUTBOX_SUBSCRIBERS": '["http://reporting/v1/events"]',
                "GATEWAY_DATABASE_URL": urls["gateway"], "GATEWAY_KEY_DIR": str(key_dir),
                "GATEWAY_REFERRAL_URL": f"http://127.0.0.1:{ports['referral']}",
                "GATEWAY_RATE_LIMIT_PER_MINUTE": "0"}
        procs = [start("referral", ports["referral"], env), start("gateway", ports["gateway"], env)]
        (tmp / "nginx").mkdir()
        conf = tmp / "nginx" / "nginx.conf"
        conf.write_text(NGINX_CONF.format(tmp=tmp / "nginx", upstream=ports["referral"], port=ports["nginx"]))
        procs.append(start_nginx(conf, tmp / "nginx"))
        direct = f"http://127.0.0.1:{ports['referral']}"
        await wait_ready(direct)
        await wait_ready(f"http://127.0.0.1:{ports['gateway']}")
        await wait_ready(f"http://127.0.0.1:{ports['nginx']}")

        def token(agency: uuid.UUID, *scopes: str) -> str:
            return str(signer.issue(issuer=ISSUER, audience=AUDIENCE, subject="bench", agency_id=agency,
                                scopes=scopes, ttl_seconds=3600))

        async with httpx.AsyncClient(base_url=direct) as client:
            r = await client.post("/v1/agencies", headers={"Authorization": "Bearer " + token(uuid.uuid4(), "admin")},
                                  json={"name": "Bench agency", "agency_type": "school"})
            agency = uuid.UUID(r.json()["id"])
            write = {"Authorization": "Bearer " + token(agency, "referral:write")}
            ids = []
            for _ in range(200):
                r = await client.post("/v1/children", headers=write, json=json.loads(CHILD_BODY))
                r.raise_for_status()
                ids.append(r.json()["id"])
        baseline_env = {"BENCH_DATABASE_URL": urls["referral"], "BENCH_JWKS_JSON": jwks, "BENCH_ISSUER": ISSUER,
                        "BENCH_AUDIENCE": AUDIENCE, "BENCH_AGENCY": str(agency)}
        procs.append(start("baseline", ports["baseline"], baseline_env, app="bench_baseline:create_app"))
        await wait_ready(f"http://127.0.0.1:{ports['baseline']}")
        read_token = token(agency, "referral:read")
        write_token = token(agency, "referral:write", "referral:read")
        child = ids[0]
        targets = {
            "direct": f"http://127.0.0.1:{ports['referral']}", "gateway": f"http://127.0.0.1:{ports['gateway']}",
            "nginx": f"http://127.0.0.1:{ports['nginx']}", "same work": f"http://127.0.0.1:{ports['baseline']}",
            "bare": f"http://127.0.0.1:{ports['baseline']}",
        }
        targets = {k: v for k, v in targets.items() if k in only_targets}
        operations = [("GET child", "GET", f"/children/{child}", "", read_token),
                      ("POST child", "POST", "/children", CHILD_BODY, write_token),
                      ("POST referral", "POST", "/referrals", REFERRAL_BODY, write_token)]
        operations = [op for op in operations if op[0] in only_operations]
        rows = []
        total = len(operations) * len(targets) * len(connection_counts) * rounds
        done = 0
        for label, method, path, body, tok in operations:
            scripts = {}
            for target in targets:
                prefix = {"same work": "/same", "bare": "/bare"}.get(target, "/v1")
                scripts[target] = lua(tmp, f"{label.replace(' ', '_')}_{target.replace(' ', '_')}", method, prefix + path,
                                      None if target == "bare" else tok, body, ids)
                await asyncio.to_thread(wrk, targets[target], scripts[target], 4, 1)  # warm-up
            for connections in connection_counts:
                per_round: list[dict[str, dict[str, float]]] = []
                for k in range(rounds):
                    # Each round runs every target once, starting one further along the list, so a
                    # target and its baseline are measured minutes apart at most and none is always first.
                    order = list(targets)[k % len(targets):] + list(targets)[:k % len(targets)]
                    results = {}
                    for target in order:
                        done += 1
                        say(f"({done}/{total}) {label}, {target}, {connections} connection(s), round {k + 1}, {seconds:g} s")
                        spy = None
                        if profile_dir is not None and k == 0 and target in ("direct", "gateway"):
                            # py-spy on the referral service (direct) or the gateway while wrk drives it
                            # (--profile, not make bench).
                            name = "" if target == "direct" else "gateway-"
                            out = profile_dir / f"{name}{label.replace(' ', '-').lower()}-{connections}.folded"
                            spy = py_spy(procs[0 if target == "direct" else 1].pid, seconds, out)
                        results[target] = await asyncio.to_thread(wrk, targets[target], scripts[target], connections, seconds)
                        if spy is not None:
                            spy.wait(timeout=30)
                    per_round.append(results)
                rows.append({"operation": label, "connections": connections, "results": combine(per_round)})
        return rows
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=10)
        for name in names.values():
            await drop_db(name)


async def propagation(seconds: float, tmp: Path, signer: Any, suffix: str) -> dict[str, Any]:
    """Write a child, then poll the reporting read model for it, while wrk keeps writing children."""
    names = {s: f"bench_prop_{s}_{suffix}" for s in ("referral", "reporting")}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        urls = {s: await make_db(n) for s, n in names.items()}
        for service, url in urls.items():
            await asyncio.to_thread(upgrade, service, url)
        ports = {k: free_port() for k in ("referral", "reporting")}
        jwks = json.dumps(signer.jwks())
        common = {"TOKEN_ISSUER": ISSUER, "TOKEN_AUDIENCE": AUDIENCE, "ENVIRONMENT": "test",
                  "WEBHOOK_SECRET": "bench-" + suffix, "LOG_LEVEL": "WARNING", "JWKS_JSON": jwks}
        env = {f"REFERRAL_{k}": v for k, v in common.items()} | {f"REPORTING_{k}": v for k, v in common.items()}
        env |= {"REFERRAL_DATABASE_URL": urls["referral"], "REFERRAL_RELAY_ENABLED": "true",
                "REFERRAL_OUTBOX_SUBSCRIBERS": json.dumps([f"http://127.0.0.1:{ports['reporting']}/v1/events"]),
                "REPORTING_DATABASE_URL": urls["reporting"], "REPORTING_RELAY_ENABLED": "false"}
        procs = [start("reporting", ports["reporting"], env), start("referral", ports["referral"], env)]
        direct = f"http://127.0.0.1:{ports['referral']}"
        await wait_ready(direct)
        await wait_ready(f"http://127.0.0.1:{ports['reporting']}")

        def token(agency: uuid.UUID, *scopes: str) -> str:
            return str(signer.issue(issuer=ISSUER, audience=AUDIENCE, subject="bench", agency_id=agency,
                                scopes=scopes, ttl_seconds=3600))

        reporting = await asyncpg.connect(urls["reporting"].replace("postgresql+asyncpg", "postgresql"))
        delays: list[float] = []
        async with httpx.AsyncClient(base_url=direct) as client:
            r = await client.post("/v1/agencies", headers={"Authorization": "Bearer " + token(uuid.uuid4(), "admin")},
                                  json={"name": "Bench agency", "agency_type": "school"})
            agency = uuid.UUID(r.json()["id"])
            write_token = token(agency, "referral:write")
            # Steady, not saturating: 4 connections, each pausing 200 ms between writes (about 20 writes/s,
            # far above a partnership's real write rate); a saturating load only measures the queue.
            script = lua(tmp, "propagation_load", "POST", "/v1/children", write_token, CHILD_BODY, ["x"], pause_ms=200)
            load = asyncio.ensure_future(asyncio.to_thread(wrk, direct, script, 4, seconds + 2))
            await asyncio.sleep(1)
            stop = time.monotonic() + seconds
            headers = {"Authorization": "Bearer " + write_token}
            while time.monotonic() < stop:
                r = await client.post("/v1/children", headers=headers, json=json.loads(CHILD_BODY))
                answered = time.perf_counter()
                child = uuid.UUID(r.json()["id"])
                while await reporting.fetchval("SELECT 1 FROM rm_child WHERE child_id = $1", child) is None:
                    if time.perf_counter() - answered > 30:
                        raise RuntimeError("an event took over 30 s to reach reporting")
                    await asyncio.sleep(0.005)
                delays.append((time.perf_counter() - answered) * 1000)
                await asyncio.sleep(0.1)
            load_result = await load
        await reporting.close()
        delays.sort()
        return {"seconds": seconds, "samples": len(delays), "p50_ms": statistics.median(delays),
                "p95_ms": delays[min(len(delays) - 1, int(len(delays) * 0.95))], "max_ms": delays[-1],
                "load_rps": load_result["rps"], "load_errors": load_result["errors"]}
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=10)
        for name in names.values():
            await drop_db(name)


BASELINE = {"direct": "same work", "gateway": "direct", "nginx": "direct", "same work": "bare", "bare": None}


def combine(per_round: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, Any]]:
    """A cell's rounds as one figure per target: the median req/s and latencies of its rounds, every
    non-2xx answer, and its ratio to its baseline as the median of the rounds' ratios (each against
    the baseline measured in the same round), with their range."""
    out: dict[str, dict[str, Any]] = {}
    for target in per_round[0]:
        mine = [r[target] for r in per_round]
        figure: dict[str, Any] = {key: statistics.median(m[key] for m in mine) for key in ("rps", "p50_ms", "p99_ms")}
        figure["errors"] = sum(int(m["errors"]) for m in mine)
        base = BASELINE[target]
        if base in per_round[0]:
            ratios = [r[target]["rps"] / r[base]["rps"] for r in per_round]
            figure |= {"ratio": statistics.median(ratios), "ratio_low": min(ratios), "ratio_high": max(ratios)}
        out[target] = figure
    return out


def ratio_text(figure: dict[str, Any], base: str) -> str:
    spread = f" ({figure['ratio_low']:.2f}-{figure['ratio_high']:.2f})" if figure["ratio_high"] > figure["ratio_low"] else ""
    return f"**{figure['ratio']:.2f}x** of {base}{spread}"


def report(rows: list[dict[str, Any]], prop: dict[str, Any], seconds: float, rounds: int) -> str:
    table = ["| operation | connections | target | req/s | p50 ms | p99 ms | non-2xx | ratio |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        res = row["results"]
        for target, r in res.items():
            base = BASELINE[target]
            ratio = ratio_text(r, base) if base else ""
            table.append(f"| {row['operation']} | {row['connections']} | {target} | {r['rps']:.0f} | {r['p50_ms']:.1f} | "
                         f"{r['p99_ms']:.1f} | {r['errors']} | {ratio} |")
    cpu = "unknown"
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"### Referral service against baselines ({stamp})\n\n"
        f"Command: `make bench` (`python scripts/bench.py --seconds {seconds:g} --rounds {rounds} --write`). Machine: "
        f"`nproc` = {os.cpu_count()}, {cpu}, Python {platform.python_version()}; PostgreSQL on the same machine; "
        f"one uvicorn worker per process; wrk {seconds:g} s per target in each of {rounds} rounds (1 thread at 1 "
        f"connection, 2 threads at 32); in each round every target runs once, the order rotating from round to round. "
        f"Rate limiter: the gateway's is off for the run (`GATEWAY_RATE_LIMIT_PER_MINUTE=0`), so no 429 is measured; "
        f"non-2xx counts every other answer.\n\n"
        f"Ratios: direct against the hand-written same-work endpoint; gateway and nginx against direct; "
        f"same work against bare; each the median of the rounds' ratios (each round's target against the same "
        f"round's baseline), the range of the rounds in brackets; req/s and latencies are the rounds' medians.\n\n"
        + "\n".join(table) + "\n\n"
        f"### Event propagation ({stamp})\n\n"
        f"A child registered at the referral service, then the reporting read model polled (every 5 ms) until its "
        f"row is there; one probe every 100 ms for {prop['seconds']:g} s while wrk registers children at 4 "
        f"connections, each pausing 200 ms between requests ({prop['load_rps']:.0f} req/s, {prop['load_errors']} "
        f"non-2xx), through the same service. Relay on, default settings (poll interval 1 s, woken by commits).\n\n| samples | p50 ms | p95 ms | max ms |\n|---|---|---|---|\n"
        f"| {prop['samples']} | {prop['p50_ms']:.0f} | {prop['p95_ms']:.0f} | {prop['max_ms']:.0f} |\n"
    )


def write_between(marker: str, text: str) -> None:
    begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
    doc = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    block = f"{begin}\n{text.strip()}\n{end}"
    if begin in doc and end in doc:
        doc = doc[:doc.index(begin)] + block + doc[doc.index(end) + len(end):]
    else:
        doc = doc.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(doc)


async def main(seconds: float, write: bool, *, rounds: int = 1, operations: tuple[str, ...] = ALL_OPERATIONS,
               targets: tuple[str, ...] = ALL_TARGETS, connections: tuple[int, ...] = (1, 32),
               propagate: bool = True, profile_dir: Path | None = None) -> None:
    if WRK is None or NGINX is None:
        print("make bench needs wrk (load generator) and nginx (the proxy compared with the gateway):\n"
              "  sudo apt-get install wrk nginx-light", file=sys.stderr)
        sys.exit(2)
    suffix = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        signer = load_or_create_signer(tmp / "keys")
        say("throughput: referral direct, gateway, nginx, same-work and bare baselines")
        rows = await throughput(seconds, tmp, signer, suffix, only_operations=operations, only_targets=targets,
                                connection_counts=connections, profile_dir=profile_dir, rounds=rounds)
        if not propagate:
            for row in rows:
                res = row["results"]
                print(" | ".join([row["operation"], str(row["connections"])] + [
                    f"{t} {r['rps']:.0f}/s" + (f" ({ratio_text(r, str(BASELINE[t]))})".replace("**", "")
                                              if "ratio" in r else "") for t, r in res.items()]))
            return
        say("event propagation under steady load")
        prop = await propagation(max(seconds * 4, 15), tmp, signer, suffix)
    text = report(rows, prop, seconds, rounds)
    print(text)
    if write:
        write_between("bench-referral", text)
        say(f"written to {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="wrk duration per target and round")
    parser.add_argument("--rounds", type=int, default=1, help="rounds over the targets, interleaved (ratios: the "
                                                               "median of the rounds')")
    parser.add_argument("--write", action="store_true", help="replace the figures in docs/benchmarks.md")
    parser.add_argument("--only", action="append", choices=ALL_OPERATIONS, metavar="OPERATION",
                        help="run only this operation (repeatable; for iterating, prints a summary, no propagation, "
                             "not with --write)")
    parser.add_argument("--targets", help="comma-separated targets with --only (default all): " + ", ".join(ALL_TARGETS))
    parser.add_argument("--connections", default="1,32", help="comma-separated connection counts with --only")
    parser.add_argument("--profile", type=Path, help="with --only: py-spy record the referral service during its direct cells and "
                                                     "the gateway during its gateway cells, collapsed stacks (one .folded file per cell; flamegraph.pl or speedscope read them) into this directory")
    args = parser.parse_args()
    if args.only:
        if args.write:
            parser.error("--only runs part of the bench: it cannot --write")
        chosen = tuple(t.strip() for t in (args.targets or ",".join(ALL_TARGETS)).split(","))
        if unknown := set(chosen) - set(ALL_TARGETS):
            parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
        asyncio.run(main(args.seconds, False, rounds=args.rounds, operations=tuple(args.only), targets=chosen,
                         connections=tuple(int(c) for c in args.connections.split(",")), propagate=False,
                         profile_dir=args.profile.resolve() if args.profile else None))
    else:
        asyncio.run(main(args.seconds, args.write, rounds=args.rounds))
