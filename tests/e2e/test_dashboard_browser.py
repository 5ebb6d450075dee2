"""The partnership dashboard in a real browser, on `make run`'s own command with its demo data.

Headless Chromium (tests/browser.py: no network but 127.0.0.1) opens /dashboard/, signs in through
the development login by keyboard alone (Tab and Enter), and the figures the tables show must equal
the reporting API's answers to the same token. Then the page is walked by keyboard (tab order,
a visible focus), one table is downloaded as CSV and compared with the API, and a screenshot is
saved as a test artefact (var/test-artefacts/dashboard.png). SQLite only, like make run.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import os
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser import RENDER_TIMEOUT, Page, browser, screenshot
from tests.e2e.test_first_steps import Demo, demo  # noqa: F401 - the fixture: make run on a fresh var directory

pytestmark = pytest.mark.skipif(os.environ.get("TEST_DB", "sqlite") != "sqlite",
                                reason="make run is SQLite only; this runs in the SQLite pass")
TAB = {"key": "Tab", "code": "Tab", "windowsVirtualKeyCode": 9}
ENTER = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "text": "\r"}
ARROW_DOWN = {"key": "ArrowDown", "code": "ArrowDown", "windowsVirtualKeyCode": 40}
DASH = "\u2013"  # how the dashboard shows a figure that is not there
TABLES = """Object.fromEntries([...document.querySelectorAll('table')].map(t => [t.id, Object.fromEntries(
    [...t.querySelectorAll('tbody tr')].map(r => [r.dataset.key, Object.fromEntries(
        [...r.querySelectorAll('[data-column]')].map(c => [c.dataset.column, c.textContent.trim()]))]))]))"""


async def press(page: Page, key: dict[str, Any]) -> None:
    await page.call("Input.dispatchKeyEvent", type="keyDown", **key)
    await page.call("Input.dispatchKeyEvent", type="keyUp", **{k: v for k, v in key.items() if k != "text"})


async def wait_for(page: Page, expression: str, what: str) -> Any:
    """Ask the page again until ``expression`` is truthy (the browser has no event to wait for)."""
    try:
        async with asyncio.timeout(RENDER_TIMEOUT):
            while True:  # the browser has no event to wait for: ask it again
                if found := await page.evaluate(expression):
                    return found
                await asyncio.sleep(0.2)
    except TimeoutError:
        text = await page.evaluate("document.body && document.body.innerText.slice(0, 800)")
        pytest.fail(f"{what}: not within {RENDER_TIMEOUT}s; complaints: {page.complaints}; page text: {text!r}")


async def tab_to(page: Page, element_id: str, most: int = 40) -> list[str]:
    """Press Tab until ``element_id`` has the focus; the ids passed on the way, in order."""
    passed: list[str] = []
    for _ in range(most):
        await press(page, TAB)
        focused = await page.evaluate("document.activeElement && (document.activeElement.id || document.activeElement.tagName)")
        passed.append(focused)
        if focused == element_id:
            return passed
    pytest.fail(f"Tab never reached #{element_id}; passed {passed}")


def shown(value: Any) -> str:
    """As the dashboard writes a figure (dashboard.js ``shown``; JavaScript writes 100.0 as 100)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return DASH if value is None else str(value)


def quarter_end(name: str) -> date:
    fy, q = int(name[:4]), int(name[-1])
    return [date(fy, 6, 30), date(fy, 9, 30), date(fy, 12, 31), date(fy + 1, 3, 31)][q - 1]


async def delivered(home: Demo) -> None:
    """Wait until the referral and assessment services have delivered every event to reporting
    (their outboxes hold no pending delivery), so the figures stay still while they are compared."""

    def pending() -> int:
        total = 0
        for service in ("referral", "assessment"):
            with contextlib.closing(sqlite3.connect(home.home / "var" / f"{service}.db")) as db:
                total += db.execute("select count(*) from outbox_delivery where status = 'pending'").fetchone()[0]
        return total

    async with asyncio.timeout(RENDER_TIMEOUT):
        while True:  # the relays send on their own schedule: look again
            if not await asyncio.to_thread(pending):
                return
            await asyncio.sleep(0.5)


