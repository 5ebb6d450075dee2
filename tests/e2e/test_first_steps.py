"""A newcomer's first steps, as the README gives them: `make run`'s own command on a fresh
var directory, then the README's "A first call" pasted into bash, then the demo partnership's
figures: the census export and the quarterly dataset work out of the box.

`make run` is SQLite by design, so this runs in the SQLite pass of `make test` only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import ROOT, free_port

pytestmark = pytest.mark.skipif(os.environ.get("TEST_DB", "sqlite") != "sqlite",
                                reason="make run is SQLite only; this runs in the SQLite pass")
SERVICES = ("gateway", "referral", "assessment", "reporting")


def readme_block(heading: str) -> str:
    """The first ```sh block after a README heading, exactly as a reader copies it."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index(heading):]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, f"no sh block after {heading!r}"
    return match.group(1)


async def _ready(url: str, proc: subprocess.Popen[bytes], log: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"make run's command exited:\n{log.read_text()[-4000:]}")
            try:
                if (await client.get(url + "/readyz", timeout=2)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.3)
    raise RuntimeError(f"{url} not ready in {seconds}s:\n{log.read_text()[-4000:]}")


class Demo:
    def __init__(self, home: Path, ports: dict[str, int]) -> None:
        self.home, self.ports = home, ports
        self.gateway = f"http://127.0.0.1:{ports['gateway']}"

    def clients(self) -> dict[str, dict[str, str]]:
        return {c["client_id"]: c for c in json.loads((self.home / "var" / "demo-clients.json").read_text())}

    async def headers(self, http: httpx.AsyncClient, client_id: str) -> dict[str, str]:
        secret = self.clients()[client_id]["client_secret"]
        r = await http.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret))
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture(scope="module")
async def demo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Demo]:
    home = tmp_path_factory.mktemp("newcomer")
    ports = {s: free_port() for s in SERVICES}
    # A newcomer's environment: none of the project's settings, only where make run keeps its files.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(tuple(s.upper() + "_" for s in SERVICES)) and k not in ("TEST_DB", "NEGLECT_HOST")}
    env |= {"NEGLECT_VAR_DIR": str(home / "var")} | {f"{s.upper()}_PORT": str(p) for s, p in ports.items()}
    log = home / "make-run.log"
    proc = subprocess.Popen([sys.executable, "-m", "services.cli", "run"], cwd=ROOT, env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        for service in SERVICES:
            await _ready(f"http://127.0.0.1:{ports[service]}", proc, log)
        yield Demo(home, ports)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


async def bash(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(subprocess.run, ["bash", "-euo", "pipefail", "-c", script], cwd=cwd,
                                   capture_output=True, text=True, timeout=60)


async def run_first_call(demo: Demo) -> str:
    done = await bash(readme_block("## A first call").replace("http://127.0.0.1:8000", demo.gateway), demo.home)
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


async def test_the_readmes_first_call_works_as_pasted_and_again(demo: Demo) -> None:
    first = await run_first_call(demo)
    assert re.findall(r"^HTTP (\d+)$", first, re.M) == ["201", "200"], first
    child = json.loads(first.split("\nHTTP 201")[0])
    assert child["external_ref"] == "MY-REF-1"
    found = json.loads(first.split("\nHTTP 201\n")[1].split("\nHTTP 200")[0])
    assert [c["id"] for c in found["items"]] == [child["id"]]
    # Pasted again: the same child, replayed, not a second one.
    again = await run_first_call(demo)
    assert re.findall(r"^HTTP (\d+)$", again, re.M) == ["201", "200"], again
    assert json.loads(again.split("\nHTTP 201")[0])["id"] == child["id"]


async def test_a_refused_token_prints_the_problem(demo: Demo) -> None:
    script = readme_block("## A first call").replace("http://127.0.0.1:8000", demo.gateway)
    # A wrong secret: the token step stops the script and shows the problem the gateway gave.
    script = script.replace('print(clients[sys.argv[1]])', 'print(clients[sys.argv[1]] + "x")')
    done = await bash(script, demo.home)
    assert done.returncode != 0
    assert "no token:" in done.stderr, done.stderr
    assert "invalid_client" in done.stderr, done.stderr


async def test_the_demo_partnership_reports_out_of_the_box(demo: Demo) -> None:
    async with httpx.AsyncClient(base_url=demo.gateway, timeout=30) as http:
        analyst = await demo.headers(http, "demo-ns-lscp")
        config = (await http.get("/v1/datasets/configuration", headers=analyst)).json()
        assert (config["la_code"], config["population_0_17"]) == ("919", 52400), config
        # The demo journeys reach reporting through the outbox relays.
        deadline = time.monotonic() + 60
        while True:
            census = await http.get("/v1/exports/cin-census", params={"year": "2025-26"},
                                    headers={**analyst, "X-Purpose": "statutory_return"})
            assert census.status_code == 200, census.text
            if "NSDEMO0101" in census.text or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        # The complete child protection journey, with its plan, in the 2025-26 return.
        assert "<LEA>919</LEA>" in census.text
        assert "NSDEMO0101" in census.text
        assert "<CPPstartDate>2025-06-02</CPPstartDate>" in census.text
        dataset = await http.get("/v1/datasets/quarterly", params={"period": "2025-26"}, headers=analyst)
        assert dataset.status_code == 200, dataset.text
        body = dataset.json()
        assert body["population"] == {"children_0_17": 52400, "year": 2025}
        rates = [m for m in body["metrics"] if m["unit"] == "rate_per_10000" and m["available"]]
        assert rates
        assert all(m["total"]["denominator"] in (52400, "c") for m in rates), rates[:1]


async def test_synthetic_data_posts_with_make_runs_secret_and_says_when_there_is_none(demo: Demo) -> None:
    events = f"http://127.0.0.1:{demo.ports['reporting']}/v1/events"
    command = [sys.executable, str(ROOT / "scripts" / "synthetic.py"), "--children", "3", "--seed", "5", "--post", events]
    env = {k: v for k, v in os.environ.items() if k != "REPORTING_WEBHOOK_SECRET"}
    posted = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=120,
                                     env=env | {"NEGLECT_VAR_DIR": str(demo.home / "var")})
    assert posted.returncode == 0, posted.stderr[-2000:]
    assert "for 3 children" in posted.stdout
    nowhere = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=120,
                                      env=env | {"NEGLECT_VAR_DIR": str(demo.home / "no-var")})
    assert nowhere.returncode == 1
    assert "No webhook secret" in nowhere.stderr
    assert "make run" in nowhere.stderr


async def test_the_integrators_guide_runs_as_written(demo: Demo) -> None:
    text = (ROOT / "docs" / "integrators.md").read_text()
    # The page is pasted at the repository's root: its webhooks step runs scripts/webhook_receiver.py.
    if not (demo.home / "scripts").exists():
        (demo.home / "scripts").symlink_to(ROOT / "scripts")
    script = "\n".join(re.findall(r"```sh\n(.*?)```", text, re.S)).replace("http://127.0.0.1:8000", demo.gateway)
    done = await bash(script, demo.home)
    assert done.returncode == 0, done.stderr + done.stdout
    out = done.stdout
    assert re.search(r"^child: [0-9a-f-]{36}$", out, re.M), out
    assert "referral: HTTP 201" in out
    assert "decision: HTTP 200" in out
    # The school is told the outcome of its own referral.
    assert "outcome: level 3, s17_assessment" in out
    assert "without If-Match: HTTP 428" in out
    assert "with an old version: HTTP 412" in out
    assert "with the current version: HTTP 200" in out
    # Webhooks: the school's endpoint (scripts/webhook_receiver.py) verified the event about its child.
    assert "endpoint: HTTP 201" in out
    assert "another referral: HTTP 201" in out
    assert re.search(r'^verified referral\.received \{"child_id": "[0-9a-f-]{36}", .*"referral_id": "[0-9a-f-]{36}"\}$', out, re.M), out
