"""The docs pages render in a real browser with no way out to the internet.

Headless Chromium (Debian's ``chromium``) opens ``/docs`` and ``/redoc`` on a gateway on a real
local port, with every host but 127.0.0.1 unresolvable and a dead proxy for anything else; the
DevTools protocol records every request the page makes and every console or CSP complaint. The
operations must render from the gateway's own files, and each page is saved as a PNG under
``var/test-artefacts/`` (path printed). Without ``chromium`` the test is skipped, except in CI
(``CI=true``), where ``.ci/run`` installs it and its absence fails.
"""

from __future__ import annotations

from pathlib import Path

from tests.browser import browser, open_page, screenshot


async def test_swagger_ui_renders_the_operations_offline(edge_url: str, tmp_path: Path) -> None:
    async with browser(tmp_path) as page:
        paths = await open_page(page, f"{edge_url}/docs", """
            [...document.querySelectorAll('.opblock-summary-path')].map(e => e.textContent.trim())""")
        summaries = await page.evaluate("""
            [...document.querySelectorAll('.opblock-summary-description')].map(e => e.textContent.trim())""")
        title = await page.evaluate("document.querySelector('.information-container .title')?.textContent")
        shot = await screenshot(page, "docs.png")
    assert {"/oauth/token", "/v1/children", "/v1/toolkits"} <= set(paths)
    assert "Get an access token" in summaries
    assert "Neglect backbone" in (title or "")
    assert shot.read_bytes().startswith(b"\x89PNG")
    # every request the page made went to the gateway, and nothing broke the policy or the page
    assert f"{edge_url}/docs/static/swagger-ui-bundle.js" in page.requests.values()
    assert f"{edge_url}/openapi.json" in page.requests.values()
    assert page.elsewhere(edge_url) == {}
    assert not page.complaints, "\n".join(page.complaints)


async def test_redoc_renders_the_operations_offline(edge_url: str, tmp_path: Path) -> None:
    async with browser(tmp_path) as page:
        await open_page(page, f"{edge_url}/redoc", """
            [...document.querySelectorAll('h2')].map(e => e.textContent.trim())
                .filter(t => t === 'Get an access token')""")
        text = await page.evaluate("document.body.innerText")
        styles = await page.evaluate("document.querySelectorAll('style[data-styled]').length")
        shot = await screenshot(page, "redoc.png")
    assert "/v1/children" in text
    assert styles  # ReDoc's own styles got past the policy with the page's nonce
    assert shot.read_bytes().startswith(b"\x89PNG")
    # ReDoc shows the Redocly logo from its CDN: the page's policy stops it before it is sent
    logo = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    assert page.elsewhere(edge_url) == {logo: "csp"}
    assert not [c for c in page.complaints if logo not in c], "\n".join(page.complaints)