async def test_the_dashboard_signs_in_by_keyboard_and_shows_the_apis_figures(demo: Demo, tmp_path: Path) -> None:  # noqa: F811
    base = demo.gateway
    await delivered(demo)
    # The demo's few journeys are all small numbers, which publication suppresses (1-5 show as c):
    # make run's partnership lets its dashboard readers see them, so a newcomer's dashboard has
    # something to chart. The comparison below holds either way: same token, same figures.
    async with httpx.AsyncClient(base_url=base) as http:
        admin = await demo.headers(http, "demo-admin")
        current = await http.get("/v1/datasets/configuration", headers=admin)
        assert current.status_code == 200, current.text
        assert current.json()["suppression"]["reporting:read"] is False
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    async with browser(tmp_path) as page:
        await page.call("Browser.setDownloadBehavior", behavior="allow", downloadPath=str(downloads))
        await page.call("Page.navigate", url=f"{base}/dashboard/")
        await wait_for(page, "!document.getElementById('sign-in').hidden", "the sign-in button")
        # By keyboard: the skip link first, then the sign-in button; Enter follows it to the login page.
        assert await tab_to(page, "sign-in") == ["skip", "sign-in"]
        await press(page, ENTER)
        await wait_for(page, "location.pathname === '/oauth/authorize' && document.readyState === 'complete'",
                       "the development login page")
        assert await page.evaluate("document.querySelector('legend').textContent") == "Sign in as"
        assert await tab_to(page, "sign-in") == ["user-0", "sign-in"]  # the first demo user is picked already
        await press(page, ENTER)
        period = await wait_for(page, "document.body.dataset.loaded", "the dashboard's figures")
        assert await page.evaluate("location.search") == ""  # the code is gone from the address bar
        who = await page.evaluate("document.getElementById('who').textContent")
        token = await page.evaluate("JSON.parse(sessionStorage.getItem('neglect-dashboard.token')).access_token")
        shown_tables = await page.evaluate(TABLES)
        legend_hidden = await page.evaluate("document.getElementById('legend').hidden")
        coloured = await page.evaluate("document.querySelectorAll('td .rag').length")
        labelled = await page.evaluate("document.querySelector('label[for=period]').textContent")
        canvases = await page.evaluate("""[...document.querySelectorAll('canvas')].map(
            c => [c.getAttribute('role'), c.getAttribute('aria-label'), c.closest('section').querySelector('table') !== null])""")

        # Keyboard order on the loaded page, and a focus that shows.
        await page.evaluate("document.activeElement.blur(), window.scrollTo(0, 0), document.body.focus()")
        order = await tab_to(page, "trajectories-csv")
        outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")

        # Download the timeliness table by keyboard.
        await page.evaluate("document.getElementById('caseload-csv').focus()")
        await press(page, {**TAB, "modifiers": 8})  # Shift+Tab: back to the timeliness button
        assert await page.evaluate("document.activeElement.id") == "timeliness-csv"
        await press(page, ENTER)
        csv_file = downloads / f"timeliness-{period}.csv"
        async with asyncio.timeout(RENDER_TIMEOUT):
            while True:  # the browser writes the file when it likes: look again
                if csv_file.exists():
                    break
                await asyncio.sleep(0.2)
        await page.evaluate("window.scrollTo(0, 0)")
        shot = await screenshot(page, "dashboard.png")

        # Another quarter from the keyboard: the select, then the arrow key.
        await page.evaluate("document.getElementById('period').focus()")
        await press(page, ARROW_DOWN)
        previous = await wait_for(page, f"document.body.dataset.loaded !== '{period}' && document.body.dataset.loaded",
                                  "the previous quarter's figures")

    assert who == "Signed in as analyst"
    assert labelled == "Quarter"
    assert len(canvases) >= 3, canvases
    assert all(role == "img" and label and table for role, label, table in canvases)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers) as api:
        async def get(path: str, **params: str) -> Any:
            r = await api.get(path, params=params)
            assert r.status_code == 200, r.text
            return r.json()

        at = min(quarter_end(period), datetime.now(UTC).date()).isoformat()
        timeliness = await get("/v1/dashboard/timeliness", period=period)
        caseload = await get("/v1/dashboard/caseload", at=at)
        alerts = await get("/v1/dashboard/alerts", at=at)
        dataset = await get("/v1/datasets/quarterly", period=period)
        trajectories = await get("/v1/dashboard/trajectories", period=period)
        targets = await get("/v1/dashboard/targets")
        fy = int(period[:4]) - 2  # from two years before: more than the eight quarters shown
        nq15 = await get("/v1/dashboard/series", metric="NQ15", **{"from": f"{fy}-{(fy + 1) % 100:02d}-Q1", "to": period})

    assert {k: (v["completed"], v["on_time"], v["percent"]) for k, v in shown_tables["timeliness-table"].items()} == {
        c["clock"]: (shown(c["completed"]), shown(c["on_time"]), shown(c["percent_on_time"])) for c in timeliness["clocks"]}
    stages = {s["stage"]: shown(s["children"]) for s in caseload["children_by_stage"]}
    totals = {k: shown(caseload[k]) for k in ("children_in_statutory_work", "referrals_awaiting_decision", "neglect_cp_plans")}
    assert {k: v["children"] for k, v in shown_tables["caseload-table"].items()} == stages | totals
    assert {k: (v["open"], v["overdue"], v["due_soon"]) for k, v in shown_tables["alerts-table"].items()} == {
        c["clock"]: (shown(c["open"]), shown(c["overdue"]), shown(c["due_soon"])) for c in alerts["clocks"]}
    assert {k: v["value"] for k, v in shown_tables["dataset-table"].items()} == {
        m["id"]: shown(m["total"]["value"] if m["available"] and m["total"] else None) for m in dataset["metrics"]}
    assert {k: v["improved"] for k, v in shown_tables["trajectories-table"].items()} == {
        t["tool"]: shown(t["children_by_trajectory"].get("improved")) for t in trajectories["tools"]}
    api_nq15 = {p["period"]["name"]: shown(p["total"]["value"] if p["total"] else None) for p in nq15["points"]}
    assert {k: v["value"] for k, v in shown_tables["trend-nq15-table"].items()} == {
        k: api_nq15[k] for k in shown_tables["trend-nq15-table"]}
    assert len(shown_tables["trend-nq15-table"]) == 8

    # The demo's targets colour the figures, in words too.
    assert targets["targets"]
    assert legend_hidden is False
    assert coloured > 0
    overdue = {c["clock"]: c["overdue"] for c in alerts["clocks"]}
    target_text = shown_tables["alerts-table"]["referral_decision"]["target"]
    if isinstance(overdue["referral_decision"], int):
        expected = "Green" if overdue["referral_decision"] <= 0 else "Amber" if overdue["referral_decision"] <= 2 else "Red"
        assert target_text.startswith(expected), target_text

    # Keyboard: every control in reading order, each CSV button after its table, the focus visible.
    assert order[:3] == ["skip", "sign-out", "period"], order
    buttons = [i for i in order if i.endswith("-csv")]
    assert buttons == ["timeliness-csv", "caseload-csv", "alerts-csv", "trend-nq01-csv", "trend-nq05-csv",
                       "trend-nq15-csv", "trend-nq19-csv", "dataset-csv", "trajectories-csv"], order
    assert outline == "solid"
    assert previous != period

    rows = list(csv.DictReader(io.StringIO(csv_file.read_text(encoding="utf-8"))))
    by_name = {c["name"]: c for c in timeliness["clocks"]}
    assert [r["Timescale"] for r in rows] == [c["name"] for c in timeliness["clocks"]]
    for row in rows:
        clock = by_name[row["Timescale"]]
        assert (row["Completed"], row["Per cent on time"]) == (
            shown(clock["completed"]).replace(DASH, ""), shown(clock["percent_on_time"]).replace(DASH, ""))

    assert shot.read_bytes().startswith(b"\x89PNG")
    # Everything came from the gateway (the chart library included), nothing broke the policy or the page.
    assert f"{base}/dashboard/chart.umd.js" in page.requests.values()
    assert page.elsewhere(base) == {}
    assert not page.complaints, "\n".join(page.complaints)
