"""Headless Chromium for tests, with no way out to the internet.

Debian's ``chromium`` runs with every host but 127.0.0.1 unresolvable and a dead proxy for anything
else; the DevTools protocol records every request the page makes and every console or CSP
complaint. Screenshots go under ``var/test-artefacts/`` (path printed). Without ``chromium`` a test
is skipped, except in CI (``CI=true``), where ``.ci/run`` installs it and its absence fails.
Used by tests/gateway/test_docs_offline.py and tests/e2e/test_dashboard_browser.py.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

ARTEFACTS = Path(__file__).resolve().parents[1] / "var" / "test-artefacts"
START_TIMEOUT = 30.0  # the browser to open its DevTools port
RENDER_TIMEOUT = 60.0  # a page to show its operations (a bound, not a measurement)


def _chromium() -> str:
    for name in (os.environ.get("CHROMIUM", ""), "chromium", "chromium-browser"):
        if name and (found := shutil.which(name)):
            return found
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is missing in CI: .ci/run installs Debian's chromium package")
    pytest.skip("chromium is not installed (apt-get install chromium); CI installs it and runs this test")


@dataclass
class Page:
    """One browser tab over the DevTools protocol."""

    ws: aiohttp.ClientWebSocketResponse
    requests: dict[str, str] = field(default_factory=dict)  # request id: URL
    blocked: dict[str, str] = field(default_factory=dict)  # request id: why the browser stopped it
    complaints: list[str] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _waiting: dict[int, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        reply = self._waiting[call_id] = asyncio.get_running_loop().create_future()
        try:
            await self.ws.send_str(json.dumps({"id": call_id, "method": method, "params": params}))
            async with asyncio.timeout(RENDER_TIMEOUT):
                return await reply
        finally:
            del self._waiting[call_id]

    async def listen(self) -> None:
        async for message in self.ws:
            data = json.loads(message.data)
            if "id" in data:
                future = self._waiting.get(data["id"])
                if future and not future.done():
                    if "error" in data:
                        future.set_exception(RuntimeError(f"DevTools: {data['error']}"))
                    else:
                        future.set_result(data.get("result", {}))
            elif data.get("method") == "Network.requestWillBeSent":
                self.requests[data["params"]["requestId"]] = data["params"]["request"]["url"]
            elif data.get("method") == "Network.loadingFailed" and data["params"].get("blockedReason"):
                self.blocked[data["params"]["requestId"]] = data["params"]["blockedReason"]
            elif data.get("method") == "Log.entryAdded":
                entry = data["params"]["entry"]
                if entry["level"] in {"error", "warning"}:
                    self.complaints.append(f"{entry['source']}: {entry['text']}")
            elif data.get("method") == "Runtime.consoleAPICalled":
                if data["params"]["type"] in {"error", "warning", "assert"}:
                    args = data["params"]["args"]
                    self.complaints.append("console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in args))
            elif data.get("method") == "Runtime.exceptionThrown":
                self.complaints.append(f"exception: {data['params']['exceptionDetails'].get('text')}")

    def elsewhere(self, origin: str) -> dict[str, str]:
        """The requests for anything but ``origin`` (or a data: or blob: URL of it), by URL:
        why the browser stopped each one ("" if it did not)."""
        local = (f"{origin}/", f"blob:{origin}/", "data:")
        return {url: self.blocked.get(rid, "") for rid, url in self.requests.items() if not url.startswith(local)}

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")


@contextlib.asynccontextmanager
async def browser(tmp_path: Path) -> AsyncIterator[Page]:
    """Headless Chromium with the network cut off but for 127.0.0.1; yields its first tab."""
    process = await asyncio.create_subprocess_exec(
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-extensions",
        "--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
        f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1280,1600", "about:blank",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        endpoint = None
        async with asyncio.timeout(START_TIMEOUT):
            while endpoint is None:
                line = (await process.stderr.readline()).decode(errors="replace")
                if not line:
                    raise RuntimeError("chromium exited before it opened its DevTools port")
                if found := re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line):
                    endpoint = f"http://127.0.0.1:{found.group(1)}"
        drain = asyncio.create_task(_drain(process.stderr))
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=START_TIMEOUT)) as session:
            async with session.get(f"{endpoint}/json/list") as response:
                targets = await response.json()
            tab = next(t for t in targets if t["type"] == "page")
            async with session.ws_connect(tab["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                page = Page(ws)
                listener = asyncio.create_task(page.listen())
                try:
                    for domain in ("Network", "Log", "Runtime", "Page"):
                        await page.call(f"{domain}.enable")
                    yield page
                finally:
                    listener.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await listener
        drain.cancel()
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.readline():
        pass


async def open_page(page: Page, url: str, rendered: str) -> list[str]:
    """Load ``url`` and wait until the JavaScript expression ``rendered`` gives a non-empty list."""
    await page.call("Page.navigate", url=url)
    try:
        async with asyncio.timeout(RENDER_TIMEOUT):
            while True:  # the browser has no event to wait for: ask it again
                if found := await page.evaluate(rendered):
                    break
                await asyncio.sleep(0.2)
    except TimeoutError:
        body = await page.evaluate("document.body && document.body.innerText.slice(0, 500)")
        pytest.fail(f"{url} did not render within {RENDER_TIMEOUT}s; requests: {page.requests}; "
                    f"complaints: {page.complaints}; page text: {body!r}")
    return list(found)


async def screenshot(page: Page, name: str) -> Path:
    shot = await page.call("Page.captureScreenshot", format="png")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / name
    path.write_bytes(base64.b64decode(shot["data"]))
    print(f"screenshot: {path}")  # noqa: T201 - where the artefact is
    return path
